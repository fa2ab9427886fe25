// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but EVP costs a
// provider context allocation per EVP_DigestInit_ex2 and a dispatch per call, as much time as
// the few blocks a signature hashes; the low-level calls run the same SHA-NI block code, and
// their SHA256_CTX is a plain struct that can be copied (precomputed HMAC states). This file
// only; docs/RATIONALE.md.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <vector>

#include "aws/sigv4_internal.h"
#include "core/http_date.h"
#include "core/strings.h"

namespace eg::aws::sigv4 {
namespace {

constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

// RFC 3986 unreserved characters: the only ones SigV4 leaves unencoded.
constexpr bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// Whitespace that Trimall collapses. botocore uses Python's str.split(), which also splits
// on VT and FF; CR/LF appear in obs-folded values (suite case get-header-value-multiline).
// A table: one load per byte of every signed header value.
constexpr std::array<bool, 256> kHeaderSpace = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {' ', '\t', '\r', '\n', '\v', '\f'}) t[c] = true;
  return t;
}();
inline bool is_header_space(char c) { return kHeaderSpace[static_cast<unsigned char>(c)]; }

// Two hex digits per byte from one table load: digests are hex-encoded twice per signature.
constexpr std::array<std::array<char, 2>, 256> kHexPairs = [] {
  std::array<std::array<char, 2>, 256> t{};
  for (size_t i = 0; i < 256; ++i) t[i] = {kHexLower[i >> 4], kHexLower[i & 15]};
  return t;
}();

void hex_into(const uint8_t* data, size_t n, char* out) {
  for (size_t i = 0; i < n; ++i) std::memcpy(out + 2 * i, kHexPairs[data[i]].data(), 2);
}

#if defined(__SSE2__)
// Sixteen bytes per step: nibbles to '0'..'9' / 'a'..'f' with a compare, interleaved.
void to_hex_lower(const Sha256& digest, char out[64]) {
  const __m128i low_nibble = _mm_set1_epi8(0x0f);
  auto to_chars = [](__m128i x) {
    __m128i letter = _mm_cmpgt_epi8(x, _mm_set1_epi8(9));
    return _mm_add_epi8(_mm_add_epi8(x, _mm_set1_epi8('0')),
                        _mm_and_si128(letter, _mm_set1_epi8('a' - '0' - 10)));
  };
  for (size_t i = 0; i < 2; ++i) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(digest.data() + 16 * i));
    __m128i hi = to_chars(_mm_and_si128(_mm_srli_epi16(v, 4), low_nibble));
    __m128i lo = to_chars(_mm_and_si128(v, low_nibble));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 32 * i), _mm_unpacklo_epi8(hi, lo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 32 * i + 16), _mm_unpackhi_epi8(hi, lo));
  }
}
#else
void to_hex_lower(const Sha256& digest, char out[64]) { hex_into(digest.data(), 32, out); }
#endif

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A SHA-256 state. Trivially copyable: a copy continues the hash from where it was.
class Sha256Ctx {
 public:
  Sha256Ctx() { SHA256_Init(&c_); }
  void update(const void* p, size_t n) { SHA256_Update(&c_, p, n); }
  void update(std::string_view s) { update(s.data(), s.size()); }
  void final(uint8_t out[32]) { SHA256_Final(out, &c_); }

 private:
  SHA256_CTX c_;
};

// An HMAC-SHA256 key as the two hash states after absorbing key^ipad and key^opad (RFC 2104
// section 4): a MAC then costs the message's blocks and one outer block, not two more.
struct HmacState {
  Sha256Ctx inner;
  Sha256Ctx outer;

  HmacState() = default;  // fresh hash states: a placeholder, not any key's HMAC
  explicit HmacState(std::span<const uint8_t> key) {
    uint8_t block[64] = {};
    if (key.size() > 64) {
      Sha256Ctx k;
      k.update(key.data(), key.size());
      k.final(block);
    } else if (!key.empty()) {
      std::memcpy(block, key.data(), key.size());
    }
    uint8_t pad[64];
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
    inner.update(pad, 64);
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
    outer.update(pad, 64);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
  }
  ~HmacState() { OPENSSL_cleanse(this, sizeof *this); }
  HmacState(const HmacState&) = default;
  HmacState& operator=(const HmacState&) = default;

  // `in` is a copy of `inner` with the message absorbed. Final() wipes the block buffer and
  // leaves only the digest in the copies, so they hold nothing of the key afterwards.
  Sha256 finish(Sha256Ctx in) const {
    uint8_t inner_digest[32];
    in.final(inner_digest);
    Sha256Ctx out = outer;
    out.update(inner_digest, sizeof inner_digest);
    Sha256 mac;
    out.final(mac.data());
    return mac;
  }
  Sha256 mac(std::string_view data) const {
    Sha256Ctx in = inner;
    in.update(data);
    return finish(in);
  }
};

