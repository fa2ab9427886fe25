// require('crypto'): createHash / createHmac with md5, sha1, sha256 (CloudFront's set). The JS
// side (prelude.cc) collects update() chunks; digest() lands here once, in OpenSSL.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "functions/cff/engine.h"

namespace eg::functions::cff {

namespace {

const EVP_MD* digest_by_name(std::string_view name) {
  if (name == "md5") return EVP_md5();
  if (name == "sha1") return EVP_sha1();
  if (name == "sha256") return EVP_sha256();
  return nullptr;
}

// A string chunk is UTF-8 (Node's default); a Buffer/Uint8Array chunk is its bytes.
bool chunk_bytes(JSContext* cx, JS::HandleValue v, std::string& out) {
  if (view_bytes(v, out)) return true;
  if (!v.isString()) {
    JS_ReportErrorASCII(cx, "data must be a string, Buffer or Uint8Array");
    return false;
  }
  JS::RootedString s(cx, v.toString());
  return to_utf8(cx, s, out);
}

// natives.digest(algorithm, key|null, [chunks], encoding) -> string, or Uint8Array for "".
bool native_digest(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::string algorithm, encoding, key, data, chunk;
  JS::RootedString s(cx);
  if (!args.get(0).isString() || !args.get(3).isString()) {
    JS_ReportErrorASCII(cx, "digest: bad arguments");
    return false;
  }
  s = args[0].toString();
  if (!to_utf8(cx, s, algorithm)) return false;
  s = args[3].toString();
  if (!to_utf8(cx, s, encoding)) return false;
  const EVP_MD* md = digest_by_name(algorithm);
  if (!md) {
    JS_ReportErrorUTF8(cx,
                       "Digest method not supported: %s (CloudFront Functions offer md5, "
                       "sha1 and sha256)",
                       algorithm.c_str());
    return false;
  }
  const bool hmac = !args.get(1).isNullOrUndefined();
  if (hmac && !chunk_bytes(cx, args[1], key)) return false;

  JS::RootedObject chunks(cx, args.get(2).isObject() ? &args[2].toObject() : nullptr);
  uint32_t count = 0;
  if (!chunks || !JS::GetArrayLength(cx, chunks, &count)) return false;
  JS::RootedValue item(cx);
  for (uint32_t i = 0; i < count; ++i) {
    if (!JS_GetElement(cx, chunks, i, &item) || !chunk_bytes(cx, item, chunk)) return false;
    data += chunk;
  }

  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  const bool done = hmac ? HMAC(md, key.data(), static_cast<int>(key.size()),
                                reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                                out, &out_len) != nullptr
                         : EVP_Digest(data.data(), data.size(), out, &out_len, md, nullptr) == 1;
  if (!done) {
    JS_ReportErrorASCII(cx, "digest failed (OpenSSL)");
    return false;
  }
  const std::string_view raw(reinterpret_cast<const char*>(out), out_len);
  JSString* text = nullptr;
  if (encoding.empty()) {
    JSObject* bytes = new_uint8_array(cx, raw);
    if (!bytes) return false;
    args.rval().setObject(*bytes);
    return true;
  }
  if (encoding == "hex") {
    std::string h = hex_encode(raw);
    text = JS_NewStringCopyN(cx, h.data(), h.size());
  } else if (encoding == "base64" || encoding == "base64url") {
    std::string b = base64_encode_with(raw, encoding == "base64url");
    text = JS_NewStringCopyN(cx, b.data(), b.size());
  } else if (encoding == "latin1" || encoding == "binary") {
    text = JS_NewStringCopyN(cx, raw.data(), raw.size());
  } else {
    JS_ReportErrorUTF8(cx, "Unknown digest encoding: %s (use hex, base64 or base64url)",
                       encoding.c_str());
    return false;
  }
  if (!text) return false;
  args.rval().setString(text);
  return true;
}

}  // namespace

void warm_digests() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  for (const EVP_MD* md : {EVP_md5(), EVP_sha1(), EVP_sha256()}) {
    EVP_Digest("", 0, out, &out_len, md, nullptr);
    HMAC(md, "k", 1, reinterpret_cast<const unsigned char*>(""), 0, out, &out_len);
  }
}

const JSFunctionSpec kCryptoNatives[] = {
    JS_FN("digest", native_digest, 4, 0),
    JS_FS_END,
};

}  // namespace eg::functions::cff
