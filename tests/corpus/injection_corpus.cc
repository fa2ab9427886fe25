// Measures the SQLi and XSS detectors (src/waf/detect.h) against libinjection's test corpus:
// per payload file the number of lines and how many each detector flags, and on
// false_positives.txt (benign text) how many each detector wrongly flags. Exits non-zero
// when the detection rate falls below a floor or false positives rise above a ceiling, so
// a change that makes the detectors worse fails `ctest -L conformance`.
//
//   injection_corpus DIR [--misses]   (--misses lists every missed or wrongly flagged line)
//
// Corpus lines are URL-encoded user input (DIR/README.md): they are decoded once, '+' as
// a space, the way a query argument reaches a rule after URL_DECODE.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "waf/detect.h"

namespace {

using eg::waf::Sensitivity;

// Floors and ceilings sit about three points off the figures measured when they were set
// (in comments; docs/waf/detectors.md), so a regression fails. Raise them with the rates.
constexpr double kSqliLowFloor = 0.96;                  // measured 98.8%
constexpr double kSqliHighFloor = 0.97;                 // measured 99.7%
constexpr double kXssFloor = 0.95;                      // measured 98.1%
constexpr double kSqliLowMeanFloor = 0.88;              // measured 91.4%
constexpr double kSqliHighMeanFloor = 0.96;             // measured 99.2%
constexpr double kXssMeanFloor = 0.87;                  // measured 90.3%
constexpr double kSqliLowFalsePositiveCeiling = 0.02;   // measured 0.2% (1 of 421)
constexpr double kSqliHighFalsePositiveCeiling = 0.03;  // measured 0.5% (2 of 421)
constexpr double kXssFalsePositiveCeiling = 0.02;       // measured 0.0%

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// The payloads of a corpus file: blank lines and '#' comments are not inputs.
std::vector<std::string> read_inputs(const std::filesystem::path& file) {
  std::vector<std::string> inputs;
  std::ifstream stream(file, std::ios::binary);
  std::string line;
  while (std::getline(stream, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    inputs.push_back(url_decode(line));
  }
  return inputs;
}

struct Tally {
  size_t lines = 0;
  size_t hits = 0;
  double rate() const { return lines == 0 ? 0.0 : double(hits) / double(lines); }
};

// Overall rates are dominated by the largest file (sqli-forums.txt holds 14,000 of 17,000
// SQLi lines), so the mean of per-file rates is tracked as well.
struct MeanRate {
  double sum = 0;
  size_t files = 0;
  void add(const Tally& t) { sum += t.rate(), ++files; }
  double value() const { return files == 0 ? 0.0 : sum / double(files); }
};

void print_row(const std::string& name, const char* what, const Tally& t) {
  std::printf("  %-46s %-10s %6zu %6zu %6.1f%%\n", name.c_str(), what, t.lines, t.hits,
              100.0 * t.rate());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: injection_corpus DIR [--misses]\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const bool show_misses = argc > 2 && std::string_view(argv[2]) == "--misses";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::printf("skipped: corpus directory %s not found\n", dir.c_str());
    return 0;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());

  Tally sqli_low, sqli_high, xss;
  MeanRate mean_low, mean_high, mean_xss;
  size_t low_only = 0;  // flagged at LOW but not at HIGH: HIGH must flag a superset
  std::printf("  %-46s %-10s %6s %6s %7s\n", "file", "detector", "lines", "hits", "rate");
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    const std::vector<std::string> inputs = read_inputs(file);
    if (name.starts_with("sqli-")) {
      Tally low, high;
      for (const std::string& input : inputs) {
        const bool l = eg::waf::sqli_match(input, Sensitivity::Low);
        const bool h = eg::waf::sqli_match(input, Sensitivity::High);
        ++low.lines, ++high.lines;
        low.hits += l, high.hits += h;
        low_only += l && !h;
        if (show_misses && !l)
          std::printf("    %s: %s\n", h ? "miss (low)" : "miss", input.c_str());
      }
      print_row(name, "sqli-low", low);
      print_row(name, "sqli-high", high);
      sqli_low.lines += low.lines, sqli_low.hits += low.hits;
      sqli_high.lines += high.lines, sqli_high.hits += high.hits;
      mean_low.add(low), mean_high.add(high);
    } else if (name.starts_with("xss-")) {
      Tally t;
      for (const std::string& input : inputs) {
        const bool hit = eg::waf::xss_match(input);
        ++t.lines;
        t.hits += hit;
        if (show_misses && !hit) std::printf("    miss: %s\n", input.c_str());
      }
      print_row(name, "xss", t);
      xss.lines += t.lines, xss.hits += t.hits;
      mean_xss.add(t);
    }
  }

