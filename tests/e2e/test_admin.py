"""The admin API: /ready, /stats (Prometheus), /config (no secrets), POST /reload, auth."""
import json
import re

import pytest
import requests

from harness import http_request

SECRET_VALUE = "super-secret-origin-verify-value-42"

CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
secrets: {file: "{dir}/secrets.json"}
origins:
  app:
    url: "{origin_url}"
    custom_headers: {X-Origin-Verify: {secret: origin-verify}, X-Static: static-one}
  echo: {echo: true}
behaviors:
  - {path: /api/*, origin: app, allowed_methods: ALL}
  - {path: default, origin: echo}
"""


@pytest.fixture
def gw(gateway, origin, tmp_path):
    # the secrets store lives in the gateway's folder: write it before the start
    d = tmp_path / "gw0"
    d.mkdir()
    (d / "secrets.json").write_text(json.dumps({"secrets": {"origin-verify": {"versions": [
        {"id": "v1", "value": SECRET_VALUE, "stages": ["CURRENT"]}]}}}))
    return gateway(CONFIG, origin_url=origin.url)


def metric(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pat = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if labels else "") + r" ([0-9.e+-]+)$"
    m = re.search(pat, text, re.M)
    return float(m.group(1)) if m else None


def test_ready(gw):
    r = gw.admin("GET", "/ready")
    assert r.status_code == 200
    assert "ready" in r.text


@pytest.mark.parametrize("path,method", [("/ready", "GET"), ("/stats", "GET"), ("/config", "GET"),
                                         ("/reload", "POST")])
def test_auth_required(gw, path, method):
    assert gw.admin(method, path, token=None).status_code == 401
    assert gw.admin(method, path, token="wrong-token-wrong-token-wrong").status_code == 401
    assert gw.admin(method, path, token=gw.admin_token + "x").status_code == 401
    assert gw.admin(method, path, token=gw.admin_token[:-1]).status_code == 401
    r = requests.request(method, gw.admin_url + path, timeout=5,
                         headers={"Authorization": f"Basic {gw.admin_token}"})
    assert r.status_code == 401


def test_stats_prometheus(gw, origin):
    for _ in range(3):
        assert http_request(gw.port, "GET", "/api/x")[0] == 200
    assert http_request(gw.port, "DELETE", "/other")[0] == 403
    assert http_request(gw.port, "GET", "/e")[0] == 200
    r = gw.admin("GET", "/stats")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    t = r.text
    assert "# TYPE edgeguard_requests_total counter" in t
    assert metric(t, "edgeguard_requests_total", behavior="/api/*", status="200") == 3
    assert metric(t, "edgeguard_requests_total", behavior="default", status="403") == 1
    assert metric(t, "edgeguard_requests_total", behavior="default", status="200") == 1
    assert "# TYPE edgeguard_origin_latency_seconds histogram" in t
    assert metric(t, "edgeguard_origin_latency_seconds_count", origin="app") == 3
    assert metric(t, "edgeguard_origin_latency_seconds_bucket", origin="app", le="+Inf") == 3
    assert metric(t, "edgeguard_origin_latency_seconds_sum", origin="app") is not None
    # every line is a comment or `name{labels} value`
    for line in t.splitlines():
        assert line.startswith("#") or re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? \S+", line), line


def test_config_generation_increases_on_reload(gw):
    g0 = metric(gw.stats(), "edgeguard_config_generation")
    assert g0 is not None and g0 >= 1
    assert gw.admin("POST", "/reload").status_code == 200
    assert metric(gw.stats(), "edgeguard_config_generation") == g0 + 1
    assert gw.admin("GET", "/config").json()["generation"] == g0 + 1


def test_config_json_without_secret_values(gw, origin):
    # the secret does reach the origin...
    assert http_request(gw.port, "GET", "/api/x")[0] == 200
    assert origin.last().header("X-Origin-Verify") == SECRET_VALUE
    # ...but never the admin API
    r = gw.admin("GET", "/config")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    j = r.json()
    assert "app" in json.dumps(j["origins"]) and "echo" in json.dumps(j["origins"])
    assert SECRET_VALUE not in r.text
    assert gw.admin_token not in r.text
    assert "static-one" in r.text or "X-Static" in r.text  # non-secret values may show


def test_admin_unknown_path_and_method(gw):
    assert gw.admin("GET", "/nope").status_code == 404
    assert gw.admin("POST", "/ready").status_code in (404, 405)
    assert gw.admin("GET", "/reload").status_code in (404, 405)
