// WAFv2 text transformations (aws-formats.md §3.4), applied in priority order before a
// statement inspects a field. Pure functions of bytes: no request, no allocation beyond `out`.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace eg::waf {

enum class Transform : uint8_t {
  NONE,
  COMPRESS_WHITE_SPACE,
  HTML_ENTITY_DECODE,
  LOWERCASE,
  CMD_LINE,
  URL_DECODE,
  URL_DECODE_UNI,
  BASE64_DECODE,
  BASE64_DECODE_EXT,
  HEX_DECODE,
  MD5,
  REPLACE_COMMENTS,
  ESCAPE_SEQ_DECODE,
  SQL_HEX_DECODE,
  CSS_DECODE,
  JS_DECODE,
  NORMALIZE_PATH,
  NORMALIZE_PATH_WIN,
  REMOVE_NULLS,
  REPLACE_NULLS,
  UTF8_TO_UNICODE,
  REMOVE_WHITESPACE,
  TRIM,
  TRIM_LEFT,
  TRIM_RIGHT,
  REMOVE_COMMENTS_CHAR,
  UPPERCASE,
  CMD_LINE_WIN,
  CMD_LINE_UNIX,
  JS_DECODE_EXT,
  SHA256,
};

// The AWS name ("URL_DECODE") → the type; nullopt for an unknown name.
std::optional<Transform> parse_transform(std::string_view name);
std::string_view transform_name(Transform t);
// "NONE, COMPRESS_WHITE_SPACE, ..." for error messages.
std::string_view transform_names();

// Replaces out with the transformed input. `in` and `out` never alias.
void apply_transform(Transform t, std::string_view in, std::string& out);
// Applies a whole chain (already in priority order); returns the result in out.
void apply_transforms(std::span<const Transform> chain, std::string_view in, std::string& out);
// The same with a caller-owned second buffer: the steps alternate between out and scratch, so a
// caller that keeps both alive across requests allocates nothing once they have grown. `in` must
// not view out or scratch.
void apply_transforms(std::span<const Transform> chain, std::string_view in, std::string& out,
                      std::string& scratch);

// Pre-parse transformations of SingleQueryArgument/AllQueryArguments: applied to the raw query
// string before it is split into arguments.
enum class PreParseTransform : uint8_t {
  NONE,
  URL_DECODE,
  URL_DECODE_UNI,
  COMBINE_DUPLICATE_QUERY_ARGS_BY_COMMA,
  REPLACE_SEMICOLONS_WITH_AMPERSANDS,
};
std::optional<PreParseTransform> parse_pre_parse_transform(std::string_view name);
std::string_view pre_parse_transform_name(PreParseTransform t);
std::string_view pre_parse_transform_names();
void apply_pre_parse_transform(PreParseTransform t, std::string_view query, std::string& out);
// Applies a whole pre-parse chain (already in priority order); returns the result in out.
void apply_pre_parse_transforms(std::span<const PreParseTransform> chain, std::string_view query,
                                std::string& out);

}  // namespace eg::waf
