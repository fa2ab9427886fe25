// Conformance against the llhttp request fixtures (nodejs/llhttp test/request/*.md, MIT),
// read from ../shared/corpora/llhttp at run time (never copied into the repository).
//
// A fixture is a "## title", a `<!-- meta={...} -->` line, an ```http block with the raw
// bytes and a ```log block with llhttp's trace. The raw block is turned into bytes the way
// llhttp's test/md-test.ts does it:
//   1. drop a backslash that ends a line together with that line end ("\<LF>" joins lines);
//   2. every remaining line end becomes CRLF;
//   3. the escapes \r \n \t \f \xHH and \NNN (octal) become the character they name, and a
//      character >= 0x80 is written as UTF-8 (the harness hands llhttp a JS string).
// Cases whose log has "error code=" must be rejected by our parser; the others must parse.
// llhttp's codes 22 and 23 ("Pause on CONNECT/Upgrade", "Pause on PRI/Upgrade") are not
// errors: llhttp stops so that its user can take the connection over.
//
// How a case runs: the bytes go through RequestParser message after message; a Content-Length
// body is skipped, a chunked one goes through ChunkedDecoder (an error there is a rejection);
// after an upgrade request the rest is tunnel data and is not parsed; after a request that
// ends the connection (Connection: close, HTTP/1.0 without keep-alive) nothing more is read.
// Every case runs twice, the input whole and one byte at a time, with the same outcome.
//
// Which cases run, and how:
//  - type "request" (including meta "pause", which only makes llhttp's callbacks pause):
//    as said above, must-reject and must-pass;
//  - type "request-lenient-*": llhttp gets through these only with a leniency flag, so a
//    strict parser must refuse them, and we check that it does;
//  - type "request-finish" (the llhttp_finish() API) and meta "skipBody" (a callback that
//    tells llhttp to ignore a declared body) test llhttp's API, not bytes: skipped;
//  - meta "noScan" is not a leniency: it only tells llhttp's harness not to re-run the input
//    split at every offset. Those cases run like the others.
// Deliberate differences from llhttp are handled in the open, never silently:
//  - llhttp does not require Host; we do (RFC 9112 §3.2). When our parser says exactly
//    "missing Host header", the harness inserts "Host: conformance.test" after that
//    message's request line and parses again, so the rest of the message is still checked
//    (counted as "Host added").
//  - llhttp's error "Data after `Connection: close`" is met by not reading past such a
//    request: the case passes when we stop there with bytes left unread.
//  - kSkipped below lists, with the reason, every other case we do not run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "http/parser.h"

