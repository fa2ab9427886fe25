#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
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
constexpr bool is_header_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const EVP_MD* sha256_md() {
  // Fetched once: an implicit fetch per EVP_DigestInit costs a provider lookup.
  static EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (!m) throw std::runtime_error("OpenSSL: SHA256 is not available");
    return m;
  }();
  return md;
}

// One reusable digest context per thread: EVP_MD_CTX_new per hash would allocate on every
// request.
class Sha256Hasher {
 public:
  Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_) throw std::runtime_error("OpenSSL: EVP_MD_CTX_new failed");
  }
  ~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void init() { EVP_DigestInit_ex2(ctx_, sha256_md(), nullptr); }
  void update(const void* p, size_t n) {
    if (n) EVP_DigestUpdate(ctx_, p, n);
  }
  void final(uint8_t out[32]) {
    unsigned int len = 32;
    EVP_DigestFinal_ex(ctx_, out, &len);
  }

 private:
  EVP_MD_CTX* ctx_;
};

Sha256Hasher& thread_hasher() {
  thread_local Sha256Hasher h;
  return h;
}

// Derived keys of the last few (secret, date, region, service) tuples this thread used.
// Per thread, so signing never takes a lock; a gateway thread signs for a handful of
// origins, and each entry changes once a day.
struct KeyCacheEntry {
  std::string secret;
  std::string date;
  std::string region;
  std::string service;
  Sha256 key{};
  bool used = false;
};
struct KeyCache {
  static constexpr size_t kSize = 8;
  KeyCacheEntry entries[kSize];
  size_t next = 0;
};

// Merge-free insertion sort: stable, and unlike std::stable_sort it never allocates.
void sort_headers(std::vector<detail::CanonicalHeader>& h) {
  for (size_t i = 1; i < h.size(); ++i) {
    auto cur = h[i];
    size_t j = i;
    while (j > 0 && detail::compare_lower(h[j - 1].name, cur.name) > 0) {
      h[j] = h[j - 1];
      --j;
    }
    h[j] = cur;
  }
}

// These run for every header of every signed request: they write through a pointer into
// space reserved once, because std::string::push_back per byte cost a quarter of the
// signing time.
void append_lower(std::string_view s, std::string& out) {
  size_t at = out.size();
  out.resize(at + s.size());
  char* p = out.data() + at;
  for (char c : s) *p++ = ascii_lower(c);
}

