#include "proxy/pipeline.h"

#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>

#include "core/strings.h"
#include "proxy/behavior_match.h"
#include "proxy/directory_origin.h"
#include "proxy/echo_origin.h"
#include "proxy/function_stage.h"
#include "proxy/origin_request.h"
#include "proxy/rewrite.h"
#include "proxy/server.h"
#include "proxy/shield.h"
#include "proxy/web_acl_stage.h"
#include "proxy/worker.h"

namespace eg::proxy {

std::string_view ViewerInfo::ssl_protocol() const { return ssl ? SSL_get_version(ssl) : ""; }
std::string_view ViewerInfo::ssl_cipher() const {
  const char* c = ssl ? SSL_get_cipher_name(ssl) : nullptr;
  return c ? c : "";
}

Reply::~Reply() {
  if (file_fd >= 0) ::close(file_fd);
}
Reply::Reply(Reply&& o) noexcept { *this = std::move(o); }
Reply& Reply::operator=(Reply&& o) noexcept {
  if (this == &o) return *this;
  if (file_fd >= 0) ::close(file_fd);
  response = std::move(o.response);
  upstream = std::move(o.upstream);
  pool = o.pool;
  file_fd = std::exchange(o.file_fd, -1);
  file_offset = o.file_offset;
  file_length = o.file_length;
  result_type = o.result_type;
  detailed_result_type = o.detailed_result_type;
  origin_start = o.origin_start;
  from_origin = o.from_origin;
  return *this;
}

Reply local_reply(int status, std::string_view body, std::string_view result_type) {
  Reply r;
  r.response.status = status;
  r.response.headers.add("Server", "edgeguard");
  r.response.headers.add("Content-Type", "text/plain; charset=utf-8");
  r.response.body = std::string(body);
  if (!r.response.body.empty() && r.response.body.back() != '\n') r.response.body.push_back('\n');
  r.result_type = result_type;
  return r;
}

namespace {

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Reply from_response(http::Response&& resp, std::string_view result_type) {
  Reply r;
  r.response = std::move(resp);
  r.result_type = result_type;
  return r;
}

bool method_allowed(const config::Behavior& b, std::string_view method) {
  return std::find(b.allowed_methods.begin(), b.allowed_methods.end(), method) !=
         b.allowed_methods.end();
}

std::string host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') return std::string(host.substr(0, host.find(']') + 1));
  return std::string(host.substr(0, host.find(':')));
}

}  // namespace

Pipeline::Pipeline(Worker& worker, const config::Snapshot& snap, http::Request& req,
                   const ViewerInfo& viewer, std::string_view request_id,
                   std::shared_ptr<UpstreamConn>* active_upstream)
    : worker_(worker),
      snap_(snap),
      req_(req),
      viewer_(viewer),
      request_id_(request_id),
      active_upstream_(active_upstream) {
  behavior_index_ = match_behavior(snap_.behaviors, req_.path);
  behavior_ = &snap_.behaviors[behavior_index_];
}

RequestView Pipeline::view() const {
  return RequestView{req_,          viewer_.client_ip, viewer_.client_port,
                     viewer_.https, request_id_,       *behavior_};
}

awaitable<Reply> Pipeline::run() {
  Reply r = co_await run_phases();
  response_headers(r);  // on every answer, the edge's own included (request id, Via)
  co_return r;
}

awaitable<Reply> Pipeline::run_phases() {
  if (auto r = shield()) co_return std::move(*r);
  if (auto r = viewer_protocol_policy()) co_return std::move(*r);
  // The web ACL sees every request, those with a method the behavior refuses included (and
  // the challenge pages' POSTs reach their endpoint whatever the behavior allows).
  http::Headers extra_origin_headers;
  if (auto r = web_acl(extra_origin_headers)) co_return std::move(*r);
  if (auto r = allowed_methods()) co_return std::move(*r);
  // A function's answer (or failure) ends the request. The *_now phases run a synchronous
  // function, or none, without a coroutine frame; false: an asynchronous one, to be awaited.
  std::optional<Reply> answer;
  if (!viewer_request_function_now(answer)) answer = co_await viewer_request_function();
  if (answer) co_return std::move(*answer);
  if (auto r = cache_lookup()) {
    if (!viewer_response_function_now(*r)) co_await viewer_response_function(*r);
    co_return std::move(*r);
  }
  if (!origin_request_function_now(answer)) answer = co_await origin_request_function();
  if (answer) {
    cache_store(*answer);
    if (!viewer_response_function_now(*answer)) co_await viewer_response_function(*answer);
    co_return std::move(*answer);
  }
  const config::Origin& origin =
      origin_override_ ? *origin_override_ : snap_.origins[behavior_->origin_index];
  std::string target;
  http::Headers headers;
  origin_request(origin, extra_origin_headers, target, headers);
  if (origin.sigv4) {
    // Credentials are almost always there: sign without a coroutine frame; wait only when not.
    auto& source = worker_.signing_credentials(origin);
    auto cur = source.current();
    if (!cur.credentials) cur = co_await wait_for_credentials(source);
    if (auto refused = sign(origin, cur, target, headers)) co_return std::move(*refused);
  }
  Reply r = co_await origin_fetch(origin, target, headers, req_.method, req_.body);
  if (r.from_origin && !origin_response_function_now(r)) co_await origin_response_function(r);
  co_await custom_error_response(r);
  if (r.from_origin) cache_store(r);
  if (!viewer_response_function_now(r)) co_await viewer_response_function(r);
  co_return r;
}

