// The rewriting transformations of aws-formats.md §3.4: whitespace, case, NULs, command lines,
// comments and paths. None of them grows its input. docs/waf/transformations.md records the
// choices where AWS documents nothing.
#include <cstring>

#include "waf/transform_internal.h"

namespace eg::waf::transform_detail {
namespace {

constexpr unsigned char kNbsp = 0xA0;

}  // namespace

void compress_white_space(std::string_view in, std::string& out) {
  char* d = begin_shrinking(in, out);
  bool in_run = false;
  for (const unsigned char c : in) {
    if (c == ' ' || c == '\f' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == kNbsp) {
      if (!in_run) *d++ = ' ';
      in_run = true;
    } else {
      *d++ = char(c);
      in_run = false;
    }
  }
  finish(out, d);
}

void remove_whitespace(std::string_view in, std::string& out) {
  char* d = begin_shrinking(in, out);
  for (const unsigned char c : in)
    if (!is_c_space(c) && c != kNbsp) *d++ = char(c);
  finish(out, d);
}

namespace {

// Flips the case of the ASCII letters in [first, last] eight bytes at a time (SWAR): each byte's
// low seven bits plus a constant sets its high bit exactly when the byte is at or past a bound,
// and no sum carries into the next byte. Bytes >= 0x80 are never letters.
void change_case(std::string_view in, std::string& out, unsigned char first, unsigned char last) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHighBits = 0x80 * kOnes;
  char* d = begin_shrinking(in, out);
  const char* s = in.data();
  size_t n = in.size();
  for (; n >= 8; n -= 8, s += 8, d += 8) {
    uint64_t word;
    std::memcpy(&word, s, 8);
    const uint64_t low7 = word & (0x7F * kOnes);
    const uint64_t from_first = low7 + (0x80 - first) * kOnes;
    const uint64_t past_last = low7 + (0x7F - last) * kOnes;
    const uint64_t letters = from_first & ~past_last & ~word & kHighBits;
    word ^= letters >> 2;  // 0x80 >> 2 is the case bit, 0x20
    std::memcpy(d, &word, 8);
  }
  for (; n > 0; --n) {
    const auto c = static_cast<unsigned char>(*s++);
    *d++ = char(c >= first && c <= last ? c ^ 0x20 : c);
  }
}

}  // namespace

void lowercase(std::string_view in, std::string& out) { change_case(in, out, 'A', 'Z'); }

void uppercase(std::string_view in, std::string& out) { change_case(in, out, 'a', 'z'); }

void remove_nulls(std::string_view in, std::string& out) {
  char* d = begin_shrinking(in, out);
  const char* s = in.data();
  const char* const end = s + in.size();
  while (s < end) {
    const void* nul = std::memchr(s, '\0', size_t(end - s));
    const char* stop = nul ? static_cast<const char*>(nul) : end;
    std::memcpy(d, s, size_t(stop - s));
    d += stop - s;
    s = stop + (stop < end ? 1 : 0);
  }
  finish(out, d);
}

void replace_nulls(std::string_view in, std::string& out) {
  out.assign(in);
  char* const end = out.data() + out.size();
  for (char* s = out.data(); s < end; ++s) {
    s = static_cast<char*>(std::memchr(s, '\0', size_t(end - s)));
    if (s == nullptr) break;
    *s = ' ';
  }
}

void trim(std::string_view in, std::string& out, bool left, bool right) {
  const Bytes p = bytes_of(in);
  size_t begin = 0;
  size_t end = in.size();
  if (left)
    while (begin < end && is_c_space(p[begin])) ++begin;
  if (right)
    while (end > begin && is_c_space(p[end - 1])) --end;
  out.assign(in.substr(begin, end - begin));
}

