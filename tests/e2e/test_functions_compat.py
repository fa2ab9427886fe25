"""The compatibility suite of edge function handlers (issue 4 part 8): handlers written the way
AWS's published Lambda@Edge and CloudFront Functions examples are written, run unchanged
through the real gateway, with real clients; each test asserts what the viewer got and what
the origin received. Then the mistakes people make (scenario S2's pain points): each answers
with its status and the precise reason in the development body, and the gateway keeps serving.

Two gateways are shared by the module (one for the working handlers, one for the broken ones)
so that the Node worker processes start once; the handlers live in tests/data/functions/compat.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import textwrap
import time

import pytest

import harness
from harness import REPO, Gateway, RecordingOrigin, run_edgeguard, wait_until
from test_waf import send

COMPAT = os.path.join(REPO, "tests", "data", "functions", "compat")
BAD = os.path.join(COMPAT, "bad")


def http_request_raw(gw, path):
    """(status, [(name, value)] as sent, body text): every header line, with its case."""
    status, headers, body = harness.http_request(gw.port, "GET", path)
    return status, headers, body.decode()


def function_log(gw) -> list:
    path = os.path.join(gw.dir, "functions.log")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def start_gateway(tmp_path_factory, name, config, values, workers=1) -> Gateway:
    return Gateway(str(tmp_path_factory.mktemp(name)), textwrap.dedent(config), values,
                   workers=workers, start_timeout=60)


def stop_gateway(gw: Gateway):
    if gw.returncode is None:
        rc = gw.stop()
        assert rc == 0, f"exit code {rc} after SIGTERM\n{gw.log()[-3000:]}"


# ---- the working handlers ------------------------------------------------------------------

GOOD_CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
development: true
functions: {log: "{dir}/functions.log"}
origins:
  echo: {echo: true}
  site: {directory: "{site}"}
  upstream: {url: "http://127.0.0.1:{upstream_port}"}
behaviors:
  - path: /private/*
    origin: echo
    functions:
      viewer-request: {file: "{compat}/basic-auth.js"}
      viewer-response: {file: "{compat}/legacy-succeed.js"}
  - path: /secure/*
    origin: echo
    functions:
      origin-response: {file: "{compat}/security-headers.js"}
      viewer-response: {file: "{compat}/legacy-succeed.js"}
  - path: /geo/*
    origin: upstream
    functions:
      origin-request: {file: "{compat}/country-redirect.mjs"}
      origin-response: {file: "{compat}/security-headers.js"}
  - path: /app/*
    origin: site
    functions:
      viewer-request: {file: "{compat}/spa-rewrite.js"}
      viewer-response: {file: "{compat}/cff-security-headers.js", runtime: cloudfront-js-1.0}
  - path: /experiment-pixel.jpg
    origin: echo
    functions:
      viewer-request: {file: "{compat}/ab-testing.js", runtime: cloudfront-js-1.0}
      viewer-response: {file: "{compat}/ab-set-cookie.js"}
  - path: /members/*
    origin: echo
    functions:
      viewer-request: {file: "{compat}/verify-jwt.js", runtime: cloudfront-js-1.0}
  - path: /norm/*
    origin: echo
    functions:
      viewer-request: {file: "{compat}/normalize.js"}
  - path: /switch/*
    origin: echo
    functions:
      origin-request: {file: "{compat}/origin-switch.js", timeout: 5}
  - path: /hello
    origin: upstream
    functions:
      viewer-request: {file: "{compat}/generated-html.js"}
  - path: /enroll
    origin: echo
    allowed_methods: ALL
    functions:
      origin-request: {file: "{enc}/index.js", include_body: true, timeout: 5, memory_mb: 128, workers: 2}
  - path: /enroll-upstream
    origin: upstream
    allowed_methods: ALL
    functions:
      origin-request: {file: "{enc}/index.js", include_body: true}
  - path: /greet/*
    origin: echo
    functions:
      viewer-request: {file: "{compat}/with-deps/index.js"}
  - path: /warm/*
    origin: echo
    functions:
      viewer-request: {file: "{compat}/warm-counter.js", workers: 1}
  - path: /ctx/*
    origin: echo
    functions:
      viewer-request: {file: "{compat}/esm-pkg/context-info.js"}
  - path: /cff-sec/*
    origin: echo
    functions:
      viewer-response: {file: "{compat}/cff-security-headers.js", runtime: cloudfront-js-1.0}
  - path: /tcip/*
    origin: echo
    functions:
      viewer-request: {file: "{compat}/cff-true-client-ip.js"}
  - path: /old-blog/*
    origin: upstream
    functions:
      viewer-request: {file: "{compat}/cff-redirect.js", runtime: cloudfront-js-2.0}
  - path: /cookies/*
    origin: echo
    functions:
      origin-response: {file: "{compat}/set-cookies.js"}
  - path: /errors/*
    origin: site
    functions:
      origin-response: {file: "{compat}/error-page.js"}
  - path: default
    origin: echo
    functions:
      viewer-request: {file: "{compat}/kvs-rewrite.js", kvs: "{compat}/kvs.json"}
"""