std::optional<Reply> Pipeline::shield() {
  ShieldVerdict v = check_shield(behavior_->shield, req_, viewer_, request_id_);
  if (v.admitted) return std::nullopt;
  worker_.metrics().record_shield_refusal(behavior_->path_pattern, v.reason);
  return std::move(v.refusal);
}

awaitable<aws::RefreshingCredentials::Current> Pipeline::wait_for_credentials(
    aws::RefreshingCredentials& source) {
  // Never sent unsigned: without valid credentials the request waits for the refresh thread
  // (up to 5 s, checked every 50 ms on this loop's timer), then gets a 503.
  auto cur = source.current();
  for (int i = 0; !cur.credentials && i < 100; ++i) {
    asio::steady_timer t(worker_.io(), std::chrono::milliseconds(50));
    co_await t.async_wait(nothrow);
    cur = source.current();
  }
  co_return cur;
}

std::optional<Reply> Pipeline::sign(const config::Origin& origin,
                                    const aws::RefreshingCredentials::Current& cur,
                                    const std::string& target, http::Headers& headers) {
  auto fail = [&](int status, std::string_view cause, const std::string& message) {
    worker_.metrics().record_signing_failure(origin.name, cause);
    Reply r = local_reply(status,
                          std::to_string(status) + " " + std::string(http::reason_phrase(status)) +
                              ": origin '" + origin.name + "': " + message +
                              "\nrequest id: " + std::string(request_id_),
                          "Error");
    r.detailed_result_type = "OriginSigningError";
    return r;
  };
  if (!cur.credentials)
    return fail(503, "no_credentials", "no AWS credentials to sign with: " + cur.error);
  SigningError e =
      sign_origin_request(origin, *cur.credentials, req_.method, target, req_.body, headers);
  if (e.status != 0) return fail(e.status, e.cause, e.message);
  return std::nullopt;
}

std::optional<Reply> Pipeline::viewer_protocol_policy() {
  using P = config::ViewerProtocolPolicy;
  if (viewer_.https || behavior_->viewer_protocol_policy == P::AllowAll) return std::nullopt;
  if (behavior_->viewer_protocol_policy == P::HttpsOnly)
    return local_reply(403, "403 Forbidden: this path is served over HTTPS only", "Error");
  // redirect-to-https: same host and target, the first TLS listener's port.
  const std::string* host = req_.headers.find("host");
  std::string location = "https://" + host_without_port(host ? *host : "localhost");
  uint16_t port = worker_.https_port();
  if (port != 0 && port != 443) location += ":" + std::to_string(port);
  location += req_.path;
  if (req_.has_query) location += "?" + req_.query;
  Reply r = local_reply(301, "301 Moved Permanently: " + location, "Redirect");
  r.response.headers.add("Location", location);
  return r;
}

std::optional<Reply> Pipeline::allowed_methods() {
  if (method_allowed(*behavior_, req_.method)) return std::nullopt;
  std::string allowed;
  for (const auto& m : behavior_->allowed_methods) allowed += (allowed.empty() ? "" : ", ") + m;
  Reply r =
      local_reply(403,
                  "403 Forbidden: method " + req_.method + " is not allowed for path pattern " +
                      behavior_->path_pattern + " (allowed: " + allowed + ")",
                  "Error");
  r.detailed_result_type = "InvalidRequestMethod";
  return r;
}