// Derived keys of the last few (secret, date, region, service) tuples this thread used.
// Per thread, so signing never takes a lock; a gateway thread signs for a handful of
// origins, and each entry changes once a day.
struct KeyCacheEntry {
  std::string secret;
  std::string date;
  std::string region;
  std::string service;
  Sha256 key{};
  HmacState hmac;
  // `hmac.inner` after "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n", the part of the string to
  // sign that changes once a second: a signature then hashes only the canonical request's
  // digest. Valid for the amz_date in prefix_date.
  Sha256Ctx prefix;
  char prefix_date[16] = {};
  bool used = false;
};
struct KeyCache {
  static constexpr size_t kSize = 8;
  KeyCacheEntry entries[kSize];
  size_t next = 0;
};

// Names are lowercase, so byte order is the canonical order. Most differ in their first
// byte: decided without a memcmp call.
bool name_after(std::string_view a, std::string_view b) {
  if (!a.empty() && !b.empty() && a[0] != b[0])
    return static_cast<unsigned char>(a[0]) > static_cast<unsigned char>(b[0]);
  return a > b;
}

// Merge-free insertion sort: stable, and unlike std::stable_sort it never allocates.
void sort_headers(std::vector<detail::CanonicalHeader>& h) {
  for (size_t i = 1; i < h.size(); ++i) {
    auto cur = h[i];
    size_t j = i;
    while (j > 0 && name_after(h[j - 1].name, cur.name)) {
      h[j] = h[j - 1];
      --j;
    }
    h[j] = cur;
  }
}

// The canonical-header writers below run for every header of every signed request: they
// write through a pointer into space sized once per request (std::string appends or a resize
// per piece cost more than the bytes they move).
constexpr uint64_t kEachByte = 0x0101010101010101;
constexpr uint64_t kHighBits = 0x8080808080808080;

// ascii_lower on eight bytes at once: a high bit marks each byte in 'A'..'Z' (bytes from 0x80
// are left alone), and moved to 0x20 it is the case bit.
inline uint64_t ascii_lower8(uint64_t x) {
  uint64_t low7 = x & ~kHighBits;
  uint64_t from_a = low7 + kEachByte * (0x80 - 'A');
  uint64_t past_z = low7 + kEachByte * (0x80 - 'Z' - 1);
  return x | (((from_a ^ past_z) & ~x & kHighBits) >> 2);
}

// Whether any of eight bytes is at or below ' ' (exact for the word, not per byte).
inline bool any_at_most_space(uint64_t x) {
  return ((x - kEachByte * (' ' + 1)) & ~x & kHighBits) != 0;
}
inline bool above_space(char c) { return static_cast<unsigned char>(c) > ' '; }

// memcpy for the short pieces of a canonical request (header names, mostly under 24 bytes):
// a few moves, overlapping at the end, instead of a library call per piece.
inline void copy_short(char* dst, const char* src, size_t n) {
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) std::memcpy(dst + i, src + i, 8);
    if (i < n) std::memcpy(dst + n - 8, src + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(dst, src, 4);
    std::memcpy(dst + n - 4, src + n - 4, 4);
  } else if (n >= 2) {
    std::memcpy(dst, src, 2);
    std::memcpy(dst + n - 2, src + n - 2, 2);
  } else if (n == 1) {
    *dst = *src;
  }
}

char* lower_into(std::string_view s, char* p) {
  const char* q = s.data();
  const char* e = q + s.size();
  for (; e - q >= 8; q += 8, p += 8) {
    uint64_t x;
    std::memcpy(&x, q, 8);
    x = ascii_lower8(x);
    std::memcpy(p, &x, 8);
  }
  while (q < e) *p++ = ascii_lower(*q++);
  return p;
}

// Trimall into `p` (at most v.size() bytes): leading/trailing whitespace removed, inner runs
// collapsed to one space. Returns the end.
char* trimmed_into(std::string_view v, char* p) {
  const char* q = v.data();
  const char* e = q + v.size();
  while (q < e && is_header_space(*q)) ++q;
  while (e > q && is_header_space(e[-1])) --e;
  while (q < e) {
    // Every byte above ' ' is copied as it is, eight at a time where it can; only those at or
    // below are looked at. (The output never runs ahead of the input, so `p` has room.)
    for (; e - q >= 8; q += 8, p += 8) {
      uint64_t x;
      std::memcpy(&x, q, 8);
      if (any_at_most_space(x)) break;
      std::memcpy(p, &x, 8);
    }
    while (q < e && above_space(*q)) *p++ = *q++;
    if (q == e) break;
    if (!is_header_space(*q)) {
      *p++ = *q++;
      continue;
    }
    while (is_header_space(*q)) ++q;  // ends before e: e[-1] is not whitespace
    *p++ = ' ';
  }
  return p;
}

