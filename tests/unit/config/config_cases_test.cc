// Runs every tests/cases/config/*.yaml case. A case file is a config; a comment on top says
// what it shows, and `# expect:` comments at the end (so they do not shift the line numbers
// they talk about) state the outcome:
//
//   # expect: ok                                  (loads without errors), or one line per error:
//   # expect: 12:5: behaviors[0].orign: unknown key 'orign'; did you mean 'origin'?
//
// Errors are compared in full and in order (the loader sorts them by position). In an
// expected line, errors in the case file itself drop the file name (`line:col: ...`), and the
// absolute path of tests/cases/config is written ${DIR} (e.g. in another file's errors or in
// resolved paths). Relative paths in a case resolve against tests/cases/config, whose files/
// folder holds the fixtures (certificates, secrets store, public/, ...).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/loader.h"

namespace {
namespace fs = std::filesystem;

const std::string kCasesDir = std::string(EG_SOURCE_DIR) + "/tests/cases/config";

std::vector<std::string> case_files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kCasesDir, ec))
    if (e.path().extension() == ".yaml") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

class ConfigCase : public ::testing::TestWithParam<std::string> {};

TEST_P(ConfigCase, MatchesExpectation) {
  const std::string path = kCasesDir + "/" + GetParam();
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot open " << path;
  std::vector<std::string> expected;
  bool expect_ok = false;
  std::string line;
  while (std::getline(in, line)) {
    const std::string tag = "# expect: ";
    if (line.rfind(tag, 0) != 0) continue;
    std::string e = line.substr(tag.size());
    if (e == "ok")
      expect_ok = true;
    else
      expected.push_back(e);
  }
  ASSERT_TRUE(expect_ok || !expected.empty()) << path << ": no '# expect:' line";
  ASSERT_FALSE(expect_ok && !expected.empty()) << path << ": both 'ok' and errors expected";

  auto result = eg::config::load_file(path);
  std::vector<std::string> actual;
  for (const auto& e : result.errors) {
    std::string s = e.to_string();
    if (s.rfind(path + ":", 0) == 0) s = s.substr(path.size() + 1);
    actual.push_back(replace_all(s, kCasesDir, "${DIR}"));
  }
  std::ostringstream got;
  for (const auto& a : actual) got << "# expect: " << a << "\n";
  if (expect_ok) {
    EXPECT_TRUE(actual.empty()) << GetParam() << " should load, got:\n" << got.str();
    EXPECT_NE(result.snapshot, nullptr);
  } else {
    EXPECT_EQ(result.snapshot, nullptr);
    EXPECT_EQ(actual, expected) << GetParam() << " errors differ; got:\n" << got.str();
  }
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param.substr(0, info.param.size() - 5);
  for (auto& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Cases, ConfigCase, ::testing::ValuesIn(case_files()), case_name);

TEST(ConfigCases, FolderHasCases) { EXPECT_GE(case_files().size(), 10u) << kCasesDir; }

}  // namespace
