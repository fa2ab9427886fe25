// Requests, responses and contexts for the event model tests, built from real bytes.
#pragma once
#include <gtest/gtest.h>

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "functions/function.h"

namespace eg::functions::testing {

using Json = nlohmann::ordered_json;

inline http::Request make_request(std::string method, std::string target,
                                  std::initializer_list<std::pair<const char*, const char*>> h,
                                  std::string body = "") {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) {
    r.query = r.target.substr(q + 1);
    r.has_query = true;
  }
  for (auto& [n, v] : h) r.headers.add(n, v);
  r.body = std::move(body);
  return r;
}

inline http::Response make_response(int status,
                                    std::initializer_list<std::pair<const char*, const char*>> h,
                                    std::string body = "") {
  http::Response r;
  r.status = status;
  for (auto& [n, v] : h) r.headers.add(n, v);
  r.body = std::move(body);
  return r;
}

inline Context make_context(EventType e, const OriginInfo* origin = nullptr) {
  Context c;
  c.event = e;
  c.request_id = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==";
  c.distribution_id = "EDFDVBD6EXAMPLE";
  c.distribution_domain = "d111111abcdef8.cloudfront.net";
  c.client_ip = "203.0.113.178";
  c.origin = origin;
  return c;
}

inline Json parse(const std::string& s) {
  Json j = Json::parse(s, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << s;
  return j;
}

// Every header line as "Name: value", in order: what goes on the wire.
inline std::vector<std::string> lines(const http::Headers& h) {
  std::vector<std::string> out;
  for (const auto& x : h) out.push_back(x.name + ": " + x.value);
  return out;
}

inline bool same_request(const http::Request& a, const http::Request& b) {
  return a.method == b.method && a.target == b.target && a.path == b.path && a.query == b.query &&
         a.body == b.body && lines(a.headers) == lines(b.headers);
}

// The failure message names the function, the event and the field.
#define EXPECT_FAILURE_NAMES(failure, event_name, ...)                                       \
  do {                                                                                       \
    ASSERT_TRUE((failure).has_value());                                                      \
    EXPECT_EQ((failure)->status, 502);                                                       \
    EXPECT_NE((failure)->message.find(event_name), std::string::npos) << (failure)->message; \
    EXPECT_NE((failure)->message.find("fns/f.js"), std::string::npos) << (failure)->message; \
    for (std::string_view part : std::initializer_list<std::string_view>{__VA_ARGS__})       \
      EXPECT_NE((failure)->message.find(part), std::string::npos)                            \
          << "missing '" << part << "' in: " << (failure)->message;                          \
  } while (0)

}  // namespace eg::functions::testing