namespace eg::http {
namespace {

namespace fs = std::filesystem;

// Cases we do not run, keyed by "file.md: title", with the reason.
const std::map<std::string, std::string> kSkipped = {
    // Methods: the parser accepts any token; the proxy decides which methods it serves.
    {"invalid.md: HTTP protocol and ANNOUNCE method",
     "any token is a method for us (llhttp ties ANNOUNCE to RTSP); the proxy filters methods"},
    {"invalid.md: Invalid method",
     "any token is a method for us (llhttp knows a fixed list; MKCOLA is not on it)"},
    {"method.md: M-SEARCH request",
     "asterisk-form only with OPTIONS (RFC 9112 §3.2.4); M-SEARCH * is SSDP, which runs over UDP"},
    // Protocols other than HTTP/1.x.
    {"method.md: SOURCE request with ICE",
     "ICE/1.0 (Icecast) is not HTTP; rejected as a bad version"},
    {"method.md: OPTIONS request with RTSP", "RTSP/1.0 is not HTTP; rejected as a bad version"},
    {"method.md: ANNOUNCE request with RTSP", "RTSP/1.0 is not HTTP; rejected as a bad version"},
    {"method.md: PRI request HTTP2",
     "the HTTP/2 preface is not an HTTP/1.1 request (HTTP/2 comes through ALPN); 505"},
    {"sample.md: No HTTP version", "HTTP/0.9 requests are rejected (no version -> 400)"},
    // Target forms.
    {"method.md: CONNECT request",
     "authority-form (CONNECT) is rejected: a reverse proxy, not a forward proxy"},
    {"method.md: CONNECT request with CAPS",
     "authority-form (CONNECT) is rejected: a reverse proxy, not a forward proxy"},
    {"method.md: CONNECT with body",
     "authority-form (CONNECT) is rejected: a reverse proxy, not a forward proxy"},
    {"uri.md: Underscore in hostname",
     "authority-form (CONNECT) is rejected: a reverse proxy, not a forward proxy"},
    {"uri.md: `host:port` and basic auth",
     "userinfo in an http(s) target is rejected (RFC 9110 §4.2.4)"},
    // Transfer codings.
    {"transfer-encoding.md: POST with `chunked` as last transfer-encoding",
     "codings other than chunked are not implemented: 501, as nginx does"},
    {"transfer-encoding.md: POST with `chunked` as last transfer-encoding (multiple headers)",
     "codings other than chunked are not implemented: 501, as nginx does"},
};

struct Case {
  std::string file;
  std::string title;
  int line = 0;
  std::string meta;
  std::string type;
  std::string raw;
  std::string input;
  bool has_log = false;
  bool must_reject = false;
  std::string llhttp_reason;
};

// ---- fixture reading -------------------------------------------------------------------

std::string meta_string(const std::string& meta, const std::string& key) {
  size_t k = meta.find("\"" + key + "\"");
  if (k == std::string::npos) return "";
  size_t q1 = meta.find('"', meta.find(':', k) + 1);
  size_t q2 = meta.find('"', q1 + 1);
  if (q1 == std::string::npos || q2 == std::string::npos) return "";
  return meta.substr(q1 + 1, q2 - q1 - 1);
}

bool meta_has(const std::string& meta, const std::string& key) {
  return meta.find("\"" + key + "\"") != std::string::npos;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

// The md-test.ts steps, each over the whole string, in its order.
std::string to_bytes(const std::string& raw) {
  // 1. "\" + line end: both removed.
  std::string a;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '\n' || raw[i + 1] == '\r')) {
      i += (raw[i + 1] == '\r' && i + 2 < raw.size() && raw[i + 2] == '\n') ? 2 : 1;
      continue;
    }
    a.push_back(raw[i]);
  }
  // 2. Line ends -> CRLF.
  std::string b;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == '\r') {
      if (i + 1 < a.size() && a[i + 1] == '\n') ++i;
      b += "\r\n";
    } else if (a[i] == '\n') {
      b += "\r\n";
    } else {
      b.push_back(a[i]);
    }
  }
  // 3. Escapes, one kind after the other like the chain of String.replace calls.
  auto replace_all = [](std::string s, const std::string& from, const std::string& to) {
    std::string out;
    size_t pos = 0;
    for (size_t f; (f = s.find(from, pos)) != std::string::npos; pos = f + from.size())
      out += s.substr(pos, f - pos) + to;
    return out + s.substr(pos);
  };
  b = replace_all(b, "\\r", "\r");
  b = replace_all(b, "\\n", "\n");
  b = replace_all(b, "\\t", "\t");
  b = replace_all(b, "\\f", "\f");
  auto hex = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  std::string c;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] == '\\' && i + 2 < b.size() && b[i + 1] == 'x' && hex(b[i + 2]) >= 0) {
      size_t j = i + 2;
      uint32_t v = 0;
      while (j < b.size() && hex(b[j]) >= 0) v = (v * 16 + uint32_t(hex(b[j++]))) & 0xFFFF;
      append_utf8(c, v);  // String.fromCharCode keeps 16 bits
      i = j - 1;
    } else {
      c.push_back(b[i]);
    }
  }
  std::string d;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i] == '\\' && i + 1 < c.size() && c[i + 1] >= '0' && c[i + 1] <= '7') {
      size_t j = i + 1;
      uint32_t v = 0;
      while (j < c.size() && j < i + 4 && c[j] >= '0' && c[j] <= '7')
        v = v * 8 + uint32_t(c[j++] - '0');
      append_utf8(d, v);
      i = j - 1;
    } else {
      d.push_back(c[i]);
    }
  }
  return d;
}

std::vector<Case> read_fixtures(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".md") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Case> cases;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::string title, meta, block_lang, block;
    bool in_block = false;
    int lineno = 0, block_line = 0;
    Case* pending = nullptr;
    for (std::string line; std::getline(in, line);) {
      ++lineno;
      if (in_block) {
        if (line == "```") {
          in_block = false;
          if (block_lang == "http") {
            Case c;
            c.file = path.filename().string();
            c.title = title;
            c.line = block_line;
            c.meta = meta;
            c.type = meta_string(meta, "type");
            if (!block.empty()) block.pop_back();  // the last line end
            c.raw = block;
            c.input = to_bytes(block);
            cases.push_back(std::move(c));
            pending = &cases.back();
            meta.clear();
          } else if (block_lang == "log" && pending != nullptr) {
            pending->has_log = true;
            size_t at = block.find("error code=");
            if (at != std::string::npos) {
              int code = std::atoi(block.c_str() + at + 11);
              size_t r = block.find("reason=", at);
              pending->llhttp_reason = block.substr(r + 7, block.find('\n', r) - r - 7);
              pending->must_reject = code != 22 && code != 23;
            }
            pending = nullptr;
          }
          continue;
        }
        block += line + "\n";
        continue;
      }
      if (line.rfind("```", 0) == 0) {
        in_block = true;
        block_lang = line.substr(3);
        block.clear();
        block_line = lineno;
      } else if (line.rfind("#", 0) == 0) {
        size_t b = line.find_first_not_of("# ");
        title = b == std::string::npos ? "" : line.substr(b);
      } else if (line.rfind("<!-- meta=", 0) == 0) {
        meta = line.substr(10, line.rfind("-->") - 10);
      }
    }
  }
  return cases;
}

