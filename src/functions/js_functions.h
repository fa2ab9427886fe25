// The two JavaScript kinds of Function: a Lambda@Edge handler run by a Node worker pool, and a
// CloudFront Function run in process. Each builds the event, runs the handler, and validates
// and applies its result with the event model (lambda_event.h, cff_event.h).
#pragma once
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "functions/cff/cff.h"
#include "functions/cff_event.h"
#include "functions/function.h"
#include "functions/lambda_event.h"
#include "functions/node/node_pool.h"

namespace eg::functions {

struct LambdaEdgeSettings {
  std::string display_name;  // as in the config: "fns/auth.js"
  EventType event = EventType::ViewerRequest;
  bool include_body = false;
  std::chrono::milliseconds timeout{5000};
  LambdaLimits limits;
};

class LambdaEdgeFunction final : public Function {
 public:
  LambdaEdgeFunction(LambdaEdgeSettings s, std::shared_ptr<NodePool> pool);
  std::string_view name() const override { return settings_.display_name; }
  std::string_view runtime() const override { return "nodejs"; }
  bool asynchronous() const override { return true; }
  boost::asio::awaitable<RequestResult> on_request(const Context& c, http::Request& req) override;
  boost::asio::awaitable<ResponseResult> on_response(const Context& c, const http::Request& req,
                                                     http::Response& resp) override;
  NodePool& pool() { return *pool_; }

 private:
  std::optional<Failure> failure_of(const NodeOutcome& o) const;
  LambdaEdgeSettings settings_;
  std::shared_ptr<NodePool> pool_;
};

struct CloudFrontFunctionSettings {
  std::string display_name;
  EventType event = EventType::ViewerRequest;
  CffLimits limits;
};

class CloudFrontFunction final : public Function {
 public:
  CloudFrontFunction(CloudFrontFunctionSettings s, std::shared_ptr<CffScript> script);
  std::string_view name() const override { return settings_.display_name; }
  std::string_view runtime() const override { return "cloudfront-js"; }
  RequestResult on_request_now(const Context& c, http::Request& req) override;
  ResponseResult on_response_now(const Context& c, const http::Request& req,
                                 http::Response& resp) override;

 private:
  std::optional<Failure> failure_of(const CffOutcome& o) const;
  CloudFrontFunctionSettings settings_;
  std::shared_ptr<CffScript> script_;
};

// What a CloudFront Functions 2.0 origin helper asked for, as the origin the gateway uses, or
// nullopt and `error`.
std::optional<OriginInfo> origin_of(const OriginChange& change, const OriginInfo* current,
                                    std::string& error);

}  // namespace eg::functions
