"""JA3 and JA4 fingerprints of TLS viewers in the web ACL (docs/waf/tls-fingerprints.md).

The fingerprint of Python's ssl client is learned the way an operator would: from the WAF
log after one request. The test also computes it itself from the ClientHello that the same
client sends to a plain socket, so the gateway's value is checked against an independent
implementation of the two specifications, not only against itself.
"""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import threading

import pytest

VIS = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": False, "MetricName": "m"}
NOBODY_JA3 = "0" * 32

CONFIG = """
listeners:
  - address: "127.0.0.1:{port}"
  - address: "127.0.0.1:{tls_port}"
    tls: {cert: "{edge_cert}", key: "{edge_key}"}
origins: {echo: {echo: true}}
behaviors: [{path: default, origin: echo}]
web_acl:
  file: {acl}
  log: {dir}/waf.log
"""


def fingerprint_rule(field, value, fallback="NO_MATCH"):
    return {
        "Name": f"block-{field}", "Priority": 0, "Action": {"Block": {}},
        "VisibilityConfig": dict(VIS, MetricName=f"block-{field}"),
        "Statement": {"ByteMatchStatement": {
            "SearchString": value, "PositionalConstraint": "EXACTLY",
            "FieldToMatch": {field: {"FallbackBehavior": fallback}},
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}}


def write_acl(path, *rules):
    with open(path, "w") as f:
        json.dump({"Name": "fingerprints", "Id": "fp", "DefaultAction": {"Allow": {}},
                   "VisibilityConfig": dict(VIS, MetricName="fingerprints"),
                   "Rules": list(rules)}, f)
    return str(path)


def reload_ok(gw):
    r = gw.admin("POST", "/reload")
    assert r.status_code == 200, r.text


def waf_log(gw):
    path = os.path.join(gw.dir, "waf.log")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# ---- the viewers ------------------------------------------------------------------------------

@pytest.fixture
def python_tls(certs) -> ssl.SSLContext:
    """Python's default client context; every connection sends the same ClientHello."""
    return ssl.create_default_context(cafile=certs.ca)


class EdgeConnection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 with SNI edge.test (so JA4 says "d" and the certificate matches)."""

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname="edge.test")


def get(conn, path="/"):
    conn.request("GET", path, headers={"Host": "edge.test"})
    r = conn.getresponse()
    return r.status, r.read().decode(errors="replace")


def python_get(gw, ctx, path="/"):
    conn = EdgeConnection("127.0.0.1", gw.tls_port, context=ctx, timeout=5)
    try:
        return get(conn, path)
    finally:
        conn.close()


def plain_get(gw, path="/"):
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=5)
    try:
        return get(conn, path)
    finally:
        conn.close()


def curl_get(gw, certs, path="/"):
    out = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "--cacert", certs.ca, "-o", "/dev/null",
         "-w", "%{http_code}", "--resolve", f"edge.test:{gw.tls_port}:127.0.0.1",
         f"https://edge.test:{gw.tls_port}{path}"],
        capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


# ---- an independent JA3/JA4 of the same client ------------------------------------------------

def sent_client_hello(ctx, server_hostname="edge.test") -> bytes:
    """The ClientHello handshake message `ctx` sends, caught by a plain TCP listener."""
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(5)

    def client():
        try:
            with socket.create_connection(srv.getsockname(), timeout=5) as s:
                ctx.wrap_socket(s, server_hostname=server_hostname)
        except (OSError, ssl.SSLError):
            pass  # the listener hangs up after the hello

    t = threading.Thread(target=client)
    t.start()
    conn, _ = srv.accept()
    conn.settimeout(5)
    buf, msg = b"", b""
    with conn:
        while len(msg) < 4 or len(msg) < 4 + int.from_bytes(msg[1:4], "big"):
            chunk = conn.recv(65536)
            assert chunk, "the client closed before its ClientHello was complete"
            buf += chunk
            while len(buf) >= 5 and len(buf) >= 5 + int.from_bytes(buf[3:5], "big"):
                n = int.from_bytes(buf[3:5], "big")
                assert buf[0] == 22, "not a handshake record"
                msg, buf = msg + buf[5:5 + n], buf[5 + n:]
    srv.close()
    t.join()
    return msg


def is_grease(v):
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


def reference_fingerprints(msg: bytes):
    """JA3 (salesforce/ja3) and JA4 (FoxIO JA4.md) of one ClientHello message."""
    import hashlib

    def u16s(b):
        return [int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b) - 1, 2)]

    body = msg[4:4 + int.from_bytes(msg[1:4], "big")]
    version = int.from_bytes(body[0:2], "big")
    p = 2 + 32
    p += 1 + body[p]
    n = int.from_bytes(body[p:p + 2], "big")
    ciphers = u16s(body[p + 2:p + 2 + n])
    p += 2 + n
    p += 1 + body[p]
    exts, groups, formats, sigalgs, versions, alpn = [], [], [], [], [], b""
    if p < len(body):
        end = p + 2 + int.from_bytes(body[p:p + 2], "big")
        p += 2
        while p < end:
            t, n = int.from_bytes(body[p:p + 2], "big"), int.from_bytes(body[p + 2:p + 4], "big")
            d = body[p + 4:p + 4 + n]
            p += 4 + n
            exts.append(t)
            if t == 10:
                groups = u16s(d[2:])
            elif t == 11:
                formats = list(d[1:1 + d[0]])
            elif t == 13:
                sigalgs = u16s(d[2:])
            elif t == 16 and len(d) > 2:
                alpn = d[3:3 + d[2]]
            elif t == 43:
                versions = u16s(d[1:1 + d[0]])

    def clean(xs):
        return [x for x in xs if not is_grease(x)]

    def dec(xs):
        return "-".join(str(x) for x in xs)

    ja3 = ",".join([str(version), dec(clean(ciphers)), dec(clean(exts)), dec(clean(groups)),
                    dec(formats)])
    v = max(clean(versions), default=version)
    ver = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10"}.get(v, "00")
    if not alpn:
        a = "00"
    elif chr(alpn[0]).isalnum() and chr(alpn[-1]).isalnum() and alpn.isascii():
        a = chr(alpn[0]) + chr(alpn[-1])
    else:
        a = alpn.hex()[0] + alpn.hex()[-1]

    def h12(s):
        return hashlib.sha256(s.encode()).hexdigest()[:12] if s else "0" * 12

    c = ",".join(f"{x:04x}" for x in sorted(clean(ciphers)))
    e = ",".join(f"{x:04x}" for x in sorted(x for x in clean(exts) if x not in (0, 16)))
    if e and clean(sigalgs):
        e += "_" + ",".join(f"{x:04x}" for x in clean(sigalgs))
    ja4 = (f"t{ver}{'d' if 0 in exts else 'i'}{min(len(clean(ciphers)), 99):02d}"
           f"{min(len(clean(exts)), 99):02d}{a}_{h12(c)}_{h12(e)}")
    return hashlib.md5(ja3.encode()).hexdigest(), ja4


# ---- the tests --------------------------------------------------------------------------------

def test_ja3_learned_from_the_waf_log_then_blocked(gateway, tmp_path, certs, python_tls):
    acl = write_acl(tmp_path / "acl.json")
    gw = gateway(CONFIG, acl=acl)
    assert python_get(gw, python_tls)[0] == 200

    # What the operator reads: the WAF log's fingerprints of the client.
    rec = waf_log(gw)[-1]
    ja3, ja4 = rec["ja3Fingerprint"], rec["ja4Fingerprint"]
    assert re.fullmatch(r"[0-9a-f]{32}", ja3), ja3
    assert re.fullmatch(r"t1[23]d\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}", ja4), ja4
    # ... and they are what the specifications give for the hello this client sends.
    assert (ja3, ja4) == reference_fingerprints(sent_client_hello(python_tls))

    # A keep-alive connection opened before the rule exists.
    kept = EdgeConnection("127.0.0.1", gw.tls_port, context=python_tls, timeout=5)
    assert get(kept)[0] == 200

    write_acl(acl, fingerprint_rule("JA3Fingerprint", ja3))
    reload_ok(gw)
    status, body = python_get(gw, python_tls)
    assert status == 403 and "blocked by the web ACL" in body, body
    assert waf_log(gw)[-1]["terminatingRuleId"] == "block-JA3Fingerprint"
    # The fingerprint belongs to the connection, not to the snapshot it started under.
    assert get(kept)[0] == 403
    kept.close()

    # curl sends another ClientHello (ALPN, its own cipher list): not blocked.
    assert curl_get(gw, certs) == 200
    rec = waf_log(gw)[-1]
    assert rec["action"] == "ALLOW"
    assert re.fullmatch(r"[0-9a-f]{32}", rec["ja3Fingerprint"])
    assert rec["ja3Fingerprint"] != ja3
    # Plain HTTP has no fingerprint; FallbackBehavior NO_MATCH lets it through.
    assert plain_get(gw)[0] == 200
    assert "ja3Fingerprint" not in waf_log(gw)[-1]


def test_ja4_rule_blocks_the_client_it_names(gateway, tmp_path, certs, python_tls):
    _, ja4 = reference_fingerprints(sent_client_hello(python_tls))
    acl = write_acl(tmp_path / "acl.json", fingerprint_rule("JA4Fingerprint", ja4))
    gw = gateway(CONFIG, acl=acl)
    assert python_get(gw, python_tls)[0] == 403
    assert waf_log(gw)[-1]["terminatingRuleId"] == "block-JA4Fingerprint"
    assert curl_get(gw, certs) == 200
    assert waf_log(gw)[-1]["ja4Fingerprint"] != ja4
    assert plain_get(gw)[0] == 200


def test_plain_http_takes_the_fallback_behavior(gateway, tmp_path, python_tls):
    acl = write_acl(tmp_path / "acl.json", fingerprint_rule("JA3Fingerprint", NOBODY_JA3))
    gw = gateway(CONFIG, acl=acl)
    # NO_MATCH: plain HTTP never matches a fingerprint rule; TLS with another JA3 neither.
    assert plain_get(gw)[0] == 200
    assert python_get(gw, python_tls)[0] == 200

    # MATCH: every request without a fingerprint matches; TLS viewers are judged by theirs.
    write_acl(acl, fingerprint_rule("JA3Fingerprint", NOBODY_JA3, fallback="MATCH"))
    reload_ok(gw)
    status, body = plain_get(gw)
    assert status == 403 and "blocked by the web ACL" in body
    assert python_get(gw, python_tls)[0] == 200

    write_acl(acl, fingerprint_rule("JA4Fingerprint", "t13i000000_000000000000_000000000000",
                                    fallback="MATCH"))
    reload_ok(gw)
    assert plain_get(gw)[0] == 403
    assert python_get(gw, python_tls)[0] == 200
