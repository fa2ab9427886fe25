#include "origin/ipranges_json_reader.h"

#include <fmt/core.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/strings.h"
#include "origin/ipranges_json.h"

namespace eg::origin {

JsonReader::JsonReader(std::string_view text) : s_(text) {
  if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

bool JsonReader::fail(std::string what) {
  if (!error_.empty()) return false;
  size_t line = 1, column = 1;
  for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
    if (s_[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  std::string found = pos_ >= s_.size()
                          ? "the end of the input"
                          : fmt::format("'{}'", s_[pos_] >= 0x20 && s_[pos_] < 0x7f
                                                    ? std::string(1, s_[pos_])
                                                    : fmt::format("\\x{:02x}", uint8_t(s_[pos_])));
  error_ = fmt::format("line {}, column {}: {}, found {}", line, column, what, found);
  return false;
}

void JsonReader::skip_space() {
  while (pos_ < s_.size()) {
    char c = s_[pos_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
    ++pos_;
  }
}

JsonReader::Kind JsonReader::peek() {
  if (failed()) return Kind::Invalid;
  skip_space();
  if (pos_ >= s_.size()) return Kind::End;
  switch (s_[pos_]) {
    case '{':
      return Kind::Object;
    case '[':
      return Kind::Array;
    case '"':
      return Kind::String;
    case 't':
      return Kind::True;
    case 'f':
      return Kind::False;
    case 'n':
      return Kind::Null;
    default:
      if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) return Kind::Number;
      fail("expected a value");
      return Kind::Invalid;
  }
}

bool JsonReader::begin_object() {
  if (peek() != Kind::Object) return fail("expected '{'");
  ++pos_;
  first_.push_back(true);
  return true;
}

bool JsonReader::begin_array() {
  if (peek() != Kind::Array) return fail("expected '['");
  ++pos_;
  first_.push_back(true);
  return true;
}

// Between members or elements: the closing bracket ends the list, a ',' (not before the
// first) announces one more.
bool JsonReader::separator(char close, bool& more) {
  more = false;
  if (failed() || first_.empty()) return false;
  skip_space();
  if (pos_ >= s_.size()) return fail(fmt::format("expected ',' or '{}'", close));
  if (s_[pos_] == close) {
    ++pos_;
    first_.pop_back();
    return true;
  }
  if (first_.back()) {
    first_.back() = false;
  } else {
    if (s_[pos_] != ',') return fail(fmt::format("expected ',' or '{}'", close));
    ++pos_;
    skip_space();
  }
  more = true;
  return true;
}

bool JsonReader::next_key(std::string& key) {
  bool more = false;
  if (!separator('}', more) || !more) return false;
  if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a member name");
  if (!scan_string(&key)) return false;
  skip_space();
  if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':'");
  ++pos_;
  return true;
}

bool JsonReader::next_element() {
  bool more = false;
  if (!separator(']', more) || !more) return false;
  return peek() != Kind::Invalid;
}

bool JsonReader::read_string(std::string& out) {
  if (peek() != Kind::String) return fail("expected a string");
  return scan_string(&out);
}

bool JsonReader::read_number(std::string_view& raw) {
  if (peek() != Kind::Number) return fail("expected a number");
  return scan_number(&raw);
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the valid UTF-8 sequence starting at s[0] (a byte >= 0x80), or 0 (RFC 3629).
size_t utf8_length(std::string_view s) {
  auto in = [&](size_t i, uint8_t lo, uint8_t hi) {
    return i < s.size() && uint8_t(s[i]) >= lo && uint8_t(s[i]) <= hi;
  };
  uint8_t b = uint8_t(s[0]);
  if (b >= 0xC2 && b <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
  if (b == 0xE0) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF)
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (b == 0xED) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (b == 0xF0) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (b >= 0xF1 && b <= 0xF3)
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (b == 0xF4) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

}  // namespace

bool JsonReader::scan_string(std::string* out) {
  ++pos_;  // the opening quote
  if (out) out->clear();
  for (;;) {
    // The common run: printable ASCII without quote or backslash, copied at once.
    size_t start = pos_;
    while (pos_ < s_.size()) {
      unsigned char c = uint8_t(s_[pos_]);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++pos_;
    }
    if (out) out->append(s_.data() + start, pos_ - start);
    if (pos_ >= s_.size()) return fail("unterminated string");
    unsigned char c = uint8_t(s_[pos_]);
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c < 0x20) return fail("control character in a string (escape it)");
    if (c >= 0x80) {
      size_t n = utf8_length(s_.substr(pos_));
      if (n == 0) return fail("invalid UTF-8 in a string");
      if (out) out->append(s_.data() + pos_, n);
      pos_ += n;
      continue;
    }
    // A backslash escape.
    if (pos_ + 1 >= s_.size()) return fail("unterminated escape");
    char e = s_[pos_ + 1];
    const char* simple = nullptr;
    switch (e) {
      case '"':
        simple = "\"";
        break;
      case '\\':
        simple = "\\";
        break;
      case '/':
        simple = "/";
        break;
      case 'b':
        simple = "\b";
        break;
      case 'f':
        simple = "\f";
        break;
      case 'n':
        simple = "\n";
        break;
      case 'r':
        simple = "\r";
        break;
      case 't':
        simple = "\t";
        break;
      default:
        break;
    }
    if (simple) {
      if (out) *out += simple;
      pos_ += 2;
      continue;
    }
    if (e != 'u') {
      ++pos_;
      return fail("invalid escape");
    }
    auto unit = [&](size_t at, uint32_t& v) {
      if (at + 6 > s_.size() || s_[at] != '\\' || s_[at + 1] != 'u') return false;
      v = 0;
      for (size_t i = at + 2; i < at + 6; ++i) {
        int d = hex_digit(s_[i]);
        if (d < 0) return false;
        v = v * 16 + uint32_t(d);
      }
      return true;
    };
    uint32_t cp = 0;
    if (!unit(pos_, cp)) return fail("invalid \\u escape");
    pos_ += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("a low surrogate without a high one");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low = 0;
      if (!unit(pos_, low) || low < 0xDC00 || low > 0xDFFF)
        return fail("a high surrogate must be followed by a low one");
      pos_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (out) append_utf8(*out, cp);
  }
}

bool JsonReader::scan_number(std::string_view* raw) {
  size_t start = pos_;
  auto digit = [&] { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
  if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
  if (!digit()) return fail("expected a digit");
  if (s_[pos_] == '0') {
    ++pos_;
  } else {
    while (digit()) ++pos_;
  }
  if (pos_ < s_.size() && s_[pos_] == '.') {
    ++pos_;
    if (!digit()) return fail("expected a digit after '.'");
    while (digit()) ++pos_;
  }
  if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
    if (!digit()) return fail("expected a digit in the exponent");
    while (digit()) ++pos_;
  }
  std::string_view text = s_.substr(start, pos_ - start);
  // Like nlohmann (and most parsers), a number beyond the range of a double is refused.
  if (text.size() > 15 || text.find_first_of("eE") != std::string_view::npos) {
    std::string copy(text);
    if (!std::isfinite(strtod(copy.c_str(), nullptr))) {
      pos_ = start;
      return fail("a number out of range");
    }
  }
  if (raw) *raw = text;
  return true;
}

bool JsonReader::scan_literal(std::string_view word) {
  if (s_.substr(pos_, word.size()) != word) return fail("expected a value");
  pos_ += word.size();
  return true;
}

bool JsonReader::skip_value() {
  // Iterative: only the bracket nesting matters, counted in `open`.
  std::vector<char> open;
  for (;;) {
    Kind k = peek();
    switch (k) {
      case Kind::Invalid:
        return false;
      case Kind::End:
        return fail("expected a value");
      case Kind::String:
        if (!scan_string(nullptr)) return false;
        break;
      case Kind::Number:
        if (!scan_number(nullptr)) return false;
        break;
      case Kind::True:
        if (!scan_literal("true")) return false;
        break;
      case Kind::False:
        if (!scan_literal("false")) return false;
        break;
      case Kind::Null:
        if (!scan_literal("null")) return false;
        break;
      case Kind::Object:
      case Kind::Array: {
        char close = k == Kind::Object ? '}' : ']';
        ++pos_;
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == close) {
          ++pos_;
          break;
        }
        open.push_back(close);
        if (close == '}') {
          if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a member name");
          if (!scan_string(nullptr)) return false;
          skip_space();
          if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':'");
          ++pos_;
        }
        continue;  // the first member's value or element
      }
    }
    // After a complete value: close what ends here, or move to the next member/element.
    for (;;) {
      if (open.empty()) return true;
      skip_space();
      if (pos_ >= s_.size()) return fail(fmt::format("expected ',' or '{}'", open.back()));
      if (s_[pos_] == open.back()) {
        ++pos_;
        open.pop_back();
        continue;
      }
      if (s_[pos_] != ',') return fail(fmt::format("expected ',' or '{}'", open.back()));
      ++pos_;
      if (open.back() == '}') {
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a member name");
        if (!scan_string(nullptr)) return false;
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':'");
        ++pos_;
      }
      break;
    }
  }
}

bool JsonReader::read_value(Json& out, int depth) {
  if (depth > 64) return fail("nested deeper than 64 levels");
  switch (peek()) {
    case Kind::Object: {
      out = Json::object();
      begin_object();
      std::string key;
      while (next_key(key))
        if (!read_value(out[key], depth + 1)) return false;
      return !failed();
    }
    case Kind::Array: {
      out = Json::array();
      begin_array();
      while (next_element()) {
        out.push_back(nullptr);
        if (!read_value(out.back(), depth + 1)) return false;
      }
      return !failed();
    }
    case Kind::String: {
      std::string v;
      if (!scan_string(&v)) return false;
      out = std::move(v);
      return true;
    }
    case Kind::Number: {
      std::string_view raw;
      if (!scan_number(&raw)) return false;
      std::string text(raw);
      if (text.find_first_of(".eE") == std::string::npos) {
        char* end = nullptr;
        errno = 0;
        if (text[0] == '-') {
          long long v = strtoll(text.c_str(), &end, 10);
          if (errno == 0) return out = v, true;
        } else {
          unsigned long long v = strtoull(text.c_str(), &end, 10);
          if (errno == 0) return out = v, true;
        }
      }
      out = strtod(text.c_str(), nullptr);
      return true;
    }
    case Kind::True:
      out = true;
      return scan_literal("true");
    case Kind::False:
      out = false;
      return scan_literal("false");
    case Kind::Null:
      out = nullptr;
      return scan_literal("null");
    case Kind::End:
      return fail("expected a value");
    default:
      return false;
  }
}

std::string JsonReader::describe_and_skip() {
  Kind k = peek();
  switch (k) {
    case Kind::Object:
      skip_value();
      return "an object";
    case Kind::Array:
      skip_value();
      return "an array";
    case Kind::True:
      scan_literal("true");
      return "true";
    case Kind::False:
      scan_literal("false");
      return "false";
    case Kind::Null:
      scan_literal("null");
      return "null";
    case Kind::Number: {
      std::string_view raw;
      scan_number(&raw);
      return "the number " + std::string(raw);
    }
    case Kind::String: {
      std::string s;
      scan_string(&s);
      return "the string " + json_quoted(s);
    }
    default:
      if (k == Kind::End) fail("expected a value");
      return "nothing";
  }
}

bool JsonReader::finish() {
  if (failed()) return false;
  skip_space();
  if (pos_ != s_.size()) return fail("expected the end of the input");
  return true;
}

}  // namespace eg::origin
