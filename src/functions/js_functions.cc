#include "functions/js_functions.h"

#include "functions/cff_record.h"

namespace eg::functions {

namespace {

std::string prefix(EventType e, std::string_view kind, std::string_view name) {
  return std::string(to_string(e)) + " " + std::string(kind) + " " + std::string(name);
}

void append_logs(std::vector<std::string>& to, std::vector<std::string>&& from) {
  if (to.empty()) {
    to = std::move(from);
    return;
  }
  for (auto& l : from) to.push_back(std::move(l));
}

}  // namespace

LambdaEdgeFunction::LambdaEdgeFunction(LambdaEdgeSettings s, std::shared_ptr<NodePool> pool)
    : settings_(std::move(s)), pool_(std::move(pool)) {}

std::optional<Failure> LambdaEdgeFunction::failure_of(const NodeOutcome& o) const {
  if (o.ok()) return std::nullopt;
  // The pool's messages start with "function <file> ...".
  return Failure{o.status(), std::string(to_string(settings_.event)) + " " + o.message};
}

boost::asio::awaitable<RequestResult> LambdaEdgeFunction::on_request(const Context& c,
                                                                     http::Request& req) {
  NodeOutcome o = co_await pool_->invoke(
      build_lambda_event(settings_.limits, c, req, nullptr, settings_.include_body), c.request_id,
      settings_.timeout);
  if (auto f = failure_of(o)) {
    RequestResult r;
    r.failure = std::move(f);
    r.logs = std::move(o.logs);
    co_return r;
  }
  LambdaCall call{c.event, settings_.display_name, settings_.include_body, c.origin};
  RequestResult r = apply_lambda_request_result(settings_.limits, call, o.result_json, req);
  std::vector<std::string> logs = std::move(o.logs);
  append_logs(logs, std::move(r.logs));
  r.logs = std::move(logs);
  co_return r;
}

boost::asio::awaitable<ResponseResult> LambdaEdgeFunction::on_response(const Context& c,
                                                                       const http::Request& req,
                                                                       http::Response& resp) {
  NodeOutcome o = co_await pool_->invoke(build_lambda_event(settings_.limits, c, req, &resp, false),
                                         c.request_id, settings_.timeout);
  if (auto f = failure_of(o)) {
    ResponseResult r;
    r.failure = std::move(f);
    r.logs = std::move(o.logs);
    co_return r;
  }
  LambdaCall call{c.event, settings_.display_name, false, c.origin};
  ResponseResult r = apply_lambda_response_result(settings_.limits, call, o.result_json, req, resp);
  std::vector<std::string> logs = std::move(o.logs);
  append_logs(logs, std::move(r.logs));
  r.logs = std::move(logs);
  co_return r;
}

CloudFrontFunction::CloudFrontFunction(CloudFrontFunctionSettings s,
                                       std::shared_ptr<CffScript> script)
    : settings_(std::move(s)), script_(std::move(script)) {}

std::optional<Failure> CloudFrontFunction::failure_of(const CffOutcome& o) const {
  if (o.ok) return std::nullopt;
  int status = 500;
  switch (o.failure) {
    case CffFailure::ComputeExceeded:
    case CffFailure::MemoryExceeded:
    case CffFailure::Internal:
      status = 503;
      break;
    case CffFailure::InvalidResult:
      status = 502;
      break;
    default:
      break;
  }
  // The engine's errors start with the file name ("fns/a.js:4:9: TypeError: ...").
  std::string message = std::string(to_string(settings_.event)) + " CloudFront Function ";
  if (!o.error.starts_with(settings_.display_name)) message += settings_.display_name + ": ";
  return Failure{status, message + o.error};
}

RequestResult CloudFrontFunction::on_request_now(const Context& c, http::Request& req) {
  // The request record (cff_record.h) is reused by the thread's calls: no allocation.
  thread_local CffRequestRecord record;
  const bool by_record = build_cff_request_record(c, req, record);
  CffOutcome o = by_record ? run_cff_request_record(*script_, record.parts())
                           : run_cff(*script_, build_cff_event(c, req, nullptr));
  RequestResult r;
  const CffCall call{c.event, settings_.display_name};
  if (auto f = failure_of(o)) {
    r.failure = std::move(f);
  } else {
    if (!o.result_record.empty())
      r = apply_cff_request_record(settings_.limits, call, record, o.result_record, req);
    else if (!o.request_unchanged)
      r = apply_cff_request_result(settings_.limits, call, o.result_json, req);
    if (!r.failure && !r.answer && o.origin) {
      std::string error;
      r.origin = origin_of(*o.origin, c.origin, error);
      if (!r.origin)
        r.failure =
            Failure{502, prefix(settings_.event, "CloudFront Function", settings_.display_name) +
                             ": " + error};
    }
  }
  append_logs(r.logs, std::move(o.logs));
  return r;
}

ResponseResult CloudFrontFunction::on_response_now(const Context& c, const http::Request& req,
                                                   http::Response& resp) {
  CffOutcome o = run_cff(*script_, build_cff_event(c, req, &resp));
  ResponseResult r;
  if (auto f = failure_of(o))
    r.failure = std::move(f);
  else
    r = apply_cff_response_result(settings_.limits, CffCall{c.event, settings_.display_name},
                                  o.result_json, req, resp);
  append_logs(r.logs, std::move(o.logs));
  return r;
}

std::optional<OriginInfo> origin_of(const OriginChange& change, const OriginInfo* current,
                                    std::string& error) {
  OriginInfo info = current ? *current : OriginInfo{};
  switch (change.kind) {
    case OriginChange::Kind::SelectById:
      info = OriginInfo{};
      info.config_origin = change.origin_id;
      return info;
    case OriginChange::Kind::CreateGroup:
      error =
          "cf.createRequestOriginGroup() is not supported: origin groups (failover) are "
          "configured in edgeguard's origins";
      return std::nullopt;
    case OriginChange::Kind::Update:
      break;
  }
  auto p = nlohmann::json::parse(change.params_json, nullptr, false);
  if (p.is_discarded() || !p.is_object()) {
    error = "cf.updateRequestOrigin() needs an object";
    return std::nullopt;
  }
  if (auto it = p.find("domainName"); it != p.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      error = "cf.updateRequestOrigin(): domainName must be a non-empty string";
      return std::nullopt;
    }
    info.domain_name = *it;
    info.kind = OriginInfo::Kind::Custom;
    info.config_origin.clear();
  }
  if (auto it = p.find("originPath"); it != p.end() && it->is_string()) info.path = *it;
  if (auto it = p.find("customOriginConfig"); it != p.end() && it->is_object()) {
    if (auto port = it->find("port"); port != it->end() && port->is_number_integer()) {
      int v = *port;
      if (v != 80 && v != 443 && (v < 1024 || v > 65535)) {
        error =
            "cf.updateRequestOrigin(): customOriginConfig.port must be 80, 443 or "
            "1024-65535, got " +
            std::to_string(v);
        return std::nullopt;
      }
      info.port = uint16_t(v);
    }
    if (auto proto = it->find("protocol"); proto != it->end() && proto->is_string()) {
      std::string v = *proto;
      if (v != "http" && v != "https") {
        error = "cf.updateRequestOrigin(): customOriginConfig.protocol must be http or https";
        return std::nullopt;
      }
      info.protocol = v;
    }
  }
  if (auto it = p.find("timeouts"); it != p.end() && it->is_object()) {
    if (auto rt = it->find("readTimeout"); rt != it->end() && rt->is_number_integer())
      info.read_timeout_s = int(*rt);
  }
  if (auto it = p.find("customHeaders"); it != p.end() && it->is_object()) {
    for (auto& [k, v] : it->items())
      if (v.is_string()) info.custom_headers.push_back({k, v.get<std::string>()});
  }
  if (info.domain_name.empty() && info.config_origin.empty()) {
    error =
        "cf.updateRequestOrigin(): domainName is required when the behavior's origin is "
        "not a custom origin";
    return std::nullopt;
  }
  return info;
}

}  // namespace eg::functions
