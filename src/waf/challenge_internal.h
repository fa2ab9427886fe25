// The pieces of challenge.cc that its tests reach into: sealed blobs, key derivation, the
// CAPTCHA renderer and the pages. Not part of the engine's interface.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/message.h"
#include "waf/ip_address.h"

namespace eg::waf::challenge_detail {

using Key = std::array<uint8_t, 32>;

// One key per kind of sealed blob, derived from the configured key, so a blob of one kind
// (a proof-of-work nonce, say) can never be replayed as another (a token).
struct Keys {
  Key token;
  Key pow;
  Key captcha;
  Key answer;  // the keyed hash of a CAPTCHA answer inside its puzzle id
};
Keys derive_keys(std::string_view key);

std::string base64url(std::string_view bytes);                       // no padding
std::optional<std::string> base64url_decode(std::string_view text);  // strict, no padding

// "<base64url(blob)>.<base64url(HMAC-SHA256(key, blob))>".
std::string seal(const Key& key, std::string_view blob);
// The blob when the MAC is right (compared in constant time); nullopt for anything else.
std::optional<std::string> unseal(const Key& key, std::string_view sealed);

// Leading zero bits of SHA-256(nonce ":" counter), what the proof of work is judged by.
uint32_t work_bits(std::string_view nonce, std::string_view counter);

// The Host header, port stripped, lowercased, trailing dot removed; "" when absent.
std::string request_host(const http::Headers& headers);

// Does the client accept text/html (a media range text/html with q > 0)?
bool accepts_html(const http::Headers& headers);

// CAPTCHA answers use this alphabet only: no glyph a distorted rendering could confuse with
// another (no 0/O, 1/I, 2/Z, 5/S, 8/B, 6/G, 7/T).
inline constexpr std::string_view kCaptchaAlphabet = "ACDEFGHJKLMNPQRTUVWXY349";
inline constexpr size_t kCaptchaLength = 6;

// The puzzle id for an answer: a sealed blob holding expiry, client address, a salt and a
// keyed hash of the answer (keyed, so the id cannot be brute-forced offline).
std::string captcha_puzzle_id(const Keys& keys, std::string_view answer, const IpAddress& client,
                              int64_t expires_ms);
// The answer drawn as stroked paths (never as text, which a bot would just read), each glyph
// rotated, sheared, scaled and jittered, its strokes shuffled among noise strokes.
std::string render_captcha_svg(std::string_view answer, uint64_t seed);

// The interstitial pages (challenge_pages.cc) and the CSP they are written to pass.
extern const std::string_view kChallengePage;
extern const std::string_view kCaptchaPage;
inline constexpr std::string_view kPageCsp =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'self'";

}  // namespace eg::waf::challenge_detail