@pytest.fixture(scope="module")
def upstream():
    o = RecordingOrigin("upstream")
    yield o
    o.stop()


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory):
    """A fresh 2048-bit key pair: (private key PEM path, public key PEM path)."""
    d = tmp_path_factory.mktemp("rsa")
    priv, pub = str(d / "private.pem"), str(d / "public.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", priv], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub], check=True,
                   capture_output=True)
    return priv, pub


@pytest.fixture(scope="module")
def good(tmp_path_factory, upstream, rsa_key):
    site = tmp_path_factory.mktemp("site")
    (site / "app" / "blog").mkdir(parents=True)
    (site / "app" / "index.html").write_text("<h1>spa root</h1>\n")
    (site / "app" / "blog" / "index.html").write_text("<h1>spa blog</h1>\n")
    (site / "app" / "main.js").write_text("console.log('spa');\n")
    (site / "switch").mkdir()
    (site / "switch" / "logo.txt").write_text("logo from the directory origin\n")
    (site / "errors").mkdir()
    (site / "errors" / "ok.txt").write_text("a real file\n")
    # The encryption handler reads public.pem next to itself: a copy of its folder with the
    # key generated for this run.
    enc = tmp_path_factory.mktemp("enc")
    shutil.copy(os.path.join(COMPAT, "encrypt-fields", "index.js"), enc / "index.js")
    shutil.copy(rsa_key[1], enc / "public.pem")
    gw = start_gateway(tmp_path_factory, "good", GOOD_CONFIG, {
        "site": str(site), "compat": COMPAT, "enc": str(enc), "upstream_port": upstream.port})
    yield gw
    stop_gateway(gw)


def echoed(body: str) -> dict:
    return json.loads(body)


def test_basic_auth_callback_style(good):
    """basic-auth.js: 401 with WWW-Authenticate: Basic without or with wrong credentials (the
    first callback wins over the second one); the right ones reach the origin."""
    status, headers, body = send(good, "/private/report")
    assert status == 401
    assert headers["www-authenticate"] == "Basic"
    assert body == "Unauthorized"
    # A response generated at viewer-request skips the viewer-response function.
    assert "server-timing" not in headers
    wrong = "Basic " + base64.b64encode(b"user:wrong").decode()
    assert send(good, "/private/report", headers={"Authorization": wrong})[0] == 401
    right = "Basic " + base64.b64encode(b"user:pass").decode()
    status, headers, body = send(good, "/private/report?x=1", headers={"Authorization": right})
    assert status == 200
    e = echoed(body)
    assert (e["path"], e["query"]) == ("/private/report", "x=1")
    assert e["headers"]["authorization"] == right
    assert headers["server-timing"] == 'edge;desc="legacy-succeed"'


def test_security_headers_origin_response_and_legacy_succeed_viewer_response(good):
    """security-headers.js (origin-response) adds the headers to the origin's answer, whose
    body passes through; legacy-succeed.js (viewer-response, context.succeed) adds one more."""
    status, headers, body = send(good, "/secure/page?q=1", headers={"X-Client": "c1"})
    assert status == 200
    assert headers["strict-transport-security"] == "max-age=63072000; includeSubdomains; preload"
    assert headers["content-security-policy"].startswith("default-src 'none'")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-xss-protection"] == "1; mode=block"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["server-timing"] == 'edge;desc="legacy-succeed"'
    e = echoed(body)  # the origin's body is untouched
    assert (e["path"], e["query"], e["headers"]["x-client"]) == ("/secure/page", "q=1", "c1")


