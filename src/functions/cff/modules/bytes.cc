// Bytes and strings: the encodings Buffer, crypto digests and the 1.0 String byte methods share
// (utf8, hex, base64, base64url, latin1/binary, ascii), decoded leniently the way Node does.
#include <array>
#include <cstring>

#include "functions/cff/engine.h"

namespace eg::functions::cff {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

enum class Encoding { Utf8, Utf8Strict, Hex, Base64, Base64Url, Latin1, Ascii, Unknown };

Encoding parse_encoding(std::string_view e) {
  if (e.empty() || e == "utf8" || e == "utf-8") return Encoding::Utf8;
  if (e == "utf8strict") return Encoding::Utf8Strict;  // internal: String.prototype.fromUTF8
  if (e == "hex") return Encoding::Hex;
  if (e == "base64") return Encoding::Base64;
  if (e == "base64url") return Encoding::Base64Url;
  if (e == "latin1" || e == "binary") return Encoding::Latin1;
  if (e == "ascii") return Encoding::Ascii;
  return Encoding::Unknown;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Node: pairs of hex digits up to the first pair that is not one.
std::string hex_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
    if (hi < 0 || lo < 0) break;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

// Node accepts both alphabets, with or without padding, and skips anything else.
std::string base64_decode_lenient(std::string_view s) {
  std::array<int8_t, 256> value;
  value.fill(-1);
  for (int i = 0; i < 64; ++i) {
    value[static_cast<uint8_t>(kBase64[i])] = static_cast<int8_t>(i);
    value[static_cast<uint8_t>(kBase64Url[i])] = static_cast<int8_t>(i);
  }
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    int v = value[static_cast<uint8_t>(c)];
    if (v < 0) continue;
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xff));
    }
  }
  return out;
}

}  // namespace

std::string hex_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 15]);
  }
  return out;
}

std::string base64_encode_with(std::string_view bytes, bool url) {
  const char* alphabet = url ? kBase64Url : kBase64;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8 |
                 static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(alphabet[n >> 18 & 63]);
    out.push_back(alphabet[n >> 12 & 63]);
    out.push_back(alphabet[n >> 6 & 63]);
    out.push_back(alphabet[n & 63]);
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(alphabet[n >> 18 & 63]);
    out.push_back(alphabet[n >> 12 & 63]);
    if (i + 1 < bytes.size()) out.push_back(alphabet[n >> 6 & 63]);
    if (!url) out.append(i + 1 < bytes.size() ? "=" : "==");  // base64url: no padding (Node)
  }
  return out;
}

