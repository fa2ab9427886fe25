// The escape-decoding transformations of aws-formats.md §3.4: URL, HTML, JavaScript, CSS and C
// escapes. Every loop checks its bounds before it reads: the input is an attacker's bytes. An
// escape that does not decode stays in the output as it was, so a rule still sees what the
// client sent. docs/waf/transformations.md records the choices where AWS documents nothing.
#include <algorithm>
#include <cstring>

#include "waf/transform_internal.h"

namespace eg::waf::transform_detail {
namespace {

bool is_f(unsigned char c) { return c == 'f' || c == 'F'; }

// %uHHHH and \uHHHH keep the low byte, except that full-width ASCII (FF01–FF5E) becomes the
// ASCII character it stands for: AWS documents this for URL_DECODE_UNI and JS_DECODE.
char wide_to_byte(uint32_t code_point) {
  const unsigned low = code_point & 0xFF;
  if ((code_point >> 8) == 0xFF && low > 0x00 && low < 0x5F) return as_char(low + 0x20);
  return as_char(low);
}

// Escapes come in clusters, so the next few bytes are looked at directly; past them memchr
// crosses the long escape-free runs that most fields consist of many bytes per step. Either alone
// is slow on one of the two shapes.
constexpr size_t kNearby = 16;

// Copies in[i, next `trigger`) to d and returns where it stopped (n when there is none).
size_t copy_until(Bytes p, size_t i, size_t n, unsigned char trigger, char*& d) {
  for (const size_t nearby_end = std::min(n, i + kNearby); i < nearby_end; ++i) {
    if (p[i] == trigger) return i;
    *d++ = char(p[i]);
  }
  if (i == n) return n;
  const void* hit = std::memchr(p + i, trigger, n - i);
  const size_t stop = hit ? size_t(static_cast<Bytes>(hit) - p) : n;
  std::memcpy(d, p + i, stop - i);
  d += stop - i;
  return stop;
}

// copy_until '%', turning each '+' on the way into a space (form encoding).
size_t copy_until_percent(Bytes p, size_t i, size_t n, char*& d) {
  for (const size_t nearby_end = std::min(n, i + kNearby); i < nearby_end; ++i) {
    if (p[i] == '%') return i;
    *d++ = p[i] == '+' ? ' ' : char(p[i]);
  }
  if (i == n) return n;
  const void* hit = std::memchr(p + i, '%', n - i);
  const size_t stop = hit ? size_t(static_cast<Bytes>(hit) - p) : n;
  while (i < stop) {
    i = copy_until(p, i, stop, '+', d);
    if (i < stop) {
      *d++ = ' ';
      ++i;
    }
  }
  return stop;
}

}  // namespace

void url_decode(std::string_view in, std::string& out) {
  const Bytes p = bytes_of(in);
  const size_t n = in.size();
  char* d = begin_shrinking(in, out);
  for (size_t i = copy_until_percent(p, 0, n, d); i < n; i = copy_until_percent(p, i, n, d)) {
    if (i + 2 < n && is_hex_digit(p[i + 1]) && is_hex_digit(p[i + 2])) {
      *d++ = as_char(hex_pair(p[i + 1], p[i + 2]));
      i += 3;
    } else {
      *d++ = '%';
      ++i;
    }
  }
  finish(out, d);
}

void url_decode_uni(std::string_view in, std::string& out) {
  const Bytes p = bytes_of(in);
  const size_t n = in.size();
  char* d = begin_shrinking(in, out);
  for (size_t i = copy_until_percent(p, 0, n, d); i < n; i = copy_until_percent(p, i, n, d)) {
    if (i + 5 < n && (p[i + 1] == 'u' || p[i + 1] == 'U') && is_hex_digit(p[i + 2]) &&
        is_hex_digit(p[i + 3]) && is_hex_digit(p[i + 4]) && is_hex_digit(p[i + 5])) {
      *d++ =
          wide_to_byte(uint32_t(hex_pair(p[i + 2], p[i + 3])) << 8 | hex_pair(p[i + 4], p[i + 5]));
      i += 6;
    } else if (i + 2 < n && is_hex_digit(p[i + 1]) && is_hex_digit(p[i + 2])) {
      *d++ = as_char(hex_pair(p[i + 1], p[i + 2]));
      i += 3;
    } else {
      *d++ = '%';
      ++i;
    }
  }
  finish(out, d);
}

namespace {

bool is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool equals_ignoring_case(const unsigned char* s, size_t n, std::string_view lower_word) {
  if (n != lower_word.size()) return false;
  for (size_t i = 0; i < n; ++i)
    if ((s[i] | 0x20) != static_cast<unsigned char>(lower_word[i])) return false;
  return true;
}

// The named entities of §3.4 plus &amp; (which ModSecurity decodes too); -1 when unknown.
int named_entity(const unsigned char* name, size_t n) {
  if (n < 2 || n > 4) return -1;
  if (equals_ignoring_case(name, n, "quot")) return '"';
  if (equals_ignoring_case(name, n, "amp")) return '&';
  if (equals_ignoring_case(name, n, "lt")) return '<';
  if (equals_ignoring_case(name, n, "gt")) return '>';
  if (equals_ignoring_case(name, n, "nbsp")) return 0xA0;
  return -1;
}

}  // namespace

void html_entity_decode(std::string_view in, std::string& out) {
  const Bytes p = bytes_of(in);
  const size_t n = in.size();
  char* d = begin_shrinking(in, out);
  size_t i = 0;
  // Every decoded entity ends here: the ';' is optional, as in ModSecurity and in browsers.
  auto emit = [&](unsigned value, size_t end) {
    *d++ = as_char(value);
    i = (end < n && p[end] == ';') ? end + 1 : end;
  };
  while ((i = copy_until(p, i, n, '&', d)) < n) {
    if (i + 1 < n) {
      size_t j = i + 1;
      if (p[j] == '#') {
        ++j;
        const bool hex = j < n && (p[j] == 'x' || p[j] == 'X');
        if (hex) ++j;
        const size_t digits = j;
        unsigned value = 0;  // only the low byte survives, so it is kept modulo 256
        if (hex) {
          for (; j < n && is_hex_digit(p[j]); ++j) value = ((value << 4) | hex_value(p[j])) & 0xFF;
        } else {
          for (; j < n && p[j] >= '0' && p[j] <= '9'; ++j)
            value = (value * 10 + (p[j] - '0')) & 0xFF;
        }
        if (j > digits) {
          emit(value, j);
          continue;
        }
      } else {
        while (j < n && is_alnum(p[j])) ++j;
        const int value = named_entity(p + i + 1, j - i - 1);
        if (value >= 0) {
          emit(unsigned(value), j);
          continue;
        }
      }
    }
    *d++ = char(p[i++]);
  }
  finish(out, d);
}

void js_decode(std::string_view in, std::string& out, bool code_point_escapes) {
  const Bytes p = bytes_of(in);
  const size_t n = in.size();
  char* d = begin_shrinking(in, out);
  size_t i = 0;
  while ((i = copy_until(p, i, n, '\\', d)) < n) {
    if (i + 5 < n && p[i + 1] == 'u' && is_hex_digit(p[i + 2]) && is_hex_digit(p[i + 3]) &&
        is_hex_digit(p[i + 4]) && is_hex_digit(p[i + 5])) {
      *d++ =
          wide_to_byte(uint32_t(hex_pair(p[i + 2], p[i + 3])) << 8 | hex_pair(p[i + 4], p[i + 5]));
      i += 6;
      continue;
    }
    if (code_point_escapes && i + 3 < n && p[i + 1] == 'u' && p[i + 2] == '{') {
      // ES2015 \u{H…}: 1–6 hex digits naming a code point up to U+10FFFF.
      size_t j = i + 3;
      uint32_t code = 0;
      while (j < n && j - (i + 3) < 6 && is_hex_digit(p[j])) code = code << 4 | hex_value(p[j++]);
      if (j > i + 3 && j < n && p[j] == '}' && code <= 0x10FFFF) {
        *d++ = wide_to_byte(code);
        i = j + 1;
        continue;
      }
    }
    if (i + 3 < n && p[i + 1] == 'x' && is_hex_digit(p[i + 2]) && is_hex_digit(p[i + 3])) {
      *d++ = as_char(hex_pair(p[i + 2], p[i + 3]));
      i += 4;
      continue;
    }
    if (i + 1 < n && is_octal_digit(p[i + 1])) {
      // \OOO is one byte: a third digit is taken only while the value stays below 0400.
      size_t digits = 1;
      while (digits < 3 && i + 1 + digits < n && is_octal_digit(p[i + 1 + digits])) ++digits;
      if (digits == 3 && p[i + 1] > '3') digits = 2;
      unsigned value = 0;
      for (size_t k = 0; k < digits; ++k) value = value * 8 + (p[i + 1 + k] - '0');
      *d++ = as_char(value);
      i += 1 + digits;
      continue;
    }
    if (i + 1 < n) {
      // Any other \C is C, as a JavaScript string literal reads it.
      unsigned char c = p[i + 1];
      switch (c) {
        case 'a':
          c = '\a';
          break;
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        case 'v':
          c = '\v';
          break;
        default:
          break;
      }
      *d++ = char(c);
      i += 2;
      continue;
    }
    *d++ = '\\';  // a backslash that ends the input has nothing to escape
    ++i;
  }
  finish(out, d);
}

void css_decode(std::string_view in, std::string& out) {
  const Bytes p = bytes_of(in);
  const size_t n = in.size();
  char* d = begin_shrinking(in, out);
  size_t i = 0;
  while ((i = copy_until(p, i, n, '\\', d)) < n) {
    ++i;                // the backslash itself never reaches the output
    if (i >= n) break;  // "\" at the end continues into nothing
    size_t digits = 0;
    while (digits < 6 && i + digits < n && is_hex_digit(p[i + digits])) ++digits;
    if (digits == 0) {
      // "\" + newline is a line continuation; "\" + anything else is that character, which
      // undoes evasions like ja\vascript.
      if (p[i] != '\n') *d++ = char(p[i]);
      ++i;
      continue;
    }
    // Only the last byte of the code point is kept ("up to two bytes" in AWS's words), except
    // that full-width ASCII FF01–FF5E (4 digits, or 5–6 with leading zeros) maps to ASCII.
    unsigned value = digits == 1 ? hex_value(p[i]) : hex_pair(p[i + digits - 2], p[i + digits - 1]);
    const bool full_width_form = digits == 4 || (digits == 5 && p[i] == '0') ||
                                 (digits == 6 && p[i] == '0' && p[i + 1] == '0');
    if (full_width_form && value > 0x00 && value < 0x5F && is_f(p[i + digits - 3]) &&
        is_f(p[i + digits - 4]))
      value += 0x20;
    *d++ = as_char(value);
    i += digits;
    if (i < n && is_c_space(p[i])) ++i;  // one whitespace ends a hex escape and is part of it
  }
  finish(out, d);
}

void escape_seq_decode(std::string_view in, std::string& out) {
  const Bytes p = bytes_of(in);
  const size_t n = in.size();
  char* d = begin_shrinking(in, out);
  size_t i = 0;
  while ((i = copy_until(p, i, n, '\\', d)) < n) {
    if (i + 1 >= n) {
      *d++ = '\\';
      break;
    }
    int decoded = -1;
    switch (p[i + 1]) {
      case 'a':
        decoded = '\a';
        break;
      case 'b':
        decoded = '\b';
        break;
      case 'f':
        decoded = '\f';
        break;
      case 'n':
        decoded = '\n';
        break;
      case 'r':
        decoded = '\r';
        break;
      case 't':
        decoded = '\t';
        break;
      case 'v':
        decoded = '\v';
        break;
      case '\\':
        decoded = '\\';
        break;
      case '?':
        decoded = '?';
        break;
      case '\'':
        decoded = '\'';
        break;
      case '"':
        decoded = '"';
        break;
      default:
        break;
    }
    if (decoded >= 0) {
      *d++ = char(decoded);
      i += 2;
      continue;
    }
    if ((p[i + 1] == 'x' || p[i + 1] == 'X') && i + 3 < n && is_hex_digit(p[i + 2]) &&
        is_hex_digit(p[i + 3])) {
      *d++ = as_char(hex_pair(p[i + 2], p[i + 3]));
      i += 4;
      continue;
    }
    if (is_octal_digit(p[i + 1])) {
      size_t digits = 1;
      while (digits < 3 && i + 1 + digits < n && is_octal_digit(p[i + 1 + digits])) ++digits;
      unsigned value = 0;
      for (size_t k = 0; k < digits; ++k) value = value * 8 + (p[i + 1 + k] - '0');
      *d++ = as_char(value);  // \400–\777 wrap to one byte, as C's char does
      i += 1 + digits;
      continue;
    }
    // Not an escape AWS lists: the backslash stays, and the next byte is read afresh.
    *d++ = '\\';
    ++i;
  }
  finish(out, d);
}

}  // namespace eg::waf::transform_detail
