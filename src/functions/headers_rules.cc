#include "functions/headers_rules.h"

#include <arpa/inet.h>

#include <array>
#include <cstdio>

#include "core/strings.h"

namespace eg::functions {

namespace {

constexpr std::array<std::string_view, 25> kDisallowed = {
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "trailer",
    "upgrade",
    "x-accel-buffering",
    "x-accel-charset",
    "x-accel-limit-rate",
    "x-accel-redirect",
    "x-amzn-auth",
    "x-amzn-cf-billing",
    "x-amzn-cf-id",
    "x-amzn-cf-xff",
    "x-amzn-errortype",
    "x-amzn-fle-profile",
    "x-amzn-header-count",
    "x-amzn-header-order",
    "x-amzn-lambda-integration-tag",
    "x-amzn-requestid",
    "x-cache",
    "x-forwarded-proto",
    "x-real-ip",
};

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

bool is_disallowed_header(std::string_view name) {
  if (istarts_with(name, "x-amz-cf-") || istarts_with(name, "x-edge-")) return true;
  for (auto d : kDisallowed)
    if (iequals(name, d)) return true;
  return false;
}

bool is_read_only_header(EventType event, std::string_view name) {
  static constexpr std::string_view kViewerRequest[] = {"content-length", "host",
                                                        "transfer-encoding", "via"};
  static constexpr std::string_view kOriginRequest[] = {
      "accept-encoding", "content-length",      "if-modified-since", "if-none-match",
      "if-range",        "if-unmodified-since", "transfer-encoding", "via"};
  static constexpr std::string_view kOriginResponse[] = {"transfer-encoding", "via"};
  static constexpr std::string_view kViewerResponse[] = {"warning", "via"};
  auto in = [&](const auto& list) {
    for (auto n : list)
      if (iequals(name, n)) return true;
    return false;
  };
  switch (event) {
    case EventType::ViewerRequest:
      return in(kViewerRequest);
    case EventType::OriginRequest:
      return in(kOriginRequest);
    case EventType::OriginResponse:
      return in(kOriginResponse);
    case EventType::ViewerResponse:
      return in(kViewerResponse);
  }
  return false;
}

std::vector<std::string_view> values_of(const std::vector<http::Header>& h, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& x : h)
    if (iequals(x.name, name)) out.push_back(x.value);
  return out;
}

std::optional<ReadOnlyViolation> read_only_violation(EventType event,
                                                     const std::vector<http::Header>& before,
                                                     const std::vector<http::Header>& after) {
  auto check = [&](std::string_view name) -> std::optional<ReadOnlyViolation> {
    if (!is_read_only_header(event, name)) return std::nullopt;
    auto was = values_of(before, name), now = values_of(after, name);
    if (was == now) return std::nullopt;
    std::string what = was.empty()   ? "added it"
                       : now.empty() ? "removed it"
                                     : "changed it from '" + std::string(was[0]) + "' to '" +
                                           std::string(now[0]) + "'";
    if (!was.empty() && !now.empty() && was.size() != now.size() && was[0] == now[0])
      what = "changed its number of lines from " + std::to_string(was.size()) + " to " +
             std::to_string(now.size());
    std::string lower = to_lower(name);
    return ReadOnlyViolation{"headers." + lower + ": " + title_case_header(lower) +
                                 " is read-only in " + std::string(to_string(event)) +
                                 " events, and the function " + what,
                             false};
  };
  for (const auto& h : before)
    if (auto v = check(h.name)) return v;
  for (const auto& h : after)
    if (auto v = check(h.name)) return v;
  if (event == EventType::ViewerRequest && values_of(before, "cloudfront-viewer-country").empty() &&
      !values_of(after, "cloudfront-viewer-country").empty())
    return ReadOnlyViolation{
        "headers.cloudfront-viewer-country: a viewer-request function may not add "
        "CloudFront-Viewer-Country (CloudFront adds it after the viewer-request event)",
        true};
  return std::nullopt;
}

std::string title_case_header(std::string_view name) {
  std::string out(name);
  bool start = true;
  for (auto& c : out) {
    if (start && c >= 'a' && c <= 'z')
      c = char(c - 32);
    else if (!start && c >= 'A' && c <= 'Z')
      c = char(c + 32);
    start = c == '-';
  }
  return out;
}

bool is_lowercase(std::string_view s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return false;
  return true;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

size_t find_invalid_value_char(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    auto b = static_cast<unsigned char>(value[i]);
    if ((b < 0x20 && b != '\t') || b == 0x7f) return i;
  }
  return std::string_view::npos;
}

std::string describe_byte(char c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "'%%%02X'", static_cast<unsigned char>(c));
  std::string out = buf;
  switch (c) {
    case '\r':
      out += " (CR)";
      break;
    case '\n':
      out += " (LF)";
      break;
    case '\0':
      out += " (NUL)";
      break;
    case ' ':
      out += " (space)";
      break;
    case '#':
      out += " ('#')";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += " (a control character)";
  }
  return out;
}

bool is_ip_literal(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.size() > 45) return false;
  std::string s(host);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool is_dns_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.back() == '.') host.remove_suffix(1);
  for (auto label : split(host, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_'))
        return false;
  }
  return true;
}

bool is_strict_base64(std::string_view text) {
  if (text.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return false;  // data after padding
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) return false;
  }
  return pad <= 2;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the pending span copied verbatim
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (size_t n = utf8_sequence_length(s, i)) {
        i += n;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          append_utf8(out, c);  // a stray byte: ISO-8859-1
        }
    }
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_event_config_fields(std::string& out, const Context& c) {
  out += "\"distributionDomainName\":";
  append_json_string(out, c.distribution_domain);
  out += ",\"distributionId\":";
  append_json_string(out, c.distribution_id);
  out += ",\"eventType\":";
  append_json_string(out, to_string(c.event));
  out += ",\"requestId\":";
  append_json_string(out, c.request_id);
}

}  // namespace eg::functions
