#include "functions/builtins/ip_allowlist.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/log.h"
#include "core/strings.h"

// The matcher is the web ACL's IpSetMatcher (waf/ip_set.h): sorted disjoint ranges with a
// bucket table, tens of millions of lookups per second. eg_waf does not depend on
// eg_functions, so linking it here makes no cycle and keeps one CIDR parser and one matcher.

namespace eg::functions::builtins {

namespace {

bool read_file(const std::filesystem::path& path, std::string& text, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read file " + path.string() + ": " + std::strerror(errno);
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  text = std::move(s).str();
  return true;
}

bool load_cidr_file(const std::filesystem::path& path, std::vector<waf::IpPrefix>& out,
                    std::string& error) {
  std::string text;
  if (!read_file(path, text, error)) return false;
  size_t number = 0;
  for (std::string_view line : split(text, '\n')) {
    ++number;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (!line.empty() && line.back() == '\r') line = trim(line.substr(0, line.size() - 1));
    if (line.empty()) continue;
    waf::PrefixParse p = waf::parse_prefix(line);
    if (!p.prefix) {
      error = "file " + path.string() + " line " + std::to_string(number) + ": " + p.error;
      return false;
    }
    out.push_back(*p.prefix);
  }
  return true;
}

bool covers_a_port(const nlohmann::json& rule, const std::vector<uint16_t>& ports) {
  auto from = rule.find("FromPort"), to = rule.find("ToPort");
  if (from == rule.end() || to == rule.end() || !from->is_number_integer() ||
      !to->is_number_integer())
    return false;
  const int64_t low = from->get<int64_t>(), high = to->get<int64_t>();
  return std::any_of(ports.begin(), ports.end(), [&](uint16_t p) { return low <= p && p <= high; });
}

bool add_ranges(const nlohmann::json& rule, const char* list_key, const char* cidr_key,
                const std::string& where, std::vector<waf::IpPrefix>& out, std::string& error) {
  auto list = rule.find(list_key);
  if (list == rule.end()) return true;
  if (!list->is_array()) {
    error = where + "." + list_key + ": expected a list";
    return false;
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = where + "." + list_key + "[" + std::to_string(i) + "]." + cidr_key;
    const nlohmann::json& range = (*list)[i];
    auto cidr = range.is_object() ? range.find(cidr_key) : range.end();
    if (!range.is_object() || cidr == range.end() || !cidr->is_string()) {
      error = at + ": expected a string";
      return false;
    }
    waf::PrefixParse p = waf::parse_prefix(cidr->get<std::string>());
    if (!p.prefix) {
      error = at + ": " + p.error;
      return false;
    }
    out.push_back(*p.prefix);
  }
  return true;
}

bool load_security_groups(const std::filesystem::path& path, const std::vector<uint16_t>& ports,
                          std::vector<waf::IpPrefix>& out, std::string& error) {
  std::string text;
  if (!read_file(path, text, error)) return false;
  const std::string file = "file " + path.string() + ": ";
  // Exceptions only here: at config load and once per TTL, never per request. They carry the
  // parse error's position, which the non-throwing parse does not.
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    error = file + "not valid JSON: " + e.what();
    return false;
  }
  auto groups = doc.is_object() ? doc.find("SecurityGroups") : doc.end();
  if (!doc.is_object() || groups == doc.end() || !groups->is_array()) {
    error = file + "expected {\"SecurityGroups\": [...]} (aws ec2 describe-security-groups)";
    return false;
  }
  for (size_t g = 0; g < groups->size(); ++g) {
    const nlohmann::json& group = (*groups)[g];
    const std::string at_group = file + "SecurityGroups[" + std::to_string(g) + "]";
    if (!group.is_object()) {
      error = at_group + ": expected an object";
      return false;
    }
    auto rules = group.find("IpPermissions");
    if (rules == group.end()) continue;
    if (!rules->is_array()) {
      error = at_group + ".IpPermissions: expected a list";
      return false;
    }
    for (size_t i = 0; i < rules->size(); ++i) {
      const nlohmann::json& rule = (*rules)[i];
      const std::string at = at_group + ".IpPermissions[" + std::to_string(i) + "]";
      auto protocol = rule.is_object() ? rule.find("IpProtocol") : rule.end();
      if (!rule.is_object() || protocol == rule.end() || !protocol->is_string()) {
        error = at + ".IpProtocol: expected a string";
        return false;
      }
      const std::string& p = protocol->get_ref<const std::string&>();
      const bool taken = p == "-1" || ((p == "tcp" || p == "6") && covers_a_port(rule, ports));
      if (!taken) continue;
      if (!add_ranges(rule, "IpRanges", "CidrIp", at, out, error) ||
          !add_ranges(rule, "Ipv6Ranges", "CidrIpv6", at, out, error))
        return false;
    }
  }
  return true;
}

// An X-Forwarded-For entry may carry a port: "192.0.2.1:4711", "[2001:db8::1]:4711".
std::optional<waf::IpAddress> parse_forwarded_entry(std::string_view entry) {
  entry = trim(entry);
  if (!entry.empty() && entry.front() == '[') {
    const size_t close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return waf::parse_ip(entry.substr(1, close - 1));
  }
  const size_t colon = entry.find(':');
  if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos)
    entry = entry.substr(0, colon);
  return waf::parse_ip(entry);
}

}  // namespace

