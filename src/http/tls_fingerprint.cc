#include "http/tls_fingerprint.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <charconv>

namespace eg::http {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kNoHash = "000000000000";  // JA4: a section with no values

// Bounds-checked big-endian reads over untrusted bytes.
class Reader {
 public:
  Reader() = default;
  explicit Reader(std::string_view s)
      : p_(reinterpret_cast<const unsigned char*>(s.data())), n_(s.size()) {}
  bool empty() const { return n_ == 0; }
  size_t size() const { return n_; }
  bool u8(uint8_t& v) {
    if (n_ < 1) return false;
    v = p_[0];
    advance(1);
    return true;
  }
  bool u16(uint16_t& v) {
    if (n_ < 2) return false;
    v = uint16_t(p_[0] << 8 | p_[1]);
    advance(2);
    return true;
  }
  bool u24(uint32_t& v) {
    if (n_ < 3) return false;
    v = uint32_t(p_[0]) << 16 | uint32_t(p_[1]) << 8 | p_[2];
    advance(3);
    return true;
  }
  bool skip(size_t len) {
    if (n_ < len) return false;
    advance(len);
    return true;
  }
  bool take(size_t len, Reader& out) {
    if (n_ < len) return false;
    out.p_ = p_;
    out.n_ = len;
    advance(len);
    return true;
  }
  // TLS vectors: a 1- or 2-byte length, then that many bytes.
  bool vec8(Reader& out) {
    uint8_t len;
    return u8(len) && take(len, out);
  }
  bool vec16(Reader& out) {
    uint16_t len;
    return u16(len) && take(len, out);
  }
  std::string_view rest() const { return {reinterpret_cast<const char*>(p_), n_}; }

 private:
  void advance(size_t len) {
    p_ += len;
    n_ -= len;
  }
  const unsigned char* p_ = nullptr;
  size_t n_ = 0;
};

bool read_u16_list(Reader list, std::vector<uint16_t>& out) {
  if (list.size() % 2) return false;
  uint16_t v;
  while (list.u16(v)) out.push_back(v);
  return true;
}

bool read_u16_vec16(Reader data, std::vector<uint16_t>& out) {
  Reader list;
  return data.vec16(list) && read_u16_list(list, out);
}

bool read_extension(uint16_t type, Reader data, ClientHello& out) {
  switch (type) {
    case 10:  // supported_groups
      out.supported_groups.clear();
      return read_u16_vec16(data, out.supported_groups);
    case 11: {  // ec_point_formats
      Reader list;
      if (!data.vec8(list)) return false;
      out.ec_point_formats.clear();
      uint8_t v;
      while (list.u8(v)) out.ec_point_formats.push_back(v);
      return true;
    }
    case 13:  // signature_algorithms
      out.signature_algorithms.clear();
      return read_u16_vec16(data, out.signature_algorithms);
    case 16: {  // application_layer_protocol_negotiation
      Reader list, name;
      if (!data.vec16(list)) return false;
      out.first_alpn.clear();
      if (list.empty()) return true;
      if (!list.vec8(name)) return false;
      out.first_alpn.assign(name.rest());
      return true;
    }
    case 43: {  // supported_versions (the ClientHello form: a 1-byte length)
      Reader list;
      out.supported_versions.clear();
      return data.vec8(list) && read_u16_list(list, out.supported_versions);
    }
    default:
      return true;
  }
}

void append_decimal(std::string& s, unsigned v) {
  char buf[8];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, r.ptr);
}

void append_hex4(std::string& s, uint16_t v) {
  char buf[4] = {kHex[v >> 12], kHex[(v >> 8) & 15], kHex[(v >> 4) & 15], kHex[v & 15]};
  s.append(buf, 4);
}

// JA3 joins decimal values with '-', GREASE left out.
template <typename T>
void append_ja3_list(std::string& s, const std::vector<T>& values) {
  bool first = true;
  for (T v : values) {
    if (is_grease(v)) continue;
    if (!first) s += '-';
    first = false;
    append_decimal(s, v);
  }
}

