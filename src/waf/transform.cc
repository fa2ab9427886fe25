// Names, dispatch and chains of the WAFv2 text transformations (aws-formats.md §3.4), and the
// pre-parse transformations of query arguments. The bodies live in transform_decode.cc,
// transform_bytes.cc and transform_text.cc.
#include "waf/transform.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <vector>

#include "waf/transform_internal.h"

namespace eg::waf {
namespace {

namespace detail = transform_detail;

// In enum order: kTransformNames[size_t(t)] is t's AWS name.
constexpr std::array<std::string_view, 31> kTransformNames = {
    "NONE",
    "COMPRESS_WHITE_SPACE",
    "HTML_ENTITY_DECODE",
    "LOWERCASE",
    "CMD_LINE",
    "URL_DECODE",
    "URL_DECODE_UNI",
    "BASE64_DECODE",
    "BASE64_DECODE_EXT",
    "HEX_DECODE",
    "MD5",
    "REPLACE_COMMENTS",
    "ESCAPE_SEQ_DECODE",
    "SQL_HEX_DECODE",
    "CSS_DECODE",
    "JS_DECODE",
    "NORMALIZE_PATH",
    "NORMALIZE_PATH_WIN",
    "REMOVE_NULLS",
    "REPLACE_NULLS",
    "UTF8_TO_UNICODE",
    "REMOVE_WHITESPACE",
    "TRIM",
    "TRIM_LEFT",
    "TRIM_RIGHT",
    "REMOVE_COMMENTS_CHAR",
    "UPPERCASE",
    "CMD_LINE_WIN",
    "CMD_LINE_UNIX",
    "JS_DECODE_EXT",
    "SHA256",
};
static_assert(size_t(Transform::SHA256) + 1 == kTransformNames.size());

constexpr std::array<std::string_view, 5> kPreParseNames = {
    "NONE",
    "URL_DECODE",
    "URL_DECODE_UNI",
    "COMBINE_DUPLICATE_QUERY_ARGS_BY_COMMA",
    "REPLACE_SEMICOLONS_WITH_AMPERSANDS",
};
static_assert(size_t(PreParseTransform::REPLACE_SEMICOLONS_WITH_AMPERSANDS) + 1 ==
              kPreParseNames.size());

template <size_t N>
std::string join_names(const std::array<std::string_view, N>& names) {
  std::string joined;
  for (const auto name : names) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

template <size_t N>
std::optional<size_t> find_name(const std::array<std::string_view, N>& names,
                                std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == name) return i;
  return std::nullopt;
}

// One-shot digest; raw binary, as AWS's MD5 (and ModSecurity's sha1/sha256) produce.
void digest(const EVP_MD* md, std::string_view in, std::string& out) {
  unsigned char buffer[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(in.data(), in.size(), buffer, &length, md, nullptr) != 1) length = 0;
  out.assign(reinterpret_cast<const char*>(buffer), length);
}

}  // namespace

std::optional<Transform> parse_transform(std::string_view name) {
  if (const auto index = find_name(kTransformNames, name)) return Transform(*index);
  return std::nullopt;
}

std::string_view transform_name(Transform t) {
  const auto index = size_t(t);
  return index < kTransformNames.size() ? kTransformNames[index] : std::string_view("?");
}

std::string_view transform_names() {
  static const std::string names = join_names(kTransformNames);
  return names;
}

void apply_transform(Transform t, std::string_view in, std::string& out) {
  using detail::CmdLineFlavor;
  switch (t) {
    case Transform::NONE:
      out.assign(in);
      return;
    case Transform::COMPRESS_WHITE_SPACE:
      detail::compress_white_space(in, out);
      return;
    case Transform::HTML_ENTITY_DECODE:
      detail::html_entity_decode(in, out);
      return;
    case Transform::LOWERCASE:
      detail::lowercase(in, out);
      return;
    case Transform::CMD_LINE:
      detail::cmd_line(in, out, CmdLineFlavor::kGeneric);
      return;
    case Transform::URL_DECODE:
      detail::url_decode(in, out);
      return;
    case Transform::URL_DECODE_UNI:
      detail::url_decode_uni(in, out);
      return;
    case Transform::BASE64_DECODE:
      detail::base64_decode(in, out);
      return;
    case Transform::BASE64_DECODE_EXT:
      detail::base64_decode_ext(in, out);
      return;
    case Transform::HEX_DECODE:
      detail::hex_decode(in, out);
      return;
    case Transform::MD5:
      digest(EVP_md5(), in, out);
      return;
    case Transform::REPLACE_COMMENTS:
      detail::replace_comments(in, out);
      return;
    case Transform::ESCAPE_SEQ_DECODE:
      detail::escape_seq_decode(in, out);
      return;
    case Transform::SQL_HEX_DECODE:
      detail::sql_hex_decode(in, out);
      return;
    case Transform::CSS_DECODE:
      detail::css_decode(in, out);
      return;
    case Transform::JS_DECODE:
      detail::js_decode(in, out, false);
      return;
    case Transform::NORMALIZE_PATH:
      detail::normalize_path(in, out, false);
      return;
    case Transform::NORMALIZE_PATH_WIN:
      detail::normalize_path(in, out, true);
      return;
    case Transform::REMOVE_NULLS:
      detail::remove_nulls(in, out);
      return;
    case Transform::REPLACE_NULLS:
      detail::replace_nulls(in, out);
      return;
    case Transform::UTF8_TO_UNICODE:
      detail::utf8_to_unicode(in, out);
      return;
    case Transform::REMOVE_WHITESPACE:
      detail::remove_whitespace(in, out);
      return;
    case Transform::TRIM:
      detail::trim(in, out, true, true);
      return;
    case Transform::TRIM_LEFT:
      detail::trim(in, out, true, false);
      return;
    case Transform::TRIM_RIGHT:
      detail::trim(in, out, false, true);
      return;
    case Transform::REMOVE_COMMENTS_CHAR:
      detail::remove_comments_char(in, out);
      return;
    case Transform::UPPERCASE:
      detail::uppercase(in, out);
      return;
    case Transform::CMD_LINE_WIN:
      detail::cmd_line(in, out, CmdLineFlavor::kWindows);
      return;
    case Transform::CMD_LINE_UNIX:
      detail::cmd_line(in, out, CmdLineFlavor::kUnix);
      return;
    case Transform::JS_DECODE_EXT:
      detail::js_decode(in, out, true);
      return;
    case Transform::SHA256:
      digest(EVP_sha256(), in, out);
      return;
  }
  out.assign(in);  // a value outside the enum (a corrupt compiled rule) changes nothing
}

void apply_transforms(std::span<const Transform> chain, std::string_view in, std::string& out,
                      std::string& scratch) {
  const auto steps = size_t(
      std::count_if(chain.begin(), chain.end(), [](Transform t) { return t != Transform::NONE; }));
  if (steps == 0) {
    out.assign(in);
    return;
  }
  // Each step reads the previous step's buffer and writes the other one; starting in the right
  // buffer makes the last step land in out, so no final copy is needed.
  std::string* write = steps % 2 == 1 ? &out : &scratch;
  std::string* spare = steps % 2 == 1 ? &scratch : &out;
  std::string_view read = in;
  for (const Transform t : chain) {
    if (t == Transform::NONE) continue;
    apply_transform(t, read, *write);
    read = *write;
    std::swap(write, spare);
  }
}

void apply_transforms(std::span<const Transform> chain, std::string_view in, std::string& out) {
  // One per thread, kept across calls: after warm-up a chain allocates only when a field is
  // larger than any this thread has transformed before.
  thread_local std::string scratch;
  apply_transforms(chain, in, out, scratch);
}

std::optional<PreParseTransform> parse_pre_parse_transform(std::string_view name) {
  if (const auto index = find_name(kPreParseNames, name)) return PreParseTransform(*index);
  return std::nullopt;
}

std::string_view pre_parse_transform_name(PreParseTransform t) {
  const auto index = size_t(t);
  return index < kPreParseNames.size() ? kPreParseNames[index] : std::string_view("?");
}

std::string_view pre_parse_transform_names() {
  static const std::string names = join_names(kPreParseNames);
  return names;
}

namespace {

struct QueryArg {
  std::string_view piece;  // "name=value" or "name", as received
  std::string_view name;
  std::string_view value;
};

// "a=1&b=2&a=3" → "a=1,3&b=2": one argument per name, where the name first appeared, its values
// joined by ',' in the order received. Names compare byte for byte; empty pieces ("&&") drop.
void combine_duplicate_args(std::string_view query, std::string& out) {
  thread_local std::vector<QueryArg> args;
  thread_local std::vector<uint32_t> by_name;
  thread_local std::vector<uint32_t> run_start;
  thread_local std::vector<uint32_t> run_end;
  args.clear();
  by_name.clear();
  for (size_t start = 0; start <= query.size();) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view piece = query.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    args.push_back({piece, piece.substr(0, eq),
                    eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1)});
  }
  // A stable sort groups each name's occurrences, still in arrival order: n log n, where
  // comparing every pair would let a query of thousands of arguments cost millions of steps.
  for (uint32_t i = 0; i < args.size(); ++i) by_name.push_back(i);
  std::stable_sort(by_name.begin(), by_name.end(),
                   [](uint32_t a, uint32_t b) { return args[a].name < args[b].name; });
  // run_start[i]: where argument i's run of same-named arguments starts in by_name; run_end is
  // set at run starts only.
  run_start.resize(args.size());
  run_end.resize(by_name.size());
  for (size_t begin = 0; begin < by_name.size();) {
    size_t end = begin + 1;
    while (end < by_name.size() && args[by_name[end]].name == args[by_name[begin]].name) ++end;
    for (size_t k = begin; k < end; ++k) run_start[by_name[k]] = uint32_t(begin);
    run_end[begin] = uint32_t(end);
    begin = end;
  }
  out.clear();
  out.reserve(query.size() + 1);
  for (uint32_t i = 0; i < args.size(); ++i) {
    const uint32_t begin = run_start[i];
    if (by_name[begin] != i) continue;  // a later duplicate, folded into the first
    if (!out.empty()) out.push_back('&');
    const uint32_t end = run_end[begin];
    if (end - begin == 1) {
      out.append(args[i].piece);
      continue;
    }
    out.append(args[i].name);
    out.push_back('=');
    for (uint32_t k = begin; k < end; ++k) {
      if (k != begin) out.push_back(',');
      out.append(args[by_name[k]].value);
    }
  }
}

}  // namespace

