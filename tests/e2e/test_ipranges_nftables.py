"""`edgeguard ipranges apply --backend nftables` enforced by the kernel (scenario S1).

Three network namespaces made by the test: `edge` and `stranger` each linked to `origin` by
a veth pair (10.99.1.0/24 and fd99:1::/64 for the edge, 10.99.2.0/24 for the stranger). An
HTTP server runs in `origin` on port 80 (allowlisted) and port 9000 (not). The test writes
an ip-ranges document listing the edge's addresses as CLOUDFRONT_ORIGIN_FACING (and the
stranger's under another service), runs `ipranges apply` inside `origin`, and checks with
curl: the edge gets 200, the stranger's packets are dropped (curl times out, no refusal),
port 9000 stays open to everyone. A second apply changes nothing; a document without the
edge then blocks it. The namespaces are deleted whatever happens. Needs root and `ip netns`.
"""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

import harness

PREFIX = f"eg{os.getpid() % 100000}"
NS = {"edge": f"{PREFIX}-edge", "stranger": f"{PREFIX}-stranger", "origin": f"{PREFIX}-origin"}
EDGE4, EDGE6, STRANGER4 = "10.99.1.2", "fd99:1::2", "10.99.2.2"
ORIGIN_VIA_EDGE4, ORIGIN_VIA_EDGE6, ORIGIN_VIA_STRANGER4 = "10.99.1.1", "fd99:1::1", "10.99.2.1"


def sh(*args, check=True, timeout=20, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, check=check,
                          timeout=timeout, **kw)


def in_ns(name: str, *args, **kw) -> subprocess.CompletedProcess:
    return sh("ip", "netns", "exec", NS[name], *args, **kw)


def curl(ns: str, url: str, timeout: float = 2.0) -> tuple:
    """(curl exit code, HTTP status or None). Exit 28: timed out (dropped); 7: refused."""
    r = in_ns(ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
              str(timeout), "-g", url, check=False, timeout=timeout + 10)
    return r.returncode, (int(r.stdout) if r.stdout.strip().isdigit() and r.stdout != "000" else None)


def document(path: str, edge: bool, sync: str):
    prefixes = [
        {"ip_prefix": "203.0.113.0/24", "region": "GLOBAL", "service": "CLOUDFRONT_ORIGIN_FACING",
         "network_border_group": "GLOBAL"},
        {"ip_prefix": STRANGER4 + "/32", "region": "us-east-1", "service": "AMAZON",
         "network_border_group": "us-east-1"},
    ]
    v6 = [{"ipv6_prefix": "2001:db8::/32", "region": "GLOBAL", "service": "CLOUDFRONT_ORIGIN_FACING",
           "network_border_group": "GLOBAL"}]
    if edge:
        prefixes.append({"ip_prefix": EDGE4 + "/32", "region": "us-east-1",
                         "service": "CLOUDFRONT_ORIGIN_FACING", "network_border_group": "us-east-1"})
        v6.append({"ipv6_prefix": EDGE6 + "/128", "region": "us-east-1",
                   "service": "CLOUDFRONT_ORIGIN_FACING", "network_border_group": "us-east-1"})
    with open(path, "w") as f:
        json.dump({"syncToken": sync, "createDate": "2026-08-22-15-17-05", "prefixes": prefixes,
                   "ipv6_prefixes": v6}, f, indent=2)


