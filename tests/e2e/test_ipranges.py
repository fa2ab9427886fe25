"""`edgeguard ipranges plan|apply` on the real AWS documents, notifications, the shield backend.

(b) The real difference between the previous and the latest published documents, as plan
    prints it against an allowlist made from the previous one.
(c) The 2018 change notification and its document: accepted (the MD5 matches); the same
    notification with another document: refused, and both hashes are printed. The
    notification is accepted as the bare message, as an SNS delivery and as a Lambda event.
(e) The shield backend: the address file (one CIDR per line, mode 0644, replaced atomically)
    and a reload of a running `edgeguard serve` through its admin listener.
Bad input (broken documents, unknown services, bad flags) is refused with clear messages.
The real documents come from ../shared/corpora/ip-ranges; those tests skip without it.
"""
from __future__ import annotations

import json
import os
import stat
import time

import pytest

import harness
from harness import run_edgeguard

CORPUS = os.path.join(harness.REPO, "..", "shared", "corpora", "ip-ranges")
LATEST = os.path.join(CORPUS, "ip-ranges-latest.json")
PREVIOUS = os.path.join(CORPUS, "ip-ranges-previous.json")
DOC_2018 = os.path.join(CORPUS, "ip-ranges-2018-01-16.json")
NOTE_2018 = os.path.join(CORPUS, "notification-2018-01-16.json")
MD5_2018 = "1b16715f7378915b3843ecaa1231e13a"


def need_corpus():
    if not os.path.exists(LATEST):
        pytest.skip(f"corpus absent: {CORPUS} (see ../shared/corpora/README.md)")


def ipranges(*args, timeout=60):
    return run_edgeguard("ipranges", *args, timeout=timeout)


def test_real_difference_between_previous_and_latest(tmp_path):
    need_corpus()
    allow = str(tmp_path / "addresses.txt")
    select = ["--service", "EC2", "--region", "ap-southeast-3", "--backend", "shield",
              "--shield-file", allow]
    r = ipranges("apply", "--document", PREVIOUS, *select)
    assert r.returncode == 0, r.stderr
    assert "applied:" in r.stdout
    r = ipranges("plan", "--document", LATEST, *select)
    assert r.returncode == 0, r.stderr
    assert "syncToken 1787411825" in r.stdout
    changes = [l for l in r.stdout.splitlines() if l.startswith("  + ") or l.startswith("  - ")]
    assert changes == ["  + 1.178.86.0/24"], r.stdout
    assert "plan: 1 to add, 0 to remove" in r.stdout
    # plan changed nothing; the same plan against the previous document: nothing to do.
    r = ipranges("plan", "--document", PREVIOUS, *select)
    assert "no change" in r.stdout, r.stdout


def test_all_services_latest_normalisation_is_reported(tmp_path):
    need_corpus()
    r = ipranges("plan", "--document", LATEST, "--service", "ALL", "--backend", "shield",
                 "--shield-file", str(tmp_path / "none.txt"), "--summary")
    assert r.returncode == 0, r.stderr
    assert "10668 IPv4 and 6160 IPv6 prefixes" in r.stdout
    assert "desired: 16828 entries selected" in r.stdout
    assert "duplicate(s)" in r.stdout and "contained prefix(es) merged" in r.stdout
    assert "is inside" in r.stdout  # an example of what was merged


def test_default_selection_is_cloudfront_origin_facing(tmp_path):
    need_corpus()
    r = ipranges("plan", "--document", LATEST, "--backend", "shield", "--shield-file",
                 str(tmp_path / "none.txt"))
    assert r.returncode == 0, r.stderr
    assert "services CLOUDFRONT_ORIGIN_FACING" in r.stdout
    assert "set ipv4: 46 prefixes" in r.stdout and "set ipv6: 3 prefixes" in r.stdout
    assert "plan: 49 to add, 0 to remove" in r.stdout


def lambda_event(message: str) -> dict:
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                         "EventSubscriptionArn": "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged:x",
                         "Sns": {"Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                                 "TopicArn": "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged",
                                 "Subject": "IP Space Changed", "Message": message,
                                 "Timestamp": "2018-01-16T15:12:11.000Z", "SignatureVersion": "1",
                                 "Signature": "EXAMPLE", "SigningCertUrl": "EXAMPLE",
                                 "UnsubscribeUrl": "EXAMPLE", "MessageAttributes": {}}}]}


