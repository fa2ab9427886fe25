// The Challenge and CAPTCHA pages, and the CAPTCHA picture. The pages are static (the
// same bytes for every request, so answering a flood of challenged requests costs a copy);
// their script fetches its puzzle from the endpoint. No external resources: they pass
// kPageCsp, which the responses carry.
#include <cmath>
#include <cstdio>
#include <numbers>
#include <utility>
#include <vector>

#include "waf/challenge_internal.h"

namespace eg::waf::challenge_detail {

// sha256() is global so the browser tests can check it against a reference; the page uses
// it only where crypto.subtle is missing (a non-secure origin: plain http to a name).
const std::string_view kChallengePage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>Checking your browser</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;background:#f6f7f9;color:#1d2330}
main{max-width:30rem;padding:2rem;text-align:center}
h1{font-size:1.4rem;font-weight:600}
.spin{width:2.5rem;height:2.5rem;margin:0 auto 1rem;border:4px solid #d5d9e0;border-top-color:#3a63d8;border-radius:50%;animation:r 1s linear infinite}
@keyframes r{to{transform:rotate(360deg)}}
.err .spin{display:none}.err #msg{color:#a4161a}
</style></head>
<body><main id="box"><div class="spin"></div><h1>Checking your browser</h1>
<p id="msg">This takes a moment and happens once. The page will load by itself.</p>
<noscript><p>Please enable JavaScript to continue.</p></noscript></main>
<script>
"use strict";
var EG_ENDPOINT = "/.edgeguard/waf/";
var SHA256_K = new Uint32Array([
  0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,
  0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,
  0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
  0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,
  0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,
  0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
  0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,
  0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2]);
function sha256(msg) {
  var len = msg.length, n = ((len + 9 + 63) >> 6) << 6, buf = new Uint8Array(n);
  buf.set(msg); buf[len] = 0x80;
  var dv = new DataView(buf.buffer);
  dv.setUint32(n - 8, Math.floor(len / 0x20000000)); dv.setUint32(n - 4, (len * 8) >>> 0);
  var H = new Uint32Array([0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,
                           0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19]);
  var W = new Uint32Array(64);
  for (var off = 0; off < n; off += 64) {
    for (var i = 0; i < 16; i++) W[i] = dv.getUint32(off + 4 * i);
    for (i = 16; i < 64; i++) {
      var x = W[i - 15], y = W[i - 2];
      W[i] = W[i - 16] + ((x >>> 7 | x << 25) ^ (x >>> 18 | x << 14) ^ (x >>> 3)) + W[i - 7] +
             ((y >>> 17 | y << 15) ^ (y >>> 19 | y << 13) ^ (y >>> 10));
    }
    var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
    for (i = 0; i < 64; i++) {
      var t1 = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) +
                ((e & f) ^ (~e & g)) + SHA256_K[i] + W[i]) | 0;
      var t2 = (((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) +
                ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }
  var out = new Uint8Array(32), ov = new DataView(out.buffer);
  for (i = 0; i < 8; i++) ov.setUint32(4 * i, H[i]);
  return out;
}
function hasLeadingZeroBits(hash, bits) {
  var i = 0;
  for (; bits >= 8; bits -= 8, i++) if (hash[i] !== 0) return false;
  return bits === 0 || (hash[i] >> (8 - bits)) === 0;
}
var egUsedSubtle = false;
async function solve(nonce, bits) {
  var enc = new TextEncoder(), prefix = nonce + ":";
  if (window.isSecureContext && window.crypto && crypto.subtle) {
    egUsedSubtle = true;
    // Digests are asked for in batches: one await per hash would spend its time waiting.
    for (var base = 0; ; base += 512) {
      var batch = [];
      for (var c = base; c < base + 512; c++)
        batch.push(crypto.subtle.digest("SHA-256", enc.encode(prefix + c)));
      var hashes = await Promise.all(batch);
      for (var k = 0; k < hashes.length; k++)
        if (hasLeadingZeroBits(new Uint8Array(hashes[k]), bits)) return base + k;
    }
  }
  for (var n = 0; ; n++) {
    if (hasLeadingZeroBits(sha256(enc.encode(prefix + n)), bits)) return n;
    if ((n & 8191) === 8191) await new Promise(function (r) { setTimeout(r, 0); });
  }
}
function say(text) {
  document.getElementById("msg").textContent = text;
  document.getElementById("box").className = "err";
}
function recentPasses() {
  try {
    var now = Date.now();
    return JSON.parse(sessionStorage.getItem("eg-waf-passes") || "[]")
        .filter(function (t) { return now - t < 60000; });
  } catch (e) { return []; }
}
(async function () {
  // A browser that drops the cookie would be challenged again after every reload.
  var passes = recentPasses();
  if (passes.length >= 3) {
    say("This site keeps asking your browser to verify itself. Please allow cookies for it, then reload.");
    return;
  }
  for (var attempt = 0; attempt < 3; attempt++) {
    try {
      var r = await fetch(EG_ENDPOINT + "challenge", {cache: "no-store", credentials: "same-origin"});
      if (!r.ok) throw new Error("puzzle: HTTP " + r.status);
      var puzzle = await r.json();
      var counter = await solve(puzzle.nonce, puzzle.difficulty);
      r = await fetch(EG_ENDPOINT + "verify", {
        method: "POST", cache: "no-store", credentials: "same-origin",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({nonce: puzzle.nonce, counter: String(counter)})});
      if (r.ok) {
        passes.push(Date.now());
        try { sessionStorage.setItem("eg-waf-passes", JSON.stringify(passes)); } catch (e) {}
        if (location.hash) location.reload(); else location.replace(location.href);
        return;
      }
      var answer = await r.json().catch(function () { return {}; });
      if (answer.reason !== "expired nonce") throw new Error(answer.reason || "HTTP " + r.status);
    } catch (e) {
      say("Verification failed (" + e.message + "). Reload the page to try again.");
      return;
    }
  }
  say("Verification took too long. Reload the page to try again.");
})();
</script></body></html>
)html";

const std::string_view kCaptchaPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>Confirm you are a person</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;background:#f6f7f9;color:#1d2330}
main{max-width:30rem;padding:2rem;text-align:center}
h1{font-size:1.4rem;font-weight:600}
#pic{min-height:120px;margin:1rem 0 .5rem}#pic svg{width:20rem;max-width:100%;height:auto;border-radius:6px}
input{font:inherit;font-size:1.3rem;letter-spacing:.2em;text-transform:uppercase;width:11rem;padding:.4rem .6rem;border:1px solid #9aa3b2;border-radius:6px;text-align:center}
button{font:inherit;padding:.45rem 1rem;border-radius:6px;border:1px solid #3a63d8;background:#3a63d8;color:#fff;cursor:pointer}
button.plain{background:none;color:#3a63d8;border:none;padding:.2rem .5rem}
.bad{color:#a4161a}
</style></head>
<body><main>
<h1>Confirm you are a person</h1>
<p id="msg">Type the characters you see in the picture.</p>
<form id="form" autocomplete="off">
<div id="pic" role="img" aria-label="Distorted characters to type"></div>
<p><button type="button" class="plain" id="another">Show another picture</button></p>
<p><input id="answer" name="answer" maxlength="16" spellcheck="false" autocapitalize="characters"
  aria-label="The characters in the picture" required>
<button type="submit" id="send">Continue</button></p>
</form>
<noscript><p>Please enable JavaScript to continue.</p></noscript></main>
<script>
"use strict";
var EG_ENDPOINT = "/.edgeguard/waf/", puzzleId = "";
function say(text, bad) {
  var m = document.getElementById("msg");
  m.textContent = text;
  m.className = bad ? "bad" : "";
}
function show(p) {
  puzzleId = p.puzzle;
  document.getElementById("pic").innerHTML = p.svg;
  var input = document.getElementById("answer");
  input.value = "";
  input.focus();
}
async function load() {
  try {
    var r = await fetch(EG_ENDPOINT + "captcha", {cache: "no-store", credentials: "same-origin"});
    if (!r.ok) throw new Error("HTTP " + r.status);
    show(await r.json());
  } catch (e) {
    say("Could not load a picture (" + e.message + "). Reload the page to try again.", true);
  }
}
var reasons = {"wrong answer": "That was not right. Try this one.",
               "expired puzzle": "That picture expired. Try this one."};
document.getElementById("another").addEventListener("click", function () {
  say("Type the characters you see in the picture.");
  load();
});
document.getElementById("form").addEventListener("submit", async function (ev) {
  ev.preventDefault();
  var send = document.getElementById("send");
  send.disabled = true;
  try {
    var r = await fetch(EG_ENDPOINT + "captcha-verify", {
      method: "POST", cache: "no-store", credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({puzzle: puzzleId, answer: document.getElementById("answer").value})});
    var answer = await r.json().catch(function () { return {}; });
    if (r.ok && answer.ok) {
      say("Thank you.");
      if (location.hash) location.reload(); else location.replace(location.href);
      return;
    }
    say(reasons[answer.reason] || "That did not work (" + (answer.reason || "HTTP " + r.status) +
        "). Try this one.", true);
    if (answer.next) show(answer.next); else await load();
  } catch (e) {
    say("Could not check the answer (" + e.message + "). Try again.", true);
  }
  send.disabled = false;
});
load();
</script></body></html>
)html";

namespace {

// Strokes on a 4 x 6 grid (x right, y down): points as two digits "xy", polylines split by
// '|'. Hand-drawn rather than a font so the picture holds no text and needs no font file.
struct GlyphStrokes {
  char glyph;
  std::string_view strokes;
};
constexpr GlyphStrokes kGlyphs[] = {
    {'A', "062046|1434"},
    {'C', "4130100105163645"},
    {'D', "00062644422000"},
    {'E', "40000646|0333"},
    {'F', "400006|0333"},
    {'G', "41301001051636454323"},
    {'H', "0006|4046|0343"},
    {'J', "4045361605"},
    {'K', "0006|4004|1346"},
    {'L', "000646"},
    {'M', "0600234046"},
    {'N', "06004640"},
    {'P', "06003041423303"},
    {'Q', "103041453616050110|2446"},
    {'R', "06003041423303|2346"},
    {'T', "0040|2026"},
    {'U', "000516364540"},
    {'V', "002640"},
    {'W', "0016233640"},
    {'X', "0046|4006"},
    {'Y', "002340|2326"},
    {'3', "01103041423313|334445361605"},
    {'4', "36300444"},
    {'9', "4313020110304145361605"},
};

// splitmix64: the picture needs variety, not secrecy (the answer comes from RAND_bytes).
class PictureRng {
 public:
  explicit PictureRng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * double(next() >> 11) * 0x1p-53; }

 private:
  uint64_t state_;
};

struct Point {
  double x, y;
};

// One curved piece of stroke: "M a Q control b".
std::string segment(Point a, Point control, Point b) {
  char buf[96];
  int n = std::snprintf(buf, sizeof buf, "M%.1f %.1fQ%.1f %.1f %.1f %.1f", a.x, a.y, control.x,
                        control.y, b.x, b.y);
  return std::string(buf, size_t(std::max(n, 0)));
}

// A control point off the middle of a-b, so straight strokes come out slightly bent.
Point bend(Point a, Point b, PictureRng& rng, double amount) {
  double dx = b.x - a.x, dy = b.y - a.y;
  double k = rng.uniform(-amount, amount);
  return {(a.x + b.x) / 2 - dy * k, (a.y + b.y) / 2 + dx * k};
}

}  // namespace

std::string render_captcha_svg(std::string_view answer, uint64_t seed) {
  constexpr double kWidth = 220, kHeight = 80;
  PictureRng rng(seed);
  // Each polyline is cut into single segments and every segment shuffled among the noise, so
  // the path's structure says nothing about which glyph a segment belongs to.
  std::vector<std::string> pieces;
  const double advance = (kWidth - 24) / double(std::max<size_t>(answer.size(), 1));
  for (size_t i = 0; i < answer.size(); ++i) {
    const GlyphStrokes* g = nullptr;
    for (const GlyphStrokes& candidate : kGlyphs)
      if (candidate.glyph == answer[i]) g = &candidate;
    if (!g) continue;
    const double scale = rng.uniform(4.9, 5.7);  // pixels per grid unit
    const double stretch = rng.uniform(0.85, 1.15);
    const double shear = rng.uniform(-0.25, 0.25);
    const double angle = rng.uniform(-0.3, 0.3);
    const double cx = 12 + advance * (double(i) + 0.5) + rng.uniform(-3, 3);
    const double cy = kHeight / 2 + rng.uniform(-6, 6);
    const double cos_a = std::cos(angle), sin_a = std::sin(angle);
    auto place = [&](int gx, int gy) {
      double u = (gx - 2) * scale * stretch + rng.uniform(-0.9, 0.9);
      double v = (gy - 3) * scale + rng.uniform(-0.9, 0.9);
      u += shear * v;
      return Point{cx + u * cos_a - v * sin_a, cy + u * sin_a + v * cos_a};
    };
    std::vector<Point> line;
    auto flush = [&] {
      for (size_t k = 1; k < line.size(); ++k)
        pieces.push_back(segment(line[k - 1], bend(line[k - 1], line[k], rng, 0.18), line[k]));
      line.clear();
    };
    std::string_view s = g->strokes;
    for (size_t k = 0; k < s.size();) {
      if (s[k] == '|') {
        flush();
        ++k;
        continue;
      }
      if (k + 1 >= s.size()) break;
      line.push_back(place(s[k] - '0', s[k + 1] - '0'));
      k += 2;
    }
    flush();
  }
  // Long thin curves across the picture: they defeat a naive raster OCR, and being thin a
  // person reads past them.
  std::string curves;
  for (int i = 0; i < 2; ++i) {
    Point a{rng.uniform(0, 20), rng.uniform(15, kHeight - 15)};
    Point b{rng.uniform(kWidth - 20, kWidth), rng.uniform(15, kHeight - 15)};
    Point c{rng.uniform(60, kWidth - 60), rng.uniform(-10, kHeight + 10)};
    curves += segment(a, c, b);
  }
  for (int i = 0; i < 5; ++i) {  // short strokes shaped like pieces of a glyph
    Point a{rng.uniform(8, kWidth - 8), rng.uniform(8, kHeight - 8)};
    double len = rng.uniform(8, 18), dir = rng.uniform(0, 2 * std::numbers::pi);
    Point b{a.x + len * std::cos(dir), a.y + len * std::sin(dir)};
    pieces.push_back(segment(a, bend(a, b, rng, 0.3), b));
  }
  for (size_t i = pieces.size(); i > 1; --i) std::swap(pieces[i - 1], pieces[rng.next() % i]);

  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"220\" height=\"80\" "
      "viewBox=\"0 0 220 80\"><rect width=\"220\" height=\"80\" fill=\"#f3efe6\"/>"
      "<path fill=\"none\" stroke=\"#5b6275\" stroke-width=\"1.2\" d=\"";
  svg += curves;
  svg +=
      "\"/><path fill=\"none\" stroke=\"#22283a\" stroke-width=\"2.4\" "
      "stroke-linecap=\"round\" stroke-linejoin=\"round\" d=\"";
  for (const std::string& p : pieces) svg += p;
  svg += "\"/></svg>";
  return svg;
}

}  // namespace eg::waf::challenge_detail
