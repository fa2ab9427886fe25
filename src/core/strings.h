// Small string utilities used across modules.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg {

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }
// Inline: header lookups call it for every header of every request.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}
std::string to_lower(std::string_view s);
std::string_view trim(std::string_view s);  // spaces and tabs
std::vector<std::string_view> split(std::string_view s, char sep);
bool starts_with(std::string_view s, std::string_view prefix);

// "250ms", "10s", "5m", "1h", or a bare number of seconds.
std::optional<int64_t> parse_duration_ms(std::string_view s);
// "512", "16k", "16KB", "8m", "1MiB"...
std::optional<uint64_t> parse_size(std::string_view s);
std::optional<uint64_t> parse_uint(std::string_view s);

// Appends the UTF-8 encoding of a code point (<= 0x10FFFF; the caller checks surrogates).
void append_utf8(std::string& out, uint32_t cp);
// Length of the well-formed UTF-8 sequence at s[i] (1 for ASCII), or 0 when the bytes there
// are not one (overlong forms, surrogates and code points above U+10FFFF included).
size_t utf8_sequence_length(std::string_view s, size_t i);

// Percent-decoding; returns nullopt on an invalid escape (%G1, truncated %4).
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace eg