void put_digits(char* at, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// "YYYYMMDDTHHMMSSZ" into `out` (16 bytes), from a per-thread memo: every request of the
// same second has the same date, and a 16-byte std::string would not fit the small-string
// buffer (an allocation per request).
void amz_date_into(std::chrono::system_clock::time_point t, std::string& out) {
  thread_local int64_t memo_secs = INT64_MIN;
  thread_local char memo[16];
  int64_t secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  if (secs != memo_secs) {
    CivilTime c = civil_from_unix(secs);
    put_digits(memo, c.year, 4);
    put_digits(memo + 4, c.month, 2);
    put_digits(memo + 6, c.day, 2);
    memo[8] = 'T';
    put_digits(memo + 9, c.hour, 2);
    put_digits(memo + 11, c.minute, 2);
    put_digits(memo + 13, c.second, 2);
    memo[15] = 'Z';
    memo_secs = secs;
  }
  out.assign(memo, 16);
}

bool name_in(std::string_view name, std::span<const std::string_view> lower_names) {
  for (auto n : lower_names)
    if (iequals(name, n)) return true;
  return false;
}

// A list of header names bucketed by length: the unsigned-header test runs for every header
// of every signature, and against a bucket it compares at most a few names of the right size.
template <size_t N>
struct NameIndex {
  static_assert(N < 256, "bucket bounds are bytes");
  static constexpr size_t kLong = 64;  // names this long or longer share the last bucket
  std::array<std::string_view, N> names{};
  std::array<uint8_t, kLong + 2> first{};  // bucket L: names[first[L] .. first[L + 1])

  constexpr explicit NameIndex(const std::string_view (&list)[N]) {
    size_t k = 0;
    for (size_t len = 0; len <= kLong; ++len) {
      first[len] = static_cast<uint8_t>(k);
      for (auto n : list)
        if (std::min(n.size(), kLong) == len) names[k++] = n;
    }
    first[kLong + 1] = static_cast<uint8_t>(k);
  }
  bool contains(std::string_view name) const {
    size_t len = std::min(name.size(), kLong);
    for (size_t i = first[len]; i < first[len + 1]; ++i)
      if (iequals(name, names[i])) return true;
    return false;
  }
};

bool is_unsigned_header(std::string_view name, std::span<const std::string_view> list) {
  // The built-in lists are immutable, so they are indexed once; any other is searched.
  static constexpr NameIndex kProxy(kProxyUnsignedHeaders);
  static constexpr NameIndex kSdk(kSdkUnsignedHeaders);
  if (list.data() == std::data(kProxyUnsignedHeaders) &&
      list.size() == std::size(kProxyUnsignedHeaders))
    return kProxy.contains(name);
  if (list.data() == std::data(kSdkUnsignedHeaders) &&
      list.size() == std::size(kSdkUnsignedHeaders))
    return kSdk.contains(name);
  return name_in(name, list);
}

void normalize_path(std::string_view path, std::string& out) {
  // botocore's remove_dot_segments: '.' and empty segments dropped, '..' pops; a trailing
  // slash survives when something is left.
  thread_local std::vector<std::string_view> segments;
  segments.clear();
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    i = j + 1;
  }
  if (!path.empty() && path.front() == '/') out.push_back('/');
  for (size_t k = 0; k < segments.size(); ++k) {
    if (k) out.push_back('/');
    out.append(segments[k]);
  }
  if (!path.empty() && path.back() == '/' && !segments.empty()) out.push_back('/');
}

struct QueryParam {
  uint32_t name_begin, name_len, value_begin, value_len;
};

}  // namespace

// ---- detail ----

