"""Shield mode and SigV4-signed origins (issue 5, parts 1-3 and scenario S3).

Two gateways on one machine: edge -> shield -> origin. The shield admits only requests that
prove they came through the edge (origin-verify header, SigV4 signature, source address) and
refuses the rest with 403, counted by reason in /stats.
"""
import json
import os

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from test_admin import metric

CURRENT, PENDING, PREVIOUS = "current-value-" + "c" * 18, "pending-value-" + "p" * 18, "old-" + "o" * 28
ACCESS_KEY, SECRET_KEY = "AKIDEDGEEXAMPLE", "edge/secret/key/EXAMPLEKEY+0123456789abcd"


def write_store(path, pending=True):
    versions = [{"id": "v1", "value": PREVIOUS, "stages": ["PREVIOUS"]},
                {"id": "v2", "value": CURRENT, "stages": ["CURRENT"]}]
    if pending:
        versions.append({"id": "v3", "value": PENDING, "stages": ["PENDING"]})
    store = {"secrets": {"origin-verify": {"versions": versions},
                         "edge-key": {"versions": [{"id": "k1", "value": SECRET_KEY,
                                                    "stages": ["CURRENT"]}]}}}
    with open(path, "w") as f:
        json.dump(store, f)
    os.chmod(path, 0o600)


@pytest.fixture
def store(tmp_path):
    path = str(tmp_path / "store.json")
    write_store(path)
    return path


SHIELD_VERIFY = """
listeners: [{address: "127.0.0.1:{port}"}]
secrets: {file: "{store}"}
origins: {app: {url: "{origin_url}"}}
behaviors:
  - path: default
    origin: app
    allowed_methods: ALL
    shield: {origin_verify: {header: X-Origin-Verify, secret: origin-verify}}
"""


def test_origin_verify_admits_current_and_pending_only(gateway, origin, store):
    shield = gateway(SHIELD_VERIFY, origin_url=origin.url, store=store)
    url = shield.url + "/data"
    assert requests.get(url, timeout=5).status_code == 403
    r = requests.get(url, headers={"X-Origin-Verify": "guess"}, timeout=5)
    assert r.status_code == 403
    assert "origin_verify_mismatch" in r.text
    assert requests.get(url, headers={"X-Origin-Verify": PREVIOUS}, timeout=5).status_code == 403
    for value in (CURRENT, PENDING):
        assert requests.get(url, headers={"X-Origin-Verify": value}, timeout=5).status_code == 200
    assert origin.last().path == "/data"
    stats = shield.stats()
    assert metric(stats, "edgeguard_shield_refusals_total", behavior="default",
                  reason="origin_verify_missing") == 1
    assert metric(stats, "edgeguard_shield_refusals_total", behavior="default",
                  reason="origin_verify_mismatch") == 2


def test_edge_to_shield_to_origin(gateway, origin, store):
    """S6's shape: the edge adds the header from the shared store; only it gets through."""
    shield = gateway(SHIELD_VERIFY, origin_url=origin.url, store=store)
    edge = gateway("""
        listeners: [{address: "127.0.0.1:{port}"}]
        secrets: {file: "{store}"}
        origins: {shield: {url: "{shield_url}", custom_headers: {X-Origin-Verify: {secret: origin-verify}}}}
        behaviors: [{path: default, origin: shield, allowed_methods: ALL}]
    """, shield_url=shield.url, store=store)
    r = requests.post(edge.url + "/orders", json={"id": 7}, timeout=5)
    assert r.status_code == 200, r.text
    seen = origin.last()
    # While a rotation is under way (a PENDING version exists) the edge sends PENDING.
    assert seen.header("x-origin-verify") == PENDING
    assert json.loads(seen.body) == {"id": 7}
    assert requests.post(shield.url + "/orders", json={"id": 7}, timeout=5).status_code == 403
    # Rotation finished: PENDING became CURRENT; after a reload of both, still 200.
    write_store(store, pending=False)
    for gw in (shield, edge):
        assert gw.admin("POST", "/reload").status_code == 200
    assert requests.get(edge.url + "/after", timeout=5).status_code == 200
    assert origin.last().header("x-origin-verify") == CURRENT