void apply_pre_parse_transform(PreParseTransform t, std::string_view query, std::string& out) {
  switch (t) {
    case PreParseTransform::NONE:
      out.assign(query);
      return;
    case PreParseTransform::URL_DECODE:
      transform_detail::url_decode(query, out);
      return;
    case PreParseTransform::URL_DECODE_UNI:
      transform_detail::url_decode_uni(query, out);
      return;
    case PreParseTransform::COMBINE_DUPLICATE_QUERY_ARGS_BY_COMMA:
      combine_duplicate_args(query, out);
      return;
    case PreParseTransform::REPLACE_SEMICOLONS_WITH_AMPERSANDS:
      out.assign(query);
      std::replace(out.begin(), out.end(), ';', '&');
      return;
  }
  out.assign(query);
}

void apply_pre_parse_transforms(std::span<const PreParseTransform> chain, std::string_view query,
                                std::string& out) {
  thread_local std::string scratch;
  const auto steps = size_t(std::count_if(chain.begin(), chain.end(), [](PreParseTransform t) {
    return t != PreParseTransform::NONE;
  }));
  if (steps == 0) {
    out.assign(query);
    return;
  }
  std::string* write = steps % 2 == 1 ? &out : &scratch;
  std::string* spare = steps % 2 == 1 ? &scratch : &out;
  std::string_view read = query;
  for (const PreParseTransform t : chain) {
    if (t == PreParseTransform::NONE) continue;
    apply_pre_parse_transform(t, read, *write);
    read = *write;
    std::swap(write, spare);
  }
}

}  // namespace eg::waf