def test_country_redirect_esm_async_origin_request(good, upstream):
    """country-redirect.mjs (ES module, async) sees CloudFront-Viewer-Country at
    origin-request and answers with a redirect; the origin is never called."""
    upstream.clear()
    for country, url in (("TW", "https://tw.example.com/"), ("US", "https://us.example.com/"),
                         ("FR", "https://example.com/")):
        status, headers, _ = send(good, f"/geo/{country.lower()}",
                                  headers={"CloudFront-Viewer-Country": country})
        assert status == 302, country
        assert headers["location"] == url
        # A response generated at origin-request skips the origin-response function.
        assert "strict-transport-security" not in headers
    status, headers, _ = send(good, "/geo/none")
    assert status == 302 and headers["location"] == "https://example.com/"
    assert upstream.requests == []


def test_spa_rewrite_cloudfront_function_2(good):
    """spa-rewrite.js (CloudFront Functions 2.0, inferred): /app/blog and /app/ serve the
    index.html of the directory origin; a file with an extension is served as it is."""
    status, headers, body = send(good, "/app/blog")
    assert status == 200 and body == "<h1>spa blog</h1>\n"
    assert headers["x-frame-options"] == "DENY"  # cff-security-headers.js at viewer-response
    status, _, body = send(good, "/app/")
    assert status == 200 and body == "<h1>spa root</h1>\n"
    status, _, body = send(good, "/app/main.js")
    assert status == 200 and body == "console.log('spa');\n"
    # An origin error (404) is not given to the viewer-response function.
    status, headers, _ = send(good, "/app/missing.css")
    assert status == 404
    assert "x-frame-options" not in headers


def test_ab_testing_cookie_split_cloudfront_function_1(good):
    """ab-testing.js (cloudfront-js-1.0): the experiment cookie picks the group's object."""
    cases = (("X-Experiment-Name=A", "/experiment-group/control-pixel.jpg"),
             ("other=1; X-Experiment-Name=B", "/experiment-group/treatment-pixel.jpg"))
    for cookie, path in cases:
        status, headers, body = send(good, "/experiment-pixel.jpg", headers={"Cookie": cookie})
        assert status == 200
        e = echoed(body)
        assert e["path"] == path, cookie
        assert "X-Experiment-Name" in e["headers"]["cookie"]
        assert "set-cookie" not in headers  # ab-set-cookie.js: the viewer has its group
    seen = set()
    for _ in range(30):
        status, headers, body = send(good, "/experiment-pixel.jpg")
        path = echoed(body)["path"]
        seen.add(path)
        group = "A" if path == "/experiment-group/control-pixel.jpg" else "B"
        assert headers["set-cookie"] == f"X-Experiment-Name={group}; Path=/; Max-Age=86400"
    assert seen <= {"/experiment-group/control-pixel.jpg", "/experiment-group/treatment-pixel.jpg"}
    assert len(seen) == 2  # 0.75/0.25 over 30 draws: both groups (p of one group only < 1e-3)


