"""The echo origin answers with a JSON document of the request it received."""
import requests

from harness import http_request, json_body

CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins:
  echo: {echo: true, custom_headers: {X-Origin-Verify: echo-static}}
behaviors:
  - path: /api/*
    origin: echo
    allowed_methods: ALL
    rewrite: {strip_prefix: /api}
  - {path: default, origin: echo}
"""


def test_echo_shows_method_path_query_headers_body(gateway):
    gw = gateway(CONFIG)
    status, headers, body = http_request(
        gw.port, "POST", "/api/orders/7?expand=items&x=1",
        [("Content-Type", "application/json"), ("X-Client", "e2e")], b'{"qty": 3}')
    assert status == 200
    assert dict((k.lower(), v) for k, v in headers)["content-type"] == "application/json"
    j = json_body(body)
    assert j["method"] == "POST"
    assert j["path"] == "/orders/7"            # the prefix was stripped before the origin
    assert j["query"] == "expand=items&x=1"
    assert j["body"] == '{"qty": 3}'
    h = j["headers"]
    assert h["x-client"] == "e2e"
    assert h["content-type"] == "application/json"
    assert h["x-origin-verify"] == "echo-static"
    assert h["x-forwarded-for"] == "127.0.0.1"
    assert "edgeguard" in h["via"]
    assert h["x-amz-cf-id"] == dict((k.lower(), v) for k, v in headers)["x-amz-cf-id"]


def test_echo_binary_body_is_base64(gateway):
    gw = gateway(CONFIG)
    r = requests.post(gw.url + "/api/bin", data=b"\xff\xfe\x00\x01")
    assert r.status_code == 200
    j = r.json()
    assert j["body_base64"] == "//4AAQ=="
    assert "body" not in j


def test_echo_get_without_body(gateway):
    gw = gateway(CONFIG)
    r = requests.get(gw.url + "/plain", headers={"X-A": "1"})
    assert r.status_code == 200
    j = r.json()
    assert (j["method"], j["path"], j["query"], j["body"]) == ("GET", "/plain", "", "")
    assert j["headers"]["x-a"] == "1"


def test_ipv6_listener(gateway):
    gw = gateway("""
        listeners:
          - address: "[::1]:{port6}"
          - address: "127.0.0.1:{port}"
        origins: {echo: {echo: true}}
        behaviors: [{path: default, origin: echo}]
    """)
    status, _, body = http_request(gw.port6, "GET", "/six?x=1", host="::1")
    assert status == 200
    j = json_body(body)
    assert j["path"] == "/six" and j["query"] == "x=1"
    assert j["headers"]["x-forwarded-for"] == "::1"
