#include "functions/cff_record.h"

#include <algorithm>
#include <charconv>
#include <span>
#include <vector>

#include "core/strings.h"
#include "functions/headers_rules.h"

namespace eg::functions {

namespace {

struct Pair {
  std::string_view name;
  std::string_view value;
};

void append_field(std::string& out, std::string_view s) {
  out.append(s);
  out += '\0';
}

void append_count(std::string& out, size_t n) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
  out += '\0';
}

// Names in order of first appearance, each with all of its values: the grouping of
// detail::CffMap, without building one. Header names compare case-insensitively and are
// written lowercase. Returns the number of fields written.
size_t append_map(std::string& out, std::span<const Pair> pairs, bool header_names) {
  auto same = [header_names](std::string_view a, std::string_view b) {
    return header_names ? iequals(a, b) : a == b;
  };
  auto seen_before = [&](size_t i) {
    for (size_t j = 0; j < i; ++j)
      if (same(pairs[j].name, pairs[i].name)) return true;
    return false;
  };
  size_t names = 0;
  for (size_t i = 0; i < pairs.size(); ++i) names += !seen_before(i);
  append_count(out, names);
  size_t fields = 1 + 2 * names + pairs.size();
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (seen_before(i)) continue;
    if (header_names) {
      for (char ch : pairs[i].name) out += ascii_lower(ch);
      out += '\0';
    } else {
      append_field(out, pairs[i].name);
    }
    size_t values = 1;
    for (size_t j = i + 1; j < pairs.size(); ++j) values += same(pairs[j].name, pairs[i].name);
    append_count(out, values);
    append_field(out, pairs[i].value);
    for (size_t j = i + 1; j < pairs.size(); ++j)
      if (same(pairs[j].name, pairs[i].name)) append_field(out, pairs[j].value);
  }
  return fields;
}

// split() without its vector: the record is built on every request.
template <typename F>
void for_each_piece(std::string_view s, char sep, F&& f) {
  while (true) {
    size_t at = s.find(sep);
    f(s.substr(0, at));
    if (at == std::string_view::npos) return;
    s.remove_prefix(at + 1);
  }
}

}  // namespace

CffRecordParts CffRequestRecord::parts() const {
  std::string_view t = text;
  return {t.substr(0, query_at), t.substr(query_at, headers_at - query_at),
          t.substr(headers_at, cookies_at - headers_at), t.substr(cookies_at)};
}

bool build_cff_request_record(const Context& c, const http::Request& req,
                              CffRequestRecord& record) {
  std::string& out = record.text;
  out.clear();
  append_field(out, c.distribution_domain);
  append_field(out, c.distribution_id);
  append_field(out, to_string(c.event));
  append_field(out, c.request_id);
  append_field(out, c.client_ip);
  record.request_at = out.size();
  append_field(out, req.method);
  append_field(out, req.path);

  record.query_at = out.size();
  thread_local std::vector<Pair> pairs;  // views into req: no allocation per request
  pairs.clear();
  for_each_piece(req.query, '&', [](std::string_view part) {
    if (part.empty()) return;
    size_t eq = part.find('=');
    pairs.push_back({part.substr(0, eq), eq == std::string_view::npos ? "" : part.substr(eq + 1)});
  });
  size_t fields = 7 + append_map(out, pairs, false);

  record.headers_at = out.size();
  pairs.clear();
  for (const auto& h : req.headers)
    if (!iequals(h.name, "cookie") && !iequals(h.name, "set-cookie") &&
        !is_disallowed_header(h.name))
      pairs.push_back({h.name, h.value});
  fields += append_map(out, pairs, true);

  record.cookies_at = out.size();
  pairs.clear();
  for (const auto& h : req.headers) {
    if (!iequals(h.name, "cookie")) continue;
    for_each_piece(h.value, ';', [](std::string_view piece) {
      piece = trim(piece);
      if (piece.empty()) return;
      size_t eq = piece.find('=');
      pairs.push_back({trim(piece.substr(0, eq)),
                       eq == std::string_view::npos ? "" : trim(piece.substr(eq + 1))});
    });
  }
  fields += append_map(out, pairs, false);
  // Every NUL must be a separator; a value holding one (never from the HTTP parser) makes the
  // caller use the JSON event.
  return size_t(std::count(out.begin(), out.end(), '\0')) == fields;
}

}  // namespace eg::functions
