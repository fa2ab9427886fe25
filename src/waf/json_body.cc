#include "waf/json_body.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

#include "core/strings.h"

namespace eg::waf {
namespace {

// Nesting beyond this is treated as invalid JSON: the frame stack is fixed-size, and no real
// API body nests deeper.
constexpr size_t kMaxDepth = 64;
// AWS's limit on an IncludedPaths entry (JsonMatchPattern, "Maximum length of 512").
constexpr size_t kMaxPointerChars = 512;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool starts_value(char c) {
  return c == '{' || c == '[' || c == '"' || c == '-' || is_digit(c) || c == 't' || c == 'f' ||
         c == 'n';
}
// A number or literal running straight into one of these ("truex", "1.2.3", "12-3") is one
// malformed token, not two tokens with a missing comma between them.
bool continues_token(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '+' ||
         c == '-' || c == '_';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at body[at..at+4); -1 if any is missing or not hex.
int32_t hex4(std::string_view body, size_t at) {
  if (body.size() < at + 4) return -1;
  int32_t v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    int d = hex_digit(body[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Compares a reference token as written in the pointer (~0, ~1 escaped) with a decoded key,
// so that pointers need no decoded copy per request.
bool token_equals_key(std::string_view token, std::string_view key) {
  size_t k = 0;
  for (size_t i = 0; i < token.size(); ++i, ++k) {
    char c = token[i];
    if (c == '~' && i + 1 < token.size()) c = token[++i] == '1' ? '/' : '~';
    if (k >= key.size() || key[k] != c) return false;
  }
  return k == key.size();
}

// RFC 6901 array indices are "0" or digits without a leading zero; canonical decimal of the
// index compares equal only to such a token ("01" and "-" never match).
bool token_equals_index(std::string_view token, uint32_t index) {
  char digits[12];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, index);
  return ec == std::errc() && token == std::string_view(digits, size_t(end - digits));
}

class JsonReader {
 public:
  JsonReader(std::string_view body, const JsonBodySpec& spec, std::vector<std::string>& items)
      : body_(body), spec_(spec), items_(items) {
    emit_keys_ = spec.scope != JsonScope::Value;
    emit_values_ = spec.scope != JsonScope::Key;
    split_pointers();
  }

  // True when the body is a whole document (leniencies allowed); items then hold everything
  // in scope, else what was in scope before the first error.
  bool run() {
    bool ok = parse();
    // Keys of objects still open at a stop have not been checked for duplicates yet.
    while (depth_ > 0) {
      const Frame& f = frames_[--depth_];
      check_duplicates(f);
      keys_.resize(f.keys_begin);
    }
    if (duplicate_found_) {
      items_.resize(items_before_duplicate_);
      return false;
    }
    return ok;
  }

 private:
  struct Frame {
    bool is_object;
    bool selected;  // this container lies in a subtree an included path selects
    uint32_t next_index;
    size_t keys_begin;
    size_t arena_begin;
  };
  // A key of an open object, kept to find duplicates when the object closes: sorting them
  // then costs O(k log k) whatever the keys are, where a hash set could be flooded.
  struct KeyRecord {
    size_t offset;
    size_t length;
    bool in_arena;
    size_t position;      // byte offset of the key in the body, to find the first duplicate
    size_t items_before;  // items_.size() before this key, to cut inspection there
  };
  enum class State : uint8_t {
    Root,
    ObjectFirst,
    ObjectKey,
    AfterKey,
    ArrayFirst,
    ArrayValue,
    AfterValue,
    Done
  };

  void split_pointers() {
    if (spec_.included_paths.empty()) {
      root_selected_ = true;
      return;
    }
    pointers_.reserve(spec_.included_paths.size());
    for (const std::string& path : spec_.included_paths) {
      // Invalid pointers are refused at load time (check_json_pointer); one that got here
      // anyway selects nothing rather than something unintended.
      if (path.empty() || path[0] != '/') continue;
      // "/" is AWS's whole-document pointer (its API pattern lists it on its own), not
      // RFC 6901's member named "".
      if (path == "/") {
        root_selected_ = true;
        continue;
      }
      Pointer p{tokens_.size(), 0};
      size_t start = 1;
      while (true) {
        size_t slash = path.find('/', start);
        tokens_.push_back(std::string_view(path).substr(start, slash - start));
        ++p.count;
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
      pointers_.push_back(p);
    }
    matched_.assign(pointers_.size(), 0);
  }

  // Whether the child about to be read (named by key or index) is selected. matched_[i] is
  // how many of pointer i's tokens the current path matches; entering a child of a container
  // at path length d first forgets matches made under an earlier sibling.
  template <typename TokenMatches>
  bool child_selected(const Frame& parent, TokenMatches token_matches) {
    if (parent.selected) return true;
    const uint16_t d = uint16_t(depth_ - 1);
    bool selected = false;
    for (size_t i = 0; i < pointers_.size(); ++i) {
      if (matched_[i] > d) matched_[i] = d;
      const Pointer& p = pointers_[i];
      if (matched_[i] == d && p.count > d && token_matches(tokens_[p.first + d])) {
        matched_[i] = uint16_t(d + 1);
        if (p.count == size_t(d) + 1) selected = true;
      }
    }
    return selected;
  }

  std::string_view key_text(const KeyRecord& k) const {
    return k.in_arena ? std::string_view(arena_).substr(k.offset, k.length)
                      : body_.substr(k.offset, k.length);
  }

  void note_duplicate(const KeyRecord& later) {
    if (!duplicate_found_ || later.position < duplicate_position_) {
      duplicate_found_ = true;
      duplicate_position_ = later.position;
      items_before_duplicate_ = later.items_before;
    }
  }

  void check_duplicates(const Frame& f) {
    const size_t count = keys_.size() - f.keys_begin;
    if (!f.is_object || count < 2) return;
    // Most objects are small: comparing pairs beats sorting them.
    if (count <= 8) {
      for (size_t i = f.keys_begin; i < keys_.size(); ++i)
        for (size_t j = i + 1; j < keys_.size(); ++j)
          if (keys_[i].length == keys_[j].length && key_text(keys_[i]) == key_text(keys_[j]))
            note_duplicate(keys_[j]);
      return;
    }
    auto begin = keys_.begin() + std::ptrdiff_t(f.keys_begin);
    std::sort(begin, keys_.end(), [this](const KeyRecord& a, const KeyRecord& b) {
      int c = key_text(a).compare(key_text(b));
      return c < 0 || (c == 0 && a.position < b.position);
    });
    for (auto it = begin + 1; it != keys_.end(); ++it) {
      if (key_text(*(it - 1)) == key_text(*it)) note_duplicate(*it);
    }
  }

  void close_container() {
    Frame& f = frames_[depth_ - 1];
    check_duplicates(f);
    keys_.resize(f.keys_begin);
    arena_.resize(f.arena_begin);
    --depth_;
    state_ = depth_ == 0 ? State::Done : State::AfterValue;
  }

  // Reads the string whose opening quote is at pos_; on success pos_ is past the closing
  // quote and text is the decoded string (a view of the body when it has no escapes).
  bool read_string(std::string_view& text, bool& decoded) {
    const size_t start = pos_ + 1;
    decoded = false;
    size_t i = start;
    while (i < body_.size()) {
      char c = body_[i];
      if (c == '"') {
        text = body_.substr(start, i - start);
        pos_ = i + 1;
        return true;
      }
      if (c == '\\') break;
      if (uint8_t(c) < 0x20) return false;
      ++i;
    }
    if (i >= body_.size()) return false;
    decoded = true;
    scratch_.assign(body_.substr(start, i - start));
    while (i < body_.size()) {
      char c = body_[i];
      if (c == '"') {
        text = scratch_;
        pos_ = i + 1;
        return true;
      }
      if (uint8_t(c) < 0x20) return false;
      if (c != '\\') {
        scratch_ += c;
        ++i;
        continue;
      }
      if (i + 1 >= body_.size()) return false;
      switch (body_[i + 1]) {
        case '"':
          scratch_ += '"';
          break;
        case '\\':
          scratch_ += '\\';
          break;
        case '/':
          scratch_ += '/';
          break;
        case 'b':
          scratch_ += '\b';
          break;
        case 'f':
          scratch_ += '\f';
          break;
        case 'n':
          scratch_ += '\n';
          break;
        case 'r':
          scratch_ += '\r';
          break;
        case 't':
          scratch_ += '\t';
          break;
        case 'u': {
          int32_t unit = hex4(body_, i + 2);
          if (unit < 0) return false;
          uint32_t cp = uint32_t(unit);
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate alone
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate only means something with the low one right after it.
            if (i + 7 >= body_.size() || body_[i + 6] != '\\' || body_[i + 7] != 'u') return false;
            int32_t low = hex4(body_, i + 8);
            if (low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (uint32_t(low) - 0xDC00);
            i += 6;
          }
          append_utf8(scratch_, cp);
          i += 4;
          break;
        }
        default:
          return false;
      }
      i += 2;
    }
    return false;
  }

  // A number as JSON writes it, or true/false/null; text is the token as written. A token
  // that reaches the end of the body may have been cut short, so it is not taken.
  bool read_bare_scalar(std::string_view& text) {
    size_t i = pos_;
    const size_t n = body_.size();
    char c = body_[i];
    if (c == 't' || c == 'f' || c == 'n') {
      std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
      if (body_.substr(i, word.size()) != word) return false;
      i += word.size();
    } else {
      if (c == '-') ++i;
      if (i >= n || !is_digit(body_[i])) return false;
      if (body_[i] == '0') {
        ++i;
      } else {
        while (i < n && is_digit(body_[i])) ++i;
      }
      if (i < n && body_[i] == '.') {
        ++i;
        if (i >= n || !is_digit(body_[i])) return false;
        while (i < n && is_digit(body_[i])) ++i;
      }
      if (i < n && (body_[i] == 'e' || body_[i] == 'E')) {
        ++i;
        if (i < n && (body_[i] == '+' || body_[i] == '-')) ++i;
        if (i >= n || !is_digit(body_[i])) return false;
        while (i < n && is_digit(body_[i])) ++i;
      }
    }
    if (i >= n || continues_token(body_[i])) return false;
    text = body_.substr(pos_, i - pos_);
    pos_ = i;
    return true;
  }

  bool read_value(bool selected) {
    char c = body_[pos_];
    if (c == '{' || c == '[') {
      if (depth_ == kMaxDepth) return false;
      frames_[depth_++] = Frame{c == '{', selected, 0, keys_.size(), arena_.size()};
      ++pos_;
      state_ = c == '{' ? State::ObjectFirst : State::ArrayFirst;
      return true;
    }
    std::string_view text;
    bool decoded = false;
    if (!(c == '"' ? read_string(text, decoded) : read_bare_scalar(text))) return false;
    if (selected && emit_values_) items_.emplace_back(text);
    state_ = State::AfterValue;
    return true;
  }

  bool read_element() {
    Frame& f = frames_[depth_ - 1];
    const uint32_t index = f.next_index++;
    bool selected =
        child_selected(f, [index](std::string_view t) { return token_equals_index(t, index); });
    return read_value(selected);
  }

  bool read_key() {
    const size_t position = pos_;
    std::string_view key;
    bool decoded = false;
    if (!read_string(key, decoded)) return false;
    Frame& f = frames_[depth_ - 1];
    KeyRecord record{0, key.size(), decoded, position, items_.size()};
    if (decoded) {
      record.offset = arena_.size();
      arena_ += key;
    } else {
      record.offset = size_t(key.data() - body_.data());
    }
    keys_.push_back(record);
    if (f.selected && emit_keys_) items_.emplace_back(key);
    child_selected_ =
        child_selected(f, [key](std::string_view t) { return token_equals_key(t, key); });
    state_ = State::AfterKey;
    return true;
  }

  bool parse() {
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (body_.substr(0, kBom.size()) == kBom) pos_ = kBom.size();
    const size_t n = body_.size();
    while (true) {
      while (pos_ < n && is_space(body_[pos_])) ++pos_;
      if (pos_ >= n) return state_ == State::Done;
      const char c = body_[pos_];
      switch (state_) {
        case State::Root:
          // A scalar root is not a document AWS inspects.
          if (c != '{' && c != '[') return false;
          if (!read_value(root_selected_)) return false;
          break;
        case State::ObjectFirst:
          if (c == '}') {
            ++pos_;
            close_container();
          } else if (c != '"' || !read_key()) {
            return false;
          }
          break;
        case State::ObjectKey:
          if (c != '"' || !read_key()) return false;
          break;
        case State::AfterKey:
          // The colon may be missing, or repeated.
          if (c == ':') {
            ++pos_;
          } else if (!starts_value(c) || !read_value(child_selected_)) {
            return false;
          }
          break;
        case State::ArrayFirst:
          if (c == ']') {
            ++pos_;
            close_container();
          } else if (!starts_value(c) || !read_element()) {
            return false;
          }
          break;
        case State::ArrayValue:
          if (!starts_value(c) || !read_element()) return false;
          break;
        case State::AfterValue: {
          const bool in_object = frames_[depth_ - 1].is_object;
          if (c == ',') {
            ++pos_;
            state_ = in_object ? State::ObjectKey : State::ArrayValue;
          } else if (c == (in_object ? '}' : ']')) {
            ++pos_;
            close_container();
          } else if (in_object && c == '"') {  // a missing comma between members
            if (!read_key()) return false;
          } else if (!in_object && starts_value(c)) {  // a missing comma between elements
            if (!read_element()) return false;
          } else {
            return false;
          }
          break;
        }
        case State::Done:
          return false;  // something after the root value
      }
      if (duplicate_found_) return false;
    }
  }

  struct Pointer {
    size_t first;  // into tokens_
    size_t count;
  };

  std::string_view body_;
  const JsonBodySpec& spec_;
  std::vector<std::string>& items_;
  bool emit_keys_ = true;
  bool emit_values_ = true;

  bool root_selected_ = false;
  std::vector<std::string_view> tokens_;  // raw reference tokens of all pointers
  std::vector<Pointer> pointers_;
  std::vector<uint16_t> matched_;
  bool child_selected_ = false;  // for the value after the key just read

  size_t pos_ = 0;
  State state_ = State::Root;
  std::array<Frame, kMaxDepth> frames_{};
  size_t depth_ = 0;
  std::vector<KeyRecord> keys_;
  std::string arena_;    // decoded keys that had escapes, while their object is open
  std::string scratch_;  // the string being decoded

  bool duplicate_found_ = false;
  size_t duplicate_position_ = 0;
  size_t items_before_duplicate_ = 0;
};

}  // namespace

std::string check_json_pointer(std::string_view pointer) {
  const std::string quoted = "\"" + std::string(pointer) + "\"";
  if (pointer.empty())
    return "an empty JSON Pointer is not accepted: it must start with '/' (\"/\" is the whole "
           "document, better written as the All match pattern)";
  if (pointer[0] != '/') return "JSON Pointer " + quoted + " must start with '/'";
  size_t chars = 0;
  for (char c : pointer) chars += (uint8_t(c) & 0xC0) != 0x80;
  if (chars > kMaxPointerChars)
    return "JSON Pointer " + quoted.substr(0, 40) + "...\" is longer than " +
           std::to_string(kMaxPointerChars) + " characters";
  for (size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] != '~') continue;
    if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))
      return "JSON Pointer " + quoted + ": ~ must be followed by 0 or 1 (at offset " +
             std::to_string(i) + "; a key's '~' is written ~0 and its '/' ~1)";
    ++i;
  }
  return {};
}

JsonBodyResult inspect_json_body(std::string_view body, const JsonBodySpec& spec) {
  JsonBodyResult result;
  // AWS treats an empty body as nothing to inspect, not as invalid JSON; whitespace alone
  // (a trailing newline from a client) is taken the same way.
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return result;
  JsonReader reader(body, spec, result.items);
  result.valid = reader.run();
  if (result.valid) return result;
  switch (spec.fallback) {
    case JsonInvalidFallback::EvaluateUpToError:
      break;
    case JsonInvalidFallback::Match:
      result.items.clear();
      result.outcome = JsonBodyResult::Outcome::Match;
      break;
    case JsonInvalidFallback::NoMatch:
      result.items.clear();
      result.outcome = JsonBodyResult::Outcome::NoMatch;
      break;
    case JsonInvalidFallback::EvaluateAsString:
      result.items.assign(1, std::string(body));
      break;
  }
  return result;
}

}  // namespace eg::waf
