#include "functions/builtins/registry.h"

#include "functions/builtins/basic_auth.h"
#include "functions/builtins/ip_allowlist.h"
#include "functions/builtins/options.h"
#include "functions/builtins/redirect.h"
#include "functions/builtins/rewrite.h"
#include "functions/builtins/security_headers.h"

namespace eg::functions {

namespace {

using namespace builtins;

constexpr uint8_t bit(EventType e) { return uint8_t(1u << static_cast<unsigned>(e)); }
constexpr uint8_t kViewerRequest = bit(EventType::ViewerRequest);
constexpr uint8_t kRequests = bit(EventType::ViewerRequest) | bit(EventType::OriginRequest);
constexpr uint8_t kResponses = bit(EventType::ViewerResponse) | bit(EventType::OriginResponse);

using Factory = std::shared_ptr<Function> (*)(OptionReader& r);

// Parses the options into the builtin's typed struct, then builds the function from it.
template <class Options, void (*parse)(OptionReader&, Options&), class Builtin>
std::shared_ptr<Function> build(OptionReader& r) {
  Options options;
  parse(r, options);
  if (!r.ok()) return nullptr;
  return std::make_shared<Builtin>(std::move(options));
}

struct BuiltinEntry {
  std::string_view name;
  uint8_t events;  // bit(EventType) set
  Factory make;
};

constexpr BuiltinEntry kBuiltins[] = {
    {"basic-auth", kViewerRequest, &build<BasicAuthOptions, parse_basic_auth_options, BasicAuth>},
    {"ip-allowlist", kViewerRequest,
     &build<IpAllowlistOptions, parse_ip_allowlist_options, IpAllowlist>},
    {"security-headers", kResponses,
     &build<SecurityHeadersOptions, parse_security_headers_options, SecurityHeaders>},
    {"redirect", kViewerRequest, &build<RedirectOptions, parse_redirect_options, Redirect>},
    {"rewrite", kRequests, &build<RewriteOptions, parse_rewrite_options, Rewrite>},
};

const BuiltinEntry* find(std::string_view name) {
  for (const BuiltinEntry& e : kBuiltins)
    if (e.name == name) return &e;
  return nullptr;
}

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::string_view s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

}  // namespace

std::shared_ptr<Function> make_builtin(std::string_view name, EventType event,
                                       const nlohmann::json& options,
                                       const std::filesystem::path& base_dir, std::string& error) {
  const BuiltinEntry* entry = find(name);
  if (!entry) {
    error = "unknown builtin '" + std::string(name) + "' (known: " + join(builtin_names()) + ")";
    return nullptr;
  }
  if (!(entry->events & bit(event))) {
    std::vector<std::string_view> events;
    for (EventType e : builtin_events(name)) events.push_back(to_string(e));
    error = std::string(name) + ": cannot run at " + std::string(to_string(event)) +
            " (it runs at " + join(events) + ")";
    return nullptr;
  }
  OptionReader reader(entry->name, options, base_dir, error);
  if (!reader.ok()) return nullptr;
  return entry->make(reader);
}

std::vector<std::string_view> builtin_names() {
  std::vector<std::string_view> names;
  for (const BuiltinEntry& e : kBuiltins) names.push_back(e.name);
  return names;
}

std::vector<EventType> builtin_events(std::string_view name) {
  std::vector<EventType> events;
  if (const BuiltinEntry* entry = find(name))
    for (EventType e : {EventType::ViewerRequest, EventType::OriginRequest,
                        EventType::OriginResponse, EventType::ViewerResponse})
      if (entry->events & bit(e)) events.push_back(e);
  return events;
}

}  // namespace eg::functions