def hs256_jwt(claims: dict, key: bytes) -> str:
    import hmac
    import hashlib

    def b64url(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    sig = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def test_verify_jwt_cloudfront_function_1_crypto_and_bytes_from(good):
    """verify-jwt.js (cloudfront-js-1.0, require('crypto'), String.bytesFrom): a valid token
    passes with the jwt parameter removed; none, a wrong signature or an expired one get 401."""
    key = b"LzdWGpAToQ1DqYuzHxE6YOqi7G3X2yvNBot9mCXfx5k"
    good_token = hs256_jwt({"sub": "ada", "exp": int(time.time()) + 600}, key)
    status, _, body = send(good, f"/members/page?a=1&jwt={good_token}")
    assert status == 200, body
    e = echoed(body)
    assert (e["path"], e["query"]) == ("/members/page", "a=1")
    for query in ("", "?jwt=" + hs256_jwt({"sub": "ada"}, b"another key"),
                  "?jwt=" + hs256_jwt({"sub": "ada", "exp": int(time.time()) - 10}, key),
                  "?jwt=not.a-token"):
        status, _, _ = send(good, "/members/page" + query)
        assert status == 401, query


def test_header_and_query_normalization(good):
    """normalize.js (CommonJS, async, require('querystring')): lower-case sorted query, the
    primary language only, the User-Agent replaced by a device class."""
    status, _, body = send(good, "/norm/list?Size=10&color=RED&Brand=acme", headers={
        "Accept-Language": "de-CH,de;q=0.9,en;q=0.8",
        "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148"})
    assert status == 200
    e = echoed(body)
    assert e["path"] == "/norm/list"
    assert e["query"] == "brand=acme&color=red&size=10"
    assert e["headers"]["accept-language"] == "de"
    assert e["headers"]["x-device-type"] == "mobile"
    assert "user-agent" not in e["headers"]


def test_origin_switch_to_directory_and_to_custom_origin(good, upstream):
    """origin-switch.js (origin-request): ?useS3Origin=true selects the directory origin
    `site` through its S3 domain name; ?originPort=N a custom HTTP origin on localhost:N;
    otherwise the behavior's echo origin answers."""
    status, _, body = send(good, "/switch/logo.txt?useS3Origin=true")
    assert status == 200 and body == "logo from the directory origin\n"
    upstream.clear()
    status, _, body = send(good, f"/switch/logo.txt?originPort={upstream.port}",
                           headers={"X-Client": "c2"})
    assert status == 200
    assert body == "origin=upstream path=/switch/logo.txt\n"
    rec = upstream.last()
    assert rec.target == f"/switch/logo.txt?originPort={upstream.port}"
    assert rec.header("x-switched-by") == "origin-switch.js"
    assert rec.header("x-client") == "c2"
    assert rec.header("host") in ("localhost", f"localhost:{upstream.port}")
    status, _, body = send(good, "/switch/logo.txt")
    assert status == 200 and echoed(body)["path"] == "/switch/logo.txt"


def test_generated_html_response_at_viewer_request(good, upstream):
    """generated-html.js: the page comes from the function; the origin is never called."""
    upstream.clear()
    status, headers, body = send(good, "/hello")
    assert status == 200
    assert headers["content-type"] == "text/html"
    assert headers["cache-control"] == "max-age=100"
    assert "<p>Hello from Lambda@Edge!</p>" in body and "<!DOCTYPE html>" in body
    assert upstream.requests == []


def rsa_oaep_decrypt(private_pem: str, b64: str) -> str:
    data = base64.b64decode(b64)
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
    except ImportError:
        out = subprocess.run(
            ["openssl", "pkeyutl", "-decrypt", "-inkey", private_pem,
             "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
             "-pkeyopt", "rsa_mgf1_md:sha256"], input=data, check=True, capture_output=True)
        return out.stdout.decode()
    with open(private_pem, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    return key.decrypt(data, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                          algorithm=hashes.SHA256(), label=None)).decode()


def test_body_replacement_encrypts_json_fields_rsa_oaep(good, rsa_key):
    """encrypt-fields/index.js (origin-request, include_body): the origin receives the JSON
    with email/ssn/phone RSA-OAEP-SHA256 encrypted under the public key; the private key
    restores them; the other fields stay in clear."""
    doc = {"fname": "Ada", "email": "ada@example.com", "ssn": "123-45-6789",
           "phone": "+44 20 7946 0958", "plan": "gold"}
    status, _, body = send(good, "/enroll", method="POST", body=json.dumps(doc),
                           headers={"Content-Type": "application/json"})
    assert status == 200, body
    e = echoed(body)
    assert e["headers"]["x-encrypted-fields"] == "email,ssn,phone"
    got = json.loads(e["body"])
    assert (got["fname"], got["plan"]) == ("Ada", "gold")
    for field in ("email", "ssn", "phone"):
        assert got[field] != doc[field]
        assert len(base64.b64decode(got[field])) == 256  # one 2048-bit RSA block
        assert rsa_oaep_decrypt(rsa_key[0], got[field]) == doc[field]


def test_body_replacement_on_the_wire_to_an_ip_addressed_origin(good, rsa_key, upstream):
    """The same encryption in front of an HTTP origin: the replaced body arrives with its own
    Content-Length."""
    doc = {"fname": "Ada", "ssn": "123-45-6789", "plan": "gold"}
    upstream.clear()
    status, _, body = send(good, "/enroll-upstream", method="POST", body=json.dumps(doc),
                           headers={"Content-Type": "application/json"})
    assert status == 200, body
    rec = upstream.last()
    assert rec.method == "POST"
    assert int(rec.header("content-length")) == len(rec.body)
    got = json.loads(rec.body)
    assert (got["fname"], got["plan"]) == ("Ada", "gold")
    assert rsa_oaep_decrypt(rsa_key[0], got["ssn"]) == "123-45-6789"


def test_local_module_and_node_modules_package(good):
    """with-deps/index.js requires ./lib/greeting and the edge-slugify package of its own
    node_modules (whose package.json `main` points into lib/)."""
    status, _, body = send(good, "/greet/Cr%C3%A8me%20Br%C3%BBl%C3%A9e%20Recipe")
    assert status == 200
    h = echoed(body)["headers"]
    assert h["x-greeting"] == "hello edge from a local module"
    assert h["x-slug"] == "creme-brulee-recipe"
    assert h["x-slugify-version"] == "1.2.3"


def test_kvs_lookup_cloudfront_function_2(good):
    """kvs-rewrite.js (import cf from 'cloudfront'; kvs: FILE): the first path segment is
    looked up; a missing key leaves the path and logs; a JSON value becomes a header."""
    status, _, body = send(good, "/promo/landing.html?src=mail")
    assert status == 200
    e = echoed(body)
    assert (e["path"], e["query"]) == ("/campaigns/summer-2026/landing.html", "src=mail")
    assert e["headers"]["x-banner"] == "free shipping"
    status, headers, body = send(good, "/unknown-key/page")
    assert status == 200 and echoed(body)["path"] == "/unknown-key/page"
    rid = headers["x-amz-cf-id"]
    line = wait_until(lambda: [l for l in function_log(good) if l["requestId"] == rid],
                      what="the kvs function's console line")[0]
    assert "No key unknown-key present in kvs" in line["message"]


def test_warm_module_state_is_kept_between_invocations(good):
    """warm-counter.js with workers: 1 (and one gateway worker): one warm instance counts
    1, 2, 3 and keeps its cold-start time."""
    counts, starts = [], set()
    for _ in range(4):
        status, _, body = send(good, "/warm/x")
        assert status == 200
        h = echoed(body)["headers"]
        counts.append(int(h["x-invocation-count"]))
        starts.add(h["x-cold-start-at"])
    assert counts == list(range(counts[0], counts[0] + 4))
    assert len(starts) == 1
    # A config reload that leaves the function as it was keeps the instance warm.
    assert good.admin("POST", "/reload").status_code == 200
    h = echoed(send(good, "/warm/x")[2])["headers"]
    assert int(h["x-invocation-count"]) == counts[-1] + 1
    assert h["x-cold-start-at"] in starts


def test_context_fields_and_console_output_in_the_function_log(good):
    """esm-pkg/context-info.js (a .js ES module by its package.json "type": "module"):
    functionName, awsRequestId equal to the x-amz-cf-id the viewer got and to
    config.requestId, getRemainingTimeInMillis > 0; its console lines are in the function
    log with the request id."""
    status, headers, body = send(good, "/ctx/a?b=1", source="127.0.0.7")
    assert status == 200
    rid = headers["x-amz-cf-id"]
    h = echoed(body)["headers"]
    assert h["x-fn-name"] == "context-info"
    assert h["x-fn-request-id"] == rid
    assert h["x-fn-config-request-id"] == rid
    assert h["x-amz-cf-id"] == rid  # the origin saw the same id
    assert 0 < int(h["x-fn-remaining-ms"]) <= 5000
    assert h["x-fn-memory"] == "128"
    assert h["x-fn-event-type"] == "viewer-request"
    assert h["x-fn-client-ip"] == "127.0.0.7"
    lines = wait_until(lambda: [l for l in function_log(good) if l["requestId"] == rid],
                       what="the console lines in the function log")
    text = "\n".join(l["message"] for l in lines)
    assert f"context-info saw GET /ctx/a as request {rid}" in text
    assert "a warning from context-info" in text
    assert {l["eventType"] for l in lines} == {"viewer-request"}
    assert all("context-info.js" in l["function"] for l in lines)


def test_console_levels_in_the_function_log(good):
    status, headers, _ = send(good, "/ctx/levels")
    assert status == 200
    rid = headers["x-amz-cf-id"]
    lines = wait_until(lambda: [l for l in function_log(good) if l["requestId"] == rid
                                and "a warning from context-info" in l["message"]],
                       what="the console.warn line in the function log")
    assert lines[0]["level"] == "WARN", lines


def test_security_headers_cloudfront_function_1_viewer_response(good):
    status, headers, body = send(good, "/cff-sec/p")
    assert status == 200
    assert headers["strict-transport-security"] == "max-age=63072000; includeSubdomains; preload"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-xss-protection"] == "1; mode=block"
    assert echoed(body)["path"] == "/cff-sec/p"


def test_true_client_ip_cloudfront_function(good):
    status, _, body = send(good, "/tcip/x", source="127.0.0.9")
    assert status == 200
    assert echoed(body)["headers"]["true-client-ip"] == "127.0.0.9"


def test_generated_redirect_cloudfront_function(good, upstream):
    upstream.clear()
    status, headers, _ = send(good, "/old-blog/2024/post.html?ref=x")
    assert status == 301
    assert headers["location"] == "http://api.example.com/blog/2024/post.html?ref=x"
    assert upstream.requests == []


def test_multi_value_headers_and_a_header_without_key(good):
    """set-cookies.js (callback from a timer): two Set-Cookie lines reach the viewer as two
    lines; a header written without `key` gets its name in the usual case."""
    status, headers, body = http_request_raw(good, "/cookies/x")
    assert status == 200
    assert [v for n, v in headers if n.lower() == "set-cookie"] == [
        "session=abc123; Path=/; HttpOnly", "theme=dark; Path=/"]
    assert ("Cache-Control", "no-store") in headers
    assert echoed(body)["path"] == "/cookies/x"


def test_error_page_origin_response_turns_404_into_200(good):
    """error-page.js: a 404 of the directory origin becomes 200 with a generated body; a file
    that exists passes through."""
    status, headers, body = send(good, "/errors/missing.html")
    assert status == 200
    assert body == "Body generation example"
    assert headers["x-original-status"] == "404"
    assert headers["content-type"] == "text/plain"
    status, headers, body = send(good, "/errors/ok.txt")
    assert status == 200 and body == "a real file\n"
    assert "x-original-status" not in headers


# ---- the mistakes ----------------------------------------------------------------------------

BAD_CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
development: true
functions: {log: "{dir}/functions.log"}
origins:
  echo: {echo: true}
behaviors:
  - {path: /statuscode/*, origin: echo, functions: {viewer-request: {file: "{bad}/statuscode-not-status.js"}}}
  - {path: /cff-status/*, origin: echo, functions: {viewer-request: {file: "{bad}/cff-status-not-statuscode.js"}}}
  - {path: /flat/*, origin: echo, functions: {origin-response: {file: "{bad}/flat-header.js"}}}
  - {path: /x-cache/*, origin: echo, functions: {viewer-request: {file: "{bad}/disallowed-header.js"}}}
  - {path: /connection/*, origin: echo, functions: {viewer-request: {file: "{bad}/connection-header.js"}}}
  - {path: /host/*, origin: echo, functions: {viewer-request: {file: "{bad}/readonly-host.js"}}}
  - {path: /content-length/*, origin: echo, functions: {origin-request: {file: "{bad}/readonly-content-length.js"}}}
  - {path: /country/*, origin: echo, functions: {viewer-request: {file: "{bad}/adds-viewer-country.js"}}}
  - {path: /range/*, origin: echo, functions: {viewer-request: {file: "{bad}/status-out-of-range.js"}}}
  - {path: /base64/*, origin: echo, functions: {viewer-request: {file: "{bad}/invalid-base64.js"}}}
  - {path: /uri/*, origin: echo, functions: {viewer-request: {file: "{bad}/uri-no-slash.js"}}}
  - {path: /vr-status/*, origin: echo, functions: {viewer-response: {file: "{bad}/viewer-response-status.js"}}}
  - {path: /undefined/*, origin: echo, functions: {viewer-request: {file: "{bad}/returns-undefined.js"}}}
  - {path: /throws/*, origin: echo, functions: {viewer-request: {file: "{bad}/throws.js"}}}
  - {path: /slow/*, origin: echo, functions: {viewer-request: {file: "{bad}/slow.js", timeout: 1}}}
  - {path: /crash/*, origin: echo, functions: {viewer-request: {file: "{bad}/crash.js", workers: 1}}}
  - {path: /loop/*, origin: echo, functions: {viewer-request: {file: "{bad}/cff-infinite-loop.js"}}}
  - {path: /eval/*, origin: echo, functions: {viewer-request: {file: "{bad}/cff-eval.js"}}}
  - {path: default, origin: echo}
"""


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    gw = start_gateway(tmp_path_factory, "bad", BAD_CONFIG, {"bad": BAD})
    yield gw
    stop_gateway(gw)


def bad_file(name):
    return os.path.join(BAD, name)


def fails_with(gw, path, status, *messages, healthy_path=None):
    """The request answers `status` with each message in the development body and the
    request id; the function log has the failure; the next request is served."""
    got, headers, body = send(gw, path)
    assert got == status, body
    assert body.startswith(f"{status} ERROR\nThe request could not be satisfied.\n"), body
    for m in messages:
        assert m in body, f"{m!r} not in {body!r}"
    rid = headers["x-amz-cf-id"]
    assert f"Request ID: {rid}" in body
    entry = wait_until(lambda: [l for l in function_log(gw)
                                if l["requestId"] == rid and l["level"] == "ERROR"],
                       what="the failure in the function log")[0]
    for m in messages:
        assert m in entry["message"]
    after_status, _, after_body = send(gw, healthy_path or "/still/serving")
    assert after_status == 200, after_body
    return body


def test_statuscode_instead_of_status_lambda_edge(bad):
    fails_with(bad, "/statuscode/x", 502,
               "viewer-request function " + bad_file("statuscode-not-status.js") +
               " returned a response with `statusCode`; a Lambda@Edge response uses `status` "
               "(CloudFront Functions use `statusCode`)")


def test_status_instead_of_statuscode_cloudfront_function(bad):
    fails_with(bad, "/cff-status/x", 502,
               "viewer-request CloudFront Function " + bad_file("cff-status-not-statuscode.js") +
               " returned a response with `status`; CloudFront Functions use `statusCode` "
               "(Lambda@Edge uses `status`)")


def test_header_as_flat_string(bad):
    fails_with(bad, "/flat/x", 502,
               "origin-response function " + bad_file("flat-header.js") +
               ": headers.x-frame-options must be an array of {key, value} objects, got a string "
               "(write headers['x-frame-options'] = [{key: 'X-Frame-Options', value: '...'}])",
               'The Lambda function returned an invalid entry in the headers object: Each header '
               'entry in the headers object must be an array.')


def test_disallowed_header_x_cache(bad):
    fails_with(bad, "/x-cache/x", 502,
               "viewer-request function " + bad_file("disallowed-header.js") +
               ": headers.x-cache: X-Cache is a disallowed header; edge functions may not add it",
               "The function tried to add a blacklisted header.")


def test_disallowed_header_connection_in_a_generated_response(bad):
    fails_with(bad, "/connection/x", 502,
               "viewer-request function " + bad_file("connection-header.js") +
               ": headers.connection: Connection is a disallowed header; edge functions may not "
               "add it")


def test_read_only_host_in_viewer_request(bad):
    fails_with(bad, "/host/x", 502,
               "viewer-request function " + bad_file("readonly-host.js") +
               ": headers.host: Host is read-only in viewer-request events",
               "'api.example.com'", "'other.example.com'",
               "The function tried to add, delete, or change a read-only header.")


def test_read_only_content_length_in_origin_request(bad):
    fails_with(bad, "/content-length/x", 502,
               "origin-request function " + bad_file("readonly-content-length.js") +
               ": headers.content-length: Content-Length is read-only in origin-request events, "
               "and the function added it")


def test_viewer_request_may_not_add_cloudfront_viewer_country(bad):
    fails_with(bad, "/country/x", 502,
               "viewer-request function " + bad_file("adds-viewer-country.js") +
               ": headers.cloudfront-viewer-country: a viewer-request function may not add "
               "CloudFront-Viewer-Country (CloudFront adds it after the viewer-request event)")


def test_status_out_of_range(bad):
    fails_with(bad, "/range/x", 502,
               "viewer-request function " + bad_file("status-out-of-range.js") +
               ": response status must be between 200 and 599, got 700")


def test_invalid_base64_body(bad):
    fails_with(bad, "/base64/x", 502,
               "viewer-request function " + bad_file("invalid-base64.js") +
               ": response body is not valid base64 but bodyEncoding is \"base64\"")


def test_uri_without_leading_slash(bad):
    fails_with(bad, "/uri/x", 502,
               "viewer-request function " + bad_file("uri-no-slash.js") +
               ": uri must start with '/', got \"index.html\"")


def test_viewer_response_may_not_change_status(bad):
    fails_with(bad, "/vr-status/x", 502,
               "viewer-response function " + bad_file("viewer-response-status.js") +
               ": changed the status from 200 to 201; viewer-response functions cannot change "
               "the status")


def test_returning_undefined(bad):
    fails_with(bad, "/undefined/x", 502,
               "viewer-request function " + bad_file("returns-undefined.js") +
               " returned undefined; return the request, or a response object with `status` "
               "(callback(null, value) or return it from an async handler)")


def test_thrown_exception_is_500(bad):
    fails_with(bad, "/throws/x?boom=1", 500,
               "viewer-request function " + bad_file("throws.js") +
               " threw TypeError: cannot read the session cookie (at " + bad_file("throws.js") +
               ":6:15)", healthy_path="/throws/x")


def test_timeout_is_503(bad):
    start = time.monotonic()
    fails_with(bad, "/slow/x?slow=1", 503,
               "viewer-request function " + bad_file("slow.js") + " timed out after 1000 ms",
               healthy_path="/slow/x")
    assert time.monotonic() - start < 2.8  # answered at the timeout, not after the handler


def test_worker_crash_is_503_and_the_next_request_gets_a_fresh_worker(bad):
    fails_with(bad, "/crash/x?crash=1", 503,
               "viewer-request function " + bad_file("crash.js") +
               " worker exited with code 1 while handling the request", healthy_path="/crash/x")
    status, _, body = send(bad, "/crash/y")
    assert status == 200
    # A fresh process: its module state started again (1 for /crash/x after the crash, 2 now).
    assert echoed(body)["headers"]["x-served-by-this-instance"] == "2"


def test_infinite_loop_in_a_cloudfront_function_is_503(bad):
    fails_with(bad, "/loop/x?loop=1", 503,
               "viewer-request CloudFront Function " + bad_file("cff-infinite-loop.js"),
               "stopped: exceeded its compute budget of 1000 µs", healthy_path="/loop/x")


def test_eval_in_a_cloudfront_function_is_refused(bad):
    fails_with(bad, "/eval/x", 500,
               "viewer-request CloudFront Function " + bad_file("cff-eval.js"),
               bad_file("cff-eval.js") + ":5:5: EvalError: CloudFront Functions do not allow eval")


def test_read_only_header_message_reads_well(bad):
    fails_with(bad, "/host/x", 502,
               "Host is read-only in viewer-request events, and the function changed it from "
               "'api.example.com' to 'other.example.com'")


def test_cloudfront_function_failure_names_the_file_once(bad):
    body = fails_with(bad, "/loop/x?loop=1", 503, "stopped: exceeded its compute budget",
                      healthy_path="/loop/x")
    assert body.count(bad_file("cff-infinite-loop.js")) == 1, body


# ---- refused at load -------------------------------------------------------------------------

def check_config(tmp_path, file, event="viewer-request", extra=""):
    config = tmp_path / "edge.yaml"
    config.write_text(textwrap.dedent(f"""\
        listeners: [{{address: "127.0.0.1:8080"}}]
        origins: {{app: {{echo: true}}}}
        behaviors:
          - path: default
            origin: app
            functions:
              {event}: {{file: "{file}"{extra}}}
        """))
    return run_edgeguard("check", "-c", str(config))


def test_node_syntax_error_is_refused_at_load_naming_file_and_line(tmp_path):
    f = bad_file("syntax-error.js")
    r = check_config(tmp_path, f)
    assert r.returncode == 1, r.stdout + r.stderr
    out = (r.stdout + r.stderr).strip().splitlines()
    assert out == [f"{tmp_path}/edge.yaml:7:30: behaviors[0].functions.viewer-request.file: "
                   f"{f}: SyntaxError: Unexpected token ')' (line 6)"], out


def test_cloudfront_function_syntax_error_is_refused_at_load_naming_file_and_line(tmp_path):
    f = bad_file("cff-syntax-error.js")
    r = check_config(tmp_path, f)
    assert r.returncode == 1, r.stdout + r.stderr
    out = (r.stdout + r.stderr).strip().splitlines()
    assert out == [f"{tmp_path}/edge.yaml:7:30: behaviors[0].functions.viewer-request.file: "
                   f"{f}:4:25: SyntaxError: expected expression, got ';'"], out


def test_the_working_handlers_pass_the_check(tmp_path):
    """`edgeguard check` loads a Node handler and a CloudFront Function and says nothing."""
    for f in (os.path.join(COMPAT, "basic-auth.js"), os.path.join(COMPAT, "spa-rewrite.js")):
        r = check_config(tmp_path, f)
        assert r.returncode == 0, r.stdout + r.stderr


def test_const_and_let_are_refused_in_cloudfront_js_1(tmp_path):
    f = bad_file("cff1-uses-const.js")
    r = check_config(tmp_path, f, extra=", runtime: cloudfront-js-1.0")
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert f in out and "const" in out and "cloudfront-js-2.0" in out, out