void cmd_line(std::string_view in, std::string& out, CmdLineFlavor flavor) {
  // What each shell ignores inside a word: cmd.exe's ^ escape and quotes (its \ is a path
  // separator), a POSIX shell's \ escape and quotes (its ^ is an ordinary character).
  const bool drop_backslash = flavor != CmdLineFlavor::kWindows;
  const bool drop_caret = flavor != CmdLineFlavor::kUnix;
  char* const start = begin_shrinking(in, out);
  char* d = start;
  bool after_space = false;
  for (const char c : in) {
    switch (c) {
      case '"':
      case '\'':
        break;
      case '\\':
        if (!drop_backslash) {
          *d++ = c;
          after_space = false;
        }
        break;
      case '^':
        if (!drop_caret) {
          *d++ = c;
          after_space = false;
        }
        break;
      case ' ':
      case ',':
      case ';':
      case '\t':
      case '\r':
      case '\n':
        if (!after_space) *d++ = ' ';
        after_space = true;
        break;
      case '/':
      case '(':
        if (after_space) --d;  // "cmd /c" and "cmd (" read as "cmd/c" and "cmd("
        *d++ = c;
        after_space = false;
        break;
      default:
        *d++ = (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
        after_space = false;
        break;
    }
  }
  finish(out, d);
}

void replace_comments(std::string_view in, std::string& out) {
  const size_t n = in.size();
  char* d = begin_shrinking(in, out);
  bool in_comment = false;
  for (size_t i = 0; i < n;) {
    if (!in_comment) {
      if (in[i] == '/' && i + 1 < n && in[i + 1] == '*') {
        in_comment = true;
        i += 2;
      } else {
        *d++ = in[i++];
      }
    } else if (in[i] == '*' && i + 1 < n && in[i + 1] == '/') {
      in_comment = false;
      *d++ = ' ';
      i += 2;
    } else {
      ++i;
    }
  }
  if (in_comment) *d++ = ' ';  // an unterminated comment runs to the end and still counts
  finish(out, d);
}

void remove_comments_char(std::string_view in, std::string& out) {
  const size_t n = in.size();
  char* d = begin_shrinking(in, out);
  auto at = [&](size_t i, std::string_view marker) {
    return in.substr(i, marker.size()) == marker;
  };
  for (size_t i = 0; i < n;) {
    // Longest markers first, so "<!--" and "-->" are not read as "--".
    if (at(i, "<!--")) {
      i += 4;
    } else if (at(i, "-->")) {
      i += 3;
    } else if (at(i, "/*") || at(i, "*/") || at(i, "--")) {
      i += 2;
    } else if (in[i] == '#') {
      i += 1;
    } else {
      *d++ = in[i++];
    }
  }
  finish(out, d);
}

void normalize_path(std::string_view in, std::string& out, bool windows) {
  const size_t n = in.size();
  auto is_separator = [windows](char c) { return c == '/' || (windows && c == '\\'); };
  out.clear();
  if (n == 0) return;
  out.reserve(n);
  const bool absolute = is_separator(in[0]);
  const bool trailing = is_separator(in[n - 1]);
  if (absolute) out.push_back('/');
  // out[0, floor) can never be removed: the root, or the "../" run a relative path starts with.
  size_t floor = out.size();
  size_t i = 0;
  while (i < n) {
    while (i < n && is_separator(in[i])) ++i;
    size_t end = i;
    while (end < n && !is_separator(in[end])) ++end;
    const std::string_view segment = in.substr(i, end - i);
    i = end;
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (out.size() > floor) {
        const size_t slash = out.rfind('/');
        out.resize(slash == std::string::npos || slash < floor ? floor : slash);
      } else if (!absolute) {
        out.append("../");  // nothing left to go back over: a relative path keeps it
        floor = out.size();
      }
      continue;
    }
    if (out.size() > floor) out.push_back('/');
    out.append(segment);
  }
  const size_t root = absolute ? 1 : 0;
  if (!trailing && out.size() > root && out.back() == '/') out.pop_back();
  if (trailing && !out.empty() && out.back() != '/') out.push_back('/');
}

}  // namespace eg::waf::transform_detail
