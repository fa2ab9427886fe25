"""Built-in native functions through the real gateway (scenario S2 and the static-site
helpers): what the viewer gets and what the echo origin received."""
import base64
import json
import os
import shutil
import time

from harness import REPO, run_edgeguard, wait_until
from test_waf import send

DATA = os.path.join(REPO, "tests", "data", "functions")


def security_groups(tmp_path, cidr_443, cidr_22):
    doc = {"SecurityGroups": [{"GroupId": "sg-0123456789abcdef0", "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": cidr_443}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": cidr_22}]},
        {"IpProtocol": "udp", "FromPort": 0, "ToPort": 65535,
         "IpRanges": [{"CidrIp": "127.0.0.9/32"}]}]}]}
    path = tmp_path / "groups.json"
    tmp = tmp_path / "groups.json.tmp"
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)
    return str(path)


S2_CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins: {app: {echo: true}}
behaviors:
  - path: /admin/*
    origin: app
    functions:
      viewer-request: {builtin: basic-auth, users: {htpasswd}, realm: staff}
  - path: default
    origin: app
    functions:
      viewer-request: {builtin: ip-allowlist, security_groups: {groups}, ttl: 1}
"""


def test_s2_allowlist_from_security_groups_takes_only_tcp_80_443(gateway, tmp_path):
    groups = security_groups(tmp_path, "127.0.0.5/32", "127.0.0.6/32")
    gw = gateway(S2_CONFIG, groups=groups, htpasswd=os.path.join(DATA, "users.htpasswd"))
    status, headers, body = send(gw, "/orders?id=7", source="127.0.0.5",
                                 headers={"X-Trace": "abc"})
    assert status == 200
    echoed = json.loads(body)
    # An allowed request passes on unchanged.
    assert echoed["path"] == "/orders" and echoed["query"] == "id=7"
    assert echoed["headers"]["x-trace"] == "abc"
    # TCP 22 and UDP rules are not taken: 403 Forbidden, text/plain.
    for source in ("127.0.0.6", "127.0.0.9", "127.0.0.1"):
        status, headers, body = send(gw, "/orders", source=source)
        assert status == 403, source
        assert headers["content-type"].startswith("text/plain")
        assert body.strip() == "Forbidden"
    # The document is re-read after its TTL (1 s here): 127.0.0.6 moves to the 443 rule.
    security_groups(tmp_path, "127.0.0.6/32", "127.0.0.5/32")
    wait_until(lambda: send(gw, "/orders", source="127.0.0.6")[0] == 200, timeout=5,
               interval=0.2, what="the allowlist to pick up the changed security groups")
    assert send(gw, "/orders", source="127.0.0.5")[0] == 403


def test_s2_allowlist_keeps_the_last_good_list_when_the_document_breaks(gateway, tmp_path):
    groups = security_groups(tmp_path, "127.0.0.5/32", "127.0.0.6/32")
    gw = gateway(S2_CONFIG, groups=groups, htpasswd=os.path.join(DATA, "users.htpasswd"))
    assert send(gw, "/", source="127.0.0.5")[0] == 200
    with open(groups, "w") as f:
        f.write('{"SecurityGroups": [')
    time.sleep(1.5)
    assert send(gw, "/", source="127.0.0.5")[0] == 200
    assert send(gw, "/", source="127.0.0.6")[0] == 403


def basic(user_password):
    return "Basic " + base64.b64encode(user_password.encode()).decode()


def test_s2_basic_auth_401_then_through_without_the_credentials(gateway, tmp_path):
    groups = security_groups(tmp_path, "127.0.0.5/32", "127.0.0.6/32")
    gw = gateway(S2_CONFIG, groups=groups, htpasswd=os.path.join(DATA, "users.htpasswd"))
    status, headers, _ = send(gw, "/admin/users")
    assert status == 401
    assert headers["www-authenticate"].startswith('Basic realm="staff"')
    assert send(gw, "/admin/users", headers={"Authorization": basic("alice:nope")})[0] == 401
    assert send(gw, "/admin/users", headers={"Authorization": basic("mallory:x")})[0] == 401
    for creds in ("alice:wonderland", "bob:builder", "carol:c4r0l"):
        status, _, body = send(gw, "/admin/users", headers={"Authorization": basic(creds)})
        assert status == 200, creds
        assert "authorization" not in json.loads(body)["headers"]


STATIC_CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins:
  site: {directory: {site}}
behaviors:
  - path: /old/*
    origin: site
    functions:
      viewer-request: {builtin: redirect, prefix: /old/, to: /new/, status: 308}
  - path: default
    origin: site
    functions:
      viewer-request: {builtin: rewrite, directory_index: true, no_extension: redirect}
      viewer-response: {builtin: security-headers}
"""


def test_static_site_index_rewrite_redirects_and_security_headers(gateway, tmp_path):
    site = tmp_path / "site"
    (site / "docs").mkdir(parents=True)
    (site / "docs" / "index.html").write_text("<h1>docs</h1>")
    gw = gateway(STATIC_CONFIG, site=str(site))
    status, headers, body = send(gw, "/docs/")
    assert status == 200 and "<h1>docs</h1>" in body
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" in headers and "referrer-policy" in headers
    status, headers, _ = send(gw, "/docs?x=1")
    assert status == 301 and headers["location"].endswith("/docs/?x=1")
    status, headers, _ = send(gw, "/old/page.html?q=2")
    assert status == 308 and headers["location"].endswith("/new/page.html?q=2")


def test_a_bad_builtin_is_refused_with_its_place(tmp_path):
    config = tmp_path / "edge.yaml"
    config.write_text(
        "listeners: [{address: \"127.0.0.1:0\"}]\n"
        "origins: {app: {echo: true}}\n"
        "behaviors:\n"
        "  - path: default\n"
        "    origin: app\n"
        "    functions:\n"
        "      viewer-request: {builtin: ip-allowlist, cidrs: [10.0.0.0/33]}\n"
        "      viewer-response: {builtin: basic-auth, users: x}\n")
    r = run_edgeguard("check", "-c", str(config))
    assert r.returncode == 1
    assert "edge.yaml:7:" in r.stderr and "10.0.0.0/33" in r.stderr, r.stderr
    assert "edge.yaml:8:" in r.stderr and "basic-auth" in r.stderr and "viewer-request" in r.stderr, r.stderr
