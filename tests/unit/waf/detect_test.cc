// The SQLi and XSS detectors behind SqliMatchStatement and XssMatchStatement: attacks a
// rule must block, text it must let through, and what HIGH adds over LOW. Detection rates
// over a full corpus are measured by tests/corpus/injection_corpus.
#include "waf/detect.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

namespace eg::waf {
namespace {

using namespace std::string_view_literals;

bool low(std::string_view s) { return sqli_match(s, Sensitivity::Low); }
bool high(std::string_view s) { return sqli_match(s, Sensitivity::High); }

std::string repeated(std::string_view unit, size_t size) {
  std::string out;
  out.reserve(size + unit.size());
  while (out.size() < size) out += unit;
  return out;
}

TEST(DetectSqli, ClassicInjectionsAreFlaggedAtBothLevels) {
  for (std::string_view attack : {
           "' OR 1=1--",
           "' or 'a'='a",
           "\" or \"\"=\"",
           "admin'--",
           "admin' or '1'='1",
           "1 OR 1=1",
           "1 AND 1=0 UNION SELECT 1,2,3",
           "1 UNION SELECT password FROM users",
           "-1' UNION ALL SELECT NULL,@@version--",
           "1/*!50000UNION*/SELECT 1",
           "1 union/**/select 1",
           "1; DROP TABLE x",
           "x'; DROP TABLE users; --",
           "'; EXEC xp_cmdshell('dir')--",
           "1'; WAITFOR DELAY '0:0:5'--",
           "SLEEP(5)",
           "1' AND SLEEP(5) AND '1'='1",
           "1 AND BENCHMARK(5000000,MD5(1))",
           "1' ORDER BY 3--",
           "1 AND (SELECT 1 FROM users LIMIT 1)=1",
           "1' AND ASCII(SUBSTRING(user(),1,1))>64--",
           "x' AND extractvalue(1,concat(0x7e,version()))--",
           "1' INTO OUTFILE '/var/www/shell.php'--",
           "') or ('1'='1",
           "1)) or 1=1--",
       }) {
    EXPECT_TRUE(low(attack)) << attack;
    EXPECT_TRUE(high(attack)) << attack;
  }
}

TEST(DetectSqli, OrdinaryTextIsNotFlaggedAtLow) {
  for (std::string_view text : {
           "O'Reilly",
           "O'Brien and O'Neil",
           "select a product",
           "union station",
           "john.doe@example.com",
           R"({"name":"John","age":30,"tags":["a","b"],"active":true})",
           R"({"query":"select * from inventory","limit":10})",
           "plain prose, nothing to see here.",
           "1=1",
           "Sleep well tonight",
           "benchmark results (2023)",
           "Drop-leaf table, oak",
           "Delete from my account please",
           "I'd like 2 or 3 of these, please -- thanks!",
           "It's 5 o'clock somewhere; let's go.",
           "5'11\" tall",
           "12\" pizza or 16\" pizza",
           "price < 100 and rating > 4",
           "BASE; SET SWAROVSKI",
           "1; exec will create the case 7",
           "Apt is gated; call when you get here, and we'll come down to get it.",
           "along with this program; if not, write to the Free Software Foundation",
           "7 AND A HALF",
           "2 OR 4 METAL BUTTONS",
           "WHERE IS GEORGE",
           "https://example.com/search?q=hello+world&lang=en",
           "#hashtag #blessed",
       }) {
    EXPECT_FALSE(low(text)) << text;
  }
}

// HIGH adds weaker evidence: a lone tautology, a bare OR after a quote, MySQL's '#'
// comment after a quote, an operator between quotes, a UNION without its SELECT.
TEST(DetectSqli, HighFlagsWhatLowLetsThrough) {
  for (std::string_view probe : {
           "1=1",
           "x' or 1",
           "admin'#",
           "A '&' B",
           "-1 union",
           "1--",
           "price < 100 and rating > 4",
           "select x from y where",
       }) {
    EXPECT_FALSE(low(probe)) << probe;
    EXPECT_TRUE(high(probe)) << probe;
  }
}

TEST(DetectSqli, EmptyInputIsNotAnInjection) {
  EXPECT_FALSE(low(""));
  EXPECT_FALSE(high(""));
}

TEST(DetectSqli, BinaryBytesAreReadSafely) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
  EXPECT_FALSE(high(all_bytes));
  EXPECT_FALSE(high(std::string(64, '\0')));
  // An injection spelled with NUL and 0xA0 (a no-break space MySQL skips) between tokens.
  EXPECT_TRUE(low(std::string("1\xa0UNION\xa0SELECT\xa0") + "2--"));
  EXPECT_TRUE(low("1' OR 1=1-- \0\xff"sv));

