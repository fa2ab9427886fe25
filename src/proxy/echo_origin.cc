#include "proxy/echo_origin.h"

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/strings.h"

namespace eg::proxy {
namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + size_t(n) >= s.size()) return false;
    for (int k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

http::Response echo_response(std::string_view method, std::string_view path, std::string_view query,
                             const http::Headers& headers, std::string_view body) {
  nlohmann::ordered_json j;
  j["method"] = method;
  j["path"] = path;
  j["query"] = query;
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  for (const auto& hd : headers) {
    std::string k = to_lower(hd.name);
    if (h.contains(k))
      h[k] = h[k].get<std::string>() + (k == "cookie" ? "; " : ", ") + hd.value;
    else
      h[k] = hd.value;
  }
  j["headers"] = std::move(h);
  if (valid_utf8(body))
    j["body"] = body;
  else
    j["body_base64"] = base64_encode(body);
  http::Response r;
  r.status = 200;
  r.body = j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  r.body.push_back('\n');
  r.headers.add("Content-Type", "application/json");
  return r;
}

}  // namespace eg::proxy
