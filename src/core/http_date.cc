#include "core/http_date.h"

#include <array>
#include <cstdio>

#include "core/strings.h"

namespace eg {

namespace {

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  static constexpr int kDim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDim[m - 1];
}

void put2(std::string& out, int v) {
  out.push_back(char('0' + v / 10));
  out.push_back(char('0' + v % 10));
}

// Cursor over the input; every reader fails the whole parse by returning false.
struct Reader {
  std::string_view s;
  size_t i = 0;

  bool lit(std::string_view l) {
    if (s.substr(i, l.size()) != l) return false;
    i += l.size();
    return true;
  }
  // Exactly n digits.
  bool digits(size_t n, int& v) {
    if (i + n > s.size()) return false;
    v = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += n;
    return true;
  }
  // One of the names (case-insensitive); returns its index.
  template <size_t N>
  bool name(const std::array<std::string_view, N>& names, int& idx) {
    for (size_t k = 0; k < N; ++k) {
      std::string_view n = names[k];
      if (iequals(s.substr(i, n.size()), n)) {
        i += n.size();
        idx = int(k);
        return true;
      }
    }
    return false;
  }
  bool time(int& h, int& m, int& sec) {
    return digits(2, h) && lit(":") && digits(2, m) && lit(":") && digits(2, sec);
  }
  bool done() const { return i == s.size(); }
};

std::optional<std::time_t> make_time(int64_t year, int month, int day, int h, int m, int s) {
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  if (h > 23 || m > 59 || s > 60) return std::nullopt;  // 60: a leap second
  if (s == 60) s = 59;
  int64_t t = days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + s;
  return std::time_t(t);
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::time_t> parse_imf(std::string_view s) {
  Reader r{s};
  int wd, day, mon, year, h, m, sec;
  if (!(r.name(kDays, wd) && r.lit(", ") && r.digits(2, day) && r.lit(" ") &&
        r.name(kMonths, mon) && r.lit(" ") && r.digits(4, year) && r.lit(" ") &&
        r.time(h, m, sec) && r.lit(" GMT") && r.done()))
    return std::nullopt;
  return make_time(year, mon + 1, day, h, m, sec);
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<std::time_t> parse_rfc850(std::string_view s) {
  Reader r{s};
  int wd, day, mon, yy, h, m, sec;
  if (!(r.name(kLongDays, wd) && r.lit(", ") && r.digits(2, day) && r.lit("-") &&
        r.name(kMonths, mon) && r.lit("-") && r.digits(2, yy) && r.lit(" ") && r.time(h, m, sec) &&
        r.lit(" GMT") && r.done()))
    return std::nullopt;
  // RFC 9110 §5.6.7: a year that appears more than 50 years in the future is the most recent
  // past year with the same last two digits.
  int64_t this_year = civil_from_unix(int64_t(std::time(nullptr))).year;
  int64_t year = (this_year / 100) * 100 + yy;
  if (year > this_year + 50) year -= 100;
  return make_time(year, mon + 1, day, h, m, sec);
}

// "Sun Nov  6 08:49:37 1994"
std::optional<std::time_t> parse_asctime(std::string_view s) {
  Reader r{s};
  int wd, day, mon, year, h, m, sec;
  if (!(r.name(kDays, wd) && r.lit(" ") && r.name(kMonths, mon) && r.lit(" "))) return std::nullopt;
  if (r.lit(" ")) {
    if (!r.digits(1, day)) return std::nullopt;
  } else if (!r.digits(2, day)) {
    return std::nullopt;
  }
  if (!(r.lit(" ") && r.time(h, m, sec) && r.lit(" ") && r.digits(4, year) && r.done()))
    return std::nullopt;
  return make_time(year, mon + 1, day, h, m, sec);
}

}  // namespace

int64_t days_from_civil(int64_t y, int m, int d) {
  // Howard Hinnant's algorithm (public domain), valid for the whole proleptic calendar.
  y -= m <= 2;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string format_iso8601(int64_t unix_ms, bool milliseconds) {
  const int64_t seconds = unix_ms / 1000 - (unix_ms % 1000 < 0);
  const CivilTime c = civil_from_unix(seconds);
  char buf[96];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d",
                        static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second);
  if (milliseconds)
    n += std::snprintf(buf + n, sizeof buf - size_t(n), ".%03d", int(unix_ms - seconds * 1000));
  return std::string(buf, size_t(n)) + "Z";
}

CivilTime civil_from_unix(int64_t seconds) {
  CivilTime c{};
  int64_t days = floor_div(seconds, 86400);
  int64_t sod = seconds - days * 86400;
  c.hour = int(sod / 3600);
  c.minute = int(sod / 60 % 60);
  c.second = int(sod % 60);
  c.weekday = int(days + 4 - floor_div(days + 4, 7) * 7);  // 1970-01-01 was a Thursday
  const int64_t z = days + 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  c.day = int(doy - (153 * mp + 2) / 5 + 1);
  c.month = int(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  return c;
}

std::string format_http_date(std::time_t t) {
  static const int64_t kMin = days_from_civil(0, 1, 1) * 86400;
  static const int64_t kMax = days_from_civil(9999, 12, 31) * 86400 + 86399;
  int64_t v = int64_t(t);
  if (v < kMin) v = kMin;
  if (v > kMax) v = kMax;
  CivilTime c = civil_from_unix(v);
  std::string out;
  out.reserve(29);
  out.append(kDays[c.weekday]);
  out.append(", ");
  put2(out, c.day);
  out.push_back(' ');
  out.append(kMonths[c.month - 1]);
  out.push_back(' ');
  put2(out, int(c.year / 100));
  put2(out, int(c.year % 100));
  out.push_back(' ');
  put2(out, c.hour);
  out.push_back(':');
  put2(out, c.minute);
  out.push_back(':');
  put2(out, c.second);
  out.append(" GMT");
  return out;
}

std::optional<std::time_t> parse_http_date(std::string_view s) {
  s = trim(s);
  if (s.size() < 4) return std::nullopt;
  // The fourth character tells the forms apart: ',' IMF-fixdate, ' ' asctime, a letter RFC 850.
  if (s[3] == ',') return parse_imf(s);
  if (s[3] == ' ') return parse_asctime(s);
  return parse_rfc850(s);
}

}  // namespace eg
