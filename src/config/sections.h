// Private to the config module: one loader per top-level section. Each reads its Val,
// reports problems through the Reader and fills the Snapshot being built.
#pragma once
#include <string>
#include <vector>

#include "aws/sigv4_verify.h"
#include "config/reader.h"
#include "config/snapshot.h"

namespace eg::waf {
class WafState;
}

namespace eg::config::detail {

struct LoadContext {
  Reader& r;
  std::vector<ConfigError>& errors;
  std::string base_dir;  // folder of the config file; relative paths resolve against it
  Snapshot& snap;
  bool secrets_configured = false;           // `secrets:` present
  bool secrets_ok = false;                   // and the store loaded without errors
  std::shared_ptr<waf::WafState> waf_state;  // null: a fresh one
};

// load_server.cc
void load_listeners(LoadContext& c, const Val& v);
void load_admin(LoadContext& c, const Val& v);
void load_limits(LoadContext& c, const Val& v);
void load_access_log(LoadContext& c, const Val& v);

// load_origins.cc
void load_secrets(LoadContext& c, const Val& v);
// The secret a config value names, or null after reporting why (no store, unknown name).
const Secret* find_secret(LoadContext& c, const Val& v, const std::string& name);
void load_origins(LoadContext& c, const Val& v);
// Lambda@Edge's request.origin for a configured origin: HTTP(S) origins are `custom`,
// directory origins `s3` with domain "<name>.s3.amazonaws.com". Custom headers whose value
// comes from the secret store are not shown to functions.
std::shared_ptr<const functions::OriginInfo> function_view_of(const Origin& o);

// load_behaviors.cc
void load_behaviors(LoadContext& c, const Val& v);
void load_custom_errors(LoadContext& c, const Val& v);

// load_behaviors.cc: the top-level `functions:` section (log, distribution id and domain)
void load_function_settings(LoadContext& c, const Val& v);

// load_shield.cc
void load_shield(LoadContext& c, const Val& v, Shield& s);
void load_origin_sign(LoadContext& c, const Val& v, Origin& o);
// `keys: [{access_key_id, secret: <store name>}]` for a SigV4 verifier (shield.sigv4,
// admin.wafv2): CURRENT secret values, ids unique and free of '/', ',', '=' and spaces.
std::vector<aws::sigv4::AccessKey> load_access_keys(LoadContext& c, const Val& keys);

// load_web_acl.cc; `state` carries IP set changes and rate counters over a reload.
void load_web_acl(LoadContext& c, const Val& v, std::shared_ptr<waf::WafState> state);

// Shared validators.
bool is_token(std::string_view s);  // RFC 9110 tchar+
bool is_dns_name(std::string_view s);

}  // namespace eg::config::detail
