#include "functions/builtins/security_headers.h"

#include <cctype>

namespace eg::functions::builtins {

namespace {

struct KnownHeader {
  std::string_view option;
  std::string_view header;
  std::string_view default_value;
  bool on_by_default;
};

constexpr KnownHeader kKnownHeaders[] = {
    {"strict_transport_security", "Strict-Transport-Security", "max-age=31536000", true},
    {"x_content_type_options", "X-Content-Type-Options", "nosniff", true},
    {"x_frame_options", "X-Frame-Options", "SAMEORIGIN", true},
    {"x_xss_protection", "X-XSS-Protection", "1; mode=block", true},
    {"referrer_policy", "Referrer-Policy", "strict-origin-when-cross-origin", true},
    {"content_security_policy", "Content-Security-Policy", "default-src 'self'", false},
};

bool valid_header_value(std::string_view v) {
  for (unsigned char ch : v)
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return false;
  return true;
}

bool valid_header_name(std::string_view n) {
  if (n.empty()) return false;
  for (unsigned char ch : n)
    if (!(std::isalnum(ch) ||
          std::string_view("!#$%&'*+-.^_`|~").find(char(ch)) != std::string_view::npos))
      return false;
  return true;
}

}  // namespace

void parse_security_headers_options(OptionReader& r, SecurityHeadersOptions& out) {
  r.allow_only({"strict_transport_security", "x_content_type_options", "x_frame_options",
                "x_xss_protection", "referrer_policy", "content_security_policy", "custom",
                "override"});
  for (const KnownHeader& k : kKnownHeaders) {
    const nlohmann::json* v = r.get(k.option);
    if (!v) {
      if (k.on_by_default)
        out.headers.push_back({std::string(k.header), std::string(k.default_value)});
      continue;
    }
    if (v->is_boolean()) {
      if (v->get<bool>())
        out.headers.push_back({std::string(k.header), std::string(k.default_value)});
      continue;
    }
    if (!v->is_string() || v->get_ref<const std::string&>().empty() ||
        !valid_header_value(v->get_ref<const std::string&>())) {
      r.fail(k.option, "expected true, false or a header value (non-empty, no control characters)");
      return;
    }
    out.headers.push_back({std::string(k.header), v->get<std::string>()});
  }
  if (const nlohmann::json* custom = r.get("custom")) {
    if (!custom->is_object()) {
      r.fail("custom", "expected a mapping of header name to value, got " +
                           std::string(json_type_name(*custom)));
      return;
    }
    for (const auto& [name, value] : custom->items()) {
      if (!valid_header_name(name)) {
        r.fail("custom", "'" + name + "' is not a valid header name");
        return;
      }
      if (!value.is_string() || !valid_header_value(value.get_ref<const std::string&>())) {
        r.fail("custom", name + ": expected a header value (a string without control characters)");
        return;
      }
      out.headers.push_back({name, value.get<std::string>()});
    }
  }
  r.read("override", out.override_origin);
}

SecurityHeaders::SecurityHeaders(SecurityHeadersOptions options) : options_(std::move(options)) {}

ResponseResult SecurityHeaders::on_response_now(const Context& c, const http::Request& req,
                                                http::Response& resp) {
  for (const http::Header& h : options_.headers) {
    if (options_.override_origin)
      resp.headers.set(h.name, h.value);
    else if (!resp.headers.contains(h.name))
      resp.headers.add(h.name, h.value);
  }
  bump(metrics_.responses);
  return {};
}

std::vector<MetricValue> SecurityHeaders::metrics() const {
  return {{"responses", read(metrics_.responses)}};
}

}  // namespace eg::functions::builtins