bool load_allowlist(const IpAllowlistOptions& o, std::vector<waf::IpPrefix>& out,
                    std::string& error) {
  out = o.cidrs;
  if (!o.file.empty() && !load_cidr_file(o.file, out, error)) return false;
  if (!o.security_groups.empty() && !load_security_groups(o.security_groups, o.ports, out, error))
    return false;
  return true;
}

void parse_ip_allowlist_options(OptionReader& r, IpAllowlistOptions& out) {
  r.allow_only({"cidrs", "file", "security_groups", "ports", "ttl", "client_ip"});
  std::vector<std::string> cidrs;
  if (r.read("cidrs", cidrs)) {
    for (size_t i = 0; i < cidrs.size(); ++i) {
      waf::PrefixParse p = waf::parse_prefix(trim(cidrs[i]));
      if (!p.prefix) {
        r.fail("cidrs", "item " + std::to_string(i + 1) + ": " + p.error);
        break;
      }
      out.cidrs.push_back(*p.prefix);
    }
  }
  r.read_path("file", out.file);
  r.read_path("security_groups", out.security_groups);
  if (const nlohmann::json* ports = r.get("ports")) {
    out.ports.clear();
    if (!ports->is_array() || ports->empty()) r.fail("ports", "expected a list of ports");
    for (size_t i = 0; r.ok() && i < ports->size(); ++i) {
      const nlohmann::json& p = (*ports)[i];
      if (!p.is_number_integer() || p.get<int64_t>() < 1 || p.get<int64_t>() > 65535)
        r.fail("ports", "item " + std::to_string(i + 1) + ": expected a port from 1 to 65535");
      else
        out.ports.push_back(uint16_t(p.get<int64_t>()));
    }
  }
  r.read("ttl", out.ttl_s, 0, 7 * 86400);
  std::string client_ip;
  if (r.read("client_ip", client_ip)) {
    if (client_ip == "connection")
      out.client_ip = IpAllowlistOptions::ClientIp::Connection;
    else if (client_ip == "x-forwarded-for-first")
      out.client_ip = IpAllowlistOptions::ClientIp::ForwardedForFirst;
    else if (client_ip == "x-forwarded-for-last")
      out.client_ip = IpAllowlistOptions::ClientIp::ForwardedForLast;
    else
      r.fail("client_ip",
             "expected connection, x-forwarded-for-first or x-forwarded-for-last, got '" +
                 client_ip + "'");
  }
  if (!r.ok()) return;
  if (!r.has("cidrs") && out.file.empty() && out.security_groups.empty()) {
    r.fail("needs cidrs, file or security_groups");
    return;
  }
  // The first load happens now: a list that cannot be read is a config error, not a 500.
  std::string error;
  if (!load_allowlist(out, out.loaded, error)) {
    r.fail(!out.security_groups.empty() &&
                   error.find(out.security_groups.string()) != std::string::npos
               ? "security_groups"
               : "file",
           error);
  }
}

