// The natives behind console, cf.kvs() and the origin helpers, and the eval/Function refusal:
// each reads or records the state of the call running on this thread (CallState).
#include "functions/cff/engine.h"
#include "functions/cff/kvs.h"

namespace eg::functions::cff {

namespace {

// CloudFront truncates a function's log output at 10 KB per invocation.
constexpr size_t kMaxLogBytes = 10 * 1024;

CallState* running_call(JSContext* cx) {
  ThreadRuntime* rt = ThreadRuntime::current();
  return rt ? rt->call() : nullptr;
}

bool json_stringify_chunk(const char16_t* buf, uint32_t len, void* data) {
  append_utf16_as_utf8(buf, len, *static_cast<std::string*>(data));
  return true;
}

// One console argument as text: strings as they are, objects as JSON (what CloudFront's log
// shows for an object), the rest through String().
bool log_text(JSContext* cx, JS::HandleValue v, std::string& out) {
  if (v.isObject() && !JS::IsCallable(&v.toObject())) {
    JS::RootedValue copy(cx, v);
    std::string json;
    if (JS_Stringify(cx, &copy, nullptr, JS::NullHandleValue, json_stringify_chunk, &json) &&
        !json.empty()) {
      out += json;
      return true;
    }
    JS_ClearPendingException(cx);  // a cycle, a throwing toJSON: fall back to String()
  }
  JS::RootedString s(cx, JS::ToString(cx, v));
  if (!s) return false;
  std::string text;
  if (!to_utf8(cx, s, text)) return false;
  out += text;
  return true;
}

bool native_log(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  args.rval().setUndefined();
  CallState* call = running_call(cx);
  if (!call || call->logs_truncated) return true;
  std::string line;
  for (unsigned i = 0; i < args.length(); ++i) {
    if (i) line += ' ';
    if (!log_text(cx, args[i], line)) return false;
  }
  if (call->log_bytes + line.size() > kMaxLogBytes) {
    line.resize(kMaxLogBytes - call->log_bytes);
    line += " ... (log output truncated at 10 KB)";
    call->logs_truncated = true;
  }
  call->log_bytes += line.size();
  call->logs.push_back(std::move(line));
  return true;
}

const JSErrorFormatString kRefusedFormat = {"CFF_REFUSED", "CloudFront Functions do not allow {0}",
                                            1, JSEXN_EVALERR};
const JSErrorFormatString* refused_format(void*, const unsigned) { return &kRefusedFormat; }

bool native_refuse_eval(JSContext* cx, unsigned, JS::Value*) {
  JS_ReportErrorNumberASCII(cx, refused_format, nullptr, 0, "eval");
  return false;
}

bool native_refuse_function(JSContext* cx, unsigned, JS::Value*) {
  JS_ReportErrorNumberASCII(cx, refused_format, nullptr, 0, "eval (new Function)");
  return false;
}

const CffKvs* call_kvs(JSContext* cx) {
  CallState* call = running_call(cx);
  const CffKvs* kvs = call && call->script ? call->script->kvs() : nullptr;
  if (!kvs)
    JS_ReportErrorASCII(cx, "no key value store is associated with this function (kvs_file)");
  return kvs;
}

// natives.kvsGet(key) -> string | undefined
bool native_kvs_get(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  const CffKvs* kvs = call_kvs(cx);
  if (!kvs) return false;
  JS::RootedString key_string(cx, JS::ToString(cx, args.get(0)));
  std::string key;
  if (!key_string || !to_utf8(cx, key_string, key)) return false;
  const std::string* value = kvs->get(key);
  if (!value) {
    args.rval().setUndefined();
    return true;
  }
  JSString* s = new_string_utf8(cx, *value);
  if (!s) return false;
  args.rval().setString(s);
  return true;
}

// natives.kvsMeta() -> JSON text of the store's metadata
bool native_kvs_meta(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  const CffKvs* kvs = call_kvs(cx);
  if (!kvs) return false;
  JSString* s = new_string_utf8(cx, kvs->meta_json());
  if (!s) return false;
  args.rval().setString(s);
  return true;
}

// natives.setOrigin(kind, text): kind "update" | "select" | "group"; text the JSON parameters
// (update, group) or the origin id (select). The last call of a run wins, as in CloudFront.
bool native_set_origin(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  args.rval().setUndefined();
  std::string kind, text;
  JS::RootedString s(cx, JS::ToString(cx, args.get(0)));
  if (!s || !to_utf8(cx, s, kind)) return false;
  s = JS::ToString(cx, args.get(1));
  if (!s || !to_utf8(cx, s, text)) return false;
  CallState* call = running_call(cx);
  if (!call) return true;
  OriginChange change;
  if (kind == "select") {
    change.kind = OriginChange::Kind::SelectById;
    change.origin_id = std::move(text);
  } else {
    change.kind = kind == "group" ? OriginChange::Kind::CreateGroup : OriginChange::Kind::Update;
    change.params_json = std::move(text);
  }
  call->origin = std::move(change);
  return true;
}

}  // namespace

const JSFunctionSpec kCloudfrontNatives[] = {
    JS_FN("log", native_log, 0, 0),
    // Named as what they replace: user code may look at .name.
    JS_FN("eval", native_refuse_eval, 1, 0),
    JS_FN("Function", native_refuse_function, 1, JSFUN_CONSTRUCTOR),
    JS_FN("kvsGet", native_kvs_get, 1, 0),
    JS_FN("kvsMeta", native_kvs_meta, 0, 0),
    JS_FN("setOrigin", native_set_origin, 2, 0),
    JS_FS_END,
};

}  // namespace eg::functions::cff
