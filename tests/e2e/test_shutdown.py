"""Graceful shutdown: SIGTERM stops accepting, lets requests in flight finish, exits 0."""
import signal
import socket
import threading
import time

from harness import RawConn, http_request, port_open, wait_until

CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins:
  app: {url: "{origin_url}", read_timeout: 10s}
behaviors:
  - {path: default, origin: app}
limits: {drain_timeout: 10s}
"""


def test_sigterm_drains_in_flight_requests(gateway, origin):
    body = "x" * 100_000
    origin.on("/slow*", delay=2, body=body)
    gw = gateway(CONFIG, origin_url=origin.url)
    results = {}

    def call(i):
        try:
            results[i] = http_request(gw.port, "GET", f"/slow/{i}", timeout=15)
        except Exception as e:  # noqa: BLE001
            results[i] = e

    threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    origin.wait_requests(6, timeout=5)
    # an idle keep-alive viewer must not hold the shutdown up
    idle = RawConn(gw.port)
    idle.send(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
    assert idle.read_response().status == 200
    t_term = time.monotonic()
    gw.signal(signal.SIGTERM)
    # new connections are refused while the old requests are still running
    wait_until(lambda: not port_open(gw.port), timeout=1.5, what="the listener to close")
    assert time.monotonic() - t_term < 1.5
    assert any(t.is_alive() for t in threads), "the requests should still be in flight"
    assert idle.closed_by_peer(timeout=2), "an idle keep-alive connection is closed at shutdown"
    idle.close()
    for t in threads:
        t.join(15)
    for i in range(6):
        r = results[i]
        assert not isinstance(r, Exception), f"request {i}: {r!r}"
        status, _, data = r
        assert status == 200, (i, data[:200])
        assert data == body.encode(), f"request {i}: {len(data)} bytes"
    gw.proc.wait(10)
    assert gw.stop() == 0
    assert time.monotonic() - t_term < 5


def test_new_connection_after_sigterm_refused(gateway, origin):
    origin.on("/slow", delay=2)
    gw = gateway(CONFIG, origin_url=origin.url)
    th = threading.Thread(target=lambda: http_request(gw.port, "GET", "/slow", timeout=10))
    th.start()
    origin.wait_requests(1)
    gw.signal(signal.SIGTERM)
    wait_until(lambda: not port_open(gw.port), timeout=1.5, what="the listener to close")
    try:
        with socket.create_connection(("127.0.0.1", gw.port), timeout=1) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got = s.recv(100)
        refused = got == b""
    except OSError:
        refused = True
    assert refused
    th.join(10)
    assert gw.stop() == 0