void append_utf16_as_utf8(const char16_t* s, size_t n, std::string& out) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t c = s[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      ++i;
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      c = 0xFFFD;  // a lone surrogate, as Node's utf8 encoder
    }
    if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | c >> 6));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | c >> 12));
      out.push_back(static_cast<char>(0x80 | (c >> 6 & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | c >> 18));
      out.push_back(static_cast<char>(0x80 | (c >> 12 & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c >> 6 & 0x3F)));
    }
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// UTF-8 to UTF-16; each invalid sequence becomes U+FFFD (lenient) or fails (strict).
bool utf8_to_utf16(std::string_view in, std::u16string& out, bool strict) {
  out.clear();
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const uint8_t b = static_cast<uint8_t>(in[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    int len = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
    if (b > 0xF4) len = 0;
    uint32_t c = len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    int got = 1;
    for (; len && got < len && i + got < in.size(); ++got) {
      const uint8_t t = static_cast<uint8_t>(in[i + got]);
      if ((t & 0xC0) != 0x80) break;
      c = c << 6 | (t & 0x3F);
    }
    const bool valid = len && got == len &&
                       !(len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) &&
                       !(len == 4 && (c < 0x10000 || c > 0x10FFFF));
    if (!valid) {
      if (strict) return false;
      out.push_back(0xFFFD);
      i += got;
      continue;
    }
    if (c >= 0x10000) {
      out.push_back(static_cast<char16_t>(0xD800 + ((c - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((c - 0x10000) & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(c));
    }
    i += len;
  }
  return true;
}

JSString* new_string_utf8(JSContext* cx, std::string_view utf8) {
  bool ascii = true;
  for (char c : utf8) ascii &= static_cast<uint8_t>(c) < 0x80;
  if (ascii) return JS_NewStringCopyN(cx, utf8.data(), utf8.size());
  std::u16string wide;
  utf8_to_utf16(utf8, wide, false);
  return JS_NewUCStringCopyN(cx, wide.data(), wide.size());
}

bool to_utf8(JSContext* cx, JS::HandleString s, std::string& out) {
  const size_t length = JS_GetStringLength(s);
  out.resize(length * 3);
  auto done =
      JS_EncodeStringToUTF8BufferPartial(cx, s, mozilla::Span<char>(out.data(), out.size()));
  if (!done) {
    JS_ReportOutOfMemory(cx);
    return false;
  }
  out.resize(mozilla::Get<1>(*done));
  return true;
}

// The string's UTF-16 code units, each cut to its low byte (Node's latin1/binary/ascii).
bool to_latin1(JSContext* cx, JS::HandleString s, std::string& out) {
  const size_t length = JS_GetStringLength(s);
  std::u16string wide(length, u'\0');
  if (!JS_CopyStringChars(cx, mozilla::Range<char16_t>(wide.data(), length), s)) return false;
  out.resize(length);
  for (size_t i = 0; i < length; ++i) out[i] = static_cast<char>(wide[i] & 0xFF);
  return true;
}

bool view_bytes(JS::HandleValue v, std::string& out) {
  if (!v.isObject() || !JS_IsArrayBufferViewObject(&v.toObject())) return false;
  size_t length = 0;
  bool shared = false;
  uint8_t* data = nullptr;
  js::GetArrayBufferViewLengthAndData(&v.toObject(), &length, &shared, &data);
  out.assign(reinterpret_cast<const char*>(data), length);
  return true;
}

JSObject* new_uint8_array(JSContext* cx, std::string_view bytes) {
  JS::RootedObject array(cx, JS_NewUint8Array(cx, bytes.size()));
  if (!array) return nullptr;
  size_t length = 0;
  bool shared = false;
  uint8_t* data = nullptr;
  js::GetArrayBufferViewLengthAndData(array, &length, &shared, &data);
  if (length) std::memcpy(data, bytes.data(), length);
  return array;
}

namespace {

bool encoding_arg(JSContext* cx, const JS::CallArgs& args, unsigned i, Encoding& e) {
  std::string name;
  if (args.get(i).isString()) {
    JS::RootedString s(cx, args[i].toString());
    if (!to_utf8(cx, s, name)) return false;
  }
  e = parse_encoding(name);
  if (e == Encoding::Unknown) {
    JS_ReportErrorUTF8(cx, "Unknown encoding: %s", name.c_str());
    return false;
  }
  return true;
}

// natives.encode(string, encoding) -> Uint8Array
bool native_encode(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JS::RootedString s(cx, JS::ToString(cx, args.get(0)));
  Encoding e;
  if (!s || !encoding_arg(cx, args, 1, e)) return false;
  std::string text, bytes;
  switch (e) {
    case Encoding::Latin1:
    case Encoding::Ascii:
      if (!to_latin1(cx, s, bytes)) return false;
      break;
    default:
      if (!to_utf8(cx, s, text)) return false;
      bytes = e == Encoding::Hex                                  ? hex_decode(text)
              : e == Encoding::Base64 || e == Encoding::Base64Url ? base64_decode_lenient(text)
                                                                  : std::move(text);
  }
  JSObject* array = new_uint8_array(cx, bytes);
  if (!array) return false;
  args.rval().setObject(*array);
  return true;
}

// natives.decode(view, encoding) -> string (utf8strict: null when not valid UTF-8)
bool native_decode(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::string bytes;
  if (!view_bytes(args.get(0), bytes)) {
    JS_ReportErrorASCII(cx, "expected a Buffer or Uint8Array");
    return false;
  }
  Encoding e;
  if (!encoding_arg(cx, args, 1, e)) return false;
  JSString* s = nullptr;
  switch (e) {
    case Encoding::Hex:
      s = JS_NewStringCopyN(cx, hex_encode(bytes).c_str(), bytes.size() * 2);
      break;
    case Encoding::Base64:
    case Encoding::Base64Url: {
      std::string text = base64_encode_with(bytes, e == Encoding::Base64Url);
      s = JS_NewStringCopyN(cx, text.data(), text.size());
      break;
    }
    case Encoding::Latin1:
      s = JS_NewStringCopyN(cx, bytes.data(), bytes.size());
      break;
    case Encoding::Ascii:
      for (char& c : bytes) c = static_cast<char>(c & 0x7F);
      s = JS_NewStringCopyN(cx, bytes.data(), bytes.size());
      break;
    case Encoding::Utf8Strict: {
      std::u16string wide;
      if (!utf8_to_utf16(bytes, wide, true)) {
        args.rval().setNull();
        return true;
      }
      s = JS_NewUCStringCopyN(cx, wide.data(), wide.size());
      break;
    }
    default:
      s = new_string_utf8(cx, bytes);
  }
  if (!s) return false;
  args.rval().setString(s);
  return true;
}

}  // namespace

const JSFunctionSpec kBytesNatives[] = {
    JS_FN("encode", native_encode, 2, 0),
    JS_FN("decode", native_decode, 2, 0),
    JS_FS_END,
};

}  // namespace eg::functions::cff