// ---- running a case --------------------------------------------------------------------

struct Outcome {
  bool rejected = false;
  std::string error;          // ours, when rejected
  int messages = 0;           // request heads parsed
  bool host_added = false;    // the "missing Host" rule above was applied
  bool closed_early = false;  // stopped after a closing request with bytes left
  bool upgraded = false;
  bool incomplete = false;  // input ended inside a message

  std::string describe() const {
    std::ostringstream o;
    if (rejected)
      o << "rejected (" << error << ")";
    else
      o << "accepted";
    o << ", " << messages << " message(s)";
    if (host_added) o << ", Host added";
    if (closed_early) o << ", stopped after Connection: close";
    if (upgraded) o << ", upgraded";
    if (incomplete) o << ", input ended inside a message";
    return o.str();
  }
  bool operator==(const Outcome& o) const {
    return rejected == o.rejected && error == o.error && messages == o.messages &&
           host_added == o.host_added && closed_early == o.closed_early && upgraded == o.upgraded &&
           incomplete == o.incomplete;
  }
};

bool has_token(const Headers& h, std::string_view name, std::string_view token) {
  for (const auto& f : h) {
    if (!iequals(f.name, name)) continue;
    std::stringstream ss(f.value);
    for (std::string t; std::getline(ss, t, ',');) {
      size_t b = t.find_first_not_of(" \t"), e = t.find_last_not_of(" \t");
      if (b != std::string::npos && iequals(t.substr(b, e - b + 1), token)) return true;
    }
  }
  return false;
}

// Parses `data` as a sequence of requests. `bytewise` feeds every parser one more byte at a
// time instead of all that is available.
Outcome run(std::string data, bool bytewise) {
  Outcome out;
  size_t pos = 0;
  while (pos < data.size()) {
    RequestParser parser;
    Request req;
    size_t consumed = 0;
    ParseStatus st = ParseStatus::Incomplete;
    std::string_view rest = std::string_view(data).substr(pos);
    if (bytewise) {
      for (size_t n = 1; n <= rest.size() && st == ParseStatus::Incomplete; ++n)
        st = parser.parse(rest.substr(0, n), req, consumed);
    } else {
      st = parser.parse(rest, req, consumed);
    }
    if (st == ParseStatus::Incomplete) {
      out.incomplete = true;
      break;
    }
    if (st == ParseStatus::Error) {
      if (parser.error().message == "missing Host header") {
        size_t line_end = data.find("\r\n", data.find_first_not_of("\r\n", pos));
        data.insert(line_end + 2, "Host: conformance.test\r\n");
        out.host_added = true;
        continue;
      }
      out.rejected = true;
      out.error = parser.error().message;
      break;
    }
    ++out.messages;
    pos += consumed;
    if (req.headers.contains("Upgrade") && has_token(req.headers, "Connection", "upgrade")) {
      out.upgraded = true;  // the rest belongs to the new protocol
      break;
    }
    if (req.framing == BodyFraming::ContentLength) {
      if (data.size() - pos < req.content_length) {
        out.incomplete = true;
        break;
      }
      pos += req.content_length;
    } else if (req.framing == BodyFraming::Chunked) {
      ChunkedDecoder dec;
      std::string body;
      size_t used = 0, total = 0;
      ParseStatus cst = ParseStatus::Incomplete;
      std::string_view b = std::string_view(data).substr(pos);
      if (bytewise) {
        for (size_t i = 0; i < b.size() && cst == ParseStatus::Incomplete; ++i) {
          cst = dec.feed(b.substr(i, 1), used, body);
          total += used;
        }
      } else {
        cst = dec.feed(b, total, body);
      }
      if (cst == ParseStatus::Error) {
        out.rejected = true;
        out.error = "chunked body: " + dec.error().message;
        break;
      }
      if (cst == ParseStatus::Incomplete) {
        out.incomplete = true;
        break;
      }
      pos += total;
    }
    if (!req.keep_alive) {
      out.closed_early = pos < data.size();
      break;
    }
  }
  return out;
}

std::string printable(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '\r')
      o += "\\r";
    else if (c == '\n')
      o += "\\n\n";
    else if (c == '\t')
      o += "\\t";
    else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      o += buf;
    } else
      o.push_back(char(c));
  }
  return o;
}

