// The compiled, immutable configuration. Everything the request path reads comes from a
// Snapshot; a reload builds a new one off the hot path and swaps it in whole.
// Field defaults here are the documented defaults (docs/config.md).
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::waf {
class Acl;
}

namespace eg::functions {
class Function;
struct OriginInfo;
}  // namespace eg::functions

namespace eg::aws::sigv4 {
class Verifier;
}

namespace eg::config {

using Duration = std::chrono::milliseconds;

struct Certificate {
  std::string cert_file;  // PEM chain
  std::string key_file;   // PEM private key
};

struct TlsListener {
  std::vector<Certificate> certificates;  // first is the default; others chosen by SNI
  std::string min_version = "TLSv1.2";    // TLSv1.2 or TLSv1.3
};

struct Listener {
  std::string host;  // numeric address, e.g. "127.0.0.1" or "::1"
  uint16_t port = 0;
  std::optional<TlsListener> tls;
};

enum class OriginKind : uint8_t { Http, Directory, Echo };

// A header sent to the origin: a literal value, or the CURRENT value of a named secret.
struct CustomHeader {
  std::string name;
  std::string value;   // literal, when secret is empty
  std::string secret;  // secret store name
};

struct Origin {
  std::string name;
  OriginKind kind = OriginKind::Http;
  // Http
  bool https = false;
  std::string host;  // DNS name or address; resolved per new connection
  uint16_t port = 80;
  std::string path_prefix;  // "/app" from url http://h/app; no trailing slash
  bool tls_verify = true;
  std::string ca_file;  // empty: system trust store
  std::string sni;      // empty: host (when host is a name)
  Duration connect_timeout{10'000};
  Duration read_timeout{30'000};
  Duration keepalive_timeout{5'000};
  size_t max_idle_connections = 64;  // per worker
  // Directory
  std::string directory;  // absolute, canonical
  std::string index_document = "index.html";
  // All kinds
  std::vector<CustomHeader> custom_headers;
  // SigV4-signed origin requests (Http origins). Service and region inferred from the host
  // when not given (*.lambda-url.<region>.on.aws, *.execute-api.<region>.amazonaws.com).
  struct SigV4 {
    std::string service;
    std::string region;
    std::string profile;           // shared config/credentials profile; empty: AWS_PROFILE, default
    std::string credentials_file;  // overrides of ~/.aws/credentials and ~/.aws/config
    std::string config_file;
    uint64_t max_signed_body = 8 << 20;  // larger bodies: UNSIGNED-PAYLOAD (s3) or 413
  };
  std::optional<SigV4> sigv4;
  // request.origin as origin-side functions see it, built at load (not per request).
  std::shared_ptr<const functions::OriginInfo> function_view;
};

// An IPv4 or IPv6 prefix (IPv4 kept as 4 bytes).
struct AddressPrefix {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  uint8_t length = 0;
  bool contains(bool is_v6, const uint8_t* addr) const;
};
// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Host bits must be zero.
std::optional<AddressPrefix> parse_address_prefix(std::string_view text, std::string& why);

// Which viewer headers/cookies/query strings reach the origin (CloudFront origin request
// policy). Named policies expand to these.
struct ForwardList {
  enum class Mode : uint8_t { None, All, Whitelist, AllExcept };
  Mode mode = Mode::All;
  std::vector<std::string> items;  // headers: lowercase; cookies/query names: as given
};

struct OriginRequestPolicy {
  std::string name;  // "AllViewerExceptHostHeader" or "custom"
  ForwardList headers;
  ForwardList cookies;
  ForwardList query_strings;
  bool forward_host = false;  // viewer Host reaches the origin (AllViewer)
};

enum class ViewerProtocolPolicy : uint8_t { AllowAll, RedirectToHttps, HttpsOnly };

struct PathRewrite {
  enum class Kind : uint8_t { None, StripPrefix, Wildcard };
  Kind kind = Kind::None;
  std::string prefix;  // StripPrefix: "/hotels"
  std::string from;    // Wildcard: "/hotels/<*>"
  std::string to;      // Wildcard: "/<*>"
};

// Function binding for one event, compiled at load (functions/compile.h) so that a bad
// function is refused like any config error.
struct FunctionRef {
  std::string event;  // viewer-request, origin-request, origin-response, viewer-response
  std::string kind;   // builtin | file
  std::string name;   // builtin name or file path
  bool include_body = false;
  std::string options_json = "{}";  // the binding's other keys, as a JSON object
  std::shared_ptr<functions::Function> compiled;
};

// Shield mode: the behavior admits only requests that prove they came through the edge —
// an origin-verify header, a SigV4 signature, a source address — any of the configured
// checks (mode any) or all of them (mode all). Others get 403.
struct Shield {
  enum class Mode : uint8_t { Any, All };
  Mode mode = Mode::Any;
  // Origin-verify header: accepted values are the CURRENT and PENDING versions of a secret.
  std::string verify_header;  // empty: not checked
  std::string verify_secret;
  std::vector<std::string> verify_values;  // resolved from the store at load time
  // SigV4: the verifier is built once at load time (keys' secret access keys are the CURRENT
  // versions of the named secrets).
  std::shared_ptr<const aws::sigv4::Verifier> sigv4;  // null: not checked
  bool sigv4_json_errors = false;  // error shape: S3's XML (default) or {"message"} JSON
  // Source addresses: a list, and/or a file with one prefix per line (# comments).
  bool check_addresses = false;
  std::string addresses_file;
  std::vector<AddressPrefix> addresses;
  bool enabled() const { return !verify_header.empty() || sigv4 != nullptr || check_addresses; }
};

struct Behavior {
  std::string path_pattern;  // "default" for the default behavior (always last)
  bool is_default = false;
  std::string origin;                        // origin name
  size_t origin_index = 0;                   // index into Snapshot::origins
  std::vector<std::string> allowed_methods;  // GET,HEAD / +OPTIONS / all seven
  std::vector<std::string> cached_methods;   // GET,HEAD (default) or +OPTIONS
  ViewerProtocolPolicy viewer_protocol_policy = ViewerProtocolPolicy::AllowAll;
  OriginRequestPolicy origin_request_policy;
  std::string cache_policy = "CachingDisabled";  // name; the cache stage arrives later
  PathRewrite rewrite;
  std::vector<FunctionRef> functions;
  // functions[] by event (functions::EventType order), for the pipeline; null: none
  std::array<functions::Function*, 4> function_at{};
  Shield shield;
};

// What functions see of the distribution, and where their output goes.
struct Functions {
  std::string log_file;  // function log (JSON lines): console output and failures
  std::string distribution_id = "EDFDVBD6EXAMPLE";
  std::string distribution_domain = "d111111abcdef8.cloudfront.net";
};

struct CustomErrorResponse {
  int error_code = 0;                  // origin status this applies to (4xx/5xx)
  std::string response_page_path;      // served through the behaviors, e.g. "/errors/404.html"
  int response_code = 0;               // status sent to the viewer; 0 = keep error_code
  int64_t error_caching_min_ttl = 10;  // seconds; used by the cache stage
};

struct SecretVersion {
  std::string id;
  std::string value;
  std::vector<std::string> stages;  // PENDING, CURRENT, PREVIOUS
};

struct Secret {
  std::string name;
  std::vector<SecretVersion> versions;
  const SecretVersion* current() const;
  const SecretVersion* pending() const;
  // What an edge sends: PENDING while a rotation is under way (the shields already accept
  // it), CURRENT otherwise.
  const SecretVersion* sending() const {
    const SecretVersion* p = pending();
    return p ? p : current();
  }
};

struct AccessLog {
  std::string path;  // empty: no access log
  enum class Format : uint8_t { CloudFront, Json } format = Format::CloudFront;
  std::string edge_location = "EG1";  // x-edge-location value
  bool log_cookies = false;           // cs(Cookie) like CloudFront's "cookie logging"
  size_t buffer_bytes = 64 * 1024;    // per worker, flushed when full or every flush_interval
  Duration flush_interval{1000};
};

// `admin.wafv2`: the AWS WAFv2 JSON API on the admin listener, authenticated by SigV4.
struct AdminWafv2 {
  std::string region = "us-east-1";         // requests must be scoped to it (CLOUDFRONT: us-east-1)
  std::vector<std::string> access_key_ids;  // for /config; secret names/values stay out
  std::shared_ptr<const aws::sigv4::Verifier> verifier;  // service "wafv2", built at load
};

struct Admin {
  bool enabled = true;
  std::string host = "127.0.0.1";
  uint16_t port = 9901;
  std::string token_file;           // required when enabled; the token is read at load time
  std::string token;                // never shown by /config
  std::optional<AdminWafv2> wafv2;  // absent: the WAFv2 API is not served
};

struct Limits {
  size_t max_request_line = 8192;
  size_t max_header_bytes = 20480;
  size_t max_header_count = 100;
  uint64_t max_request_body = 8u << 20;
  Duration header_timeout{10'000};  // from first byte (or keep-alive idle end) to full head
  Duration body_timeout{30'000};    // between body reads
  Duration idle_timeout{60'000};    // keep-alive idle
  Duration send_timeout{30'000};    // a viewer that does not read its response
  Duration drain_timeout{30'000};   // graceful shutdown
};

// `web_acl:` compiled: shared read-only by every worker.
struct WebAcl {
  std::shared_ptr<const waf::Acl> acl;  // null: no web ACL
  std::string log_file;                 // WAF log (AWS WAF log format); empty: none
};

struct Snapshot {
  uint64_t generation = 0;  // set by the reloader
  std::string source_file;  // the config file it came from
  std::string source_text;  // as read, for /config (secrets are not in it: only names)
  std::vector<Listener> listeners;
  std::vector<Origin> origins;
  std::map<std::string, size_t> origin_index;
  std::vector<Behavior> behaviors;  // in order, default last
  std::vector<CustomErrorResponse> custom_error_responses;
  std::map<std::string, Secret> secrets;
  std::string secrets_file;
  AccessLog access_log;
  Admin admin;
  Limits limits;
  bool development = false;               // detailed error bodies
  std::string server_name = "edgeguard";  // used in Via
  std::string web_acl;                    // the WebACL document's path
  WebAcl waf;
  Functions functions;

  const Origin* find_origin(std::string_view name) const;
  const CustomErrorResponse* custom_error(int status) const;
};

}  // namespace eg::config
