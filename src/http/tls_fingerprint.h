// JA3 and JA4 fingerprints of a TLS viewer's ClientHello, for the web ACL's JA3Fingerprint
// and JA4Fingerprint fields (docs/waf/tls-fingerprints.md says which details were followed).
//
// The raw ClientHello is read once, during the handshake, and reduced at once to the two
// strings: a connection keeps 68 bytes and nothing else of the hello. The raw message is
// needed because OpenSSL's ClientHello-callback accessors leave out every extension it does
// not implement (GREASE, ECH 65037, ALPS 17513, ...), which would give browsers fingerprints
// nobody else computes.
#pragma once
#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eg::http {

// What the fingerprints read of a ClientHello: values in wire order, GREASE included (the
// fingerprints drop it, so a capture can be fed as it is).
struct ClientHello {
  uint16_t legacy_version = 0;  // the ClientHello's own version field (0x0303 under TLS 1.3)
  std::vector<uint16_t> cipher_suites;
  std::vector<uint16_t> extensions;            // extension types
  std::vector<uint16_t> supported_groups;      // extension 10 (JA3's "EllipticCurves")
  std::vector<uint8_t> ec_point_formats;       // extension 11
  std::vector<uint16_t> signature_algorithms;  // extension 13
  std::vector<uint16_t> supported_versions;    // extension 43
  std::string first_alpn;                      // extension 16: the first protocol's raw bytes
  void clear();                                // keeps the capacity (one reused per thread)
};

// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa.
constexpr bool is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

// Parses a ClientHello handshake message: type 1 and its 3-byte length first, as OpenSSL's
// message callback hands it over. Untrusted bytes: false on anything malformed (`out` is
// then unspecified), never a read outside `message`.
bool parse_client_hello(std::string_view message, ClientHello& out);

// What JA3 hashes: "771,4865-4866-...,0-23-65281-...,29-23-24,0".
std::string ja3_text(const ClientHello& hello);
// JA4_r, the text behind JA4's two hashes:
// "t13d1516h2_002f,0035,...,cca9_0005,000a,...,ff01_0403,0804,...".
std::string ja4_raw(const ClientHello& hello);

// The two strings one connection keeps: fixed arrays, no allocation.
class TlsFingerprints {
 public:
  static constexpr size_t kJa3Size = 32;
  static constexpr size_t kJa4Size = 36;
  // 32 lowercase hex digits (MD5 of ja3_text), or empty: no ClientHello seen (plain HTTP,
  // an SSLv2-format hello, an unreadable one) or no MD5 (a FIPS-only OpenSSL).
  std::string_view ja3() const { return ja3_[0] ? std::string_view(ja3_, kJa3Size) : ""; }
  // "t13d1516h2_8daaf6152771_e5627efa2ab1", or empty likewise.
  std::string_view ja4() const { return ja4_[0] ? std::string_view(ja4_, kJa4Size) : ""; }
  void compute(const ClientHello& hello);
  void clear() { ja3_[0] = ja4_[0] = '\0'; }

 private:
  char ja3_[kJa3Size] = {};
  char ja4_[kJa4Size] = {};
};

// Server side, before the handshake starts: the first ClientHello `ssl` receives fills `out`
// (which must outlive the handshake). The cost is one parse, one MD5 and two SHA-256 of a
// few hundred bytes per handshake; nothing runs after the ClientHello.
void capture_client_hello(SSL* ssl, TlsFingerprints* out);

}  // namespace eg::http
