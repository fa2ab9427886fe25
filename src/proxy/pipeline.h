// One request's walk through the phases of phases.h. The pipeline decides; the viewer
// connection does the I/O: run() returns a Reply that the connection sends.
#pragma once
#include <openssl/types.h>

#include <memory>
#include <string>

#include "aws/credentials.h"
#include "config/snapshot.h"
#include "functions/function.h"
#include "http/message.h"
#include "http/tls_fingerprint.h"
#include "proxy/io.h"
#include "proxy/phases.h"
#include "proxy/upstream.h"
#include "waf/ip_address.h"

namespace eg::proxy {

class Worker;

struct ViewerInfo {
  std::string client_ip;
  waf::IpAddress address;    // client_ip parsed once per connection (web ACL)
  bool has_address = false;  // client_ip parsed: a scoped or missing address leaves `address` 0
  uint16_t client_port = 0;
  bool https = false;
  const SSL* ssl = nullptr;  // TLS viewers, after the handshake
  // JA3/JA4 of the ClientHello (web ACL, WAF log), filled during the handshake; 68 bytes.
  http::TlsFingerprints tls_fingerprints;
  // OpenSSL's own static strings ("TLSv1.3", "TLS_AES_128_GCM_SHA256"); empty over plain HTTP.
  std::string_view ssl_protocol() const;
  std::string_view ssl_cipher() const;
};

struct Reply {
  http::Response response;  // head; body too when local
  // Streaming sources (at most one is set):
  std::shared_ptr<UpstreamConn> upstream;  // body follows from the origin (response.framing)
  OriginPool* pool = nullptr;              // where upstream goes back when read completely
  int file_fd = -1;                        // directory origin: [offset, offset+length)
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  // For logs and metrics.
  std::string_view result_type = "Miss";  // Hit, Miss, Error, Redirect, ...
  std::string_view detailed_result_type;  // empty: same as result_type
  Clock::time_point origin_start{};
  bool from_origin = false;
  ~Reply();
  Reply() = default;
  Reply(Reply&&) noexcept;
  Reply& operator=(Reply&&) noexcept;
};

class Pipeline {
 public:
  Pipeline(Worker& worker, const config::Snapshot& snap, http::Request& req,
           const ViewerInfo& viewer, std::string_view request_id,
           std::shared_ptr<UpstreamConn>* active_upstream);

  awaitable<Reply> run();
  size_t behavior_index() const { return behavior_index_; }
  const config::Behavior& behavior() const { return *behavior_; }

 private:
  awaitable<Reply> run_phases();
  std::optional<Reply> shield();
  awaitable<aws::RefreshingCredentials::Current> wait_for_credentials(
      aws::RefreshingCredentials& source);
  std::optional<Reply> sign(const config::Origin& origin,
                            const aws::RefreshingCredentials::Current& credentials,
                            const std::string& target, http::Headers& headers);
  std::optional<Reply> viewer_protocol_policy();
  std::optional<Reply> allowed_methods();
  std::optional<Reply> web_acl(http::Headers& extra_origin_headers);
  // The function phases: *_now runs a synchronous function (or none) and returns true; false
  // for an asynchronous one, which the coroutine of the same name runs.
  bool viewer_request_function_now(std::optional<Reply>& answer);
  awaitable<std::optional<Reply>> viewer_request_function();
  std::optional<Reply> cache_lookup();
  bool origin_request_function_now(std::optional<Reply>& answer);
  awaitable<std::optional<Reply>> origin_request_function();
  void origin_request(const config::Origin& origin, const http::Headers& extra, std::string& target,
                      http::Headers& headers);
  awaitable<Reply> origin_fetch(const config::Origin& origin, const std::string& target,
                                const http::Headers& headers, std::string_view method,
                                std::string_view body);
  bool origin_response_function_now(Reply& r);
  awaitable<void> origin_response_function(Reply& r);
  awaitable<void> custom_error_response(Reply& r);
  void cache_store(Reply& r);
  bool viewer_response_function_now(Reply& r);
  awaitable<void> viewer_response_function(Reply& r);
  void response_headers(Reply& r);

  functions::Context function_context(functions::EventType e) const;
  const functions::OriginInfo* function_origin() const;
  bool request_function_now(functions::EventType e, std::optional<Reply>& answer);
  awaitable<std::optional<Reply>> request_function(functions::EventType e);
  void request_function_done(functions::Function& f, functions::EventType e,
                             functions::RequestResult& r, std::optional<Reply>& answer);
  bool response_function_now(functions::EventType e, Reply& r);
  awaitable<void> response_function(functions::EventType e, Reply& r);
  void response_function_done(functions::Function& f, functions::EventType e,
                              functions::ResponseResult& r, Reply& reply);

  RequestView view() const;

  Worker& worker_;
  const config::Snapshot& snap_;
  http::Request& req_;
  const ViewerInfo& viewer_;
  std::string_view request_id_;
  std::shared_ptr<UpstreamConn>* active_upstream_;
  size_t behavior_index_ = 0;
  const config::Behavior* behavior_ = nullptr;
  std::optional<config::Origin> origin_override_;       // chosen by an origin-request function
  std::optional<functions::OriginInfo> override_info_;  // ... as the function described it
};

// A response generated by edgeguard itself (errors, redirects): text/plain body.
Reply local_reply(int status, std::string_view body, std::string_view result_type);

}  // namespace eg::proxy
