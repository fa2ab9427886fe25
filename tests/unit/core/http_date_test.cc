#include "core/http_date.h"

#include <gtest/gtest.h>

namespace eg {
namespace {

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(1709251199), "Thu, 29 Feb 2024 23:59:59 GMT");
  EXPECT_EQ(format_http_date(946684800), "Sat, 01 Jan 2000 00:00:00 GMT");
  EXPECT_EQ(format_http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(HttpDate, FormatClampsToFourDigitYears) {
  EXPECT_EQ(format_http_date(std::time_t(253402300799)), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(format_http_date(std::time_t(253402300800 * 10)), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(format_http_date(std::time_t(-62167219200 - 5)), "Sat, 01 Jan 0000 00:00:00 GMT");
}

TEST(HttpDate, ParsesTheThreeForms) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov 16 08:49:37 1994"), 784111777 + 10 * 86400);
  EXPECT_EQ(parse_http_date("  Thu, 29 Feb 2024 23:59:59 GMT "), 1709251199);
  EXPECT_EQ(parse_http_date("thu, 29 feb 2024 23:59:59 GMT"), 1709251199);
}

TEST(HttpDate, Rfc850TwoDigitYears) {
  // Not more than 50 years ahead of now -> this century; otherwise the previous one.
  EXPECT_EQ(parse_http_date("Saturday, 01-Jan-00 00:00:00 GMT"), 946684800);
  auto far = parse_http_date("Friday, 01-Jan-99 00:00:00 GMT");
  ASSERT_TRUE(far);
  EXPECT_EQ(format_http_date(*far), "Fri, 01 Jan 1999 00:00:00 GMT");
}

TEST(HttpDate, RoundTrips) {
  for (std::time_t t : {std::time_t(0), std::time_t(1), std::time_t(951782400),
                        std::time_t(1709251199), std::time_t(4102444800), std::time_t(-86400)})
    EXPECT_EQ(parse_http_date(format_http_date(t)), t) << t;
}

TEST(HttpDate, RejectsMalformed) {
  for (const char* s : {"",
                        "Sun",
                        "Sun, 06 Nov 1994 08:49:37",
                        "Sun, 06 Nov 1994 08:49:37 UTC",
                        "Sun, 6 Nov 1994 08:49:37 GMT",
                        "Sun, 06 Nov 94 08:49:37 GMT",
                        "Sun, 06 Foo 1994 08:49:37 GMT",
                        "Sun, 31 Nov 1994 08:49:37 GMT",
                        "Sun, 29 Feb 2023 08:49:37 GMT",
                        "Sun, 06 Nov 1994 24:00:00 GMT",
                        "Sun, 06 Nov 1994 08:60:00 GMT",
                        "Sun, 06 Nov 1994 08:49:37 GMTx",
                        "Sun, 00 Nov 1994 08:49:37 GMT",
                        "Sunday, 06-Nov-1994 08:49:37 GMT",
                        "Sun Nov 6 08:49:37 1994",
                        "Sun Nov  6 08:49:37 94",
                        "1994-11-06",
                        "Xyz, 06 Nov 1994 08:49:37 GMT",
                        "Sun, 06 Nov 1994 8:49:37 GMT",
                        "Sun, 06 Nov 1994 08:49:37 GMT\r\nX: y"})
    EXPECT_FALSE(parse_http_date(s)) << s;
}

TEST(HttpDate, CivilTime) {
  CivilTime c = civil_from_unix(1709251199);
  EXPECT_EQ(c.year, 2024);
  EXPECT_EQ(c.month, 2);
  EXPECT_EQ(c.day, 29);
  EXPECT_EQ(c.hour, 23);
  EXPECT_EQ(c.minute, 59);
  EXPECT_EQ(c.second, 59);
  EXPECT_EQ(c.weekday, 4);
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
}

}  // namespace
}  // namespace eg
