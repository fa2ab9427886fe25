#include "functions/compile.h"

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "functions/builtins/registry.h"
#include "functions/js_functions.h"

namespace eg::functions {

namespace {

constexpr std::string_view kFileOptions[] = {"runtime",   "handler", "timeout",
                                             "memory_mb", "workers", "max_queue",
                                             "watch",     "kvs",     "compute_budget_us"};

std::string list(std::span<const std::string_view> names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

bool read_int(const nlohmann::json& o, std::string_view key, int64_t lo, int64_t hi, int64_t& out,
              std::string& error) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi) {
    error = std::string(key) + ": expected a whole number from " + std::to_string(lo) + " to " +
            std::to_string(hi) + ", got " + it->dump();
    return false;
  }
  out = it->get<int64_t>();
  return true;
}

std::optional<std::string> read_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int64_t mtime_ns(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// Node pools outlive a config reload when nothing about them changed (same file, same
// modification time, same settings): the handlers stay warm, as Lambda instances do. A
// changed file gets a fresh pool; the old one ends with the last snapshot that uses it.
std::shared_ptr<NodePool> shared_pool(const NodeFunctionSpec& spec, const std::string& path,
                                      std::string& error) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<NodePool>> pools;
  const std::string key = path + '\n' + spec.handler + '\n' + std::to_string(spec.memory_mb) +
                          '\n' + std::to_string(spec.workers) + '\n' +
                          std::to_string(spec.max_queue) + '\n' + std::to_string(mtime_ns(path));
  std::lock_guard guard(mu);
  for (auto it = pools.begin(); it != pools.end();)
    it = it->second.expired() ? pools.erase(it) : std::next(it);
  if (auto alive = pools[key].lock()) return alive;
  std::shared_ptr<NodePool> pool = NodePool::create(spec, error);
  if (pool) pools[key] = pool;
  return pool;
}

std::shared_ptr<Function> compile_node(const Binding& b, const nlohmann::json& o,
                                       std::string& error) {
  const bool viewer = is_viewer_event(b.event);
  LambdaEdgeSettings s;
  s.display_name = b.display_name;
  s.event = b.event;
  s.include_body = b.include_body;
  // Lambda@Edge: 5 s and 128 MB for viewer events, 30 s and Lambda's memory for origin ones.
  int64_t timeout = viewer ? 5 : 30, memory = 128, workers = 2, queue = 64;
  if (!read_int(o, "timeout", 1, viewer ? 5 : 30, timeout, error) ||
      !read_int(o, "memory_mb", 128, viewer ? 128 : 10240, memory, error) ||
      !read_int(o, "workers", 1, 64, workers, error) ||
      !read_int(o, "max_queue", 0, 100000, queue, error))
    return nullptr;
  s.timeout = std::chrono::seconds(timeout);
  NodeFunctionSpec spec;
  spec.file = b.display_name;
  spec.base_dir = b.base_dir.string();
  if (auto it = o.find("handler"); it != o.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      error = "handler: expected the exported function's name, like handler";
      return nullptr;
    }
    spec.handler = *it;
  }
  spec.memory_mb = int(memory);
  spec.workers = int(workers);
  spec.max_queue = size_t(queue);
  std::shared_ptr<NodePool> pool = shared_pool(spec, b.name, error);
  if (!pool) return nullptr;
  if (auto it = o.find("watch"); it != o.end() && it->is_boolean() && it->get<bool>())
    pool->watch(true);
  return std::make_shared<LambdaEdgeFunction>(std::move(s), std::move(pool));
}

std::shared_ptr<Function> compile_cff(const Binding& b, Runtime runtime, std::string source,
                                      const nlohmann::json& o, std::string& error) {
  if (!is_viewer_event(b.event)) {
    error =
        std::string("CloudFront Functions run at viewer-request and viewer-response only, not ") +
        std::string(to_string(b.event)) + " (use a Node handler, runtime: nodejs)";
    return nullptr;
  }
  if (b.include_body) {
    error = "include_body: CloudFront Functions cannot read the request body";
    return nullptr;
  }
  CffOptions options;
  options.version =
      runtime == Runtime::CloudFrontJs1 ? CffRuntimeVersion::V1 : CffRuntimeVersion::V2;
  int64_t budget = 1000;
  if (!read_int(o, "compute_budget_us", 100, 1'000'000, budget, error)) return nullptr;
  options.compute_budget = std::chrono::microseconds(budget);
  if (auto it = o.find("kvs"); it != o.end()) {
    if (!it->is_string()) {
      error = "kvs: expected the path of a key value store file ({\"data\": [...]})";
      return nullptr;
    }
    std::filesystem::path p = it->get<std::string>();
    options.kvs_file = (p.is_absolute() ? p : b.base_dir / p).string();
  }
  std::shared_ptr<CffScript> script =
      CffScript::load(b.display_name, std::move(source), options, error);
  if (!script) return nullptr;
  CloudFrontFunctionSettings s;
  s.display_name = b.display_name;
  s.event = b.event;
  return std::make_shared<CloudFrontFunction>(std::move(s), std::move(script));
}

}  // namespace

std::optional<Runtime> parse_runtime(std::string_view s) {
  if (s == "nodejs" || s.starts_with("nodejs")) return Runtime::NodeJs;
  if (s == "cloudfront-js-1.0") return Runtime::CloudFrontJs1;
  if (s == "cloudfront-js-2.0") return Runtime::CloudFrontJs2;
  return std::nullopt;
}

Runtime infer_runtime(std::string_view source) {
  // Not require(): CloudFront Functions require('crypto') and 'querystring' too.
  for (std::string_view node_sign : {"exports.", "module.exports", "export "})
    if (source.find(node_sign) != std::string_view::npos) return Runtime::NodeJs;
  return Runtime::CloudFrontJs2;
}

std::shared_ptr<Function> compile_binding(const Binding& b, std::string& error) {
  if (b.builtin) return make_builtin(b.name, b.event, b.options, b.base_dir, error);
  for (const auto& [key, value] : b.options.items())
    if (std::find(std::begin(kFileOptions), std::end(kFileOptions), key) ==
        std::end(kFileOptions)) {
      error =
          "unknown option " + key + " for a function file (options: " + list(kFileOptions) + ")";
      return nullptr;
    }
  std::optional<std::string> source = read_file(b.name, error);
  if (!source) return nullptr;
  Runtime runtime = infer_runtime(*source);
  if (auto it = b.options.find("runtime"); it != b.options.end()) {
    std::optional<Runtime> r =
        it->is_string() ? parse_runtime(it->get<std::string>()) : std::nullopt;
    if (!r) {
      error = "runtime: expected nodejs, cloudfront-js-1.0 or cloudfront-js-2.0, got " + it->dump();
      return nullptr;
    }
    runtime = *r;
  }
  std::shared_ptr<Function> f = runtime == Runtime::NodeJs
                                    ? compile_node(b, b.options, error)
                                    : compile_cff(b, runtime, std::move(*source), b.options, error);
  if (!f && !error.starts_with(b.display_name)) error = b.display_name + ": " + error;
  return f;
}

}  // namespace eg::functions