std::optional<Reply> Pipeline::web_acl(http::Headers& extra_origin_headers) {
  const auto& acl = snap_.waf.acl;
  if (!acl) return std::nullopt;
  waf::Request wr{viewer_.address,
                  req_.method,
                  req_.path,
                  req_.query,
                  req_.headers,
                  req_.body,
                  viewer_.tls_fingerprints.ja3(),
                  viewer_.tls_fingerprints.ja4(),
                  request_id_,
                  viewer_.https,
                  wall_clock_ms()};
  auto outcome = run_web_acl(WebAclInput{*acl, wr, worker_.waf_log(), snap_.development},
                             extra_origin_headers);
  if (outcome.failed)
    worker_.server().metrics().waf_failures.fetch_add(1, std::memory_order_relaxed);
  if (!outcome.answer) return std::nullopt;
  Reply r = from_response(std::move(*outcome.answer), "Error");
  r.detailed_result_type = "Error";
  return r;
}

// Built in place, field by field once (not defaulted first, then assigned).
functions::Context Pipeline::function_context(functions::EventType e) const {
  const bool origin_event =
      e == functions::EventType::OriginRequest || e == functions::EventType::OriginResponse;
  return functions::Context{
      .event = e,
      .request_id = request_id_,
      .distribution_id = snap_.functions.distribution_id,
      .distribution_domain = snap_.functions.distribution_domain,
      .client_ip = viewer_.client_ip,
      .client_port = viewer_.client_port,
      .https = viewer_.https,
      .origin = origin_event ? function_origin() : nullptr,
      .development = snap_.development,
      .client_address = viewer_.has_address ? &viewer_.address : nullptr,
  };
}

// The origin as origin-side functions see it: the one an origin-request function chose (as
// it described it, or the configured origin it selected by name), else the behavior's.
const functions::OriginInfo* Pipeline::function_origin() const {
  if (override_info_ && override_info_->config_origin.empty()) return &*override_info_;
  if (origin_override_) return origin_override_->function_view.get();
  return snap_.origins[behavior_->origin_index].function_view.get();
}

// A request event's function: the request goes on (perhaps changed), or ends with the
// function's answer or its failure, put in `answer`. Synchronous functions run here, on the
// caller's stack; false when the function is asynchronous (request_function runs it).
bool Pipeline::request_function_now(functions::EventType e, std::optional<Reply>& answer) {
  functions::Function* f = behavior_->function_at[size_t(e)];
  if (!f) return true;
  if (f->asynchronous()) return false;
  functions::RequestResult r = f->on_request_now(function_context(e), req_);
  request_function_done(*f, e, r, answer);
  return true;
}

awaitable<std::optional<Reply>> Pipeline::request_function(functions::EventType e) {
  functions::Function& f = *behavior_->function_at[size_t(e)];
  const functions::Context c = function_context(e);
  functions::RequestResult r = co_await f.on_request(c, req_);
  std::optional<Reply> answer;
  request_function_done(f, e, r, answer);
  co_return answer;
}

void Pipeline::request_function_done(functions::Function& f, functions::EventType e,
                                     functions::RequestResult& r, std::optional<Reply>& answer) {
  if (!r.failure && r.origin) {
    std::string error;
    origin_override_ = origin_from_info(*r.origin, snap_, error);
    override_info_ = std::move(r.origin);
    if (!origin_override_)
      r.failure = functions::Failure{502, std::string(functions::to_string(e)) + " function " +
                                              std::string(f.name()) + ": " + error};
  }
  if (!r.logs.empty() || r.failure)
    log_function_output(worker_.function_log(), f.name(), e, request_id_, r.logs,
                        r.failure ? &*r.failure : nullptr);
  if (r.failure) {
    answer = from_response(function_failure_response(*r.failure, snap_.development, request_id_),
                           "Error");
    answer->detailed_result_type = "LambdaValidationError";
    if (r.failure->status == 500) answer->detailed_result_type = "LambdaExecutionError";
    if (r.failure->status == 503) answer->detailed_result_type = "LambdaLimitExceeded";
  } else if (r.answer) {
    answer = from_response(std::move(*r.answer), "FunctionGeneratedResponse");
  }
}

// A response event's function: changes the response in place; a replaced body drops the
// origin's (not read yet); a failure replaces the whole response. As for requests: false when
// the function is asynchronous (response_function runs it).
bool Pipeline::response_function_now(functions::EventType e, Reply& reply) {
  functions::Function* f = behavior_->function_at[size_t(e)];
  if (!f) return true;
  if (f->asynchronous()) return false;
  functions::ResponseResult r = f->on_response_now(function_context(e), req_, reply.response);
  response_function_done(*f, e, r, reply);
  return true;
}