TEST(LlhttpConformance, RequestFixtures) {
  const fs::path dir = fs::path(EG_CORPORA_DIR) / "llhttp" / "test" / "request";
  if (!fs::is_directory(dir))
    GTEST_SKIP() << "llhttp fixtures not found at " << dir.string()
                 << " (the shared corpora folder is not part of a fresh checkout)";
  std::vector<Case> cases = read_fixtures(dir);
  ASSERT_GT(cases.size(), 100u) << "fixture reading is broken";

  int rejected_ok = 0, rejected_by_close = 0, accepted_ok = 0, host_added = 0;
  int lenient_refused = 0;
  std::map<std::string, int> skipped_by_reason;
  std::vector<std::string> skipped_titles;
  std::map<std::string, bool> allowlist_used;
  auto skip = [&](const Case& c, const std::string& why) {
    ++skipped_by_reason[why];
    skipped_titles.push_back(c.file + ": " + c.title + " -- " + why);
  };

  for (const Case& c : cases) {
    std::string key = c.file + ": " + c.title;
    ASSERT_TRUE(c.has_log) << key << " has no log block";
    if (c.type == "request-finish") {
      skip(c, "llhttp_finish() API (type=request-finish)");
      continue;
    }
    if (meta_has(c.meta, "skipBody")) {
      skip(c, "llhttp skip-body return of on_headers_complete");
      continue;
    }
    if (c.raw.find("${") != std::string::npos) {
      skip(c, "inline JavaScript in the fixture");
      continue;
    }
    std::string where = c.file + ":" + std::to_string(c.line) + " \"" + c.title + "\"";
    if (c.type.rfind("request-lenient-", 0) == 0) {
      // llhttp only gets through these with a leniency flag on: a strict parser refuses them.
      Outcome o = run(c.input, false);
      EXPECT_EQ(o, run(c.input, true)) << where;
      if (o.rejected || o.closed_early) {
        ++lenient_refused;
      } else {
        ADD_FAILURE() << where << ": needs llhttp leniency (" << c.type << ") but we have "
                      << o.describe() << "\ninput:\n"
                      << printable(c.input);
      }
      continue;
    }
    if (c.type != "request") {
      skip(c, "unknown fixture type " + c.type);
      continue;
    }
    // meta "pause" only makes llhttp's test callbacks pause and resume: the bytes are a
    // plain request, run like the others.
    auto listed = kSkipped.find(key);
    if (listed != kSkipped.end()) {
      allowlist_used[key] = true;
      skip(c, listed->second);
      continue;
    }

    Outcome whole = run(c.input, false);
    Outcome bytes = run(c.input, true);
    EXPECT_EQ(whole, bytes) << where << ": whole input " << whole.describe() << ", byte by byte "
                            << bytes.describe();
    if (c.must_reject) {
      bool by_close = !whole.rejected && whole.closed_early &&
                      c.llhttp_reason.find("Data after `Connection: close`") != std::string::npos;
      if (whole.rejected || by_close) {
        ++rejected_ok;
        if (by_close) ++rejected_by_close;
      } else {
        ADD_FAILURE() << where << ": llhttp rejects (" << c.llhttp_reason << ") but we have "
                      << whole.describe() << "\ninput:\n"
                      << printable(c.input);
      }
    } else {
      if (!whole.rejected && whole.messages > 0) {
        ++accepted_ok;
      } else {
        ADD_FAILURE() << where << ": llhttp accepts but we have " << whole.describe()
                      << "\ninput:\n"
                      << printable(c.input);
      }
    }
    if (whole.host_added) ++host_added;
  }

  for (const auto& [key, why] : kSkipped)
    EXPECT_TRUE(allowlist_used.count(key)) << "allowlisted case not found in the fixtures: " << key;

  std::printf("llhttp request fixtures: %zu cases\n", cases.size());
  std::printf(
      "  %d must-reject cases rejected as expected (%d by not reading past Connection: close)\n",
      rejected_ok, rejected_by_close);
  std::printf("  %d must-pass cases accepted as expected (%d needed a Host header added)\n",
              accepted_ok, host_added);
  std::printf("  %d lenient-mode cases refused (llhttp needs a leniency flag for them)\n",
              lenient_refused);
  int skipped = 0;
  for (const auto& [why, n] : skipped_by_reason) skipped += n;
  std::printf("  %d skipped:\n", skipped);
  for (const auto& [why, n] : skipped_by_reason) std::printf("    %2d  %s\n", n, why.c_str());
  if (std::getenv("EG_CONFORMANCE_VERBOSE"))
    for (const auto& t : skipped_titles) std::printf("      %s\n", t.c_str());
}

}  // namespace
}  // namespace eg::http
