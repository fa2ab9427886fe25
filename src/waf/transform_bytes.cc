// The transformations of aws-formats.md §3.4 that read the value as an encoding of bytes:
// base64, hex, SQL hex literals and UTF-8. Malformed input never stops them: what does not
// decode passes through (or, for strict base64, the whole value does), so a rule still sees it.
// docs/waf/transformations.md records the choices where AWS documents nothing.
#include <array>

#include "waf/transform_internal.h"

namespace eg::waf::transform_detail {
namespace {

constexpr int kNotBase64 = -1;

// Standard alphabet, plus '-' and '_' of the URL-safe one when `url_safe`.
constexpr std::array<int8_t, 256> base64_table(bool url_safe) {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = kNotBase64;
  for (int c = 'A'; c <= 'Z'; ++c) table[size_t(c)] = int8_t(c - 'A');
  for (int c = 'a'; c <= 'z'; ++c) table[size_t(c)] = int8_t(c - 'a' + 26);
  for (int c = '0'; c <= '9'; ++c) table[size_t(c)] = int8_t(c - '0' + 52);
  table['+'] = 62;
  table['/'] = 63;
  if (url_safe) {
    table['-'] = 62;
    table['_'] = 63;
  }
  return table;
}
constexpr auto kBase64 = base64_table(false);
constexpr auto kBase64Forgiving = base64_table(true);

// Packs sextets into bytes; a final group of 2 or 3 sextets yields 1 or 2 bytes, a lone one
// nothing. `accept` says which bytes are sextets (the others were vetted by the caller).
template <typename Accept>
void pack_sextets(Bytes p, size_t n, const std::array<int8_t, 256>& table, Accept accept,
                  std::string& out) {
  char* d = out.data();
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!accept(p[i])) continue;
    bits = bits << 6 | uint32_t(table[p[i]]);
    if (++count == 4) {
      *d++ = as_char(bits >> 16);
      *d++ = as_char(bits >> 8);
      *d++ = as_char(bits);
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) {
    *d++ = as_char(bits >> 4);
  } else if (count == 3) {
    *d++ = as_char(bits >> 10);
    *d++ = as_char(bits >> 2);
  }
  finish(out, d);
}

}  // namespace

void base64_decode(std::string_view in, std::string& out) {
  const Bytes p = bytes_of(in);
  size_t data_len = in.size();
  size_t padding = 0;
  while (data_len > 0 && padding < 2 && p[data_len - 1] == '=') {
    --data_len;
    ++padding;
  }
  bool valid = data_len % 4 != 1 && (padding == 0 || (data_len + padding) % 4 == 0);
  for (size_t i = 0; valid && i < data_len; ++i) valid = kBase64[p[i]] != kNotBase64;
  if (!valid) {
    // Not base64 as RFC 4648 spells it: the value is inspected as it came.
    out.assign(in);
    return;
  }
  out.resize(data_len / 4 * 3 + 2);
  pack_sextets(
      p, data_len, kBase64, [](unsigned char) { return true; }, out);
}

void base64_decode_ext(std::string_view in, std::string& out) {
  out.resize(in.size() / 4 * 3 + 2);
  pack_sextets(
      bytes_of(in), in.size(), kBase64Forgiving,
      [](unsigned char c) { return kBase64Forgiving[c] != kNotBase64; }, out);
}

void hex_decode(std::string_view in, std::string& out) {
  const Bytes p = bytes_of(in);
  const size_t n = in.size();
  char* d = begin_shrinking(in, out);
  for (size_t i = 0; i < n;) {
    if (i + 1 < n && is_hex_digit(p[i]) && is_hex_digit(p[i + 1])) {
      *d++ = as_char(hex_pair(p[i], p[i + 1]));
      i += 2;
    } else {
      *d++ = char(p[i++]);
    }
  }
  finish(out, d);
}

void sql_hex_decode(std::string_view in, std::string& out) {
  const Bytes p = bytes_of(in);
  const size_t n = in.size();
  char* d = begin_shrinking(in, out);
  for (size_t i = 0; i < n;) {
    if (p[i] == '0' && i + 3 < n && (p[i + 1] | 0x20) == 'x' && is_hex_digit(p[i + 2]) &&
        is_hex_digit(p[i + 3])) {
      size_t j = i + 2;
      for (; j + 1 < n && is_hex_digit(p[j]) && is_hex_digit(p[j + 1]); j += 2)
        *d++ = as_char(hex_pair(p[j], p[j + 1]));
      i = j;  // an odd last digit is copied as it is by the next turn
      continue;
    }
    *d++ = char(p[i++]);
  }
  finish(out, d);
}

void utf8_to_unicode(std::string_view in, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const Bytes p = bytes_of(in);
  const size_t n = in.size();
  // The worst case is a run of 2-byte sequences, each becoming the 6 bytes of "%uHHHH".
  out.resize(n * 3);
  char* d = out.data();
  auto continuation = [&](size_t at) { return at < n && (p[at] & 0xC0) == 0x80; };
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    uint32_t code = 0;
    size_t length = 0;
    if (c >= 0xC0 && c < 0xE0 && continuation(i + 1)) {
      code = uint32_t(c & 0x1F) << 6 | (p[i + 1] & 0x3F);
      if (code >= 0x80) length = 2;
    } else if (c >= 0xE0 && c < 0xF0 && continuation(i + 1) && continuation(i + 2)) {
      code = uint32_t(c & 0x0F) << 12 | uint32_t(p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F);
      if (code >= 0x800 && (code < 0xD800 || code > 0xDFFF)) length = 3;
    } else if (c >= 0xF0 && c < 0xF8 && continuation(i + 1) && continuation(i + 2) &&
               continuation(i + 3)) {
      code = uint32_t(c & 0x07) << 18 | uint32_t(p[i + 1] & 0x3F) << 12 |
             uint32_t(p[i + 2] & 0x3F) << 6 | (p[i + 3] & 0x3F);
      if (code >= 0x10000 && code <= 0x10FFFF) length = 4;
    }
    if (length == 0) {
      // ASCII, and any byte that does not start a valid, shortest-form sequence, pass as is.
      *d++ = char(c);
      ++i;
      continue;
    }
    *d++ = '%';
    *d++ = 'u';
    int digits = code > 0xFFFFF ? 6 : code > 0xFFFF ? 5 : 4;
    while (digits-- > 0) *d++ = kHex[(code >> (4 * digits)) & 0xF];
    i += length;
  }
  finish(out, d);
}

}  // namespace eg::waf::transform_detail