@pytest.fixture
def namespaces():
    if os.geteuid() != 0:
        pytest.skip("the nftables namespace test needs root (it creates network namespaces)")
    probe = subprocess.run(["ip", "netns", "add", NS["origin"]], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"`ip netns add` failed, no network namespaces here: {probe.stderr.strip()}")
    servers = []
    try:
        sh("ip", "netns", "add", NS["edge"])
        sh("ip", "netns", "add", NS["stranger"])
        for ns in NS.values():
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        for peer, net in (("edge", 1), ("stranger", 2)):
            a, b = f"{PREFIX[:6]}o{net}", f"{PREFIX[:6]}p{net}"
            sh("ip", "link", "add", a, "netns", NS["origin"], "type", "veth", "peer", "name", b,
               "netns", NS[peer])
            sh("ip", "-n", NS["origin"], "addr", "add", f"10.99.{net}.1/24", "dev", a)
            sh("ip", "-n", NS[peer], "addr", "add", f"10.99.{net}.2/24", "dev", b)
            if peer == "edge":
                sh("ip", "-n", NS["origin"], "addr", "add", "fd99:1::1/64", "dev", a, "nodad")
                sh("ip", "-n", NS[peer], "addr", "add", "fd99:1::2/64", "dev", b, "nodad")
            sh("ip", "-n", NS["origin"], "link", "set", a, "up")
            sh("ip", "-n", NS[peer], "link", "set", b, "up")
        for port in (80, 9000):
            servers.append(subprocess.Popen(
                ["ip", "netns", "exec", NS["origin"], "/usr/bin/python3", "-m", "http.server",
                 str(port), "--bind", "::"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        harness.wait_until(lambda: curl("edge", f"http://{ORIGIN_VIA_EDGE4}:9000/")[1] == 200,
                           timeout=10, what="the origin's HTTP servers")
        harness.wait_until(lambda: curl("edge", f"http://{ORIGIN_VIA_EDGE4}/")[1] == 200,
                           timeout=10, what="the origin's HTTP servers")
        yield
    finally:
        for p in servers:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        for ns in NS.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def ipranges(*args) -> subprocess.CompletedProcess:
    return in_ns("origin", harness.EDGEGUARD_BIN, "ipranges", *args, check=False, timeout=60)


def test_kernel_admits_the_edge_and_drops_the_stranger(namespaces, tmp_path):
    doc = str(tmp_path / "ip-ranges.json")
    document(doc, edge=True, sync="1000")
    # Before anything is applied, both reach the origin.
    assert curl("stranger", f"http://{ORIGIN_VIA_STRANGER4}/")[1] == 200

    plan = ipranges("plan", "--document", doc)
    assert plan.returncode == 0, plan.stderr
    assert "create table inet edgeguard" in plan.stdout
    assert f"+ {EDGE4}/32" in plan.stdout and f"+ {EDGE6}/128" in plan.stdout
    assert f"{STRANGER4}" not in plan.stdout  # another service: not selected

    first = ipranges("apply", "--document", doc)
    assert first.returncode == 0, first.stderr
    assert "applied: 4 added, 0 removed" in first.stdout, first.stdout

    assert curl("edge", f"http://{ORIGIN_VIA_EDGE4}/") == (0, 200)
    assert curl("edge", f"http://[{ORIGIN_VIA_EDGE6}]/") == (0, 200)
    code, status = curl("stranger", f"http://{ORIGIN_VIA_STRANGER4}/")
    assert (code, status) == (28, None), "the stranger must time out (dropped), not be refused"
    # Only the allowlisted ports are closed: port 9000 still answers everyone.
    assert curl("stranger", f"http://{ORIGIN_VIA_STRANGER4}:9000/") == (0, 200)

    listing = json.loads(in_ns("origin", "nft", "-j", "list", "table", "inet", "edgeguard").stdout)
    sets = {i["set"]["name"]: i["set"] for i in listing["nftables"] if "set" in i}
    assert set(sets) == {"allow_ipv4", "allow_ipv6"}
    assert "interval" in sets["allow_ipv4"]["flags"]

    second = ipranges("apply", "--document", doc)
    assert second.returncode == 0, second.stderr
    assert "no change" in second.stdout, second.stdout
    assert "applied" not in second.stdout

    # The edge disappears from the document: the next apply removes it, the kernel drops it.
    document(doc, edge=False, sync="1001")
    third = ipranges("apply", "--document", doc)
    assert third.returncode == 0, third.stderr
    assert f"- {EDGE4}/32" in third.stdout and f"- {EDGE6}/128" in third.stdout
    assert "applied: 0 added, 2 removed" in third.stdout, third.stdout
    assert curl("edge", f"http://{ORIGIN_VIA_EDGE4}/")[0] == 28
    assert curl("edge", f"http://[{ORIGIN_VIA_EDGE6}]/")[0] == 28


CORPUS = os.path.join(harness.REPO, "..", "shared", "corpora", "ip-ranges")


def test_sync_from_the_2018_notification_pair(namespaces, tmp_path):
    """The real notification and its document drive the kernel's sets (and a mismatch does not)."""
    doc, note = os.path.join(CORPUS, "ip-ranges-2018-01-16.json"), os.path.join(CORPUS, "notification-2018-01-16.json")
    if not os.path.exists(doc):
        pytest.skip(f"corpus absent: {CORPUS}")
    r = ipranges("apply", "--document", doc, "--notification", note, "--service", "CLOUDFRONT")
    assert r.returncode == 0, r.stderr
    assert "md5 matches the notification" in r.stdout
    published = json.load(open(doc))
    want = {p["ip_prefix"] for p in published["prefixes"] if p["service"] == "CLOUDFRONT"}
    listing = json.loads(in_ns("origin", "nft", "-j", "list", "set", "inet", "edgeguard", "allow_ipv4").stdout)
    elems = next(i["set"] for i in listing["nftables"] if "set" in i)["elem"]
    got = {e["prefix"]["addr"] + "/" + str(e["prefix"]["len"]) if isinstance(e, dict) else e + "/32" for e in elems}
    assert got == want
    # The same notification with the latest document: refused, the kernel keeps the 2018 sets.
    latest = os.path.join(CORPUS, "ip-ranges-latest.json")
    r = ipranges("apply", "--document", latest, "--notification", note, "--service", "CLOUDFRONT")
    assert r.returncode == 1 and "1b16715f7378915b3843ecaa1231e13a" in r.stderr
    assert "no change" in ipranges("plan", "--document", doc, "--service", "CLOUDFRONT").stdout


def test_ports_and_split_sets_rewrite_the_chain(namespaces, tmp_path):
    doc = str(tmp_path / "ip-ranges.json")
    document(doc, edge=True, sync="1000")
    r = ipranges("apply", "--document", doc, "--ports", "9000", "--split-global", "--ip-version", "4")
    assert r.returncode == 0, r.stderr
    assert "create set allow_global_ipv4" in r.stdout and "create set allow_regional_ipv4" in r.stdout
    # Port 80 is open again for everyone, port 9000 now only for the edge (IPv6 not selected).
    assert curl("stranger", f"http://{ORIGIN_VIA_STRANGER4}/") == (0, 200)
    assert curl("edge", f"http://{ORIGIN_VIA_EDGE4}:9000/") == (0, 200)
    assert curl("stranger", f"http://{ORIGIN_VIA_STRANGER4}:9000/")[0] == 28
    assert curl("edge", f"http://[{ORIGIN_VIA_EDGE6}]:9000/")[0] == 28
    # Back to the default shape: the chain is rewritten, the split sets go, in one transaction.
    r = ipranges("apply", "--document", doc)
    assert r.returncode == 0, r.stderr
    assert "rewrite chain input" in r.stdout
    assert "set allow_global_ipv4: 1 -> 0" in r.stdout
    assert curl("stranger", f"http://{ORIGIN_VIA_STRANGER4}:9000/") == (0, 200)
    assert curl("stranger", f"http://{ORIGIN_VIA_STRANGER4}/")[0] == 28
    again = ipranges("apply", "--document", doc).stdout
    assert "no change: the nftables table inet edgeguard already holds" in again, again


def test_a_set_of_another_shape_is_recreated(namespaces, tmp_path):
    doc = str(tmp_path / "ip-ranges.json")
    document(doc, edge=True, sync="1000")
    # A table of the same name that is not edgeguard's shape: a set of the wrong type.
    in_ns("origin", "nft", "add table inet edgeguard")
    in_ns("origin", "nft", "add set inet edgeguard allow_ipv4 { type ipv4_addr; }")
    r = ipranges("apply", "--document", doc)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "recreate set allow_ipv4" in r.stdout
    assert curl("edge", f"http://{ORIGIN_VIA_EDGE4}/") == (0, 200)