awaitable<void> Pipeline::response_function(functions::EventType e, Reply& reply) {
  functions::Function& f = *behavior_->function_at[size_t(e)];
  const functions::Context c = function_context(e);
  functions::ResponseResult r = co_await f.on_response(c, req_, reply.response);
  response_function_done(f, e, r, reply);
}

void Pipeline::response_function_done(functions::Function& f, functions::EventType e,
                                      functions::ResponseResult& r, Reply& reply) {
  if (!r.logs.empty() || r.failure)
    log_function_output(worker_.function_log(), f.name(), e, request_id_, r.logs,
                        r.failure ? &*r.failure : nullptr);
  if (!r.failure && !r.body_replaced) return;
  if (reply.upstream) reply.upstream->close();  // its body is not read: not reusable
  reply.upstream.reset();
  reply.pool = nullptr;
  if (reply.file_fd >= 0) ::close(std::exchange(reply.file_fd, -1));
  reply.response.framing = http::BodyFraming::None;
  reply.response.headers.remove("content-length");
  reply.response.headers.remove("transfer-encoding");
  if (r.failure) {
    auto result_type = reply.result_type;
    reply.response = function_failure_response(*r.failure, snap_.development, request_id_);
    reply.result_type = result_type == "Hit" ? result_type : std::string_view("Error");
    reply.from_origin = false;
  }
}

bool Pipeline::viewer_request_function_now(std::optional<Reply>& answer) {
  return request_function_now(functions::EventType::ViewerRequest, answer);
}

awaitable<std::optional<Reply>> Pipeline::viewer_request_function() {
  return request_function(functions::EventType::ViewerRequest);
}

std::optional<Reply> Pipeline::cache_lookup() {
  const auto& hook = worker_.hooks().cache;
  if (!hook) return std::nullopt;
  if (auto hit = hook->lookup(view())) return from_response(std::move(*hit), "Hit");
  return std::nullopt;
}

bool Pipeline::origin_request_function_now(std::optional<Reply>& answer) {
  return request_function_now(functions::EventType::OriginRequest, answer);
}

awaitable<std::optional<Reply>> Pipeline::origin_request_function() {
  return request_function(functions::EventType::OriginRequest);
}

void Pipeline::origin_request(const config::Origin& origin, const http::Headers& extra,
                              std::string& target, http::Headers& headers) {
  const auto& policy = behavior_->origin_request_policy;
  target = origin_path(origin.path_prefix, rewrite_path(behavior_->rewrite, req_.path));
  std::string query = filter_query(policy.query_strings, req_.query);
  if (!query.empty()) target += "?" + query;
  headers.list().reserve(req_.headers.size() + 6);
  // Echo and directory origins have no authority of their own: they see the viewer's Host.
  const std::string* viewer_host = req_.headers.find("host");
  std::string authority = origin.kind == config::OriginKind::Http
                              ? origin_authority(origin)
                              : (viewer_host ? *viewer_host : std::string());
  apply_header_policy(policy, req_, authority, headers);
  add_proxy_headers(headers, viewer_.client_ip, worker_.via(), request_id_);
  for (const auto& h : extra) headers.set(h.name, h.value);
  // Origin authentication comes last so nothing after it can change what it covers.
  add_custom_headers(origin, snap_.secrets, headers);
}

