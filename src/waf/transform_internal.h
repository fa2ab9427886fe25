// The bodies of the WAFv2 text transformations, shared by transform*.cc. Each replaces `out` with
// the transformed `in`; the two never alias. Not part of the engine's interface: callers use
// apply_transform / apply_transforms from waf/transform.h.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace eg::waf::transform_detail {

using Bytes = const unsigned char*;
inline Bytes bytes_of(std::string_view in) { return reinterpret_cast<Bytes>(in.data()); }
inline char as_char(unsigned value) { return static_cast<char>(static_cast<unsigned char>(value)); }

// Sizes out for a transformation that never grows its input; finish() trims it to what was
// written through the returned pointer.
inline char* begin_shrinking(std::string_view in, std::string& out) {
  out.resize(in.size());
  return out.data();
}
inline void finish(std::string& out, const char* end) { out.resize(size_t(end - out.data())); }

inline bool is_hex_digit(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// Only meaningful when is_hex_digit(c).
inline unsigned hex_value(unsigned char c) {
  return c <= '9' ? unsigned(c - '0') : unsigned((c | 0x20) - 'a' + 10);
}
inline unsigned char hex_pair(unsigned char high, unsigned char low) {
  return static_cast<unsigned char>((hex_value(high) << 4) | hex_value(low));
}
inline bool is_octal_digit(unsigned char c) { return c >= '0' && c <= '7'; }
// C's isspace in the "C" locale, without the locale lookup.
inline bool is_c_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// The decoders shrink or keep their input's length, except utf8_to_unicode (at most 3x).
void url_decode(std::string_view in, std::string& out);
void url_decode_uni(std::string_view in, std::string& out);
void html_entity_decode(std::string_view in, std::string& out);
void js_decode(std::string_view in, std::string& out, bool code_point_escapes);
void css_decode(std::string_view in, std::string& out);
void escape_seq_decode(std::string_view in, std::string& out);
void base64_decode(std::string_view in, std::string& out);
void base64_decode_ext(std::string_view in, std::string& out);
void hex_decode(std::string_view in, std::string& out);
void sql_hex_decode(std::string_view in, std::string& out);
void utf8_to_unicode(std::string_view in, std::string& out);

void compress_white_space(std::string_view in, std::string& out);
void remove_whitespace(std::string_view in, std::string& out);
void lowercase(std::string_view in, std::string& out);
void uppercase(std::string_view in, std::string& out);
void remove_nulls(std::string_view in, std::string& out);
void replace_nulls(std::string_view in, std::string& out);
void trim(std::string_view in, std::string& out, bool left, bool right);
enum class CmdLineFlavor : uint8_t { kGeneric, kWindows, kUnix };
void cmd_line(std::string_view in, std::string& out, CmdLineFlavor flavor);
void replace_comments(std::string_view in, std::string& out);
void remove_comments_char(std::string_view in, std::string& out);
void normalize_path(std::string_view in, std::string& out, bool windows);

}  // namespace eg::waf::transform_detail
