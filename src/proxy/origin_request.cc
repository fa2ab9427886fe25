#include "proxy/origin_request.h"

#include <algorithm>

#include "core/strings.h"

namespace eg::proxy {
namespace {

bool listed(const std::vector<std::string>& items, std::string_view name, bool case_insensitive) {
  return std::any_of(items.begin(), items.end(), [&](const std::string& it) {
    return case_insensitive ? iequals(it, name) : it == name;
  });
}

bool passes(const config::ForwardList& list, std::string_view name, bool case_insensitive) {
  using M = config::ForwardList::Mode;
  switch (list.mode) {
    case M::None:
      return false;
    case M::All:
      return true;
    case M::Whitelist:
      return listed(list.items, name, case_insensitive);
    case M::AllExcept:
      return !listed(list.items, name, case_insensitive);
  }
  return false;
}

}  // namespace

std::string origin_authority(const config::Origin& origin) {
  uint16_t def = origin.https ? 443 : 80;
  bool v6 = origin.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + origin.host + "]" : origin.host;
  if (origin.port == def) return host;
  return host + ":" + std::to_string(origin.port);
}

void apply_header_policy(const config::OriginRequestPolicy& policy, const http::Request& viewer,
                         std::string_view authority, http::Headers& out) {
  bool has_body = viewer.framing != http::BodyFraming::None;
  const std::string* host = nullptr;
  const std::string* connection = viewer.headers.find("connection");
  auto named_in_connection = [&](std::string_view n) {
    if (!connection) return false;
    for (std::string_view token : split(*connection, ','))
      if (iequals(trim(token), n)) return true;
    return false;
  };
  for (const auto& h : viewer.headers) {
    std::string_view n = h.name;
    if (iequals(n, "host")) {
      host = &h.value;
      continue;
    }
    if (http::is_hop_by_hop(n) || iequals(n, "content-length") || named_in_connection(n)) continue;
    if (iequals(n, "cookie")) {
      std::string c = filter_cookies(policy.cookies, h.value);
      if (!c.empty()) out.add(h.name, c);
      continue;
    }
    if (has_body && iequals(n, "content-type")) {
      out.add(h.name, h.value);
      continue;
    }
    if (passes(policy.headers, n, true)) out.add(h.name, h.value);
  }
  if (policy.forward_host && host) {
    out.list().insert(out.list().begin(), http::Header{"Host", *host});
  } else {
    out.list().insert(out.list().begin(), http::Header{"Host", std::string(authority)});
  }
}

std::string filter_cookies(const config::ForwardList& list, std::string_view cookie_header) {
  using M = config::ForwardList::Mode;
  if (list.mode == M::All) return std::string(cookie_header);
  if (list.mode == M::None) return {};
  std::string out;
  for (std::string_view part : split(cookie_header, ';')) {
    part = trim(part);
    if (part.empty()) continue;
    std::string_view name = part.substr(0, part.find('='));
    if (!passes(list, name, false)) continue;
    if (!out.empty()) out.append("; ");
    out.append(part);
  }
  return out;
}

std::string filter_query(const config::ForwardList& list, std::string_view query) {
  using M = config::ForwardList::Mode;
  if (list.mode == M::All) return std::string(query);
  if (list.mode == M::None || query.empty()) return {};
  std::string out;
  for (std::string_view part : split(query, '&')) {
    if (part.empty()) continue;
    std::string_view name = part.substr(0, part.find('='));
    if (!passes(list, name, false)) continue;
    if (!out.empty()) out.push_back('&');
    out.append(part);
  }
  return out;
}

void add_proxy_headers(http::Headers& out, std::string_view client_ip, std::string_view via,
                       std::string_view request_id) {
  if (const std::string* v = out.find("via")) {
    std::string joined = *v + ", " + std::string(via);
    out.set("Via", joined);
  } else {
    out.add("Via", via);
  }
  if (const std::string* x = out.find("x-forwarded-for")) {
    std::string joined = *x + ", " + std::string(client_ip);
    out.set("X-Forwarded-For", joined);
  } else {
    out.add("X-Forwarded-For", client_ip);
  }
  out.set(kRequestIdHeader, request_id);
}

void add_custom_headers(const config::Origin& origin,
                        const std::map<std::string, config::Secret>& secrets, http::Headers& out) {
  for (const auto& ch : origin.custom_headers) {
    if (ch.secret.empty()) {
      out.set(ch.name, ch.value);
      continue;
    }
    auto it = secrets.find(ch.secret);
    if (it == secrets.end()) continue;
    if (const config::SecretVersion* v = it->second.sending()) out.set(ch.name, v->value);
  }
}

}  // namespace eg::proxy
