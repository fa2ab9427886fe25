// Byte classes and a case-insensitive word table shared by the SQLi and XSS detectors
// (detect_sqli.cc, detect_xss.cc). Everything works on raw bytes: no locale, no allocation.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <type_traits>

namespace eg::waf::detect {

inline bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
inline bool is_hex_digit(unsigned char c) {
  return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
// Control bytes and space: what browsers and SQL parsers alike skip between tokens.
inline bool is_blank(unsigned char c) { return c <= 0x20 || c == 0x7f; }
inline char lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : char(c); }

// Compares `in` at `pos` with a lowercase ASCII word, ignoring the case of `in`.
inline bool has_word_at(std::string_view in, size_t pos, std::string_view lower_word) {
  if (pos > in.size() || in.size() - pos < lower_word.size()) return false;
  for (size_t i = 0; i < lower_word.size(); ++i) {
    if (lower(static_cast<unsigned char>(in[pos + i])) != lower_word[i]) return false;
  }
  return true;
}

// Longest word any table holds; longer words are never looked up.
inline constexpr size_t kMaxWordLength = 32;

// Lowercases `word` into `buffer` for a table lookup; an empty view when it is too long.
inline std::string_view lowered(std::string_view word, char (&buffer)[kMaxWordLength]) {
  if (word.size() > kMaxWordLength) return {};
  for (size_t i = 0; i < word.size(); ++i) buffer[i] = lower(static_cast<unsigned char>(word[i]));
  return {buffer, word.size()};
}

template <typename Entry>
constexpr std::string_view name_of(const Entry& e) {
  if constexpr (std::is_same_v<Entry, std::string_view>) {
    return e;
  } else {
    return e.name;
  }
}

// Where each initial letter's run starts in a sorted table of lowercase names, so a lookup
// binary-searches a handful of entries rather than the whole table.
template <typename Entry, size_t N>
constexpr std::array<uint16_t, 27> first_letter_index(const Entry (&table)[N]) {
  std::array<uint16_t, 27> start{};
  size_t i = 0;
  for (size_t letter = 0; letter < 26; ++letter) {
    while (i < N && name_of(table[i])[0] < char('a' + letter)) ++i;
    start[letter] = static_cast<uint16_t>(i);
  }
  start[26] = static_cast<uint16_t>(N);
  return start;
}

// Looks `word` up, ignoring its case, in a sorted constexpr table of lowercase names
// (string_views, or structs with a `name`); names must start with a letter.
template <const auto& Table>
const auto* find_word(std::string_view word) {
  using Entry = std::remove_cvref_t<decltype(Table[0])>;
  static constexpr std::array<uint16_t, 27> kIndex = first_letter_index(Table);
  char buffer[kMaxWordLength];
  const std::string_view key = lowered(word, buffer);
  if (key.empty() || key[0] < 'a' || key[0] > 'z') return static_cast<const Entry*>(nullptr);
  const size_t letter = static_cast<size_t>(key[0] - 'a');
  const Entry* first = std::begin(Table) + kIndex[letter];
  const Entry* last = std::begin(Table) + kIndex[letter + 1];
  const Entry* it = std::lower_bound(
      first, last, key, [](const Entry& e, std::string_view k) { return name_of(e) < k; });
  return (it == last || name_of(*it) != key) ? static_cast<const Entry*>(nullptr) : it;
}

template <typename Entry, size_t N>
constexpr bool sorted_unique(const Entry (&table)[N]) {
  for (size_t i = 1; i < N; ++i) {
    if (!(name_of(table[i - 1]) < name_of(table[i]))) return false;
  }
  return true;
}

}  // namespace eg::waf::detect
