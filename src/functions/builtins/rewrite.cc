#include "functions/builtins/rewrite.h"

#include "core/strings.h"

namespace eg::functions::builtins {

namespace {

bool valid_path(std::string_view s) {
  if (s.empty() || s.front() != '/') return false;
  for (unsigned char ch : s)
    if (ch <= 0x20 || ch == 0x7f || ch == '?' || ch == '#') return false;
  return true;
}

}  // namespace

void parse_rewrite_options(OptionReader& r, RewriteOptions& out) {
  r.allow_only({"prefix", "to", "directory_index", "no_extension", "index_document", "spa_fallback",
                "trailing_slash", "status"});
  if (r.read("prefix", out.prefix) && !valid_path(out.prefix))
    r.fail("prefix", "expected a path prefix starting with '/', got '" + out.prefix + "'");
  if (r.read("to", out.to) && !valid_path(out.to))
    r.fail("to", "expected a path starting with '/', got '" + out.to + "'");
  if (r.ok() && r.has("prefix") != r.has("to")) r.fail("prefix and to go together");
  r.read("directory_index", out.directory_index);
  std::string text;
  if (r.read("no_extension", text)) {
    if (text == "none")
      out.no_extension = RewriteOptions::NoExtension::None;
    else if (text == "index")
      out.no_extension = RewriteOptions::NoExtension::Index;
    else if (text == "redirect")
      out.no_extension = RewriteOptions::NoExtension::Redirect;
    else
      r.fail("no_extension", "expected none, index or redirect, got '" + text + "'");
  }
  if (r.read("index_document", out.index_document) &&
      (out.index_document.empty() ||
       out.index_document.find_first_of("/?# \t") != std::string::npos))
    r.fail("index_document", "expected a file name such as index.html");
  if (const nlohmann::json* spa = r.get("spa_fallback")) {
    if (spa->is_boolean())
      out.spa_fallback = spa->get<bool>() ? "/index.html" : "";
    else if (spa->is_string() && valid_path(spa->get_ref<const std::string&>()))
      out.spa_fallback = spa->get<std::string>();
    else
      r.fail("spa_fallback", "expected true or a path such as /index.html");
  }
  if (r.read("trailing_slash", text)) {
    if (text == "add")
      out.trailing_slash = RewriteOptions::TrailingSlash::Add;
    else if (text == "remove")
      out.trailing_slash = RewriteOptions::TrailingSlash::Remove;
    else
      r.fail("trailing_slash", "expected add or remove, got '" + text + "'");
  }
  if (r.read("status", out.status, 0, 999) && out.status != 301 && out.status != 302 &&
      out.status != 307 && out.status != 308)
    r.fail("status", "expected one of 301, 302, 307, 308, got " + std::to_string(out.status));
  if (!r.ok()) return;

  const bool directory =
      out.directory_index || out.no_extension != RewriteOptions::NoExtension::None;
  const int modes = int(directory) + int(!out.spa_fallback.empty()) +
                    int(out.trailing_slash != RewriteOptions::TrailingSlash::None);
  if (modes > 1)
    r.fail(
        "use one of directory_index/no_extension, spa_fallback and trailing_slash: they "
        "decide the same paths differently");
  else if (modes == 0 && out.prefix.empty())
    r.fail("needs prefix and to, directory_index, no_extension, spa_fallback or trailing_slash");
}

Rewrite::Rewrite(RewriteOptions options) : options_(std::move(options)) {}

RequestResult Rewrite::on_request_now(const Context& c, http::Request& req) {
  // The path modes below cut the path to `keep` bytes and append to it, or replace it whole.
  // Without a prefix rewrite that edit is made to the request in place; a prefix rewrite
  // builds its path in a string of its own first.
  std::string prefixed;
  const bool has_prefix = !options_.prefix.empty() && req.path.starts_with(options_.prefix);
  if (has_prefix) {
    prefixed = options_.to;
    prefixed.append(req.path, options_.prefix.size());
  }
  const std::string_view p = has_prefix ? std::string_view(prefixed) : std::string_view(req.path);

  const bool slash_end = !p.empty() && p.back() == '/';
  const bool extension = last_segment_has_extension(p);
  size_t keep = p.size();
  std::string_view append, append_more;
  const std::string* replacement = nullptr;
  if (!options_.spa_fallback.empty()) {
    if (!extension) replacement = &options_.spa_fallback;
  } else if (slash_end && options_.directory_index) {
    append = options_.index_document;
  } else if (!slash_end && !extension &&
             options_.no_extension == RewriteOptions::NoExtension::Index) {
    append = "/";
    append_more = options_.index_document;
  } else if (!slash_end && !extension &&
             options_.no_extension == RewriteOptions::NoExtension::Redirect) {
    bump(metrics_.redirected);
    RequestResult r;
    r.answer = redirect_keeping_query(int(options_.status), std::string(p) + "/", req);
    return r;
  } else if (options_.trailing_slash == RewriteOptions::TrailingSlash::Add && !slash_end &&
             !extension) {
    append = "/";
  } else if (options_.trailing_slash == RewriteOptions::TrailingSlash::Remove && slash_end &&
             p.size() > 1) {
    keep = p.size() - 1;
  }

  if (replacement || has_prefix) {
    if (!replacement) {
      prefixed.resize(keep);
      prefixed.append(append).append(append_more);
    }
    const std::string& path = replacement ? *replacement : prefixed;
    if (path == req.path) {
      bump(metrics_.unchanged);
      return {};
    }
    set_request_path(req, path);
  } else if (keep == p.size() && append.empty()) {
    bump(metrics_.unchanged);
    return {};
  } else {
    edit_request_path(req, keep, append, append_more);
  }
  bump(metrics_.rewritten);
  return {};
}

std::vector<MetricValue> Rewrite::metrics() const {
  return {{"rewritten", read(metrics_.rewritten)},
          {"redirected", read(metrics_.redirected)},
          {"unchanged", read(metrics_.unchanged)}};
}

}  // namespace eg::functions::builtins
