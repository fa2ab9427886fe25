#include "http/tls_fingerprint.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <random>

namespace eg::http {
namespace {

// A ClientHello handshake message (type, 3-byte length, body) built from field lists, the
// way a capture's fields are listed; extension bodies for the fields the fingerprints read.
struct HelloSpec {
  uint16_t version = 0x0303;
  std::vector<uint16_t> ciphers;
  std::vector<uint16_t> extensions;  // in wire order
  std::vector<uint16_t> groups, sigalgs, versions;
  std::vector<uint8_t> point_formats;
  std::vector<std::string> alpn;
  bool no_extensions_block = false;
};

void put16(std::string& s, size_t v) {
  s += char(v >> 8);
  s += char(v & 0xff);
}

std::string u16_list(const std::vector<uint16_t>& values) {
  std::string s;
  for (uint16_t v : values) put16(s, v);
  return s;
}

std::string vec16(const std::string& body) {
  std::string s;
  put16(s, body.size());
  return s + body;
}

std::string vec8(const std::string& body) { return std::string(1, char(body.size())) + body; }

std::string extension_body(const HelloSpec& h, uint16_t type) {
  switch (type) {
    case 0:
      return vec16(std::string("\0", 1) + vec16("example.com"));
    case 10:
      return vec16(u16_list(h.groups));
    case 11:
      return vec8(std::string(h.point_formats.begin(), h.point_formats.end()));
    case 13:
      return vec16(u16_list(h.sigalgs));
    case 16: {
      std::string names;
      for (const auto& a : h.alpn) names += vec8(a);
      return vec16(names);
    }
    case 43:
      return vec8(u16_list(h.versions));
    case 21:
      return std::string(17, '\0');  // padding
    default:
      return is_grease(type) ? std::string() : std::string("\x01\x02", 2);
  }
}

std::string build_hello(const HelloSpec& h) {
  std::string body;
  put16(body, h.version);
  body += std::string(32, '\x5a');        // random
  body += vec8(std::string(32, '\x11'));  // legacy_session_id
  body += vec16(u16_list(h.ciphers));     // cipher_suites
  body += vec8(std::string(1, '\0'));     // compression: null
  if (!h.no_extensions_block) {
    std::string exts;
    for (uint16_t t : h.extensions) {
      put16(exts, t);
      exts += vec16(extension_body(h, t));
    }
    body += vec16(exts);
  }
  std::string msg(1, '\x01');
  msg += char(body.size() >> 16);
  msg += char((body.size() >> 8) & 0xff);
  msg += char(body.size() & 0xff);
  return msg + body;
}

TlsFingerprints fingerprints_of(const ClientHello& hello) {
  TlsFingerprints f;
  f.compute(hello);
  return f;
}

// FoxIO's JA4 documentation (technical_details/JA4.md): the worked example, given there as
// JA4_ro (original order, GREASE already left out).
ClientHello foxio_example() {
  ClientHello h;
  h.legacy_version = 0x0303;
  h.cipher_suites = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                     0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  h.extensions = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
                  0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015};
  h.signature_algorithms = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
  h.supported_versions = {0x0304, 0x0303};
  h.first_alpn = "h2";
  return h;
}

TEST(TlsFingerprint, Ja4OfFoxIoDocumentedExample) {
  auto h = foxio_example();
  EXPECT_EQ(ja4_raw(h),
            "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,"
            "cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,"
            "0804,0401,0503,0805,0501,0806,0601");
  EXPECT_EQ(fingerprints_of(h).ja4(), "t13d1516h2_8daaf6152771_e5627efa2ab1");
}

TEST(TlsFingerprint, Ja4WithoutSignatureAlgorithmsHashesTheExtensionsAlone) {
  // Same document: "the string ends without an underscore" = 6d807ffa2a79.
  auto h = foxio_example();
  h.signature_algorithms.clear();
  EXPECT_EQ(fingerprints_of(h).ja4(), "t13d1516h2_8daaf6152771_6d807ffa2a79");
}

// Chrome 143 as published by browserleaks.com (JA3 text and hash, JA4, JA4_ro), sent as a
// raw ClientHello with the GREASE values Chrome adds: ECH (65037) and ALPS (17613) are
// extensions OpenSSL does not implement, and both fingerprints must still count them.
HelloSpec chrome_143() {
  HelloSpec h;
  h.ciphers = {0x3a3a, 4865,  4866,  4867,  49195, 49199, 49196, 49200,
               52393,  52392, 49171, 49172, 156,   157,   47,    53};
  h.extensions = {0xdada, 45, 51,    16, 65037, 23, 17613, 0,  11,
                  10,     43, 65281, 35, 18,    5,  13,    27, 0x4a4a};
  h.groups = {0x8a8a, 4588, 29, 23, 24};
  h.point_formats = {0};
  h.sigalgs = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
  h.versions = {0x7a7a, 0x0304, 0x0303};
  h.alpn = {"h2", "http/1.1"};
  return h;
}

TEST(TlsFingerprint, Chrome143FromRawBytesWithGrease) {
  ClientHello hello;
  ASSERT_TRUE(parse_client_hello(build_hello(chrome_143()), hello));
  EXPECT_EQ(hello.first_alpn, "h2");
  EXPECT_EQ(ja3_text(hello),
            "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
            "45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0");
  auto f = fingerprints_of(hello);
  EXPECT_EQ(f.ja3(), "98487aa16281980e7d1120d399efb6a4");
  EXPECT_EQ(f.ja4(), "t13d1516h2_8daaf6152771_d8a2da3f94cd");
}

TEST(TlsFingerprint, Ja4DropsGreaseSignatureAlgorithms) {
  // FoxIO's test capture sigalg-grease.pcapng: a GREASE signature algorithm in the hello,
  // absent from JA4_ro and from the hash.
  HelloSpec h;
  h.ciphers = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
               0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  h.extensions = {0xfe0d, 0x0010, 0x0017, 0x0033, 0x44cd, 0xff01, 0x000a, 0x000d, 0x0023,
                  0x002b, 0x000b, 0xca34, 0x002d, 0x0000, 0x0005, 0x001b, 0x0012};
  h.sigalgs = {0x2a2a, 0x0904, 0x0905, 0x0906, 0x0403, 0x0804,
               0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
  h.versions = {0x0304, 0x0303};
  h.groups = {29, 23};
  h.point_formats = {0};
  h.alpn = {"h2"};
  ClientHello hello;
  ASSERT_TRUE(parse_client_hello(build_hello(h), hello));
  EXPECT_EQ(fingerprints_of(hello).ja4(), "t13d1517h2_8daaf6152771_cb7bf5808d99");
}

TEST(TlsFingerprint, Ja3OfSalesforceDocumentedExamples) {
  // salesforce/ja3 README: the two strings and their hashes.
  HelloSpec h;
  h.version = 769;
  h.ciphers = {47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4};
  h.extensions = {0, 10, 11};
  h.groups = {23, 24, 25};
  h.point_formats = {0};
  ClientHello hello;
  ASSERT_TRUE(parse_client_hello(build_hello(h), hello));
  EXPECT_EQ(ja3_text(hello),
            "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
  EXPECT_EQ(fingerprints_of(hello).ja3(), "ada70206e40642a3e4461f35503241d5");
  // No SNI value check in JA4_a beyond presence; TLS 1.0, no ALPN.
  EXPECT_EQ(fingerprints_of(hello).ja4().substr(0, 11), "t10d120300_");

  HelloSpec bare;
  bare.version = 769;
  bare.ciphers = {4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99};
  bare.no_extensions_block = true;
  ASSERT_TRUE(parse_client_hello(build_hello(bare), hello));
  EXPECT_EQ(ja3_text(hello), "769,4-5-10-9-100-98-3-6-19-18-99,,,");
  auto f = fingerprints_of(hello);
  EXPECT_EQ(f.ja3(), "de350869b8c85de67a350c8d186f11e6");
  // No extensions: no SNI ("i"), JA4_c is twelve zeros.
  EXPECT_EQ(f.ja4().substr(0, 11), "t10i110000_");
  EXPECT_EQ(f.ja4().substr(24), "000000000000");
}

TEST(TlsFingerprint, EmptyListsAndGreaseOnly) {
  ClientHello h;
  h.legacy_version = 0x0303;
  h.cipher_suites = {0x0a0a};
  h.extensions = {0x1a1a, 0x0000, 0x0010};  // only SNI and ALPN besides GREASE
  h.supported_versions = {0xfafa};          // GREASE only: the legacy version counts
  h.signature_algorithms = {0x0403};
  EXPECT_EQ(ja3_text(h), "771,,0-16,,");
  EXPECT_EQ(ja4_raw(h), "t12d000200__");
  auto f = fingerprints_of(h);
  EXPECT_EQ(f.ja4(), "t12d000200_000000000000_000000000000");
  EXPECT_EQ(f.ja3().size(), 32u);
}

TEST(TlsFingerprint, Ja4VersionAndAlpnRules) {
  ClientHello h = foxio_example();
  auto a = [&] { return ja4_raw(h).substr(0, 10); };
  h.supported_versions = {0x2a2a, 0x0302, 0x0304, 0x0303};  // the highest, not the first
  EXPECT_EQ(a(), "t13d1516h2");
  h.supported_versions.clear();
  h.legacy_version = 0x0301;
  EXPECT_EQ(a(), "t10d1516h2");
  h.legacy_version = 0x0300;
  EXPECT_EQ(a(), "ts3d1516h2");
  h.legacy_version = 0x1234;
  EXPECT_EQ(a(), "t00d1516h2");
  h.legacy_version = 0x0303;
  h.first_alpn = "http/1.1";
  EXPECT_EQ(a(), "t12d1516h1");
  h.first_alpn = "x";  // one character is both first and last
  EXPECT_EQ(a(), "t12d1516xx");
  // Not alphanumeric at either end: first and last hex digits of the value (JA4.md).
  h.first_alpn = "\xab";
  EXPECT_EQ(a().substr(8), "ab");
  h.first_alpn = "\xab\xcd";
  EXPECT_EQ(a().substr(8), "ad");
  h.first_alpn = "0\xab";
  EXPECT_EQ(a().substr(8), "3b");
  h.first_alpn = "01\xab\xcd";
  EXPECT_EQ(a().substr(8), "3d");
  h.first_alpn =
      "0\xab\xcd"
      "1";
  EXPECT_EQ(a().substr(8), "01");
  h.first_alpn.clear();
  EXPECT_EQ(a().substr(8), "00");
}

TEST(TlsFingerprint, CountsStopAtNinetyNine) {
  ClientHello h;
  h.legacy_version = 0x0303;
  for (uint16_t c = 1; c <= 150; ++c) h.cipher_suites.push_back(c);
  EXPECT_EQ(ja4_raw(h).substr(0, 10), "t12i990000");
}

TEST(TlsFingerprint, AlpnPresentButEmptyListGivesZeros) {
  HelloSpec h = chrome_143();
  h.alpn.clear();
  ClientHello hello;
  ASSERT_TRUE(parse_client_hello(build_hello(h), hello));
  EXPECT_EQ(ja4_raw(hello).substr(0, 10), "t13d151600");
}

TEST(TlsFingerprint, MalformedHellosAreRefusedNeverOverread) {
  std::string good = build_hello(chrome_143());
  ClientHello hello;
  ASSERT_TRUE(parse_client_hello(good, hello));
  // Every truncation: the 3-byte length no longer fits, so every one is refused.
  for (size_t n = 0; n < good.size(); ++n) {
    std::string cut = good.substr(0, n);  // own buffer: ASan sees any overread
    EXPECT_FALSE(parse_client_hello(cut, hello)) << n;
  }
  // Not a ClientHello.
  std::string other = good;
  other[0] = 2;
  EXPECT_FALSE(parse_client_hello(other, hello));
  // An odd cipher_suites length.
  HelloSpec odd = chrome_143();
  std::string bad = build_hello(odd);
  size_t ciphers_len_at = 4 + 2 + 32 + 1 + 32;
  bad[ciphers_len_at + 1] = char(bad[ciphers_len_at + 1] - 1);
  EXPECT_FALSE(parse_client_hello(bad, hello));
  // Random corruption of a valid hello: any outcome but a crash or an overread.
  std::mt19937 rng(12345);
  for (int round = 0; round < 20000; ++round) {
    std::string m = good;
    int flips = 1 + int(rng() % 4);
    for (int i = 0; i < flips; ++i) m[rng() % m.size()] = char(rng());
    if (rng() % 3 == 0) m.resize(rng() % m.size());
    if (parse_client_hello(m, hello)) {
      TlsFingerprints f;
      f.compute(hello);
      EXPECT_EQ(f.ja4().size(), TlsFingerprints::kJa4Size);
    }
  }
}

TEST(TlsFingerprint, EmptyUntilComputed) {
  TlsFingerprints f;
  EXPECT_TRUE(f.ja3().empty());
  EXPECT_TRUE(f.ja4().empty());
  f.compute(foxio_example());
  EXPECT_FALSE(f.ja3().empty());
  f.clear();
  EXPECT_TRUE(f.ja3().empty());
  EXPECT_TRUE(f.ja4().empty());
  EXPECT_LE(sizeof(TlsFingerprints), 68u);
}

// ---- through OpenSSL: a real handshake over a memory BIO pair -------------------------------

struct Ssl {
  SSL_CTX* server_ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  SSL* server = nullptr;
  SSL* client = nullptr;
  std::vector<std::string> client_hellos;  // as the client sent them

  Ssl() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("edge.test"), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    X509_sign(cert, key, EVP_sha256());
    SSL_CTX_use_certificate(server_ctx, cert);
    SSL_CTX_use_PrivateKey(server_ctx, key);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~Ssl() {
    SSL_free(server);
    SSL_free(client);
    SSL_CTX_free(server_ctx);
    SSL_CTX_free(client_ctx);
  }
  static void record_sent(int write_p, int, int type, const void* buf, size_t len, SSL*,
                          void* arg) {
    if (write_p && type == SSL3_RT_HANDSHAKE && len && *static_cast<const char*>(buf) == 1)
      static_cast<Ssl*>(arg)->client_hellos.emplace_back(static_cast<const char*>(buf), len);
  }
  void start() {
    server = SSL_new(server_ctx);
    client = SSL_new(client_ctx);
    BIO *a, *b;
    BIO_new_bio_pair(&a, 0, &b, 0);
    SSL_set_bio(client, a, a);
    SSL_set_bio(server, b, b);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    SSL_set_msg_callback(client, record_sent);
    SSL_set_msg_callback_arg(client, this);
  }
  bool handshake() {
    for (int i = 0; i < 20; ++i) {
      int c = SSL_do_handshake(client);
      int s = SSL_do_handshake(server);
      if (c == 1 && s == 1) return true;
    }
    return false;
  }
};

int add_private_extension(SSL*, unsigned, unsigned, const unsigned char** out, size_t* len, X509*,
                          size_t, int*, void*) {
  static const unsigned char data[] = {1, 2, 3};
  *out = data;
  *len = sizeof data;
  return 1;
}

TEST(TlsFingerprint, CapturedInAHandshakeWithExtensionsOpenSslDoesNotKnow) {
  Ssl t;
  // 0xfe00 is in the private-use range: OpenSSL's server ignores it (and leaves it out of
  // SSL_client_hello_get1_extensions_present), JA3 and JA4 must count it.
  SSL_CTX_add_custom_ext(t.client_ctx, 0xfe00, SSL_EXT_CLIENT_HELLO, add_private_extension, nullptr,
                         nullptr, nullptr, nullptr);
  t.start();
  SSL_set_tlsext_host_name(t.client, "edge.test");
  TlsFingerprints f;
  capture_client_hello(t.server, &f);
  ASSERT_TRUE(t.handshake());
  ASSERT_EQ(t.client_hellos.size(), 1u);
  ClientHello sent;
  ASSERT_TRUE(parse_client_hello(t.client_hellos[0], sent));
  EXPECT_NE(ja3_text(sent).find("65024"), std::string::npos) << ja3_text(sent);
  EXPECT_EQ(f.ja3(), fingerprints_of(sent).ja3());
  EXPECT_EQ(f.ja4(), fingerprints_of(sent).ja4());
  EXPECT_EQ(f.ja4().substr(0, 4), "t13d");
}

TEST(TlsFingerprint, HelloRetryRequestKeepsTheFirstHello) {
  Ssl t;
  t.start();
  // The client's key share is for P-256; the server takes X25519 only: a HelloRetryRequest
  // and a second, different ClientHello follow.
  SSL_set1_groups_list(t.client, "P-256:X25519");
  SSL_set1_groups_list(t.server, "X25519");
  TlsFingerprints f;
  capture_client_hello(t.server, &f);
  ASSERT_TRUE(t.handshake());
  ASSERT_EQ(t.client_hellos.size(), 2u);
  ClientHello first, second;
  ASSERT_TRUE(parse_client_hello(t.client_hellos[0], first));
  ASSERT_TRUE(parse_client_hello(t.client_hellos[1], second));
  EXPECT_EQ(f.ja4(), fingerprints_of(first).ja4());
  EXPECT_EQ(f.ja3(), fingerprints_of(first).ja3());
}

TEST(TlsFingerprint, NoHelloNoFingerprint) {
  Ssl t;
  t.start();
  TlsFingerprints f;
  f.compute(foxio_example());
  capture_client_hello(t.server, &f);  // starts empty
  EXPECT_TRUE(f.ja3().empty());
  EXPECT_TRUE(f.ja4().empty());
}

}  // namespace
}  // namespace eg::http