namespace detail {

void lowercase_names(std::vector<CanonicalHeader>& headers, std::string& arena) {
  size_t total = 0;
  for (const auto& h : headers) total += h.name.size();
  if (arena.size() < total) arena.resize(total);  // grows to a high-water mark, no clearing
  char* p = arena.data();
  for (auto& h : headers) {
    char* b = p;
    p = lower_into(h.name, p);
    h.name = std::string_view(b, h.name.size());
  }
}

void append_canonical_headers(std::vector<CanonicalHeader>& headers, std::string& canonical,
                              std::string& signed_names) {
  sort_headers(headers);
  // Upper bounds: every header as "name:value\n" (a repeated name only shortens it), every
  // name plus a separator.
  size_t text = 0, names = 0;
  for (const auto& h : headers) {
    text += h.name.size() + h.value.size() + 2;
    names += h.name.size() + 1;
  }
  size_t text_at = canonical.size(), names_at = signed_names.size();
  canonical.resize(text_at + text);
  signed_names.resize(names_at + names);
  char* p = canonical.data() + text_at;
  char* const names_begin = signed_names.data();
  char* n = names_begin + names_at;
  for (size_t i = 0; i < headers.size();) {
    std::string_view name = headers[i].name;
    copy_short(p, name.data(), name.size());
    p += name.size();
    *p++ = ':';
    p = trimmed_into(headers[i].value, p);
    size_t j = i + 1;
    for (; j < headers.size() && headers[j].name == name; ++j) {
      *p++ = ',';
      p = trimmed_into(headers[j].value, p);
    }
    *p++ = '\n';
    if (n != names_begin) *n++ = ';';
    copy_short(n, name.data(), name.size());
    n += name.size();
    i = j;
  }
  canonical.resize(static_cast<size_t>(p - canonical.data()));
  signed_names.resize(static_cast<size_t>(n - names_begin));
}

void build_canonical_request(const CanonicalRequestParts& parts,
                             std::vector<CanonicalHeader>& headers, std::string& out,
                             std::string& signed_names) {
  out.clear();
  signed_names.clear();
  out.append(parts.method);
  out.push_back('\n');
  canonical_uri(parts.path, parts.normalize_path, parts.double_encode_path, out);
  out.push_back('\n');
  if (parts.skip_query_name.empty()) {
    canonical_query(parts.query, out);
  } else {
    // The verifier's presigned path: drop X-Amz-Signature from the wire query first.
    thread_local std::string filtered;
    filtered.clear();
    thread_local std::string decoded;
    size_t i = 0;
    while (i <= parts.query.size()) {
      size_t j = parts.query.find('&', i);
      if (j == std::string_view::npos) j = parts.query.size();
      std::string_view piece = parts.query.substr(i, j - i);
      std::string_view name = piece.substr(0, piece.find('='));
      decoded.clear();
      percent_decode_lenient(name, decoded);
      if (!piece.empty() && decoded != parts.skip_query_name) {
        if (!filtered.empty()) filtered.push_back('&');
        filtered.append(piece);
      }
      i = j + 1;
    }
    canonical_query(filtered, out);
  }
  out.push_back('\n');
  append_canonical_headers(headers, out, signed_names);
  out.push_back('\n');
  out.append(signed_names);
  out.push_back('\n');
  out.append(parts.payload_hash);
}

void build_string_to_sign(std::string_view amz_date, std::string_view region,
                          std::string_view service, std::string_view canonical_request,
                          std::string& out) {
  out.clear();
  out.append(kAlgorithm);
  out.push_back('\n');
  out.append(amz_date);
  out.push_back('\n');
  out.append(amz_date.substr(0, 8));
  out.push_back('/');
  out.append(region);
  out.push_back('/');
  out.append(service);
  out.append("/aws4_request\n");
  Sha256 h = sha256(canonical_request);
  append_hex(h.data(), h.size(), out);
}

void append_hex(const uint8_t* data, size_t n, std::string& out) {
  size_t at = out.size();
  out.resize(at + 2 * n);
  hex_into(data, n, out.data() + at);
}

bool is_lower_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

void percent_decode_lenient(std::string_view in, std::string& out) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
}

bool is_scope_token(std::string_view s) {
  // Checked for the region and the service of every signature.
  static constexpr std::array<bool, 256> kScopeChar = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c)
      t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.';
    return t;
  }();
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!kScopeChar[static_cast<unsigned char>(c)]) return false;
  return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace detail

// ---- building blocks ----

Sha256 sha256(std::string_view data) {
  Sha256 out;
  Sha256Ctx h;
  h.update(data);
  h.final(out.data());
  return out;
}

std::string hex(const Sha256& digest) {
  std::string s;
  detail::append_hex(digest.data(), digest.size(), s);
  return s;
}

Sha256 hmac_sha256(std::span<const uint8_t> key, std::string_view data) {
  return HmacState(key).mac(data);
}

namespace {

// Constant time for a given length, like CRYPTO_memcmp, but eight bytes per step and
// inline: the key cache compares a secret on every signature.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  uint64_t diff = 0;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    diff |= x ^ y;
  }
  for (; i < a.size(); ++i) diff |= static_cast<uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

KeyCacheEntry& signing_entry(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service) {
  thread_local KeyCache cache;
  for (auto& e : cache.entries)
    if (e.used && e.date == date && e.region == region && e.service == service &&
        same_secret(e.secret, secret))
      return e;

  std::string k_secret;
  k_secret.reserve(4 + secret.size());
  k_secret.append("AWS4").append(secret);
  auto as_bytes = [](const std::string& s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  Sha256 k_date = hmac_sha256(as_bytes(k_secret), date);
  OPENSSL_cleanse(k_secret.data(), k_secret.size());
  Sha256 k_region = hmac_sha256(k_date, region);
  Sha256 k_service = hmac_sha256(k_region, service);
  Sha256 k_signing = hmac_sha256(k_service, "aws4_request");

  auto& slot = cache.entries[cache.next];
  cache.next = (cache.next + 1) % KeyCache::kSize;
  if (!slot.secret.empty()) OPENSSL_cleanse(slot.secret.data(), slot.secret.size());
  slot.secret.assign(secret);
  slot.date.assign(date);
  slot.region.assign(region);
  slot.service.assign(service);
  slot.key = k_signing;
  slot.hmac = HmacState(k_signing);
  std::memset(slot.prefix_date, 0, sizeof slot.prefix_date);
  slot.used = true;
  return slot;
}

// The HMAC's inner state after the string to sign up to the canonical request's digest:
// "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n".
Sha256Ctx string_to_sign_prefix(const KeyCacheEntry& key, std::string_view amz_date) {
  Sha256Ctx p = key.hmac.inner;
  p.update(kAlgorithm);
  p.update("\n", 1);
  p.update(amz_date);
  p.update("\n", 1);
  p.update(key.date);
  p.update("/", 1);
  p.update(key.region);
  p.update("/", 1);
  p.update(key.service);
  p.update("/aws4_request\n");
  return p;
}

// HMAC(signing key, string to sign) as lowercase hex, for a string to sign made of `amz_date`
// (whose day is the entry's date), the entry's scope and `canonical_hash`.
void cached_signature_hex(KeyCacheEntry& key, std::string_view amz_date,
                          const Sha256& canonical_hash, char out[64]) {
  const bool cacheable = amz_date.size() == sizeof key.prefix_date;
  if (cacheable && std::memcmp(key.prefix_date, amz_date.data(), amz_date.size()) != 0) {
    key.prefix = string_to_sign_prefix(key, amz_date);
    std::memcpy(key.prefix_date, amz_date.data(), amz_date.size());
  }
  Sha256Ctx in = cacheable ? key.prefix : string_to_sign_prefix(key, amz_date);
  char digest_hex[64];
  to_hex_lower(canonical_hash, digest_hex);
  in.update(digest_hex, sizeof digest_hex);
  to_hex_lower(key.hmac.finish(in), out);
}

}  // namespace

