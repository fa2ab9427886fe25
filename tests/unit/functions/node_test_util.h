// Shared by the Node runtime tests: a temp folder of handler fixtures, a pool created on one
// io_context, and a way to run an invocation to its end on that loop.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "functions/node/node_pool.h"

namespace eg::functions::node_test {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

inline constexpr const char* kEvent =
    R"({"Records":[{"cf":{"config":{"distributionDomainName":"d1.cloudfront.net","distributionId":"E1","eventType":"viewer-request","requestId":"req-1"},"request":{"clientIp":"203.0.113.9","headers":{"host":[{"key":"Host","value":"example.com"}]},"method":"GET","querystring":"","uri":"/index.html"}}}]})";

// Runs `a` on `io` until it completes (the pool's processes keep the loop busy, so run() would
// not return on its own).
template <class T>
T run_on(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
  std::optional<T> result;
  io.restart();
  boost::asio::co_spawn(io, std::move(a), [&](std::exception_ptr, T v) { result = std::move(v); });
  while (!result) io.run_one();
  return std::move(*result);
}

class NodeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("eg-node-test-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    pool_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }

  NodeFunctionSpec spec(const std::string& file) {
    NodeFunctionSpec s;
    s.file = file;
    s.base_dir = dir_.string();
    s.memory_mb = 64;
    s.init_timeout = 5000ms;
    return s;
  }

  // Creates the pool (the test fails with create()'s message when it cannot).
  NodePool& make(NodeFunctionSpec s) {
    std::string error;
    pool_ = NodePool::create(std::move(s), error);
    EXPECT_TRUE(pool_) << error;
    if (!pool_) throw std::runtime_error(error);
    return *pool_;
  }
  NodePool& make(const std::string& file) { return make(spec(file)); }

  std::string create_error(NodeFunctionSpec s) {
    std::string error;
    auto p = NodePool::create(std::move(s), error);
    EXPECT_FALSE(p);
    return error;
  }

  NodeOutcome invoke(std::string event = kEvent, std::string id = "req-1",
                     std::chrono::milliseconds timeout = 3000ms) {
    return run_on(io_, pool_->invoke(std::move(event), id, timeout));
  }

  fs::path dir_;
  boost::asio::io_context io_{1};  // declared before the pool: it outlives it
  std::unique_ptr<NodePool> pool_;
};

}  // namespace eg::functions::node_test