def test_address_allowlist_from_file_reloaded_in_place(gateway, origin, tmp_path):
    allow = tmp_path / "allow.txt"
    allow.write_text("# edge addresses\n10.0.0.0/8\n2001:db8::/32\n")
    shield = gateway("""
        listeners: [{address: "127.0.0.1:{port}"}]
        origins: {app: {url: "{origin_url}"}}
        behaviors:
          - {path: default, origin: app, shield: {addresses: {file: "{allow}"}}}
    """, origin_url=origin.url, allow=str(allow))
    r = requests.get(shield.url + "/x", timeout=5)
    assert r.status_code == 403 and "address_not_allowed" in r.text
    allow.write_text("10.0.0.0/8\n127.0.0.0/8 # loopback: the edge in this test\n")
    assert shield.admin("POST", "/reload").status_code == 200
    assert requests.get(shield.url + "/x", timeout=5).status_code == 200
    # A broken file is refused with its own file:line, and the running set keeps serving.
    allow.write_text("127.0.0.0/8\n10.0.0.1/8\n")
    r = shield.admin("POST", "/reload")
    assert r.status_code != 200
    assert f"{allow}:2:1:" in r.text and "host bits set" in r.text
    assert requests.get(shield.url + "/x", timeout=5).status_code == 200


def test_mode_all_needs_every_check(gateway, origin, store):
    shield = gateway("""
        listeners: [{address: "127.0.0.1:{port}"}]
        secrets: {file: "{store}"}
        origins: {app: {url: "{origin_url}"}}
        behaviors:
          - path: default
            origin: app
            shield:
              mode: all
              origin_verify: {header: X-Origin-Verify, secret: origin-verify}
              addresses: ["192.0.2.0/24"]
    """, origin_url=origin.url, store=store)
    r = requests.get(shield.url + "/", headers={"X-Origin-Verify": CURRENT}, timeout=5)
    assert r.status_code == 403 and "address_not_allowed" in r.text


SIGV4_SHIELD = """
listeners: [{address: "127.0.0.1:{port}"}]
secrets: {file: "{store}"}
origins: {app: {url: "{origin_url}"}}
behaviors:
  - path: default
    origin: app
    allowed_methods: ALL
    shield:
      sigv4: {keys: [{access_key_id: AKIDEDGEEXAMPLE, secret: edge-key}], service: lambda, region: eu-west-1}
"""


def botocore_signed(method, url, body=None, key=SECRET_KEY):
    req = AWSRequest(method=method, url=url, data=body,
                     headers={"Content-Type": "application/json"} if body else {})
    SigV4Auth(Credentials(ACCESS_KEY, key), "lambda", "eu-west-1").add_auth(req)
    return requests.request(method, url, headers=dict(req.headers.items()), data=body, timeout=5)


def test_sigv4_shield_accepts_botocore_and_refuses_the_rest(gateway, origin, store):
    shield = gateway(SIGV4_SHIELD, origin_url=origin.url, store=store)
    assert botocore_signed("GET", shield.url + "/items?b=2&a=1").status_code == 200
    assert botocore_signed("POST", shield.url + "/items", body=b'{"n": 1}').status_code == 200
    r = botocore_signed("GET", shield.url + "/items", key="wrong" + SECRET_KEY[5:])
    assert r.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in r.text
    r = requests.get(shield.url + "/items", timeout=5)
    assert r.status_code == 403 and "<Error><Code>" in r.text
    stats = shield.stats()
    assert metric(stats, "edgeguard_shield_refusals_total", behavior="default",
                  reason="sigv4_signature_does_not_match") == 1
    assert metric(stats, "edgeguard_shield_refusals_total", behavior="default",
                  reason="sigv4_missing_authentication") == 1


