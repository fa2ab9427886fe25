"""`edgeguard ipranges --backend ec2` against a fake EC2 endpoint (tests/e2e/fake_ec2.py).

The fake answers with the XML shapes of AWS's EC2 API reference and checks every SigV4
signature with botocore; boto3 is pointed at it first, so the fake is known to speak EC2 the
way the AWS SDK understands it. Then: rules grow across 3+ groups (60 per group and IP
version), a second apply changes nothing (only DescribeSecurityGroups is called), ranges
shrink (groups are emptied, not deleted), grow again (emptied groups are refilled first),
GLOBAL and regional ranges go to separate groups, a spare group tagged by hand is adopted,
throttling is retried, and bad credentials are reported.
"""
from __future__ import annotations

import ipaddress
import json
import os

import boto3
import botocore.exceptions
import pytest

from fake_ec2 import FakeEc2
from harness import run_edgeguard
import harness

AKID, SECRET, REGION = "AKIDFAKEEC2EXAMPLE", "fake/ec2+Secret==example", "eu-west-1"


@pytest.fixture
def ec2():
    fake = FakeEc2(AKID, SECRET, REGION)
    yield fake
    fake.stop()


def env(secret: str = SECRET) -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update({"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": secret,
              "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
              "AWS_CONFIG_FILE": "/nonexistent/config"})
    return e


def edgeguard(*args, secret: str = SECRET):
    import subprocess
    return subprocess.run([harness.EDGEGUARD_BIN, "ipranges", *args], capture_output=True,
                          text=True, env=env(secret), timeout=120)


def document(path, v4: int, v6: int = 0, start: int = 0, global_v4: int = 0):
    """v4 regional /24s from 10.x.y.0 (offset start), v6 /48s, global_v4 GLOBAL /24s in 172.16."""
    prefixes = [{"ip_prefix": f"10.{(start + i) // 256}.{(start + i) % 256}.0/24", "region": "us-east-1",
                 "service": "CLOUDFRONT_ORIGIN_FACING", "network_border_group": "us-east-1"}
                for i in range(v4)]
    prefixes += [{"ip_prefix": f"172.16.{i}.0/24", "region": "GLOBAL",
                  "service": "CLOUDFRONT_ORIGIN_FACING", "network_border_group": "GLOBAL"}
                 for i in range(global_v4)]
    v6s = [{"ipv6_prefix": f"2600:{i + 1:x}::/48", "region": "us-east-1",
            "service": "CLOUDFRONT_ORIGIN_FACING", "network_border_group": "us-east-1"} for i in range(v6)]
    path.write_text(json.dumps({"syncToken": "7", "createDate": "2026-08-22-15-17-05",
                                "prefixes": prefixes, "ipv6_prefixes": v6s}))
    return str(path)


def flags(ec2, *more):
    return ["--backend", "ec2", "--ec2-endpoint", ec2.url, "--ec2-region", REGION,
            "--ec2-name", "web", *more]


def boto(ec2):
    return boto3.client("ec2", endpoint_url=ec2.url, region_name=REGION,
                        aws_access_key_id=AKID, aws_secret_access_key=SECRET)