Sha256 signing_key(std::string_view secret, std::string_view date, std::string_view region,
                   std::string_view service) {
  return signing_entry(secret, date, region, service).key;
}

void detail::signature_hex(std::string_view secret, std::string_view date, std::string_view region,
                           std::string_view service, std::string_view string_to_sign,
                           char out[64]) {
  to_hex_lower(signing_entry(secret, date, region, service).hmac.mac(string_to_sign), out);
}

std::string format_amz_date(std::chrono::system_clock::time_point t) {
  std::string s;
  amz_date_into(t, s);
  return s;
}

std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto num = [&](size_t at, size_t n) -> int {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2), se = num(13, 2);
  // Years are bounded so that the instant fits system_clock's nanoseconds (to 2262).
  if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      se < 0 || se > 60)
    return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max_day = kDays[mo - 1] + (mo == 2 && leap ? 1 : 0);
  if (d > max_day) return std::nullopt;
  int64_t days = days_from_civil(y, mo, d);
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se;
  return std::chrono::system_clock::time_point(std::chrono::seconds(secs));
}

void uri_encode(std::string_view in, bool encode_slash, std::string& out) {
  // At most three bytes out per byte in; written through a pointer, trimmed at the end.
  size_t at = out.size();
  out.resize(at + 3 * in.size());
  char* const start = out.data() + at;
  char* p = start;
  static constexpr std::array<bool, 256> kUnreserved = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = is_unreserved(static_cast<unsigned char>(c));
    return t;
  }();
  for (unsigned char c : in) {
    if (kUnreserved[c] || (c == '/' && !encode_slash)) {
      *p++ = static_cast<char>(c);
    } else {
      p[0] = '%';
      p[1] = kHexUpper[c >> 4];
      p[2] = kHexUpper[c & 15];
      p += 3;
    }
  }
  out.resize(at + static_cast<size_t>(p - start));
}

void canonical_uri(std::string_view wire_path, bool normalize, bool double_encode,
                   std::string& out) {
  if (wire_path.empty()) {
    out.push_back('/');
    return;
  }
  if (!normalize) {
    if (double_encode)
      uri_encode(wire_path, false, out);
    else
      out.append(wire_path);
    return;
  }
  // A path from '/' without empty or dot segments is its own normal form.
  auto plain_segments = [](std::string_view path) {
    if (path.front() != '/') return false;
    for (size_t i = 0; i + 1 < path.size(); ++i)
      if (path[i] == '/' && (path[i + 1] == '/' || path[i + 1] == '.')) return false;
    return true;
  };
  if (plain_segments(wire_path)) {
    if (double_encode)
      uri_encode(wire_path, false, out);
    else
      out.append(wire_path);
    return;
  }
  thread_local std::string normalized;
  normalized.clear();
  normalize_path(wire_path, normalized);
  if (normalized.empty()) normalized.push_back('/');
  if (double_encode)
    uri_encode(normalized, false, out);
  else
    out.append(normalized);
}

