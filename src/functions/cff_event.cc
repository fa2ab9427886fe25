#include "functions/cff_event.h"

#include "core/strings.h"
#include "functions/cff_model.h"
#include "functions/headers_rules.h"

namespace eg::functions {

namespace detail {

namespace {

void add(CffMap& m, std::string name, CffEntry e) {
  for (auto& [n, entries] : m)
    if (n == name) {
      entries.push_back(std::move(e));
      return;
    }
  m.emplace_back(std::move(name), std::vector<CffEntry>{std::move(e)});
}

}  // namespace

CffMap cff_query(std::string_view query) {
  CffMap m;
  for (auto part : split(query, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : part.substr(eq + 1);
    add(m, std::string(name), {std::string(value), std::nullopt});
  }
  return m;
}

CffMap cff_headers(const std::vector<http::Header>& headers) {
  CffMap m;
  for (const auto& h : headers) {
    if (iequals(h.name, "cookie") || iequals(h.name, "set-cookie") || is_disallowed_header(h.name))
      continue;
    add(m, to_lower(h.name), {h.value, std::nullopt});
  }
  return m;
}

CffMap cff_request_cookies(const std::vector<http::Header>& headers) {
  CffMap m;
  for (const auto& h : headers) {
    if (!iequals(h.name, "cookie")) continue;
    for (auto piece : split(h.value, ';')) {
      piece = trim(piece);
      if (piece.empty()) continue;
      size_t eq = piece.find('=');
      std::string_view value = eq == std::string_view::npos ? "" : piece.substr(eq + 1);
      add(m, std::string(trim(piece.substr(0, eq))), {std::string(trim(value)), std::nullopt});
    }
  }
  return m;
}

CffMap cff_response_cookies(const std::vector<http::Header>& headers) {
  CffMap m;
  for (const auto& h : headers) {
    if (!iequals(h.name, "set-cookie")) continue;
    std::string_view v = h.value;
    size_t semi = v.find(';');
    std::string_view pair = trim(v.substr(0, semi));
    size_t eq = pair.find('=');
    CffEntry e;
    e.value = eq == std::string_view::npos ? "" : std::string(trim(pair.substr(eq + 1)));
    if (semi != std::string_view::npos) {
      std::string_view attributes = trim(v.substr(semi + 1));
      if (!attributes.empty()) e.attributes = std::string(attributes);
    }
    add(m, std::string(trim(pair.substr(0, eq))), std::move(e));
  }
  return m;
}

const std::vector<CffEntry>* find_entries(const CffMap& m, std::string_view name) {
  for (const auto& [n, entries] : m)
    if (n == name) return &entries;
  return nullptr;
}

namespace {

void append_entry(std::string& out, const CffEntry& e) {
  out += "{\"value\":";
  append_json_string(out, e.value);
  if (e.attributes) {
    out += ",\"attributes\":";
    append_json_string(out, *e.attributes);
  }
}

}  // namespace

void append_cff_map(std::string& out, const CffMap& m) {
  out += '{';
  bool first = true;
  for (const auto& [name, entries] : m) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
    out += ':';
    append_entry(out, entries[0]);
    if (entries.size() > 1) {
      out += ",\"multiValue\":[";
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) out += ',';
        append_entry(out, entries[i]);
        out += '}';
      }
      out += ']';
    }
    out += '}';
  }
  out += '}';
}

}  // namespace detail

std::string build_cff_event(const Context& c, const http::Request& req,
                            const http::Response* resp) {
  std::string out;
  out.reserve(512 + req.path.size() + 2 * req.query.size() + 64 * req.headers.size());
  out += "{\"version\":\"1.0\",\"context\":{";
  append_event_config_fields(out, c);
  out += "},\"viewer\":{\"ip\":";
  append_json_string(out, c.client_ip);
  out += "},\"request\":{\"method\":";
  append_json_string(out, req.method);
  out += ",\"uri\":";
  append_json_string(out, req.path);
  out += ",\"querystring\":";
  detail::append_cff_map(out, detail::cff_query(req.query));
  out += ",\"headers\":";
  detail::append_cff_map(out, detail::cff_headers(req.headers.list()));
  out += ",\"cookies\":";
  detail::append_cff_map(out, detail::cff_request_cookies(req.headers.list()));
  out += '}';
  if (resp && c.event == EventType::ViewerResponse) {
    out += ",\"response\":{\"statusCode\":" + std::to_string(resp->status);
    out += ",\"statusDescription\":";
    append_json_string(out, resp->reason.empty() ? http::reason_phrase(resp->status)
                                                 : std::string_view(resp->reason));
    out += ",\"headers\":";
    detail::append_cff_map(out, detail::cff_headers(resp->headers.list()));
    out += ",\"cookies\":";
    detail::append_cff_map(out, detail::cff_response_cookies(resp->headers.list()));
    out += '}';
  }
  out += '}';
  return out;
}

}  // namespace eg::functions