def test_2018_notification_accepts_its_document_in_every_envelope(tmp_path):
    need_corpus()
    message = open(NOTE_2018).read().strip()
    sns = tmp_path / "sns.json"
    sns.write_text(json.dumps({"Type": "Notification", "MessageId": "m-1",
                               "TopicArn": "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged",
                               "Subject": "IP Space Changed", "Message": message,
                               "Timestamp": "2018-01-16T15:12:11.000Z"}))
    event = tmp_path / "event.json"
    event.write_text(json.dumps(lambda_event(message)))
    for note, source in ((NOTE_2018, "message"), (str(sns), "SNS envelope"), (str(event), "Lambda event")):
        r = ipranges("plan", "--document", DOC_2018, "--notification", note, "--service", "CLOUDFRONT",
                     "--backend", "shield", "--shield-file", str(tmp_path / "allow.txt"))
        assert r.returncode == 0, r.stderr
        assert f"notification ({source}): synctoken 1516115530" in r.stdout
        assert "md5 matches the notification" in r.stdout
        assert f"md5 {MD5_2018}" in r.stdout


def test_notification_against_another_document_is_refused_with_both_hashes(tmp_path):
    need_corpus()
    allow = tmp_path / "allow.txt"
    r = ipranges("apply", "--document", LATEST, "--notification", NOTE_2018, "--backend", "shield",
                 "--shield-file", str(allow))
    assert r.returncode == 1
    assert MD5_2018 in r.stderr
    assert "63431d35877fa5386ded1a7df9cfa971" in r.stderr  # the latest document's MD5
    assert "refused" in r.stderr
    assert not allow.exists(), "a refused document must change nothing"


def test_notification_alone_fetches_its_url(tmp_path):
    """Without --document, the notification's url is fetched (here a local HTTP server)."""
    need_corpus()
    body = open(DOC_2018, "rb").read()
    origin = harness.RecordingOrigin("ranges")
    try:
        origin.on("/ip-ranges.json", body=body, headers={"Content-Type": "application/json"})
        note = tmp_path / "note.json"
        note.write_text(json.dumps({"create-time": "2018-01-16-15-12-10", "synctoken": "1516115530",
                                    "md5": MD5_2018, "url": origin.url + "/ip-ranges.json"}))
        r = ipranges("plan", "--notification", str(note), "--service", "S3", "--backend", "shield",
                     "--shield-file", str(tmp_path / "a.txt"))
        assert r.returncode == 0, r.stderr
        assert f"document {origin.url}/ip-ranges.json: syncToken 1516115530" in r.stdout
        assert origin.last().path == "/ip-ranges.json"
    finally:
        origin.stop()


def test_broken_documents_and_usage_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"syncToken": "1", "createDate": "2026-08-22-15-17-05", "prefixes": [
        {"ip_prefix": "1.2.3.0/24", "region": "GLOBAL", "service": "S"},
        {"ip_prefix": "1.2.3/24", "region": "GLOBAL", "service": "S"}]}))
    r = ipranges("plan", "--document", str(bad), "--backend", "shield", "--shield-file",
                 str(tmp_path / "a.txt"))
    assert r.returncode == 1
    assert 'prefixes[1].ip_prefix: "1.2.3/24" is not an IPv4 prefix' in r.stderr
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"syncToken": "1", "createDate": "2026-08-22-15-17-05", "prefixes": [
        {"ip_prefix": "1.2.3.0/24", "region": "GLOBAL", "service": "CLOUDFRONT_ORIGIN_FACING"}]}))
    r = ipranges("plan", "--document", str(good), "--service", "CLOUDFRONT_ORIGN_FACING",
                 "--backend", "shield", "--shield-file", str(tmp_path / "a.txt"))
    assert r.returncode == 1
    assert "service CLOUDFRONT_ORIGN_FACING is not in the document (it lists: CLOUDFRONT_ORIGIN_FACING)" in r.stderr
    r = ipranges("plan", "--document", str(good), "--backend", "nftables", "--shield-file", "x")
    assert r.returncode == 2
    assert "--shield-file belongs to the shield backend" in r.stderr
    r = ipranges("plan", "--document", str(good), "--ports", "80,http", "--backend", "shield",
                 "--shield-file", "x")
    assert r.returncode == 2 and "ports" in r.stderr
    r = ipranges("plan", "--document", str(tmp_path / "missing.json"), "--backend", "shield",
                 "--shield-file", "x")
    assert r.returncode == 1 and "missing.json" in r.stderr
    r = ipranges("plan", "--backend", "shield", "--shield-file", "x")
    assert r.returncode == 2 and "--document" in r.stderr
    # An empty selection is never applied by accident.
    r = ipranges("apply", "--document", str(good), "--region", "GLOBAL", "--no-global",
                 "--backend", "shield", "--shield-file", str(tmp_path / "a.txt"))
    assert r.returncode == 1 and "--allow-empty" in r.stderr
    assert not (tmp_path / "a.txt").exists()


