#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "functions/builtins/builtin.h"

namespace eg::functions::test {
namespace {

using builtins::RequestCounter;

// Each thread adds to a line of its own, threads past the lines to a shared one: the sum
// must count every bump either way.
TEST(BuiltinRequestCounter, SumsEveryThreadsBumps) {
  RequestCounter counter;
  bump(counter);
  std::vector<std::thread> threads;
  for (int t = 0; t < 80; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) bump(counter);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(read(counter), 80'001u);
}

}  // namespace
}  // namespace eg::functions::test
