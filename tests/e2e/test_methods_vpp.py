"""Allowed methods per behavior, and the viewer protocol policy (redirect-to-https,
https-only) on the plain listener vs the TLS listener."""
import pytest

from harness import header_of, http_request

CONFIG = """
listeners:
  - address: "127.0.0.1:{port}"
  - address: "127.0.0.1:{tls_port}"
    tls: {cert: "{edge_cert}", key: "{edge_key}"}
origins:
  app: {url: "{origin_url}"}
behaviors:
  - {path: /ro/*, origin: app, allowed_methods: GET_HEAD}
  - {path: /opt/*, origin: app, allowed_methods: [GET, HEAD, OPTIONS]}
  - {path: /rw/*, origin: app, allowed_methods: ALL}
  - {path: /redirect/*, origin: app, viewer_protocol_policy: redirect-to-https}
  - {path: /only/*, origin: app, viewer_protocol_policy: https-only, allowed_methods: ALL}
  - {path: default, origin: app}
"""


@pytest.fixture
def gw(gateway, origin):
    return gateway(CONFIG, origin_url=origin.url)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_method_not_allowed_is_403_and_origin_not_asked(gw, origin, method):
    status, headers, body = http_request(gw.port, method, "/ro/item", body=b"x" if method in
                                         ("POST", "PUT", "PATCH") else b"")
    assert status == 403
    text = body.decode()
    assert method in text and "not allowed" in text, text
    assert origin.requests == []


def test_edge_generated_answers_carry_request_id(gw, origin):
    """Like CloudFront, every answer the edge makes itself (403 method, 403 https-only, 301
    redirect) carries the request id (to find it in the access log) and Via/X-Cache."""
    for method, path in [("DELETE", "/ro/item"), ("GET", "/only/x"), ("GET", "/redirect/x")]:
        status, headers, _ = http_request(gw.port, method, path)
        assert status in (301, 403)
        assert header_of(headers, "X-Amz-Cf-Id"), f"{method} {path} -> {status}: {headers}"
        assert header_of(headers, "X-Cache"), f"{method} {path} -> {status}: {headers}"


def test_get_head_allowed(gw, origin):
    status, _, body = http_request(gw.port, "GET", "/ro/item")
    assert status == 200 and b"path=/ro/item" in body
    status, headers, body = http_request(gw.port, "HEAD", "/ro/item")
    assert status == 200 and body == b""
    assert [r.method for r in origin.requests] == ["GET", "HEAD"]


def test_get_head_options_set(gw, origin):
    assert http_request(gw.port, "OPTIONS", "/opt/x")[0] == 200
    assert http_request(gw.port, "PUT", "/opt/x", body=b"a")[0] == 403
    assert http_request(gw.port, "DELETE", "/opt/x")[0] == 403
    assert [r.method for r in origin.requests] == ["OPTIONS"]


def test_all_methods(gw, origin):
    for m in ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]:
        assert http_request(gw.port, m, "/rw/x", body=b"b" if m in ("PUT", "POST", "PATCH") else b"")[0] == 200, m
    assert [r.method for r in origin.requests] == ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]


def test_redirect_to_https_on_plain_listener(gw, origin):
    status, headers, body = http_request(gw.port, "GET", "/redirect/page?a=1&b=two",
                                         {"Host": f"127.0.0.1:{gw.port}"})
    assert status == 301
    assert header_of(headers, "Location") == f"https://127.0.0.1:{gw.tls_port}/redirect/page?a=1&b=two"
    assert origin.requests == []


def test_redirect_keeps_the_viewer_host_name(gw, origin):
    status, headers, _ = http_request(gw.port, "GET", "/redirect/x", {"Host": f"www.example.test:{gw.port}"})
    assert status == 301
    assert header_of(headers, "Location") == f"https://www.example.test:{gw.tls_port}/redirect/x"


def test_redirect_path_served_over_tls(gw, origin, client_tls):
    status, _, body = http_request(gw.tls_port, "GET", "/redirect/page?a=1", tls_ctx=client_tls)
    assert status == 200
    assert origin.last().target == "/redirect/page?a=1"


def test_https_only_refused_on_plain_listener(gw, origin):
    status, _, body = http_request(gw.port, "GET", "/only/x")
    assert status == 403
    assert b"HTTPS" in body
    status, _, _ = http_request(gw.port, "POST", "/only/x", body=b"data")
    assert status == 403
    assert origin.requests == []


def test_https_only_served_over_tls(gw, origin, client_tls):
    status, _, body = http_request(gw.tls_port, "POST", "/only/x", body=b"data", tls_ctx=client_tls)
    assert status == 200
    assert origin.last().method == "POST" and origin.last().body == b"data"