void canonical_query(std::string_view wire_query, std::string& out) {
  if (wire_query.empty()) return;
  thread_local std::string arena;
  thread_local std::string decoded;
  thread_local std::vector<QueryParam> params;
  arena.clear();
  params.clear();
  size_t i = 0;
  while (i <= wire_query.size()) {
    size_t j = wire_query.find('&', i);
    if (j == std::string_view::npos) j = wire_query.size();
    std::string_view piece = wire_query.substr(i, j - i);
    i = j + 1;
    if (piece.empty()) continue;  // "a=1&&b=2": no parameter between the separators
    size_t eq = piece.find('=');
    std::string_view name = piece.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
    QueryParam p;
    p.name_begin = static_cast<uint32_t>(arena.size());
    auto reencode = [](std::string_view part) {
      if (part.find('%') == std::string_view::npos) {
        uri_encode(part, true, arena);  // nothing to decode
        return;
      }
      decoded.clear();
      detail::percent_decode_lenient(part, decoded);
      uri_encode(decoded, true, arena);
    };
    reencode(name);
    p.name_len = static_cast<uint32_t>(arena.size() - p.name_begin);
    p.value_begin = static_cast<uint32_t>(arena.size());
    reencode(value);
    p.value_len = static_cast<uint32_t>(arena.size() - p.value_begin);
    params.push_back(p);
  }
  const std::string& a = arena;
  auto view = [&a](uint32_t b, uint32_t n) { return std::string_view(a).substr(b, n); };
  std::sort(params.begin(), params.end(), [&](const QueryParam& x, const QueryParam& y) {
    auto xn = view(x.name_begin, x.name_len), yn = view(y.name_begin, y.name_len);
    if (xn != yn) return xn < yn;
    return view(x.value_begin, x.value_len) < view(y.value_begin, y.value_len);
  });
  for (size_t k = 0; k < params.size(); ++k) {
    if (k) out.push_back('&');
    out.append(view(params[k].name_begin, params[k].name_len));
    out.push_back('=');
    out.append(view(params[k].value_begin, params[k].value_len));
  }
}

// ---- signing ----

SigningParams params_for(std::string_view service, std::string_view region,
                         std::chrono::system_clock::time_point time) {
  SigningParams p;
  p.service = service;
  p.region = region;
  p.time = time;
  if (service == "s3" || service == "s3-object-lambda" || service == "s3express") {
    p.normalize_path = false;
    p.double_encode_path = false;
    p.add_content_sha256_header = true;
  }
  return p;
}

bool allows_unsigned_payload(std::string_view service) {
  return service == "s3" || service == "s3-object-lambda" || service == "s3express";
}

namespace {

// What both signing forms check before doing any work.
bool check_inputs(const RequestView& request, const Credentials& credentials,
                  const SigningParams& params, std::string& error) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    error = "the credentials have no access key id or no secret access key";
    return false;
  }
  if (!detail::is_scope_token(params.region)) {
    error = "the signing region '" + std::string(params.region) +
            "' is empty or has characters other than letters, digits, '-', '_' and '.'";
    return false;
  }
  if (!detail::is_scope_token(params.service)) {
    error = "the signing service '" + std::string(params.service) +
            "' is empty or has characters other than letters, digits, '-', '_' and '.'";
    return false;
  }
  bool host = false;
  for (const auto& h : request.headers)
    if (iequals(h.name, "host")) host = true;
  if (!host) {
    error = "the request has no Host header (SigV4 always signs it)";
    return false;
  }
  if (request.payload.kind == Payload::Kind::kPrecomputedSha256 &&
      !detail::is_lower_hex64(request.payload.data)) {
    error = "the precomputed payload hash is not 64 lowercase hex digits";
    return false;
  }
  return true;
}

// The payload line of the canonical request, into `out` (64 hex or UNSIGNED-PAYLOAD).
void payload_hash(const Payload& p, std::string& out) {
  out.clear();
  switch (p.kind) {
    case Payload::Kind::kBody: {
      if (p.data.empty()) {
        out.assign(kEmptyPayloadSha256);
      } else {
        Sha256 h = sha256(p.data);
        detail::append_hex(h.data(), h.size(), out);
      }
      break;
    }
    case Payload::Kind::kPrecomputedSha256:
      out.assign(p.data);
      break;
    case Payload::Kind::kUnsigned:
      out.assign(kUnsignedPayload);
      break;
  }
}

void append_scope(std::string_view date, const SigningParams& params, std::string& out) {
  out.append(date);
  out.push_back('/');
  out.append(params.region);
  out.push_back('/');
  out.append(params.service);
  out.append("/aws4_request");
}