SHIELD_CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins: {site: {directory: "{public_dir}"}}
behaviors: [{path: default, origin: site}]
"""


def generation(gw) -> int:
    return gw.admin("GET", "/config").json()["generation"]


def test_shield_file_and_reload(gateway, tmp_path):
    gw = gateway(SHIELD_CONFIG)
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps({"syncToken": "5", "createDate": "2026-08-22-15-17-05", "prefixes": [
        {"ip_prefix": "15.158.0.0/16", "region": "us-east-1", "service": "CLOUDFRONT_ORIGIN_FACING"},
        {"ip_prefix": "15.158.4.0/24", "region": "us-east-1", "service": "CLOUDFRONT_ORIGIN_FACING"},
        {"ip_prefix": "120.52.22.96/27", "region": "GLOBAL", "service": "CLOUDFRONT_ORIGIN_FACING"}],
        "ipv6_prefixes": [
        {"ipv6_prefix": "2600:9000:2000::/36", "region": "GLOBAL", "service": "CLOUDFRONT_ORIGIN_FACING"}]}))
    allow = tmp_path / "shield" / "addresses.txt"
    allow.parent.mkdir()
    flags = ["--document", str(doc), "--backend", "shield", "--shield-file", str(allow),
             "--shield-admin", gw.admin_url, "--shield-token-file", gw.admin_token_file]
    g0 = generation(gw)
    r = ipranges("apply", *flags)
    assert r.returncode == 0, r.stderr
    assert "contained prefix(es) merged" in r.stdout  # 15.158.4.0/24 inside 15.158.0.0/16
    assert f"done: reloaded the shield at {gw.admin_url}" in r.stdout
    lines = [l for l in allow.read_text().splitlines() if l and not l.startswith("#")]
    assert lines == ["15.158.0.0/16", "120.52.22.96/27", "2600:9000:2000::/36"]
    assert stat.S_IMODE(os.stat(allow).st_mode) == 0o644
    assert [p for p in os.listdir(allow.parent)] == ["addresses.txt"], "no temporary file left"
    assert generation(gw) == g0 + 1

    r = ipranges("apply", *flags)
    assert r.returncode == 0, r.stderr
    assert "no change" in r.stdout and "reloaded" not in r.stdout
    assert generation(gw) == g0 + 1

    # A wrong token: the file is written, the reload refused, and the command says both.
    bad_token = tmp_path / "bad.token"
    bad_token.write_text("not-the-admin-token-0123456789\n")
    doc.write_text(doc.read_text().replace('"5"', '"6"').replace("120.52.22.96/27", "120.52.22.128/27"))
    r = ipranges("apply", *flags[:-1], str(bad_token))
    assert r.returncode == 1
    assert "401" in r.stderr and "did not reload" in r.stderr
    assert "120.52.22.128/27" in allow.read_text()


SHIELD_WITH_ADDRESSES = """
listeners: [{address: "127.0.0.1:{port}"}]
origins: {app: {url: "{origin_url}"}}
behaviors:
  - path: default
    origin: app
    shield: {addresses: {file: "{allow}"}}
"""


def test_shield_mode_admits_exactly_the_written_addresses(gateway, origin, tmp_path):
    """The file `apply` writes is the shield's address set: loopback listed -> 200, not -> 403."""
    doc = tmp_path / "doc.json"

    def publish(prefixes, sync):
        doc.write_text(json.dumps({"syncToken": sync, "createDate": "2026-08-22-15-17-05", "prefixes": [
            {"ip_prefix": p, "region": "GLOBAL", "service": "CLOUDFRONT_ORIGIN_FACING"} for p in prefixes]}))

    allow = tmp_path / "edge.txt"
    publish(["127.0.0.0/8", "203.0.113.0/24"], "1")
    r = ipranges("apply", "--document", str(doc), "--backend", "shield", "--shield-file", str(allow))
    assert r.returncode == 0, r.stderr
    gw = gateway(SHIELD_WITH_ADDRESSES, origin_url=origin.url, allow=str(allow))
    assert harness.http_request(gw.port, "GET", "/x")[0] == 200

    publish(["203.0.113.0/24"], "2")
    flags = ["--document", str(doc), "--backend", "shield", "--shield-file", str(allow),
             "--shield-admin", gw.admin_url, "--shield-token-file", gw.admin_token_file]
    r = ipranges("apply", *flags)
    assert r.returncode == 0, r.stderr
    assert "- 127.0.0.0/8" in r.stdout and "reloaded the shield" in r.stdout
    assert harness.http_request(gw.port, "GET", "/x")[0] == 403
    assert 'reason="address_not_allowed"' in gw.stats()

    publish(["127.0.0.1/32", "203.0.113.0/24"], "3")
    assert ipranges("apply", *flags).returncode == 0
    assert harness.http_request(gw.port, "GET", "/x")[0] == 200