void append_ja3_text(const ClientHello& h, std::string& s) {
  append_decimal(s, h.legacy_version);
  s += ',';
  append_ja3_list(s, h.cipher_suites);
  s += ',';
  append_ja3_list(s, h.extensions);
  s += ',';
  append_ja3_list(s, h.supported_groups);
  s += ',';
  append_ja3_list(s, h.ec_point_formats);
}

size_t count_non_grease(const std::vector<uint16_t>& values) {
  return size_t(
      std::count_if(values.begin(), values.end(), [](uint16_t v) { return !is_grease(v); }));
}

std::string_view ja4_version(const ClientHello& h) {
  uint16_t version = 0;
  for (uint16_t v : h.supported_versions)
    if (!is_grease(v)) version = std::max(version, v);
  if (version == 0) version = h.legacy_version;
  switch (version) {
    case 0x0304:
      return "13";
    case 0x0303:
      return "12";
    case 0x0302:
      return "11";
    case 0x0301:
      return "10";
    case 0x0300:
      return "s3";
    case 0x0002:
      return "s2";
    case 0xfeff:
      return "d1";
    case 0xfefd:
      return "d2";
    case 0xfefc:
      return "d3";
    default:
      return "00";
  }
}

bool ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// JA4_a, 10 characters: "t13d1516h2".
void append_ja4_a(const ClientHello& h, std::string& s) {
  s += 't';  // TLS over TCP: the gateway serves neither QUIC nor DTLS
  s += ja4_version(h);
  bool sni = std::find(h.extensions.begin(), h.extensions.end(), 0) != h.extensions.end();
  s += sni ? 'd' : 'i';
  for (size_t n : {count_non_grease(h.cipher_suites), count_non_grease(h.extensions)}) {
    n = std::min<size_t>(n, 99);
    s += char('0' + n / 10);
    s += char('0' + n % 10);
  }
  // First and last characters of the first ALPN value; first and last hex digits of it when
  // either end is not alphanumeric.
  std::string_view alpn = h.first_alpn;
  if (alpn.empty()) {
    s += "00";
  } else {
    auto first = static_cast<unsigned char>(alpn.front());
    auto last = static_cast<unsigned char>(alpn.back());
    if (ascii_alnum(first) && ascii_alnum(last)) {
      s += char(first);
      s += char(last);
    } else {
      s += kHex[first >> 4];
      s += kHex[last & 15];
    }
  }
}

// The sorted, GREASE-free values of `values` as "002f,0035,...", less `skip`.
void append_sorted_hex(const std::vector<uint16_t>& values, std::initializer_list<uint16_t> skip,
                       std::string& s) {
  thread_local std::vector<uint16_t> sorted;
  sorted.clear();
  for (uint16_t v : values)
    if (!is_grease(v) && std::find(skip.begin(), skip.end(), v) == skip.end()) sorted.push_back(v);
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i) s += ',';
    append_hex4(s, sorted[i]);
  }
}

// JA4_c's text: sorted extensions less SNI (0) and ALPN (16), then '_' and the signature
// algorithms in wire order when there are any. Empty when there are no such extensions.
void append_ja4_c_text(const ClientHello& h, std::string& s) {
  size_t start = s.size();
  append_sorted_hex(h.extensions, {0x0000, 0x0010}, s);
  if (s.size() == start) return;
  bool first = true;
  for (uint16_t v : h.signature_algorithms) {
    if (is_grease(v)) continue;
    s += first ? '_' : ',';
    first = false;
    append_hex4(s, v);
  }
}

// Fetched once: OpenSSL 3 would otherwise look the algorithm up on every digest. Null
// when the provider lacks it (MD5 under a FIPS-only configuration).
const EVP_MD* md5() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}
const EVP_MD* sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// Lowercase hex of the digest's first `hex_chars / 2` bytes into `out`.
bool hex_digest(const EVP_MD* md, std::string_view in, char* out, size_t hex_chars) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!md || EVP_Digest(in.data(), in.size(), d, &len, md, nullptr) != 1 || len * 2 < hex_chars)
    return false;
  for (size_t i = 0; i < hex_chars; ++i) out[i] = kHex[i % 2 ? d[i / 2] & 15 : d[i / 2] >> 4];
  return true;
}