awaitable<Reply> Pipeline::origin_fetch(const config::Origin& origin, const std::string& target,
                                        const http::Headers& headers, std::string_view method,
                                        std::string_view body) {
  std::string_view path = std::string_view(target).substr(0, target.find('?'));
  std::string_view query = target.find('?') == std::string::npos
                               ? std::string_view()
                               : std::string_view(target).substr(target.find('?') + 1);
  switch (origin.kind) {
    case config::OriginKind::Echo: {
      Reply r = from_response(echo_response(method, path, query, headers, body), "Miss");
      r.from_origin = true;
      co_return r;
    }
    case config::OriginKind::Directory: {
      DirectoryResult d =
          serve_directory({origin.directory, origin.index_document}, method, path, headers);
      if (d.response.status == 301 && !query.empty())
        if (const std::string* loc = d.response.headers.find("location"))
          d.response.headers.set("Location", *loc + "?" + std::string(query));
      Reply r = from_response(std::move(d.response), "Miss");
      r.file_fd = d.file_fd;
      r.file_offset = d.offset;
      r.file_length = d.length;
      r.from_origin = true;
      co_return r;
    }
    case config::OriginKind::Http:
      break;
  }
  http::Request out;
  out.method = std::string(method);
  out.headers = headers;
  std::string wire;
  wire.reserve(512 + body.size());
  http::serialize_head(out, target, wire);
  // serialize_head wrote the final CRLF; insert framing before it.
  wire.resize(wire.size() - 2);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  wire += "\r\n";
  wire.append(body);

  OriginPool& pool = worker_.pool_for(origin);
  auto started = Clock::now();
  FetchResult f = co_await pool.fetch(wire, method, active_upstream_);
  if (f.error != FetchError::None) {
    if (f.error == FetchError::ViewerGone) {
      Reply r = local_reply(499, "", "Error");
      r.detailed_result_type = "ClientHungUpRequest";
      co_return r;
    }
    int status = status_for(f.error);
    Reply r = local_reply(status,
                          std::to_string(status) + " " + std::string(http::reason_phrase(status)) +
                              ": origin '" + origin.name + "' " + f.detail +
                              "\nrequest id: " + std::string(request_id_),
                          "Error");
    r.detailed_result_type = f.error == FetchError::DnsFailure        ? "OriginDnsError"
                             : f.error == FetchError::Refused         ? "OriginConnectError"
                             : f.error == FetchError::ConnectTimeout  ? "OriginConnectError"
                             : f.error == FetchError::InvalidResponse ? "OriginInvalidResponseError"
                             : f.error == FetchError::ReadTimeout     ? "OriginReadError"
                                                                      : "OriginError";
    co_return r;
  }
  worker_.metrics().record_origin(origin.name,
                                  std::chrono::duration<double>(Clock::now() - started).count());
  Reply r;
  r.response = std::move(f.head);
  r.upstream = std::move(f.conn);
  r.pool = &pool;
  r.from_origin = true;
  r.origin_start = started;
  r.result_type = "Miss";
  co_return r;
}

bool Pipeline::origin_response_function_now(Reply& r) {
  return response_function_now(functions::EventType::OriginResponse, r);
}

awaitable<void> Pipeline::origin_response_function(Reply& r) {
  return response_function(functions::EventType::OriginResponse, r);
}

awaitable<void> Pipeline::custom_error_response(Reply& r) {
  const config::CustomErrorResponse* ce = snap_.custom_error(r.response.status);
  if (!ce) co_return;
  int code = ce->response_code ? ce->response_code : r.response.status;
  if (ce->response_page_path.empty()) {
    r.response.status = code;
    co_return;
  }
  // The error page is fetched like any request for its path: through the behaviors.
  const config::Behavior& b =
      snap_.behaviors[match_behavior(snap_.behaviors, ce->response_page_path)];
  const config::Origin& origin = snap_.origins[b.origin_index];
  std::string target =
      origin_path(origin.path_prefix, rewrite_path(b.rewrite, ce->response_page_path));
  http::Headers headers;
  headers.add("Host", origin_authority(origin));
  add_custom_headers(origin, snap_.secrets, headers);
  Reply page = co_await origin_fetch(origin, target, headers, "GET", {});
  if (page.response.status != 200) co_return;  // keep the original error, as CloudFront does
  if (r.upstream) r.upstream->close();  // its body is not read: the connection cannot be reused
  auto result_type = r.result_type;
  r = std::move(page);
  r.response.status = code;
  r.result_type = result_type == "Miss" ? std::string_view("Error") : result_type;
  co_return;
}

void Pipeline::cache_store(Reply& r) {
  const auto& hook = worker_.hooks().cache;
  if (hook) hook->store(view(), r.response);
}

// Not for origin errors (>= 400), as Lambda@Edge does (aws-formats.md §1.4).
bool Pipeline::viewer_response_function_now(Reply& r) {
  if (r.from_origin && r.response.status >= 400) return true;
  return response_function_now(functions::EventType::ViewerResponse, r);
}

awaitable<void> Pipeline::viewer_response_function(Reply& r) {
  return response_function(functions::EventType::ViewerResponse, r);
}

void Pipeline::response_headers(Reply& r) {
  http::remove_hop_by_hop(r.response.headers);
  auto& h = r.response.headers;
  if (const std::string* v = h.find("via"))
    h.set("Via", *v + ", " + std::string(worker_.via()));
  else
    h.add("Via", worker_.via());
  h.set(kRequestIdHeader, request_id_);
  h.set("X-Cache", std::string(r.result_type) + " from edgeguard");
}

}  // namespace eg::proxy