IpAllowlist::IpAllowlist(IpAllowlistOptions options, Clock now)
    : options_(std::move(options)), now_(now), views_(new ThreadView[kThreadViews]) {
  has_files_ = !options_.file.empty() || !options_.security_groups.empty();
  matcher_.store(std::make_shared<const waf::IpSetMatcher>(options_.loaded));
  options_.loaded.clear();
  options_.loaded.shrink_to_fit();
  next_reload_ms_.store(now_() + options_.ttl_s * 1000, std::memory_order_relaxed);
}

// The first request past the TTL re-reads the files itself (local files of a few KB: well
// under a millisecond); requests on other threads meanwhile keep using the current list
// rather than waiting. A failed re-read keeps the last good list and is retried after
// another TTL.
void IpAllowlist::reload_if_due() {
  const int64_t now = now_();
  if (now < next_reload_ms_.load(std::memory_order_relaxed)) return;
  if (reloading_.exchange(true, std::memory_order_acquire)) return;
  std::vector<waf::IpPrefix> prefixes;
  std::string error;
  if (load_allowlist(options_, prefixes, error)) {
    matcher_.store(std::make_shared<const waf::IpSetMatcher>(prefixes));
    // After the store: a thread that sees the new generation loads the new list.
    generation_.fetch_add(1, std::memory_order_release);
    bump(metrics_.reloads);
  } else {
    bump(metrics_.reload_failures);
    log::warn("ip-allowlist: re-reading the allowlist failed, keeping the last good list: {}",
              error);
  }
  next_reload_ms_.store(now + options_.ttl_s * 1000, std::memory_order_relaxed);
  reloading_.store(false, std::memory_order_release);
}

// Only the owning thread touches its view, and only within one call: the list it returns
// stays alive (held by the view) until that thread's next call.
const waf::IpSetMatcher& IpAllowlist::current_matcher(
    std::shared_ptr<const waf::IpSetMatcher>& hold) {
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  const size_t slot = thread_slot();
  if (slot >= kThreadViews) {
    hold = matcher_.load();
    return *hold;
  }
  ThreadView& view = views_[slot];
  if (view.generation != generation) {
    view.matcher = matcher_.load();
    view.generation = generation;
  }
  return *view.matcher;
}

RequestResult IpAllowlist::on_request_now(const Context& c, http::Request& req) {
  if (has_files_ && options_.ttl_s > 0) reload_if_due();

  std::optional<waf::IpAddress> client;
  bool from_header = false;
  if (options_.client_ip != IpAllowlistOptions::ClientIp::Connection) {
    const std::string* value = nullptr;
    for (const http::Header& h : req.headers)
      if (http::iequals(h.name, "X-Forwarded-For")) {
        value = &h.value;
        if (options_.client_ip == IpAllowlistOptions::ClientIp::ForwardedForFirst) break;
      }
    if (value) {
      from_header = true;
      std::string_view v = *value;
      if (options_.client_ip == IpAllowlistOptions::ClientIp::ForwardedForFirst)
        client = parse_forwarded_entry(v.substr(0, v.find(',')));
      else
        client = parse_forwarded_entry(v.substr(v.rfind(',') + 1));
    }
  }
  if (!from_header) {
    client = c.client_address ? std::optional(*c.client_address) : waf::parse_ip(c.client_ip);
    if (!client) {
      // The proxy always gives the connection's address: this is a bug, not a viewer's doing.
      bump(metrics_.errors);
      log::error("ip-allowlist: the connection's client address '{}' is not an IP address",
                 c.client_ip);
      RequestResult r;
      r.answer = text_response(500, "Internal Server Error");
      return r;
    }
  }

  std::shared_ptr<const waf::IpSetMatcher> hold;
  if (client && current_matcher(hold).contains(*client)) {
    bump(metrics_.allowed);
    return {};
  }
  bump(metrics_.denied);
  RequestResult r;
  r.answer = text_response(403, "Forbidden");
  return r;
}

std::vector<MetricValue> IpAllowlist::metrics() const {
  return {{"allowed", read(metrics_.allowed)},
          {"denied", read(metrics_.denied)},
          {"errors", read(metrics_.errors)},
          {"reloads", read(metrics_.reloads)},
          {"reload_failures", read(metrics_.reload_failures)}};
}

}  // namespace eg::functions::builtins