def test_the_fake_speaks_ec2_to_boto3(ec2):
    client = boto(ec2)
    created = client.create_security_group(
        GroupName="boto-check", Description="made by boto3", VpcId="vpc-1a2b3c4d",
        TagSpecifications=[{"ResourceType": "security-group",
                            "Tags": [{"Key": "edgeguard:ipranges", "Value": "boto"}]}])
    gid = created["GroupId"]
    assert gid.startswith("sg-")
    assert created["Tags"] == [{"Key": "edgeguard:ipranges", "Value": "boto"}]
    out = client.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "13.32.0.0/15"}], "Ipv6Ranges": [{"CidrIpv6": "2600:9000::/28"}]}])
    assert out["Return"] is True and len(out["SecurityGroupRules"]) == 2
    client.create_tags(Resources=[gid], Tags=[{"Key": "edgeguard:set", "Value": "all"}])
    pages = client.get_paginator("describe_security_groups").paginate(
        Filters=[{"Name": "tag:edgeguard:ipranges", "Values": ["boto"]}])
    groups = [g for p in pages for g in p["SecurityGroups"]]
    assert len(groups) == 1
    g = groups[0]
    assert g["GroupId"] == gid and g["GroupName"] == "boto-check"
    assert {t["Key"]: t["Value"] for t in g["Tags"]} == {"edgeguard:ipranges": "boto", "edgeguard:set": "all"}
    perm = g["IpPermissions"][0]
    assert (perm["IpProtocol"], perm["FromPort"], perm["ToPort"]) == ("tcp", 443, 443)
    assert perm["IpRanges"] == [{"CidrIp": "13.32.0.0/15"}]
    assert perm["Ipv6Ranges"] == [{"CidrIpv6": "2600:9000::/28"}]
    with pytest.raises(botocore.exceptions.ClientError) as dup:
        client.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "13.32.0.0/15"}]}])
    assert dup.value.response["Error"]["Code"] == "InvalidPermission.Duplicate"
    client.revoke_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "13.32.0.0/15"}]}])
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        client.revoke_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "13.32.0.0/15"}]}])
    assert gone.value.response["Error"]["Code"] == "InvalidPermission.NotFound"
    # Many groups: the paginator follows nextToken (the fake's pages hold 2 groups).
    for i in range(4):
        client.create_security_group(GroupName=f"more-{i}", Description="d", TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "edgeguard:ipranges", "Value": "boto"}]}])
    pages = client.get_paginator("describe_security_groups").paginate(
        Filters=[{"Name": "tag:edgeguard:ipranges", "Values": ["boto"]}])
    assert sum(len(p["SecurityGroups"]) for p in pages) == 5
    bad = boto3.client("ec2", endpoint_url=ec2.url, region_name=REGION, aws_access_key_id=AKID,
                       aws_secret_access_key="wrong")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        bad.describe_security_groups()
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def rules_by_group(ec2, name="web") -> list:
    return [(g.name, g.tags.get("edgeguard:set"), g.tags.get("edgeguard:index"),
             sum(1 for r in g.ingress if ":" not in r[3]), sum(1 for r in g.ingress if ":" in r[3]))
            for g in ec2.tagged(name)]


def expected_rules(v4: int, v6: int = 0, start: int = 0, ports=(443,)) -> set:
    cidrs = [f"10.{(start + i) // 256}.{(start + i) % 256}.0/24" for i in range(v4)]
    cidrs += [str(ipaddress.ip_network(f"2600:{i + 1:x}::/48")) for i in range(v6)]
    return {("tcp", p, p, c) for c in cidrs for p in ports}


def test_growth_across_groups_idempotence_and_shrink(ec2, tmp_path):
    doc = tmp_path / "ip-ranges.json"
    # 130 IPv4 ranges on one port, 70 IPv6: 3 groups for IPv4, IPv6 has its own 60 per group.
    document(doc, 130, 70)
    plan = edgeguard("plan", "--document", str(doc), "--ports", "443", *flags(ec2))
    assert plan.returncode == 0, plan.stderr
    assert "group (new) web-all-1 (all #1)" in plan.stdout
    assert "group (new) web-all-3 (all #3)" in plan.stdout
    assert "plan: 200 to add, 0 to remove" in plan.stdout
    assert ec2.mutating_calls() == [], "plan must not change anything"

    r = edgeguard("apply", "--document", str(doc), "--ports", "443", *flags(ec2))
    assert r.returncode == 0, r.stderr
    assert "applied: 200 added, 0 removed" in r.stdout
    assert rules_by_group(ec2) == [("web-all-1", "all", "1", 60, 60), ("web-all-2", "all", "2", 60, 10),
                                   ("web-all-3", "all", "3", 10, 0)]
    assert ec2.cidrs("web") == expected_rules(130, 70)
    assert ec2.mutating_calls().count("CreateSecurityGroup") == 3

    before = len(ec2.calls)
    again = edgeguard("apply", "--document", str(doc), "--ports", "443", *flags(ec2))
    assert again.returncode == 0, again.stderr
    assert "no change" in again.stdout
    assert set(ec2.calls[before:]) == {"DescribeSecurityGroups"}

    # Shrink to 50 IPv4 ranges: only revocations; the groups stay (emptied), none is deleted.
    document(doc, 50, 0)
    before = len(ec2.calls)
    r = edgeguard("apply", "--document", str(doc), "--ports", "443", *flags(ec2))
    assert r.returncode == 0, r.stderr
    assert "applied: 0 added, 150 removed" in r.stdout
    assert "emptied" in r.stdout
    assert set(ec2.calls[before:]) == {"DescribeSecurityGroups", "RevokeSecurityGroupIngress"}
    assert rules_by_group(ec2) == [("web-all-1", "all", "1", 50, 0), ("web-all-2", "all", "2", 0, 0),
                                   ("web-all-3", "all", "3", 0, 0)]

    # Grow to 230 other ranges on two ports: the emptied groups fill first, then new ones.
    document(doc, 230, 0, start=1000)
    r = edgeguard("apply", "--document", str(doc), "--ports", "80,443", *flags(ec2))
    assert r.returncode == 0, r.stderr
    assert "applied: 460 added, 50 removed" in r.stdout
    groups = rules_by_group(ec2)
    assert [g[0] for g in groups] == [f"web-all-{i}" for i in range(1, 9)]
    assert all(g[3] <= 60 for g in groups)
    assert ec2.cidrs("web") == expected_rules(230, 0, start=1000, ports=(80, 443))
    assert edgeguard("plan", "--document", str(doc), "--ports", "80,443", *flags(ec2)).stdout.count(
        "no change: the EC2") == 1


