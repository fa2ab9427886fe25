#include <gtest/gtest.h>

#include "http/message.h"

namespace eg::http {
namespace {

// A value carrying CR, LF or NUL (a function result that escaped validation) must not split
// the head: each such byte becomes a space, wherever it sits (the scan works 8 bytes at a time).
TEST(SerializeHead, LineBreaksInValuesCannotSplitTheHead) {
  for (size_t pos = 0; pos < 20; ++pos) {
    for (char bad : {'\r', '\n', '\0'}) {
      std::string value(20, 'a');
      value[pos] = bad;
      Response r;
      r.headers.add("X-Test", value);
      std::string out;
      serialize_head(r, out);
      std::string expect = value;
      expect[pos] = ' ';
      EXPECT_NE(out.find("X-Test: " + expect + "\r\n"), std::string::npos) << pos;
      EXPECT_EQ(out.find('\0'), std::string::npos);
    }
  }
  // Other control bytes below 0x0E (tab, vertical tab) pass through unchanged.
  Response r;
  r.headers.add("X-Tab", std::string("a\tb\x0b"
                                     "cdefghijk"));
  std::string out;
  serialize_head(r, out);
  EXPECT_NE(out.find("X-Tab: a\tb\x0b"
                     "cdefghijk\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace eg::http