  // Random byte strings from an alphabet dense in SQL syntax: whatever they decide, the
  // tokenizer must stay inside the input (AddressSanitizer checks it in the unit run).
  std::mt19937 rng(7);
  const std::string_view alphabet = "'\"`();,.-#/*!@=<>|&^%\\ 0123456789abcdeORSELCTUNIx\0\xa0"sv;
  for (int round = 0; round < 2000; ++round) {
    std::string input(rng() % 64, ' ');
    for (char& c : input) c = alphabet[rng() % alphabet.size()];
    (void)low(input);
    (void)high(input);
  }
}

TEST(DetectSqli, MegabyteInputsFinish) {
  const std::string prose = repeated("the quick brown fox jumps over the lazy dog; ", 1 << 20);
  EXPECT_FALSE(low(prose));
  EXPECT_FALSE(high(prose));
  // Read from inside a quoted string, the payload after 1 MB of text is still found.
  EXPECT_TRUE(low(prose + "x' OR 1=1--"));
  // Inputs that make every token start a rule: nested calls, open parentheses, quotes.
  (void)high(repeated("sleep(", 1 << 20));
  (void)high(repeated("(", 1 << 20));
  (void)high(repeated("'a' or ", 1 << 20));
  (void)high(repeated("select ", 1 << 20));
}

TEST(DetectXss, ScriptRunningMarkupIsFlagged) {
  for (std::string_view attack : {
           "<script>alert(1)</script>",
           "<SCRIPT SRC=//example.com/x.js></SCRIPT>",
           "<img src=x onerror=alert(1)>",
           "<body onload=alert(1)>",
           "\"><svg onload=alert(1)>",
           "'><svg/onload=alert(1)>",
           "x\" onmouseover=\"alert(1)",
           "<iframe src=\"//example.com\"></iframe>",
           "<object data=\"x.swf\"></object>",
           "<embed src=x.swf>",
           "javascript:alert(1)",
           "<a href=\"javascript:alert(1)\">x</a>",
           "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
           "<a href=\" &#106;avascript&colon;alert(1)\">x</a>",
           "<a href=\"vbscript:msgbox(1)\">x</a>",
           "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>",
           "<div style=\"width: expression(alert(1))\">",
           "<img style=\"x:expr/**/ession(alert(1))\">",
           "</script><script>alert(1)</script>",
           "<input autofocus onfocus=alert(1)>",
       }) {
    EXPECT_TRUE(xss_match(attack)) << attack;
  }
  EXPECT_TRUE(xss_match("<scr\0ipt>alert(1)</script>"sv));
}

TEST(DetectXss, OrdinaryTextAndHarmlessMarkupPass) {
  for (std::string_view text : {
           "<b>bold</b> and <i>italic</i>",
           "<p>Hello</p>",
           "<a href=\"https://example.com\">link</a>",
           "<img src=\"cat.png\" alt=\"cat\">",
           "I <3 JavaScript",
           "Learn JavaScript: The Good Parts",
           "The onion=layered approach",
           "status online=true",
           "x < y && y > z",
           "style=\"color: red\"",
           "named NAME-<set>-<index>",
           "john.doe@example.com",
           R"({"name":"John","html":"<br/>"})",
           "O'Reilly \"SQL Cookbook\" (2nd ed.)",
       }) {
    EXPECT_FALSE(xss_match(text)) << text;
  }
}

TEST(DetectXss, EmptyBinaryAndLargeInputs) {
  EXPECT_FALSE(xss_match(""));
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
  EXPECT_FALSE(xss_match(all_bytes));
  const std::string text = repeated("a <b>tag</b> & some = text; ", 1 << 20);
  EXPECT_FALSE(xss_match(text));
  EXPECT_TRUE(xss_match(text + "<script>"));
  (void)xss_match(repeated("&#32;", 1 << 20));
  (void)xss_match(repeated("x:expr/**/", 1 << 20));
}

}  // namespace
}  // namespace eg::waf
