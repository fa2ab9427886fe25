"""Malformed requests over raw sockets: the gateway answers with the right status and a short
body saying what was wrong, closes the connection, and never asks the origin. Plus
keep-alive and pipelining on one connection."""
import pytest

from harness import RawConn, raw_exchange

CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins:
  app: {url: "{origin_url}"}
behaviors:
  - {path: default, origin: app, allowed_methods: ALL}
"""

H = b"Host: example.test\r\n"

BAD = [
    # (id, raw request, status, words (any one of them) the body must contain)
    ("cl-and-te",
     b"POST /x HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400, ["content-length", "transfer-encoding"]),
    ("duplicate-cl",
     b"POST /x HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
     400, ["content-length"]),
    ("duplicate-cl-list",
     b"POST /x HTTP/1.1\r\n" + H + b"Content-Length: 3, 3\r\n\r\nabc",
     400, ["content-length"]),
    ("invalid-chunk-size",
     b"POST /x HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
     400, ["chunk"]),
    ("obs-fold",
     b"GET /x HTTP/1.1\r\n" + H + b"X-A: one\r\n two\r\n\r\n",
     400, ["fold", "whitespace", "continuation"]),
    ("bare-lf",
     b"GET /x HTTP/1.1\n" + H + b"\n",
     400, ["lf", "line ending", "crlf", "line terminator"]),
    ("bare-lf-in-headers",
     b"GET /x HTTP/1.1\r\n" + H + b"X-A: 1\nX-B: 2\r\n\r\n",
     400, ["lf", "line ending", "crlf", "line terminator"]),
    ("control-char-in-header",
     b"GET /x HTTP/1.1\r\n" + H + b"X-A: a\x01b\r\n\r\n",
     400, ["control", "0x01", "invalid character"]),
    ("nul-in-header",
     b"GET /x HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n",
     400, ["control", "0x00", "invalid character"]),
    ("long-url",
     b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + H + b"\r\n",
     414, ["long", "request line", "uri", "request-target"]),
    ("huge-headers",
     b"GET /x HTTP/1.1\r\n" + H + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 1000) for i in range(30)) + b"\r\n",
     431, ["header"]),
    ("no-host-http11",
     b"GET /x HTTP/1.1\r\nX-A: 1\r\n\r\n",
     400, ["host"]),
    ("two-hosts",
     b"GET /x HTTP/1.1\r\n" + H + H + b"\r\n",
     400, ["host"]),
    ("space-before-colon",
     b"GET /x HTTP/1.1\r\n" + H + b"X-A : 1\r\n\r\n",
     400, ["colon", "whitespace"]),
    ("http-2-0-version",
     b"GET /x HTTP/2.0\r\n" + H + b"\r\n",
     505, ["version"]),
    ("unknown-transfer-coding",
     b"POST /x HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n",
     501, ["transfer", "coding", "gzip"]),
]


@pytest.fixture
def gw(gateway, origin):
    return gateway(CONFIG, origin_url=origin.url)


@pytest.mark.parametrize("raw,status,words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_request(gw, origin, raw, status, words):
    resp, closed = raw_exchange(gw.port, raw)
    assert resp.status == status, resp.text
    text = resp.text.strip()
    assert 0 < len(text) < 300, f"the body should say briefly what was wrong: {text!r}"
    assert any(w in text.lower() for w in words), f"body {text!r} does not say {words}"
    assert closed, "the connection must be closed after a malformed request"
    assert (resp.header("connection") or "").lower() == "close"
    assert origin.requests == []


def test_keep_alive_several_requests_on_one_socket(gw, origin):
    with RawConn(gw.port) as c:
        for i in range(5):
            c.send(f"GET /ka/{i} HTTP/1.1\r\nHost: example.test\r\n\r\n".encode())
            resp = c.read_response()
            assert resp.status == 200
            assert resp.text == f"origin=origin path=/ka/{i}\n"
        # a POST with a body, then a GET, still on the same connection
        c.send(b"POST /ka/post HTTP/1.1\r\nHost: example.test\r\nContent-Length: 4\r\n\r\nbody")
        assert c.read_response().status == 200
        c.send(b"GET /ka/last HTTP/1.1\r\nHost: example.test\r\n\r\n")
        assert c.read_response().text == "origin=origin path=/ka/last\n"
        assert not c.closed_by_peer(timeout=0.3)
    assert [r.path for r in origin.requests][-2:] == ["/ka/post", "/ka/last"]
    assert origin.requests[-2].body == b"body"


def test_pipelining_three_requests_three_responses_in_order(gw, origin):
    origin.on("/p/slow", delay=0.3)
    with RawConn(gw.port) as c:
        c.send(b"GET /p/slow HTTP/1.1\r\nHost: example.test\r\n\r\n"
               b"GET /p/two?x=1 HTTP/1.1\r\nHost: example.test\r\n\r\n"
               b"HEAD /p/three HTTP/1.1\r\nHost: example.test\r\n\r\n")
        r1 = c.read_response()
        r2 = c.read_response()
        r3 = c.read_response("HEAD")
        assert (r1.status, r2.status, r3.status) == (200, 200, 200)
        assert r1.text == "origin=origin path=/p/slow\n"
        assert r2.text == "origin=origin path=/p/two\n"
        assert r3.body == b""
        # and the connection is still usable
        c.send(b"GET /p/four HTTP/1.1\r\nHost: example.test\r\n\r\n")
        assert c.read_response().text == "origin=origin path=/p/four\n"


def test_connection_close_is_honoured(gw):
    with RawConn(gw.port) as c:
        c.send(b"GET /x HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n")
        resp = c.read_response()
        assert resp.status == 200
        assert (resp.header("connection") or "").lower() == "close"
        assert c.closed_by_peer(timeout=2)


def test_http10_request(gw, origin):
    with RawConn(gw.port) as c:
        c.send(b"GET /old HTTP/1.0\r\n\r\n")
        resp = c.read_response()
        assert resp.status == 200
        assert resp.version == "HTTP/1.0"
        assert resp.text == "origin=origin path=/old\n"
        assert c.closed_by_peer(timeout=2)


def test_bad_request_after_a_good_one_on_the_same_connection(gw, origin):
    with RawConn(gw.port) as c:
        c.send(b"GET /good HTTP/1.1\r\nHost: example.test\r\n\r\n")
        assert c.read_response().status == 200
        c.send(b"GET /bad HTTP/1.1\r\nHost: example.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        assert c.read_response().status == 400
        assert c.closed_by_peer(timeout=2)
    assert [r.path for r in origin.requests] == ["/good"]


def test_keep_alive_connection_idle_for_seconds_still_serves(gw, origin):
    """A keep-alive connection idle for over a second gives back its buffers (it is
    "parked") and must answer its next request, including one that arrives in pieces."""
    import time
    with RawConn(gw.port) as c:
        c.send(b"GET /idle/1 HTTP/1.1\r\nHost: example.test\r\n\r\n")
        assert c.read_response().status == 200
        time.sleep(2.5)
        c.send(b"GET /idle/2 HTT")
        time.sleep(0.2)
        c.send(b"P/1.1\r\nHost: example.test\r\n\r\n")
        resp = c.read_response()
        assert resp.status == 200
        assert resp.text == "origin=origin path=/idle/2\n"
        time.sleep(2.5)
        c.send(b"POST /idle/3 HTTP/1.1\r\nHost: example.test\r\nContent-Length: 4\r\n\r\nbody")
        assert c.read_response().text == "origin=origin path=/idle/3\n"
    assert origin.requests[-1].body == b"body"