struct Scratch {
  std::vector<detail::CanonicalHeader> headers;
  std::string names;  // the headers' lowercase names
  std::string canonical;
  std::string signed_names;
  std::string payload;
  std::string query;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

bool sign_request(const RequestView& request, const Credentials& credentials,
                  const SigningParams& params, SigningOutput& out) {
  out.error.clear();
  out.authorization.clear();
  out.session_token.clear();
  out.content_sha256.clear();
  out.canonical_request.clear();
  out.string_to_sign.clear();
  if (!check_inputs(request, credentials, params, out.error)) return false;

  Scratch& s = scratch();
  amz_date_into(params.time, out.amz_date);
  const bool has_token = !credentials.session_token.empty();
  const bool sign_token = has_token && params.session_token == SessionTokenPlacement::kSigned;

  // botocore: a caller-provided X-Amz-Content-Sha256 (UNSIGNED-PAYLOAD, typically) is the
  // payload line when the signer is not the one setting it.
  std::string_view given_content_sha;
  // Every name lowercased once, into space sized up front (the views must not move); the
  // chosen headers written by index into a list sized for all of them plus the three added.
  size_t name_bytes = 0;
  for (const auto& h : request.headers) name_bytes += h.name.size();
  if (s.names.size() < name_bytes) s.names.resize(name_bytes);
  s.headers.resize(request.headers.size() + 3);
  detail::CanonicalHeader* chosen = s.headers.data();
  char* arena = s.names.data();
  for (const auto& h : request.headers) {
    std::string_view name(arena, h.name.size());
    arena = lower_into(h.name, arena);
    if (name == "authorization" || name == "x-amz-date") continue;
    if (has_token && name == "x-amz-security-token") continue;
    if (name == "x-amz-content-sha256") {
      if (params.add_content_sha256_header) continue;
      given_content_sha = h.value;
    }
    if (is_unsigned_header(name, params.unsigned_headers)) continue;
    *chosen++ = {name, h.value};
  }
  if (given_content_sha.empty()) {
    payload_hash(request.payload, s.payload);
  } else {
    s.payload.assign(trim(given_content_sha));
  }
  *chosen++ = {"x-amz-date", out.amz_date};
  if (sign_token) *chosen++ = {"x-amz-security-token", credentials.session_token};
  if (params.add_content_sha256_header) {
    out.content_sha256 = s.payload;
    *chosen++ = {"x-amz-content-sha256", out.content_sha256};
  }
  s.headers.resize(static_cast<size_t>(chosen - s.headers.data()));

  detail::CanonicalRequestParts parts;
  parts.method = request.method;
  parts.path = request.path;
  parts.query = request.query;
  parts.normalize_path = params.normalize_path;
  parts.double_encode_path = params.double_encode_path;
  parts.payload_hash = s.payload;
  detail::build_canonical_request(parts, s.headers, s.canonical, s.signed_names);

  std::string_view date = std::string_view(out.amz_date).substr(0, 8);
  KeyCacheEntry& key =
      signing_entry(credentials.secret_access_key, date, params.region, params.service);
  char sig[64];
  cached_signature_hex(key, out.amz_date, sha256(s.canonical), sig);
  out.signature.assign(sig, 64);

  out.authorization.reserve(100 + credentials.access_key_id.size() + s.signed_names.size());
  out.authorization.append(kAlgorithm);
  out.authorization.append(" Credential=");
  out.authorization.append(credentials.access_key_id);
  out.authorization.push_back('/');
  append_scope(date, params, out.authorization);
  out.authorization.append(", SignedHeaders=");
  out.authorization.append(s.signed_names);
  out.authorization.append(", Signature=");
  out.authorization.append(sig, 64);
  if (has_token) out.session_token = credentials.session_token;
  if (params.keep_intermediates) {
    out.canonical_request = s.canonical;
    detail::build_string_to_sign(out.amz_date, params.region, params.service, s.canonical,
                                 out.string_to_sign);
  }
  return true;
}

size_t SigningOutput::headers(std::array<HeaderField, 4>& list) const {
  size_t n = 0;
  for_each_header([&](std::string_view name, std::string_view value) {
    list[n++] = {name, value};
  });
  return n;
}

bool presign_request(const RequestView& request, const Credentials& credentials,
                     const SigningParams& params, std::chrono::seconds expires,
                     PresignOutput& out) {
  out.error.clear();
  out.query.clear();
  out.canonical_request.clear();
  out.string_to_sign.clear();
  if (!check_inputs(request, credentials, params, out.error)) return false;
  if (expires.count() < 1 || expires.count() > 604800) {
    out.error = "X-Amz-Expires must be between 1 and 604800 seconds";
    return false;
  }
  Scratch& s = scratch();
  std::string amz_date = format_amz_date(params.time);
  std::string_view date = std::string_view(amz_date).substr(0, 8);
  const bool has_token = !credentials.session_token.empty();

  s.headers.clear();
  for (const auto& h : request.headers) {
    if (iequals(h.name, "authorization")) continue;
    if (name_in(h.name, params.unsigned_headers)) continue;
    s.headers.push_back({h.name, h.value});
  }
  detail::lowercase_names(s.headers, s.names);
  // SignedHeaders is a query parameter, so the header list is needed before the query.
  {
    std::string unused;
    s.signed_names.clear();
    detail::append_canonical_headers(s.headers, unused, s.signed_names);
  }

  // Parameters in the order aws-c-auth writes them.
  std::string& q = out.query;
  q.assign(request.query);
  auto add = [&q](std::string_view name) -> std::string& {
    if (!q.empty()) q.push_back('&');
    q.append(name);
    q.push_back('=');
    return q;
  };
  add("X-Amz-Algorithm").append(kAlgorithm);
  std::string credential(credentials.access_key_id);
  credential.push_back('/');
  append_scope(date, params, credential);
  uri_encode(credential, true, add("X-Amz-Credential"));
  add("X-Amz-Date").append(amz_date);
  uri_encode(s.signed_names, true, add("X-Amz-SignedHeaders"));
  add("X-Amz-Expires").append(std::to_string(expires.count()));
  size_t before_token = q.size();
  if (has_token) uri_encode(credentials.session_token, true, add("X-Amz-Security-Token"));

  std::string_view canonical_query_input(q);
  if (has_token && params.session_token == SessionTokenPlacement::kAddedAfterSigning)
    canonical_query_input = canonical_query_input.substr(0, before_token);

  payload_hash(request.payload, s.payload);
  detail::CanonicalRequestParts parts;
  parts.method = request.method;
  parts.path = request.path;
  parts.query = canonical_query_input;
  parts.normalize_path = params.normalize_path;
  parts.double_encode_path = params.double_encode_path;
  parts.payload_hash = s.payload;
  std::string signed_names;
  detail::build_canonical_request(parts, s.headers, s.canonical, signed_names);
  KeyCacheEntry& key =
      signing_entry(credentials.secret_access_key, date, params.region, params.service);
  char sig[64];
  cached_signature_hex(key, amz_date, sha256(s.canonical), sig);
  out.signature.assign(sig, 64);
  add("X-Amz-Signature").append(sig, 64);
  if (params.keep_intermediates) {
    out.canonical_request = s.canonical;
    detail::build_string_to_sign(amz_date, params.region, params.service, s.canonical,
                                 out.string_to_sign);
  }
  return true;
}

bool is_viewer_signing_header(std::string_view name) {
  if (name.size() < 6) return false;
  if ((name[0] | 0x20) == 'a') return iequals(name, "authorization");
  return (name[0] | 0x20) == 'x' && iequals(name.substr(0, 6), "x-amz-");
}

namespace {

// "us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "us-isob-east-1"...
bool looks_like_region(std::string_view s) {
  auto parts = split(s, '-');
  if (parts.size() < 3 || parts.size() > 4) return false;
  if (parts[0].size() != 2) return false;
  for (auto p : parts)
    if (p.empty()) return false;
  for (size_t i = 0; i + 1 < parts.size(); ++i)
    for (char c : parts[i])
      if (c < 'a' || c > 'z') return false;
  for (char c : parts.back())
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::optional<ServiceRegion> infer_service_region(std::string_view host_in) {
  std::string host = to_lower(trim(host_in));
  // Drop the port ("[::1]:443" has no service to find anyway).
  if (!host.empty() && host.front() != '[') {
    size_t colon = host.rfind(':');
    if (colon != std::string::npos) host.resize(colon);
  }
  if (!host.empty() && host.back() == '.') host.pop_back();
  std::vector<std::string_view> labels = split(host, '.');
  for (auto l : labels)
    if (l.empty()) return std::nullopt;
  size_t n = labels.size();

  // <url-id>.lambda-url.<region>.on.aws
  if (n >= 5 && labels[n - 1] == "aws" && labels[n - 2] == "on" && labels[n - 4] == "lambda-url" &&
      looks_like_region(labels[n - 3]))
    return ServiceRegion{"lambda", std::string(labels[n - 3])};

  // Strip amazonaws.com / amazonaws.com.cn
  size_t base;
  if (n >= 2 && labels[n - 1] == "com" && labels[n - 2] == "amazonaws") {
    base = n - 2;
  } else if (n >= 3 && labels[n - 1] == "cn" && labels[n - 2] == "com" &&
             labels[n - 3] == "amazonaws") {
    base = n - 3;
  } else {
    return std::nullopt;
  }
  if (base == 0) return std::nullopt;
  auto service_name = [](std::string_view s) {
    std::string svc(s);
    if (svc.size() > 5 && svc.ends_with("-fips")) svc.resize(svc.size() - 5);
    return svc;
  };
  std::string_view last = labels[base - 1];
  if (base >= 2 && looks_like_region(last)) {
    std::string_view svc = labels[base - 2];
    // <bucket>.s3.<region>..., <api>.execute-api.<region>..., <svc>.<region>...
    if (svc == "dualstack" && base >= 3) svc = labels[base - 3];
    if (svc.starts_with("s3-")) svc = "s3";  // s3-accesspoint, s3-control...
    return ServiceRegion{service_name(svc), std::string(last)};
  }
  if (base >= 2 && looks_like_region(labels[base - 2])) {
    // <domain>.<region>.es.amazonaws.com style: service after the region.
    return ServiceRegion{service_name(last), std::string(labels[base - 2])};
  }
  // Global endpoints: s3.amazonaws.com, <bucket>.s3.amazonaws.com, iam/sts/route53/...
  if (last == "s3") return ServiceRegion{"s3", "us-east-1"};
  if (last.starts_with("s3-") && looks_like_region(last.substr(3)))
    return ServiceRegion{"s3", std::string(last.substr(3))};
  if (base == 1 && (last == "iam" || last == "sts" || last == "route53" || last == "cloudfront" ||
                    last == "organizations" || last == "waf"))
    return ServiceRegion{std::string(last), "us-east-1"};
  return std::nullopt;
}

}  // namespace eg::aws::sigv4
