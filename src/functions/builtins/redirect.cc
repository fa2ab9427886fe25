#include "functions/builtins/redirect.h"

#include <cctype>

#include "core/strings.h"

namespace eg::functions::builtins {

namespace {

// The Host header's name part, or "" when it is not a plain host[:port] (a viewer's Host
// must not be able to put a path, userinfo or a line break into a Location header).
std::string_view host_name(std::string_view host) {
  if (host.empty()) return {};
  std::string_view name = host;
  if (host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return {};
    name = host.substr(0, close + 1);
  } else if (const size_t colon = host.find(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
  }
  for (char ch : name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_' ||
          ch == '[' || ch == ']' || ch == ':'))
      return {};
  return name;
}

// "https://www.example.com", "http://a.example:8080/base": scheme, a host, no query.
bool valid_base_url(std::string_view url) {
  std::string_view rest;
  if (starts_with(url, "https://"))
    rest = url.substr(8);
  else if (starts_with(url, "http://"))
    rest = url.substr(7);
  else
    return false;
  const std::string_view authority = rest.substr(0, rest.find('/'));
  return !authority.empty() && !host_name(authority).empty() &&
         rest.find_first_of("?# \t\r\n") == std::string_view::npos;
}

bool valid_path_chars(std::string_view s) {
  for (unsigned char ch : s)
    if (ch <= 0x20 || ch == 0x7f || ch == '#') return false;
  return true;
}

}  // namespace

void parse_redirect_options(OptionReader& r, RedirectOptions& out) {
  r.allow_only({"from_host", "prefix", "to", "https", "https_port", "keep_query", "status"});
  std::vector<std::string> hosts;
  if (r.read("from_host", hosts)) {
    for (const std::string& h : hosts) {
      if (host_name(h).size() != h.size() || h.find(':') != std::string::npos) {
        r.fail("from_host", "'" + h + "' is not a host name (no scheme, port or path)");
        break;
      }
      out.from_hosts.push_back(to_lower(h));
    }
  }
  r.read("prefix", out.prefix);
  r.read("to", out.to);
  r.read("https", out.https);
  r.read("https_port", out.https_port, 1, 65535);
  r.read("keep_query", out.keep_query);
  if (r.read("status", out.status, 0, 999) && out.status != 301 && out.status != 302 &&
      out.status != 303 && out.status != 307 && out.status != 308)
    r.fail("status", "expected one of 301, 302, 303, 307, 308, got " + std::to_string(out.status));
  if (!r.ok()) return;

  if (!out.from_hosts.empty() && !out.prefix.empty()) {
    r.fail("use from_host or prefix, not both (one redirect builtin per rule)");
  } else if (!out.from_hosts.empty()) {
    if (!valid_base_url(out.to))
      r.fail("to", "with from_host, expected a base URL such as https://www.example.com, got '" +
                       out.to + "'");
    while (!out.to.empty() && out.to.back() == '/') out.to.pop_back();
  } else if (r.has("prefix")) {
    if (out.prefix.empty() || out.prefix.front() != '/' || !valid_path_chars(out.prefix))
      r.fail("prefix", "expected a path prefix starting with '/', got '" + out.prefix + "'");
    else if (!(out.to.starts_with('/') && valid_path_chars(out.to)) && !valid_base_url(out.to))
      r.fail("to", "with prefix, expected a path starting with '/' or an absolute URL, got '" +
                       out.to + "'");
  } else if (r.has("to")) {
    r.fail("to", "needs from_host or prefix");
  } else if (!out.https) {
    r.fail("needs from_host and to, prefix and to, or https: true");
  }
}

Redirect::Redirect(RedirectOptions options) : options_(std::move(options)) {}

RequestResult Redirect::answer(std::string location, const http::Request& req) {
  bump(metrics_.redirected);
  RequestResult r;
  r.answer = options_.keep_query
                 ? redirect_keeping_query(int(options_.status), std::move(location), req)
                 : redirect_response(int(options_.status), location);
  return r;
}

RequestResult Redirect::on_request_now(const Context& c, http::Request& req) {
  const std::string* host_header = req.headers.find("Host");
  const std::string_view host = host_header ? host_name(*host_header) : std::string_view();

  if (!options_.from_hosts.empty() && !host.empty()) {
    for (const std::string& from : options_.from_hosts)
      if (iequals(host, from)) return answer(options_.to + req.path, req);
  }
  if (!options_.prefix.empty() && req.path.starts_with(options_.prefix))
    return answer(options_.to + req.path.substr(options_.prefix.size()), req);
  if (options_.https && !c.https && !host.empty()) {
    std::string location = "https://";
    location += host;
    if (options_.https_port != 443) {
      location += ':';
      location += std::to_string(options_.https_port);
    }
    location += req.path;
    return answer(std::move(location), req);
  }
  bump(metrics_.passed);
  return {};
}

std::vector<MetricValue> Redirect::metrics() const {
  return {{"redirected", read(metrics_.redirected)}, {"passed", read(metrics_.passed)}};
}

}  // namespace eg::functions::builtins
