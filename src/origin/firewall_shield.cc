#include "origin/firewall_shield.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "aws/http_client.h"
#include "core/strings.h"
#include "origin/ipranges_fetch.h"

namespace eg::origin {
namespace {

std::vector<Prefix> all_prefixes(const DesiredState& d) {
  std::vector<Prefix> all;
  for (const auto& s : d.sets) all.insert(all.end(), s.prefixes.begin(), s.prefixes.end());
  return normalise(std::move(all));
}

class ShieldBackend : public FirewallBackend {
 public:
  ShieldBackend(std::string file, std::string admin, std::string token_file, std::string ca_file)
      : file_(std::move(file)),
        admin_(std::move(admin)),
        token_file_(std::move(token_file)),
        ca_file_(std::move(ca_file)) {}

  bool plan(const DesiredState& desired, Plan& out, std::string& error) override {
    std::vector<Prefix> current;
    if (!read(current, out, error)) return false;
    fill(desired, current, out);
    return true;
  }

  bool apply(const DesiredState& desired, Plan& out, std::string& error) override {
    std::vector<Prefix> current;
    if (!read(current, out, error)) return false;
    fill(desired, current, out);
    if (!out.has_changes()) return true;
    if (!write_file_atomically(file_, render_shield_file(desired), 0644, error)) return false;
    if (admin_.empty()) return true;
    if (!reload(error)) {
      error = "wrote " + file_ + " but the shield did not reload: " + error +
              " (the file is in place; reload the shield to use it)";
      return false;
    }
    for (auto& a : out.actions)
      if (a.rfind("reload the shield", 0) == 0) a = "reloaded the shield at " + admin_;
    return true;
  }

 private:
  bool read(std::vector<Prefix>& current, Plan& out, std::string& error) {
    out = Plan{};
    out.backend = "shield address file " + file_;
    std::string text;
    struct stat st;
    if (stat(file_.c_str(), &st) != 0 && errno == ENOENT) {
      out.current.push_back(file_ + ": absent");
      return true;
    }
    if (!fetch_source(file_, {}, text, error)) return false;
    if (!parse_shield_file(text, file_, current, error)) return false;
    out.current.push_back(fmt::format("{}: {} prefixes", file_, current.size()));
    return true;
  }

  void fill(const DesiredState& desired, const std::vector<Prefix>& current, Plan& out) {
    std::vector<Prefix> want = all_prefixes(desired);
    SetChange c = describe_change("file " + file_, current, want, diff_prefixes(current, want));
    out.changes.push_back(std::move(c));
    if (out.has_changes() && !admin_.empty())
      out.actions.push_back("reload the shield: POST " + admin_ + "/reload");
  }

  bool reload(std::string& error) {
    std::string token;
    if (!token_file_.empty()) {
      if (!fetch_source(token_file_, {}, token, error)) return false;
      token = std::string(trim(token));
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    }
    aws::HttpClientRequest req;
    req.method = "POST";
    req.url = admin_ + "/reload";
    if (!token.empty()) req.headers.push_back({"Authorization", "Bearer " + token});
    aws::HttpClientOptions opts;
    opts.ca_file = ca_file_;
    aws::HttpResult r = aws::http_request(req, opts);
    if (!r.response) {
      error = "POST " + req.url + ": " + r.error;
      return false;
    }
    if (r.response->status != 200) {
      std::string body = r.response->body.substr(0, 500);
      while (!body.empty() && body.back() == '\n') body.pop_back();
      error = fmt::format("POST {}: status {}: {}", req.url, r.response->status, body);
      return false;
    }
    return true;
  }

  std::string file_, admin_, token_file_, ca_file_;
};

std::unique_ptr<FirewallBackend> make_shield(const BackendOptions& o, std::string& error) {
  const std::string& file = o.find("shield-file")->second;
  std::string admin = o.find("shield-admin")->second;
  if (file.empty()) {
    error = "--shield-file is required with --backend shield";
    return nullptr;
  }
  while (!admin.empty() && admin.back() == '/') admin.pop_back();
  if (!admin.empty() && !is_url(admin)) {
    error = "--shield-admin: \"" + admin + "\" is not an http(s) URL like http://127.0.0.1:9901";
    return nullptr;
  }
  return std::make_unique<ShieldBackend>(file, admin, o.find("shield-token-file")->second,
                                         o.find("ca-file")->second);
}

}  // namespace

bool parse_shield_file(const std::string& text, const std::string& path, std::vector<Prefix>& out,
                       std::string& error) {
  size_t line_no = 0;
  for (std::string_view line : split(text, '\n')) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (!line.empty() && line.back() == '\r') line = trim(line.substr(0, line.size() - 1));
    if (line.empty()) continue;
    auto p = line.find('/') == std::string_view::npos ? parse_address(line) : parse_prefix(line);
    if (!p) {
      error = fmt::format("{}:{}: \"{}\" is not an address or CIDR prefix", path, line_no,
                          std::string(line.substr(0, 80)));
      return false;
    }
    out.push_back(*p);
  }
  out = normalise(std::move(out));
  return true;
}

std::string render_shield_file(const DesiredState& desired) {
  std::string out =
      "# Written by `edgeguard ipranges` (shield backend); changes are overwritten.\n";
  out += "# " + desired.description + "\n";
  if (!desired.document_line.empty()) out += "# " + desired.document_line + "\n";
  for (const auto& s : desired.sets) {
    out += fmt::format("\n# {}: {} prefixes\n", s.name, s.prefixes.size());
    for (const auto& p : s.prefixes) {
      out += p.to_string();
      out += '\n';
    }
  }
  return out;
}

BackendSpec shield_backend_spec() {
  return BackendSpec{
      "shield",
      "the address file of edgeguard's shield mode, then POST /reload to the shield",
      {
          {"shield-file", "the shield's address file (addresses: {file: PATH})", ""},
          {"shield-admin", "the shield's admin listener, e.g. http://127.0.0.1:9901", ""},
          {"shield-token-file", "file holding the shield's admin token", ""},
      },
      make_shield,
  };
}

}  // namespace eg::origin