// Trimall: leading/trailing whitespace removed, inner runs collapsed to one space.
void append_trimmed_value(std::string_view v, std::string& out) {
  size_t b = 0, e = v.size();
  while (b < e && is_header_space(v[b])) ++b;
  while (e > b && is_header_space(v[e - 1])) --e;
  size_t at = out.size();
  out.resize(at + (e - b));
  char* const start = out.data() + at;
  char* p = start;
  bool in_space = false;
  for (size_t i = b; i < e; ++i) {
    char c = v[i];
    if (is_header_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space) {
      *p++ = ' ';
      in_space = false;
    }
    *p++ = c;
  }
  out.resize(at + static_cast<size_t>(p - start));
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

int compare_lower(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = static_cast<unsigned char>(ascii_lower(a[i]));
    unsigned char y = static_cast<unsigned char>(ascii_lower(b[i]));
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

void append_canonical_headers(std::vector<CanonicalHeader>& headers, std::string& canonical,
                              std::string& signed_names) {
  sort_headers(headers);
  for (size_t i = 0; i < headers.size();) {
    size_t j = i + 1;
    while (j < headers.size() && compare_lower(headers[i].name, headers[j].name) == 0) ++j;
    append_lower(headers[i].name, canonical);
    canonical.push_back(':');
    for (size_t k = i; k < j; ++k) {
      if (k > i) canonical.push_back(',');
      append_trimmed_value(headers[k].value, canonical);
    }
    canonical.push_back('\n');
    if (!signed_names.empty()) signed_names.push_back(';');
    append_lower(headers[i].name, signed_names);
    i = j;
  }
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

void signature_hex(const Sha256& signing_key, std::string_view string_to_sign, char out[64]) {
  Sha256 mac = hmac_sha256(signing_key, string_to_sign);
  for (size_t i = 0; i < 32; ++i) {
    out[2 * i] = kHexLower[mac[i] >> 4];
    out[2 * i + 1] = kHexLower[mac[i] & 15];
  }
}

void append_hex(const uint8_t* data, size_t n, std::string& out) {
  size_t at = out.size();
  out.resize(at + 2 * n);
  for (size_t i = 0; i < n; ++i) {
    out[at + 2 * i] = kHexLower[data[i] >> 4];
    out[at + 2 * i + 1] = kHexLower[data[i] & 15];
  }
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
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
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
  auto& h = thread_hasher();
  h.init();
  h.update(data.data(), data.size());
  h.final(out.data());
  return out;
}

std::string hex(const Sha256& digest) {
  std::string s;
  detail::append_hex(digest.data(), digest.size(), s);
  return s;
}

Sha256 hmac_sha256(std::span<const uint8_t> key, std::string_view data) {
  // RFC 2104 over the thread's reusable SHA-256 context (OpenSSL's HMAC() fetches the
  // algorithm and allocates a context on every call).
  uint8_t block[64] = {};
  if (key.size() > 64) {
    Sha256 k = sha256({reinterpret_cast<const char*>(key.data()), key.size()});
    std::memcpy(block, k.data(), k.size());
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t pad[64];
  auto& h = thread_hasher();
  for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
  Sha256 inner;
  h.init();
  h.update(pad, 64);
  h.update(data.data(), data.size());
  h.final(inner.data());
  for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
  Sha256 out;
  h.init();
  h.update(pad, 64);
  h.update(inner.data(), inner.size());
  h.final(out.data());
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
  return out;
}

Sha256 signing_key(std::string_view secret, std::string_view date, std::string_view region,
                   std::string_view service) {
  thread_local KeyCache cache;
  for (auto& e : cache.entries)
    if (e.used && e.date == date && e.region == region && e.service == service &&
        detail::constant_time_equal(e.secret, secret))
      return e.key;

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
  slot.used = true;
  return k_signing;
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
  for (unsigned char c : in) {
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
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
  std::string canonical;
  std::string signed_names;
  std::string string_to_sign;
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
  s.headers.clear();
  for (const auto& h : request.headers) {
    if (iequals(h.name, "authorization") || iequals(h.name, "x-amz-date")) continue;
    if (has_token && iequals(h.name, "x-amz-security-token")) continue;
    if (iequals(h.name, "x-amz-content-sha256")) {
      if (params.add_content_sha256_header) continue;
      given_content_sha = h.value;
    }
    if (name_in(h.name, params.unsigned_headers)) continue;
    s.headers.push_back({h.name, h.value});
  }
  if (given_content_sha.empty()) {
    payload_hash(request.payload, s.payload);
  } else {
    s.payload.assign(trim(given_content_sha));
  }
  s.headers.push_back({"x-amz-date", out.amz_date});
  if (sign_token) s.headers.push_back({"x-amz-security-token", credentials.session_token});
  if (params.add_content_sha256_header) {
    out.content_sha256 = s.payload;
    s.headers.push_back({"x-amz-content-sha256", out.content_sha256});
  }

  detail::CanonicalRequestParts parts;
  parts.method = request.method;
  parts.path = request.path;
  parts.query = request.query;
  parts.normalize_path = params.normalize_path;
  parts.double_encode_path = params.double_encode_path;
  parts.payload_hash = s.payload;
  detail::build_canonical_request(parts, s.headers, s.canonical, s.signed_names);
  detail::build_string_to_sign(out.amz_date, params.region, params.service, s.canonical,
                               s.string_to_sign);

  std::string_view date = std::string_view(out.amz_date).substr(0, 8);
  Sha256 key = signing_key(credentials.secret_access_key, date, params.region, params.service);
  char sig[64];
  detail::signature_hex(key, s.string_to_sign, sig);
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
    out.string_to_sign = s.string_to_sign;
  }
  return true;
}

size_t SigningOutput::headers(std::array<HeaderField, 4>& list) const {
  size_t n = 0;
  if (!session_token.empty()) list[n++] = {"X-Amz-Security-Token", session_token};
  list[n++] = {"X-Amz-Date", amz_date};
  if (!content_sha256.empty()) list[n++] = {"x-amz-content-sha256", content_sha256};
  list[n++] = {"Authorization", authorization};
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
  detail::build_string_to_sign(amz_date, params.region, params.service, s.canonical,
                               s.string_to_sign);
  Sha256 key = signing_key(credentials.secret_access_key, date, params.region, params.service);
  char sig[64];
  detail::signature_hex(key, s.string_to_sign, sig);
  out.signature.assign(sig, 64);
  add("X-Amz-Signature").append(sig, 64);
  if (params.keep_intermediates) {
    out.canonical_request = s.canonical;
    out.string_to_sign = s.string_to_sign;
  }
  return true;
}

bool is_viewer_signing_header(std::string_view name) {
  if (iequals(name, "authorization")) return true;
  return name.size() >= 6 && iequals(name.substr(0, 6), "x-amz-");
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
