"""Origin failures and slow or vanishing viewers, as a user sees them; and origin response
framings (chunked, close-delimited) relayed intact."""
import socket
import threading
import time

import requests

from harness import RawConn, free_port, http_request, wait_until

CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins:
  app: {url: "{origin_url}", read_timeout: 1s, connect_timeout: 1s}
  dead: {url: "http://127.0.0.1:{dead_port}", connect_timeout: 1s}
behaviors:
  - {path: /dead/*, origin: dead}
  - {path: default, origin: app}
limits: {header_timeout: 1s, idle_timeout: 5s}
"""


def start(gateway, origin):
    return gateway(CONFIG, origin_url=origin.url, dead_port=free_port())


def test_origin_refused_is_502_naming_origin_and_cause(gateway, origin):
    gw = start(gateway, origin)
    t0 = time.monotonic()
    status, _, body = http_request(gw.port, "GET", "/dead/x")
    text = body.decode()
    assert status == 502, text
    assert "'dead'" in text or "dead" in text.split("\n")[0], text
    assert "refused" in text.lower(), text
    assert time.monotonic() - t0 < 2


def test_origin_read_timeout_is_504_naming_origin(gateway, origin):
    origin.on("/slow", delay=3)
    gw = start(gateway, origin)
    t0 = time.monotonic()
    status, _, body = http_request(gw.port, "GET", "/slow")
    took = time.monotonic() - t0
    text = body.decode()
    assert status == 504, text
    assert "app" in text and "timeout" in text.lower(), text
    assert 0.8 < took < 2.5, took


def test_origin_abrupt_close_is_502(gateway, origin):
    origin.on("/rst", mode="abort").on("/fin", mode="hangup")
    gw = start(gateway, origin)
    for path in ("/rst", "/fin"):
        status, _, body = http_request(gw.port, "GET", path)
        assert status == 502, (path, body)
        assert b"app" in body, body
    # the gateway still serves afterwards
    assert http_request(gw.port, "GET", "/ok")[0] == 200


def test_chunked_and_close_delimited_origin_bodies_relayed(gateway, origin):
    payload = "".join(f"line {i}\n" for i in range(2000))
    origin.on("/chunked", mode="chunked", body=payload).on("/close", mode="close", body=payload)
    gw = start(gateway, origin)
    for path in ("/chunked", "/close", "/chunked"):
        r = requests.get(gw.url + path, timeout=10)
        assert r.status_code == 200
        assert r.text == payload, path
    # keep-alive with the viewer survives a close-delimited origin body (framed for the viewer)
    with RawConn(gw.port) as c:
        for path in ("/close", "/chunked", "/close"):
            c.send(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            resp = c.read_response()
            assert resp.status == 200 and resp.text == payload, path


def test_viewer_disconnect_frees_the_upstream_connection(gateway, origin):
    origin.on("/slow", delay=6)
    gw = start(gateway, origin)
    c = RawConn(gw.port)
    c.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    origin.wait_requests(1, timeout=3)
    t_close = time.monotonic()
    c.close()
    # The origin sees the gateway close its connection long before it would have answered.
    wait_until(lambda: origin.peer_closed, timeout=3,
               what="the origin to see its connection closed after the viewer left")
    rec, t_seen = origin.peer_closed[0]
    assert rec.path == "/slow"
    assert t_seen - t_close < 2.0


def test_slow_client_header_timeout(gateway, origin):
    gw = start(gateway, origin)
    with RawConn(gw.port, timeout=5) as c:
        c.send(b"GET /half HT")
        t0 = time.monotonic()
        _check_slow_client(gw, origin, c, t0)


def _check_slow_client(gw, origin, c, t0):
    # meanwhile others are served
    results = []

    def other():
        results.append(http_request(gw.port, "GET", "/other", timeout=3)[0])
    th = [threading.Thread(target=other) for _ in range(4)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    assert results == [200] * 4
    assert c.closed_by_peer(timeout=4), "the gateway did not close a connection stuck in its head"
    took = time.monotonic() - t0
    assert took < 2.5, f"closed after {took:.2f}s with header_timeout 1s"
    assert not any(r.path == "/half" for r in origin.requests)


def test_slow_client_trickling_bytes_is_still_cut(gateway, origin):
    """header_timeout counts from the first byte: sending a byte now and then does not help."""
    gw = start(gateway, origin)
    with RawConn(gw.port, timeout=5) as c:
        t0 = time.monotonic()
        _trickle(c, t0)


def _trickle(c, t0):
    closed = False
    for ch in b"GET /trickle HTTP/1.1\r\nX-A: " + b"a" * 100:
        try:
            c.send(bytes([ch]))
        except OSError:
            closed = True
            break
        if c.closed_by_peer(timeout=0.2):
            closed = True
            break
        if time.monotonic() - t0 > 4:
            break
    assert closed, "the gateway kept a trickling head open for more than 4s"
    assert time.monotonic() - t0 < 2.5


def test_idle_keepalive_connection_is_closed(gateway, origin):
    gw = gateway(CONFIG.replace("idle_timeout: 5s", "idle_timeout: 1s"), origin_url=origin.url,
                 dead_port=free_port())
    with RawConn(gw.port) as c:
        c.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.read_response().status == 200
        t0 = time.monotonic()
        assert c.closed_by_peer(timeout=4)
        assert time.monotonic() - t0 < 2.5


def test_error_page_missing_keeps_origin_error(gateway, origin, public_dir):
    """A custom error page that cannot be fetched leaves the origin's own error in place."""
    origin.on("/gone", status=404, body="origin 404 body")
    gw = gateway("""
        listeners: [{address: "127.0.0.1:{port}"}]
        origins:
          app: {url: "{origin_url}"}
          pages: {directory: "{public_dir}"}
        behaviors:
          - {path: /errors/*, origin: pages}
          - {path: default, origin: app}
        custom_error_responses:
          - {error_code: 404, response_page_path: /errors/does-not-exist.html, response_code: 200}
    """, origin_url=origin.url)
    status, _, body = http_request(gw.port, "GET", "/gone")
    assert status == 404
    assert body == b"origin 404 body"
