#include "functions/compile.h"

#include "functions/builtins/registry.h"

namespace eg::functions {

std::optional<Runtime> parse_runtime(std::string_view s) {
  if (s == "nodejs" || s.starts_with("nodejs")) return Runtime::NodeJs;
  if (s == "cloudfront-js-1.0") return Runtime::CloudFrontJs1;
  if (s == "cloudfront-js-2.0") return Runtime::CloudFrontJs2;
  return std::nullopt;
}

Runtime infer_runtime(std::string_view source) {
  for (std::string_view node_sign : {"exports.handler", "module.exports", "export ", "require("})
    if (source.find(node_sign) != std::string_view::npos) return Runtime::NodeJs;
  return Runtime::CloudFrontJs2;
}

std::shared_ptr<Function> compile_binding(const Binding& b, std::string& error) {
  if (b.builtin) return make_builtin(b.name, b.event, b.options, b.base_dir, error);
  error = "the JavaScript runtimes are not wired yet";
  return nullptr;
}

}  // namespace eg::functions