  Tally fp_low, fp_high, fp_xss;
  const std::vector<std::string> benign = read_inputs(dir / "false_positives.txt");
  for (const std::string& input : benign) {
    const bool l = eg::waf::sqli_match(input, Sensitivity::Low);
    const bool h = eg::waf::sqli_match(input, Sensitivity::High);
    const bool x = eg::waf::xss_match(input);
    ++fp_low.lines, ++fp_high.lines, ++fp_xss.lines;
    fp_low.hits += l, fp_high.hits += h, fp_xss.hits += x;
    low_only += l && !h;
    if (show_misses && (l || h || x)) {
      std::printf("    false positive (%s%s%s): %s\n", l ? "low " : "", h ? "high " : "",
                  x ? "xss" : "", input.c_str());
    }
  }

  std::printf("\nDetection (all payload files together)\n");
  print_row("sqli-*.txt", "sqli-low", sqli_low);
  print_row("sqli-*.txt", "sqli-high", sqli_high);
  print_row("xss-*.txt", "xss", xss);
  std::printf("Mean of per-file detection rates\n");
  std::printf("  %-46s %-10s %6.1f%%\n", "sqli-*.txt", "sqli-low", 100.0 * mean_low.value());
  std::printf("  %-46s %-10s %6.1f%%\n", "sqli-*.txt", "sqli-high", 100.0 * mean_high.value());
  std::printf("  %-46s %-10s %6.1f%%\n", "xss-*.txt", "xss", 100.0 * mean_xss.value());
  std::printf("False positives\n");
  print_row("false_positives.txt", "sqli-low", fp_low);
  print_row("false_positives.txt", "sqli-high", fp_high);
  print_row("false_positives.txt", "xss", fp_xss);

  int failures = 0;
  const auto check = [&](bool ok, const char* what, double value, double bound) {
    if (ok) return;
    std::printf("FAIL: %s %.1f%% (bound %.1f%%)\n", what, 100.0 * value, 100.0 * bound);
    ++failures;
  };
  check(sqli_low.rate() >= kSqliLowFloor, "sqli-low detection", sqli_low.rate(), kSqliLowFloor);
  check(sqli_high.rate() >= kSqliHighFloor, "sqli-high detection", sqli_high.rate(),
        kSqliHighFloor);
  check(xss.rate() >= kXssFloor, "xss detection", xss.rate(), kXssFloor);
  check(mean_low.value() >= kSqliLowMeanFloor, "sqli-low mean per-file detection", mean_low.value(),
        kSqliLowMeanFloor);
  check(mean_high.value() >= kSqliHighMeanFloor, "sqli-high mean per-file detection",
        mean_high.value(), kSqliHighMeanFloor);
  check(mean_xss.value() >= kXssMeanFloor, "xss mean per-file detection", mean_xss.value(),
        kXssMeanFloor);
  if (low_only > 0) {
    std::printf("FAIL: %zu inputs flagged at LOW but not at HIGH\n", low_only);
    ++failures;
  }
  check(fp_low.rate() <= kSqliLowFalsePositiveCeiling, "sqli-low false positives", fp_low.rate(),
        kSqliLowFalsePositiveCeiling);
  check(fp_high.rate() <= kSqliHighFalsePositiveCeiling, "sqli-high false positives",
        fp_high.rate(), kSqliHighFalsePositiveCeiling);
  check(fp_xss.rate() <= kXssFalsePositiveCeiling, "xss false positives", fp_xss.rate(),
        kXssFalsePositiveCeiling);
  return failures == 0 ? 0 : 1;
}
