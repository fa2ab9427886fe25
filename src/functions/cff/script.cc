// CffScript::load: the checks CloudFront makes when a function is published (size, syntax, a
// handler), the 2.0 import rewrite, and the KeyValueStore file.
#include <atomic>
#include <regex>

#include "functions/cff/cff.h"
#include "functions/cff/engine.h"
#include "functions/cff/kvs.h"

namespace eg::functions {

namespace {

std::atomic<uint64_t> g_next_script_id{1};

// `import cf from 'cloudfront';` and friends become `const cf = require('cloudfront');` on the
// same line, so line numbers in errors stay the user's. CloudFront's functions are scripts with
// a global `handler`, not modules: this is the one module form its documentation uses.
std::string rewrite_imports(const std::string& source) {
  static const std::regex kImport(
      R"(^(\s*)import\s+(?:\*\s+as\s+)?([A-Za-z_$][\w$]*|\{[^}]*\})\s+from\s+(['"])([^'"]+)\3\s*;?)");
  static const std::regex kAs(R"(\s+as\s+)");
  std::string out;
  out.reserve(source.size() + 64);
  size_t start = 0;
  while (start <= source.size()) {
    size_t end = source.find('\n', start);
    if (end == std::string::npos) end = source.size();
    std::string line = source.substr(start, end - start);
    std::smatch m;
    if (std::regex_search(line, m, kImport)) {
      std::string binding = m[2].str();
      if (binding.front() == '{') binding = std::regex_replace(binding, kAs, ": ");
      line =
          m[1].str() + "const " + binding + " = require('" + m[4].str() + "');" + m.suffix().str();
    }
    out += line;
    if (end == source.size()) break;
    out += '\n';
    start = end + 1;
  }
  return out;
}

}  // namespace

namespace cff {

std::string find_v1_declarations(ThreadRuntime& rt, const std::string& name,
                                 const std::string& source) {
  // Reflect.parse gives SpiderMonkey's own AST: no guessing about strings, comments, regular
  // expressions or template literals. Columns in its locations count from 0.
  static constexpr char kFinder[] = R"JS((function (source) {
  let found = null;
  const walk = (node) => {
    if (found || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (node.type === 'VariableDeclaration' && (node.kind === 'const' || node.kind === 'let')) {
      found = [node.kind, node.loc.start.line, node.loc.start.column + 1];
      return;
    }
    for (const key of Object.keys(node)) if (key !== 'loc') walk(node[key]);
  };
  walk(Reflect.parse(source, {loc: true}));
  return found ? found.join(' ') : '';
}))JS";
  JSContext* cx = rt.cx();
  JS::RootedObject global(cx, rt.tools_global());
  if (!global) {
    JS_ClearPendingException(cx);
    return "";
  }
  JSAutoRealm ar(cx, global);
  JS::CompileOptions options(cx);
  options.setFileAndLine("<cloudfront-js-1.0 check>", 1);
  JS::SourceText<mozilla::Utf8Unit> text;
  JS::RootedValue finder(cx), found(cx);
  JS::RootedString source_string(cx, new_string_utf8(cx, source));
  if (!source_string ||
      !text.init(cx, kFinder, sizeof kFinder - 1, JS::SourceOwnership::Borrowed) ||
      !JS::Evaluate(cx, options, text, &finder)) {
    JS_ClearPendingException(cx);
    return "";
  }
  JS::RootedValue arg(cx, JS::StringValue(source_string));
  if (!JS::Call(cx, JS::UndefinedHandleValue, finder, JS::HandleValueArray(arg), &found) ||
      !found.isString()) {
    JS_ClearPendingException(cx);  // a syntax error: the compiler reports it with its position
    return "";
  }
  JS::RootedString found_string(cx, found.toString());
  std::string kind_line_col;
  if (!to_utf8(cx, found_string, kind_line_col) || kind_line_col.empty()) return "";
  const size_t a = kind_line_col.find(' '), b = kind_line_col.rfind(' ');
  const std::string kind = kind_line_col.substr(0, a);
  return name + ":" + kind_line_col.substr(a + 1, b - a - 1) + ":" + kind_line_col.substr(b + 1) +
         ": SyntaxError: " + kind + " is not supported by cloudfront-js-1.0 (use var, or the " +
         "cloudfront-js-2.0 runtime)";
}

}  // namespace cff

std::optional<CffRuntimeVersion> parse_cff_runtime(std::string_view s) {
  if (s == "cloudfront-js-1.0") return CffRuntimeVersion::V1;
  if (s == "cloudfront-js-2.0") return CffRuntimeVersion::V2;
  return std::nullopt;
}

std::string_view to_string(CffRuntimeVersion v) {
  return v == CffRuntimeVersion::V1 ? "cloudfront-js-1.0" : "cloudfront-js-2.0";
}

CffScript::~CffScript() = default;

std::shared_ptr<CffScript> CffScript::load(std::string name, std::string source, CffOptions options,
                                           std::string& error) {
  if (source.size() > options.max_code_bytes) {
    error = name + ": " + std::to_string(source.size()) +
            " bytes of code; CloudFront Functions allow at most " +
            std::to_string(options.max_code_bytes) + " bytes";
    return nullptr;
  }
  std::shared_ptr<const CffKvs> kvs;
  if (!options.kvs_file.empty()) {
    if (options.version == CffRuntimeVersion::V1) {
      error = name + ": a key value store needs cloudfront-js-2.0";
      return nullptr;
    }
    kvs = CffKvs::load(options.kvs_file, error);
    if (!kvs) return nullptr;
  }
  std::shared_ptr<CffScript> script(new CffScript());
  script->name_ = std::move(name);
  script->source_ =
      options.version == CffRuntimeVersion::V2 ? rewrite_imports(source) : std::move(source);
  script->options_ = std::move(options);
  script->kvs_ = std::move(kvs);
  script->id_ = g_next_script_id.fetch_add(1);

  // Compile and run the top level here, on the loading thread: its errors refuse the config.
  // The instance stays for this thread's calls; worker threads make their own on first use.
  cff::ThreadRuntime* rt = cff::ThreadRuntime::get(error);
  if (!rt) return nullptr;
  if (script->options_.version == CffRuntimeVersion::V1) {
    error = cff::find_v1_declarations(*rt, script->name_, script->source_);
    if (!error.empty()) return nullptr;
  }
  if (!rt->instance(*script, error)) return nullptr;
  return script;
}

}  // namespace eg::functions
