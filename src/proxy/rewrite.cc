#include "proxy/rewrite.h"

namespace eg::proxy {
namespace {

constexpr std::string_view kWild = "<*>";

std::string ensure_slash(std::string s) {
  if (s.empty() || s.front() != '/') s.insert(s.begin(), '/');
  return s;
}

}  // namespace

std::string rewrite_path(const config::PathRewrite& rw, std::string_view path) {
  switch (rw.kind) {
    case config::PathRewrite::Kind::None:
      return std::string(path);
    case config::PathRewrite::Kind::StripPrefix: {
      std::string_view pre = rw.prefix;
      if (path.substr(0, pre.size()) != pre) return std::string(path);
      std::string_view rest = path.substr(pre.size());
      // "/hotels" strips "/hotels/x" and "/hotels", never "/hotelsx".
      if (!rest.empty() && rest.front() != '/' && (pre.empty() || pre.back() != '/'))
        return std::string(path);
      return ensure_slash(std::string(rest));
    }
    case config::PathRewrite::Kind::Wildcard: {
      size_t fw = rw.from.find(kWild);
      std::string_view before = std::string_view(rw.from).substr(0, fw);
      std::string_view after = std::string_view(rw.from).substr(fw + kWild.size());
      if (path.size() < before.size() + after.size()) {
        // "/hotels" for "/hotels/<*>": the prefix without its slash maps to the bare target.
        if (!before.empty() && before.back() == '/' && after.empty() &&
            path == before.substr(0, before.size() - 1)) {
          size_t tw = rw.to.find(kWild);
          return ensure_slash(rw.to.substr(0, tw) + rw.to.substr(tw + kWild.size()));
        }
        return std::string(path);
      }
      if (path.substr(0, before.size()) != before) return std::string(path);
      if (path.substr(path.size() - after.size()) != after) return std::string(path);
      std::string_view captured =
          path.substr(before.size(), path.size() - before.size() - after.size());
      size_t tw = rw.to.find(kWild);
      std::string out = rw.to.substr(0, tw);
      out.append(captured);
      out.append(rw.to.substr(tw + kWild.size()));
      // "/<*>" with a captured "/x" would give "//x": the capture already brings its slash.
      if (out.size() > 1 && out[0] == '/' && out[1] == '/') out.erase(0, 1);
      return ensure_slash(std::move(out));
    }
  }
  return std::string(path);
}

std::string origin_path(std::string_view origin_prefix, std::string_view rewritten) {
  std::string out(origin_prefix);
  out.append(rewritten);
  return out.empty() ? std::string("/") : out;
}

}  // namespace eg::proxy
