#include "functions/builtins/security_headers.h"

#include <algorithm>
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

// A name given twice (a custom header that is also a known one) is merged here, to what
// setting (or adding) them one after the other left: one header, at the first one's place,
// with the last one's spelling and value when overriding, else the first one.
SecurityHeaders::SecurityHeaders(SecurityHeadersOptions options) : options_(std::move(options)) {
  std::vector<http::Header> merged;
  for (http::Header& h : options_.headers) {
    auto same = std::find_if(merged.begin(), merged.end(),
                             [&](const http::Header& m) { return http::iequals(m.name, h.name); });
    if (same == merged.end())
      merged.push_back(std::move(h));
    else if (options_.override_origin)
      *same = std::move(h);
  }
  options_.headers = std::move(merged);
  for (const http::Header& h : options_.headers)
    name_lengths_ |= uint64_t(1) << (h.name.size() % 64);
}

// One pass over the response's headers finds which of ours it has (the names are distinct),
// instead of one pass per header of ours for set() and another for its duplicates.
ResponseResult SecurityHeaders::on_response_now(const Context& c, const http::Request& req,
                                                http::Response& resp) {
  const std::vector<http::Header>& ours = options_.headers;
  if (ours.size() > 64) {
    for (const http::Header& h : ours) {
      if (options_.override_origin)
        resp.headers.set(h.name, h.value);
      else if (!resp.headers.contains(h.name))
        resp.headers.add(h.name, h.value);
    }
    bump(metrics_.responses);
    return {};
  }
  std::vector<http::Header>& list = resp.headers.list();
  // Most of the response's names have a length none of ours has.
  auto which = [&](std::string_view name) -> size_t {
    if (!((name_lengths_ >> (name.size() % 64)) & 1)) return ours.size();
    for (size_t j = 0; j < ours.size(); ++j)
      if (http::iequals(ours[j].name, name)) return j;
    return ours.size();
  };
  uint64_t seen = 0;
  bool repeated = false;
  for (http::Header& h : list) {
    const size_t j = which(h.name);
    if (j == ours.size()) continue;
    const uint64_t bit = uint64_t(1) << j;
    if (seen & bit) {
      repeated = true;
      continue;
    }
    seen |= bit;
    if (options_.override_origin) {
      h.name = ours[j].name;
      h.value = ours[j].value;
    }
  }
  if (repeated && options_.override_origin) {
    uint64_t kept = 0;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const http::Header& h) {
                                const size_t j = which(h.name);
                                if (j == ours.size()) return false;
                                const uint64_t bit = uint64_t(1) << j;
                                const bool again = kept & bit;
                                kept |= bit;
                                return again;
                              }),
               list.end());
  }
  for (size_t j = 0; j < ours.size(); ++j)
    if (!(seen & (uint64_t(1) << j))) list.push_back(ours[j]);
  bump(metrics_.responses);
  return {};
}

std::vector<MetricValue> SecurityHeaders::metrics() const {
  return {{"responses", read(metrics_.responses)}};
}

}  // namespace eg::functions::builtins
