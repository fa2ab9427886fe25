"""The web ACL admin API (issue 3 part 8, scenario S8): the real aws CLI and boto3 manage the
gateway's IP sets over the WAFv2 JSON protocol (SigV4), and operators add temporary blocks.

The gateway answers from an echo origin behind a web ACL that blocks the IP set `blocklist`
(this test's client is 127.0.0.1) and rate-limits /burst per address (Limit 10).
"""
import http.client
import json
import os
import shutil
import subprocess
import time

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from harness import wait_until

ACCESS_KEY = "AKIDWAFADMINEXAMPLE"
SECRET_KEY = "waf/admin/key/EXAMPLEKEY+0123456789abcdef"
SET_ID = "1a2b3c4d-5e6f-4890-abcd-ef1234567890"
SET_ARN = f"arn:aws:wafv2:us-east-1:123456789012:global/ipset/blocklist/{SET_ID}"
ACL_ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
ACL_ARN = f"arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge-acl/{ACL_ID}"
# The Debian package's CLI (scripts/install-deps.sh), else whichever is on PATH.
AWS_CLI = shutil.which("aws", path="/usr/bin") or "aws"


def visibility(metric):
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": metric}


WEB_ACL = {
    "Name": "edge-acl", "Id": ACL_ID, "ARN": ACL_ARN,
    "DefaultAction": {"Allow": {}},
    "VisibilityConfig": visibility("edge-acl"),
    "Rules": [
        {"Name": "block-listed", "Priority": 0, "Action": {"Block": {}},
         "Statement": {"IPSetReferenceStatement": {"ARN": SET_ARN}},
         "VisibilityConfig": visibility("blocklisted")},
        {"Name": "burst", "Priority": 1, "Action": {"Block": {}},
         "Statement": {"RateBasedStatement": {
             "Limit": 10, "EvaluationWindowSec": 60, "AggregateKeyType": "IP",
             "ScopeDownStatement": {"ByteMatchStatement": {
                 "SearchString": "/burst", "FieldToMatch": {"UriPath": {}},
                 "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                 "PositionalConstraint": "STARTS_WITH"}}}},
         "VisibilityConfig": visibility("burst")},
    ],
}

CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
secrets: {file: "{store}"}
origins: {echo: {echo: true}}
behaviors: [{path: default, origin: echo}]
web_acl: {file: "{acl}", ip_sets: ["{ip_set}"]}
admin:
  address: "127.0.0.1:{admin_port}"
  token_file: "{admin_token_file}"
  wafv2:
    region: us-east-1
    keys: [{access_key_id: AKIDWAFADMINEXAMPLE, secret: waf-admin-key}]
"""


@pytest.fixture
def files(tmp_path):
    waf = tmp_path / "waf"
    waf.mkdir()
    (waf / "acl.json").write_text(json.dumps(WEB_ACL, indent=2))
    (waf / "blocklist.json").write_text(json.dumps({
        "Name": "blocklist", "Id": SET_ID, "ARN": SET_ARN, "Description": "abusive clients",
        "IPAddressVersion": "IPV4", "Addresses": ["192.0.2.0/24"]}, indent=2))
    store = tmp_path / "store.json"
    store.write_text(json.dumps({"secrets": {"waf-admin-key": {"versions": [
        {"id": "k1", "value": SECRET_KEY, "stages": ["CURRENT"]}]}}}))
    os.chmod(store, 0o600)
    return {"acl": str(waf / "acl.json"), "ip_set": str(waf / "blocklist.json"),
            "store": str(store)}


@pytest.fixture
def gw(gateway, files):
    return gateway(CONFIG, **files)


@pytest.fixture
def aws_env(tmp_path, monkeypatch):
    """The CLI and boto3 see only the configured key: no profile, no instance metadata."""
    empty = tmp_path / "empty-aws-config"
    empty.write_text("")
    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty),
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_PAGER": "", "PYTHONIOENCODING": "utf-8"}
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return dict(os.environ)


def aws(gw, env, *args):
    return subprocess.run(
        [AWS_CLI, "wafv2", *args, "--scope", "CLOUDFRONT", "--region", "us-east-1",
         "--endpoint-url", gw.admin_url, "--output", "json"],
        env=env, capture_output=True, text=True, encoding="utf-8", timeout=60)


def wafv2(gw, secret=SECRET_KEY, key=ACCESS_KEY):
    return boto3.session.Session().client(
        "wafv2", endpoint_url=gw.admin_url, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}))


def status_from(gw, path="/", source="127.0.0.1"):
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=5, source_address=(source, 0))
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_cli_update_ip_set_blocks_and_a_stale_token_is_refused(gw, aws_env, files):
    assert status_from(gw) == 200

    got = aws(gw, aws_env, "get-ip-set", "--name", "blocklist", "--id", SET_ID)
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    assert doc["IPSet"] == {"Name": "blocklist", "Id": SET_ID, "ARN": SET_ARN,
                            "Description": "abusive clients", "IPAddressVersion": "IPV4",
                            "Addresses": ["192.0.2.0/24"]}
    token = doc["LockToken"]

    upd = aws(gw, aws_env, "update-ip-set", "--name", "blocklist", "--id", SET_ID,
              "--addresses", "127.0.0.1/32", "--lock-token", token)
    assert upd.returncode == 0, upd.stderr
    next_token = json.loads(upd.stdout)["NextLockToken"]
    assert next_token != token

    assert status_from(gw) == 403, "the client's address is blocked at once"

    # The file on disk now holds the new addresses (written to a temporary file, then renamed).
    with open(files["ip_set"]) as f:
        on_disk = json.load(f)
    assert on_disk["Addresses"] == ["127.0.0.1/32"]
    assert on_disk["Id"] == SET_ID and on_disk["ARN"] == SET_ARN
    assert not os.path.exists(files["ip_set"] + ".tmp")

    stale = aws(gw, aws_env, "update-ip-set", "--name", "blocklist", "--id", SET_ID,
                "--addresses", "192.0.2.0/24", "--lock-token", token)
    assert stale.returncode != 0
    assert "WAFOptimisticLockException" in stale.stderr, stale.stderr
    assert "couldn’t save your changes" in stale.stderr
    assert status_from(gw) == 403, "the refused update changed nothing"

    bad = aws(gw, aws_env, "update-ip-set", "--name", "blocklist", "--id", SET_ID,
              "--addresses", "127.0.0.1/33", "--lock-token", next_token)
    assert bad.returncode != 0 and "WAFInvalidParameterException" in bad.stderr, bad.stderr

    missing = aws(gw, aws_env, "get-ip-set", "--name", "blocklist", "--id", "no-such-id")
    assert missing.returncode != 0 and "WAFNonexistentItemException" in missing.stderr

    # The reverse: empty the set, and the client is let through again.
    cleared = aws(gw, aws_env, "update-ip-set", "--name", "blocklist", "--id", SET_ID,
                  "--addresses", "[]", "--lock-token", next_token)
    assert cleared.returncode == 0, cleared.stderr
    assert status_from(gw) == 200


def test_boto3_reads_the_acl_samples_and_limited_addresses(gw):
    client = wafv2(gw)
    sets = client.list_ip_sets(Scope="CLOUDFRONT")["IPSets"]
    assert [(s["Name"], s["Id"], s["ARN"]) for s in sets] == [("blocklist", SET_ID, SET_ARN)]
    token = sets[0]["LockToken"]

    acl = client.get_web_acl(Name="edge-acl", Scope="CLOUDFRONT", Id=ACL_ID)
    assert acl["WebACL"]["Name"] == "edge-acl" and acl["WebACL"]["ARN"] == ACL_ARN
    assert [r["Name"] for r in acl["WebACL"]["Rules"]] == ["block-listed", "burst"]
    scope_down = acl["WebACL"]["Rules"][1]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    assert scope_down["ByteMatchStatement"]["SearchString"] == b"/burst"  # a blob, decoded
    assert acl["LockToken"]

    client.update_ip_set(Name="blocklist", Scope="CLOUDFRONT", Id=SET_ID,
                         Addresses=["127.0.0.1/32"], LockToken=token)
    before = time.time()
    assert status_from(gw, "/blocked-page") == 403
    samples = client.get_sampled_requests(
        WebAclArn=ACL_ARN, RuleMetricName="blocklisted", Scope="CLOUDFRONT",
        TimeWindow={"StartTime": before - 60, "EndTime": time.time() + 5}, MaxItems=100)
    assert samples["PopulationSize"] == 1
    (sample,) = samples["SampledRequests"]
    assert sample["Request"]["ClientIP"] == "127.0.0.1"
    assert sample["Request"]["URI"] == "/blocked-page"
    assert sample["Request"]["Method"] == "GET"
    assert sample["Action"] == "BLOCK" and sample["ResponseCodeSent"] == 403
    assert abs(sample["Timestamp"].timestamp() - before) < 30

    # 12 requests from another address: over the limit of 10, it is blocked and listed.
    codes = [status_from(gw, "/burst", source="127.0.0.2") for _ in range(12)]
    assert codes[0] == 200 and codes[-1] == 403, codes
    keys = client.get_rate_based_statement_managed_keys(
        Scope="CLOUDFRONT", WebACLName="edge-acl", WebACLId=ACL_ID, RuleName="burst")
    assert keys["ManagedKeysIPV4"] == {"IPAddressVersion": "IPV4", "Addresses": ["127.0.0.2/32"]}
    assert keys["ManagedKeysIPV6"]["Addresses"] == []

    listed = gw.admin("GET", "/waf/rate-limited").json()
    assert listed["rules"] == [{"rule": "burst", "limit": 10, "window_seconds": 60,
                                "keys": ["127.0.0.2"]}]

    with pytest.raises(ClientError) as err:
        client.update_ip_set(Name="blocklist", Scope="CLOUDFRONT", Id=SET_ID,
                             Addresses=[], LockToken=token)
    assert err.value.response["Error"]["Code"] == "WAFOptimisticLockException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_only_a_valid_signature_gets_in(gw):
    with pytest.raises(ClientError) as err:
        wafv2(gw, secret="not-the-secret").list_ip_sets(Scope="CLOUDFRONT")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"

    with pytest.raises(ClientError) as err:
        wafv2(gw, key="AKIDUNKNOWN").list_ip_sets(Scope="CLOUDFRONT")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"

    headers = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "AWSWAF_20190729.ListIPSets"}
    body = '{"Scope": "CLOUDFRONT"}'
    unsigned = requests.post(gw.admin_url + "/", data=body, headers=headers, timeout=5)
    assert unsigned.status_code == 403
    assert unsigned.json()["__type"] in ("MissingAuthenticationTokenException",
                                         "IncompleteSignatureException")
    # The admin bearer token is not a substitute for a signature.
    with_token = requests.post(gw.admin_url + "/", data=body, timeout=5,
                               headers={**headers, "Authorization": f"Bearer {gw.admin_token}"})
    assert with_token.status_code == 403

    # A request signed by hand (botocore's signer) for the right service and region works;
    # an unknown operation is AWS's 400.
    creds = Credentials(ACCESS_KEY, SECRET_KEY)
    for target, want in (("AWSWAF_20190729.ListIPSets", 200),
                         ("AWSWAF_20190729.DeleteIPSet", 400)):
        req = AWSRequest(method="POST", url=gw.admin_url + "/", data=body,
                         headers={**headers, "X-Amz-Target": target})
        SigV4Auth(creds, "wafv2", "us-east-1").add_auth(req)
        r = requests.post(gw.admin_url + "/", data=body, headers=dict(req.headers), timeout=5)
        assert r.status_code == want, r.text
        if want == 400:
            assert r.json()["__type"] == "UnknownOperationException"
    assert status_from(gw) == 200, "nothing changed"


def test_temporary_block_expires(gw, files):
    assert status_from(gw) == 200
    r = gw.admin("POST", "/waf/ip-sets/blocklist/addresses",
                 json={"address": "127.0.0.1/32", "ttl": "2s"})
    assert r.status_code == 200, r.text
    added = time.monotonic()
    assert r.json()["address"] == "127.0.0.1/32" and r.json()["expires"]
    assert status_from(gw) == 403

    listed = gw.admin("GET", "/waf/ip-sets").json()["ip_sets"]
    (entry,) = [a for a in listed[0]["addresses"] if a["address"] == "127.0.0.1/32"]
    assert 0 < entry["expires_in_seconds"] <= 2
    with open(files["ip_set"]) as f:
        assert "127.0.0.1/32" in json.load(f)["Addresses"]

    wait_until(lambda: status_from(gw) == 200, timeout=6, interval=0.2,
               what="the temporary block to expire")
    assert time.monotonic() - added > 1.0, "not before its time"
    with open(files["ip_set"]) as f:
        assert json.load(f)["Addresses"] == ["192.0.2.0/24"]

    # Permanent, then removed by the operator.
    assert gw.admin("POST", "/waf/ip-sets/blocklist/addresses",
                    json={"address": "127.0.0.1"}).status_code == 200
    assert status_from(gw) == 403
    r = gw.admin("DELETE", "/waf/ip-sets/blocklist/addresses/127.0.0.1%2F32")
    assert r.status_code == 200, r.text
    assert status_from(gw) == 200

    assert gw.admin("POST", "/waf/ip-sets/nope/addresses",
                    json={"address": "127.0.0.1"}).status_code == 404
    assert gw.admin("POST", "/waf/ip-sets/blocklist/addresses",
                    json={"address": "127.0.0.1/40"}).status_code == 400
    assert gw.admin("GET", "/waf/ip-sets", token=None).status_code == 401