def test_s3_scenario_signed_edge_reaches_iam_protected_origin(gateway, origin, store, tmp_path):
    """S3: the origin side refuses a direct request; the same request through the edge, signed
    with credentials from a shared credentials file, succeeds — GET and POST with a JSON body."""
    creds = tmp_path / "credentials"
    creds.write_text(f"[edge]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n")
    shield = gateway(SIGV4_SHIELD, origin_url=origin.url, store=store)
    edge = gateway("""
        listeners: [{address: "127.0.0.1:{port}"}]
        origins:
          api:
            url: "{shield_url}"
            sign: {sigv4: {service: lambda, region: eu-west-1, profile: edge, credentials_file: "{creds}"}}
        behaviors: [{path: default, origin: api, allowed_methods: ALL, origin_request_policy: AllViewer}]
    """, shield_url=shield.url, creds=str(creds))
    for method, body in (("GET", None), ("POST", json.dumps({"order": 42, "items": ["a", "b"]}))):
        direct = requests.request(method, shield.url + "/orders?x=1", data=body, timeout=5,
                                  headers={"Content-Type": "application/json"})
        assert direct.status_code == 403
        # A viewer's own Authorization must not survive into the signed request.
        r = requests.request(method, edge.url + "/orders?x=1", data=body, timeout=5,
                             headers={"Content-Type": "application/json",
                                      "Authorization": "Bearer viewer-token",
                                      "X-Amz-Date": "20000101T000000Z"})
        assert r.status_code == 200, r.text
        seen = origin.last()
        assert seen.method == method
        assert seen.header("authorization").startswith(
            f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
        assert "/eu-west-1/lambda/aws4_request" in seen.header("authorization")
        # The viewer's X-Amz-Date is gone (ours replaced it); the edge's request id is kept
        # and covered by the signature (the origin sees the shield's id: it is a hop too).
        assert seen.header_values("x-amz-date") != ["20000101T000000Z"]
        assert "x-amz-cf-id" in seen.header("authorization").split("SignedHeaders=")[1]
        if body:
            assert json.loads(seen.body) == json.loads(body)


def test_signed_origin_without_credentials_answers_503(gateway, origin, tmp_path):
    empty = tmp_path / "empty-credentials"
    empty.write_text("[other]\naws_access_key_id = X\naws_secret_access_key = Y\n")
    edge = gateway("""
        listeners: [{address: "127.0.0.1:{port}"}]
        origins:
          api:
            url: "{origin_url}"
            sign: {sigv4: {service: lambda, region: eu-west-1, profile: missing, credentials_file: "{creds}", config_file: "{creds}"}}
        behaviors: [{path: default, origin: api}]
    """, origin_url=origin.url, creds=str(empty))
    r = requests.get(edge.url + "/x", timeout=15)
    assert r.status_code == 503
    assert "no AWS credentials" in r.text and "missing" in r.text
    assert not origin.requests  # never sent unsigned


@pytest.mark.parametrize("shield,expect", [
    ("{}", "a shield needs at least one of origin_verify, sigv4 or addresses"),
    ("{origin_verify: {header: X-V, secret: nope}}", "unknown secret 'nope'"),
    ("{addresses: [10.0.0.1/8]}", "host bits set"),
    ("{addresses: [not-an-ip]}", "is not an IPv4 or IPv6 address"),
    ("{mode: most, addresses: [10.0.0.0/8]}", "most"),
])
def test_shield_config_errors(tmp_path, store, shield, expect):
    from harness import run_edgeguard
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(f"""
listeners: [{{address: "127.0.0.1:8080"}}]
secrets: {{file: "{store}"}}
origins: {{app: {{echo: true}}}}
behaviors:
  - {{path: default, origin: app, shield: {shield}}}
""")
    r = run_edgeguard("check", "-c", str(cfg))
    assert r.returncode == 1
    assert expect in r.stderr + r.stdout
    assert "behaviors[0].shield" in r.stderr + r.stdout
