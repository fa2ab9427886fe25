// HTTP dates (RFC 9110 §5.6.7): IMF-fixdate out, the three historical forms in.
#pragma once
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace eg {

// "Sun, 06 Nov 1994 08:49:37 GMT". Years outside 0..9999 are clamped to that range.
std::string format_http_date(std::time_t t);

// ISO 8601 in UTC, as AWS writes times in JSON: "2026-11-21T09:27:11Z", or with
// milliseconds "2026-11-21T09:27:11.488Z".
std::string format_iso8601(int64_t unix_ms, bool milliseconds);

// Accepts IMF-fixdate, RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
// ("Sun Nov  6 08:49:37 1994"). Surrounding whitespace is ignored; anything else that does
// not match one of the forms exactly (or names an impossible date) is nullopt. A two-digit
// RFC 850 year more than 50 years in the future is taken as the past century (§5.6.7).
std::optional<std::time_t> parse_http_date(std::string_view s);

// Calendar fields of a UTC instant (proleptic Gregorian), without gmtime's locking or
// time_t range limits. Shared by the access log and the date formatter.
struct CivilTime {
  int64_t year;
  int month;    // 1..12
  int day;      // 1..31
  int hour;     // 0..23
  int minute;   // 0..59
  int second;   // 0..59
  int weekday;  // 0 = Sunday
};
CivilTime civil_from_unix(int64_t seconds);
// Days since 1970-01-01 of a calendar date (month 1..12, day 1..31).
int64_t days_from_civil(int64_t year, int month, int day);

}  // namespace eg