@pytest.fixture
def ec2_quota_100():
    fake = FakeEc2(AKID, SECRET, REGION, rules_per_group=100)  # a quota increase
    yield fake
    fake.stop()


def test_global_and_regional_apart_and_a_raised_limit(ec2_quota_100, tmp_path):
    ec2 = ec2_quota_100
    doc = tmp_path / "ip-ranges.json"
    document(doc, 70, 0, global_v4=20)
    r = edgeguard("apply", "--document", str(doc), "--ports", "443", "--split-global",
                  "--rules-per-group", "100", *flags(ec2))
    assert r.returncode == 0, r.stderr
    groups = rules_by_group(ec2)
    assert groups == [("web-global-1", "global", "1", 20, 0), ("web-regional-1", "regional", "1", 70, 0)]
    # Together again: the two groups are reused (re-tagged), no group is created.
    before = len(ec2.calls)
    r = edgeguard("apply", "--document", str(doc), "--ports", "443", "--rules-per-group", "100",
                  *flags(ec2))
    assert r.returncode == 0, r.stderr
    assert "CreateSecurityGroup" not in ec2.calls[before:]
    assert "CreateTags" in ec2.calls[before:]
    # The regional group holds most of the rules: it is the one adopted (20 rules move, not
    # 70), and the global group, no longer needed, is emptied.
    assert sorted(rules_by_group(ec2)) == [("web-global-1", "global", "1", 0, 0),
                                           ("web-regional-1", "all", "1", 90, 0)]
    assert "emptied" in r.stdout


def test_spare_group_is_adopted_and_throttling_retried(ec2, tmp_path):
    spare = ec2.add_group("attached-by-hand", tags={"edgeguard:ipranges": "web"})
    doc = tmp_path / "ip-ranges.json"
    document(doc, 10)
    ec2.fail_next("AuthorizeSecurityGroupIngress", "RequestLimitExceeded", 503)
    r = edgeguard("apply", "--document", str(doc), "--ports", "443", *flags(ec2))
    assert r.returncode == 0, r.stderr
    assert f"adopted as all #1" in r.stdout
    assert spare.tags["edgeguard:set"] == "all" and spare.tags["edgeguard:index"] == "1"
    assert len(spare.ingress) == 10
    assert "CreateSecurityGroup" not in ec2.calls
    assert ec2.calls.count("AuthorizeSecurityGroupIngress") == 2  # one throttled, one retried


def test_refusals_are_explained(ec2, tmp_path):
    doc = tmp_path / "ip-ranges.json"
    document(doc, 5)
    r = edgeguard("plan", "--document", str(doc), *flags(ec2), secret="wrong-secret")
    assert r.returncode == 1
    assert "EC2 DescribeSecurityGroups: SignatureDoesNotMatch" in r.stderr
    r = edgeguard("plan", "--document", str(doc), *flags(ec2, "--rules-per-group", "0"))
    assert r.returncode == 2 and "--rules-per-group" in r.stderr
    # A group name taken outside edgeguard: CreateSecurityGroup is refused, the rest says so.
    ec2.add_group("web-all-1")
    r = edgeguard("apply", "--document", str(doc), *flags(ec2))
    assert r.returncode == 1
    assert "InvalidGroup.Duplicate" in r.stderr and "apply` again" in r.stderr