// JA4_b or JA4_c: 12 hex digits of SHA-256, or twelve zeros for a section with no values.
bool ja4_hash(std::string_view text, char* out) {
  if (text.empty()) {
    std::copy(kNoHash.begin(), kNoHash.end(), out);
    return true;
  }
  return hex_digest(sha256(), text, out, kNoHash.size());
}

// The message callback (SSL_set_msg_callback): sees every record header and message read
// or written. The first inbound message is the ClientHello; after it the callback removes
// itself, so the rest of the connection pays nothing.
void on_tls_message(int write_p, int, int content_type, const void* buf, size_t len, SSL* ssl,
                    void* arg) {
  if (write_p || content_type == SSL3_RT_HEADER) return;
  SSL_set_msg_callback(ssl, nullptr);  // also after an SSLv2-format hello (content type 0)
  if (content_type != SSL3_RT_HANDSHAKE) return;
  auto* out = static_cast<TlsFingerprints*>(arg);
  try {
    thread_local ClientHello hello;  // reused: no allocation once warm
    if (parse_client_hello({static_cast<const char*>(buf), len}, hello)) out->compute(hello);
  } catch (...) {
    // Out of memory in OpenSSL's C callback: no fingerprint, the FallbackBehavior applies.
    out->clear();
  }
}

}  // namespace

void ClientHello::clear() {
  legacy_version = 0;
  cipher_suites.clear();
  extensions.clear();
  supported_groups.clear();
  ec_point_formats.clear();
  signature_algorithms.clear();
  supported_versions.clear();
  first_alpn.clear();
}

bool parse_client_hello(std::string_view message, ClientHello& out) {
  out.clear();
  Reader r(message), body, session_id, ciphers, compression, extensions;
  uint8_t type;
  uint32_t length;
  if (!r.u8(type) || type != SSL3_MT_CLIENT_HELLO || !r.u24(length) || !r.take(length, body))
    return false;
  if (!body.u16(out.legacy_version) || !body.skip(32) || !body.vec8(session_id) ||
      !body.vec16(ciphers) || !read_u16_list(ciphers, out.cipher_suites) || !body.vec8(compression))
    return false;
  if (body.empty()) return true;  // no extensions at all (TLS 1.2 and older may do that)
  if (!body.vec16(extensions)) return false;
  while (!extensions.empty()) {
    uint16_t ext_type;
    Reader data;
    if (!extensions.u16(ext_type) || !extensions.vec16(data)) return false;
    out.extensions.push_back(ext_type);
    if (!read_extension(ext_type, data, out)) return false;
  }
  return true;
}

std::string ja3_text(const ClientHello& hello) {
  std::string s;
  append_ja3_text(hello, s);
  return s;
}

std::string ja4_raw(const ClientHello& hello) {
  std::string s;
  append_ja4_a(hello, s);
  s += '_';
  append_sorted_hex(hello.cipher_suites, {}, s);
  s += '_';
  append_ja4_c_text(hello, s);
  return s;
}

void TlsFingerprints::compute(const ClientHello& hello) {
  clear();
  thread_local std::string text;  // reused: no allocation once warm
  text.clear();
  append_ja3_text(hello, text);
  if (!hex_digest(md5(), text, ja3_, kJa3Size)) ja3_[0] = '\0';

  char ja4[kJa4Size];
  text.clear();
  append_ja4_a(hello, text);
  std::copy(text.begin(), text.end(), ja4);  // always 10 characters
  ja4[10] = ja4[23] = '_';
  text.clear();
  append_sorted_hex(hello.cipher_suites, {}, text);
  if (!ja4_hash(text, ja4 + 11)) return;
  text.clear();
  append_ja4_c_text(hello, text);
  if (!ja4_hash(text, ja4 + 24)) return;
  std::copy(ja4, ja4 + kJa4Size, ja4_);
}

void capture_client_hello(SSL* ssl, TlsFingerprints* out) {
  out->clear();
  SSL_set_msg_callback(ssl, on_tls_message);
  SSL_set_msg_callback_arg(ssl, out);
}

}  // namespace eg::http
