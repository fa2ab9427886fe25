"""`edgeguard ipranges watch`: the SNS endpoint, end to end.

The test plays Amazon SNS: it makes an RSA signing certificate under its own CA (openssl),
serves it, the ip-ranges document and the SubscribeURL over HTTPS on loopback, signs each
delivery itself (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA, over the string AWS
documents) and POSTs it to the running `watch`. A confirmation is confirmed (GET
SubscribeURL), a notification makes the shield address file follow the document, a repeat
or an older one does nothing, and forged, foreign or mismatching deliveries are refused
without touching the file.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest
import requests

import harness

TOPIC = "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged"


def openssl(*args, cwd, data: bytes = None) -> bytes:
    return subprocess.run(["openssl", *args], cwd=cwd, input=data, check=True,
                          capture_output=True).stdout


@pytest.fixture(scope="module")
def signing(tmp_path_factory, certs):
    """An RSA key and a certificate for it, issued by the test CA (as SNS's are by Amazon's)."""
    d = str(tmp_path_factory.mktemp("sns"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "sns.key", "-out", "sns.csr",
            "-subj", "/CN=sns.amazonaws.com", cwd=d)
    openssl("x509", "-req", "-in", "sns.csr", "-CA", certs.ca, "-CAkey",
            os.path.join(certs.dir, "ca.key"), "-CAcreateserial", "-out", "sns.pem", "-days", "2", cwd=d)
    return d


def string_to_sign(m: dict) -> bytes:
    if m["Type"] == "Notification":
        keys = ["Message", "MessageId"] + (["Subject"] if "Subject" in m else []) + \
               ["Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{k}\n{m[k]}\n" for k in keys).encode()


def sign(m: dict, key_dir: str, version: str = "1") -> dict:
    m = dict(m, SignatureVersion=version)
    digest = "-sha1" if version == "1" else "-sha256"
    sig = openssl("dgst", digest, "-sign", "sns.key", cwd=key_dir, data=string_to_sign(m))
    m["Signature"] = base64.b64encode(sig).decode()
    return m


class Sns:
    """The HTTPS side: certificate, documents, SubscribeURL."""

    def __init__(self, origin: harness.RecordingOrigin, signing_dir: str):
        self.origin = origin
        self.dir = signing_dir
        origin.on("/SimpleNotificationService-e2e.pem", body=open(os.path.join(signing_dir, "sns.pem")).read())
        origin.on("/", body="<ConfirmSubscriptionResponse/>")
        self.base = origin.url + "/"
        self.cert_url = self.base + "SimpleNotificationService-e2e.pem"
        self.n = 0

    def publish_document(self, name: str, v4: list, sync: str) -> tuple:
        doc = json.dumps({"syncToken": sync, "createDate": "2026-08-22-15-17-05",
                          "prefixes": [{"ip_prefix": p, "region": "GLOBAL", "service": "CLOUDFRONT_ORIGIN_FACING",
                                        "network_border_group": "GLOBAL"} for p in v4],
                          "ipv6_prefixes": []}, indent=1).encode()
        self.origin.on("/" + name, body=doc, headers={"Content-Type": "application/json"})
        return self.base + name, hashlib.md5(doc).hexdigest()

    def notification(self, url: str, md5: str, sync: str, version: str = "1", **override) -> dict:
        self.n += 1
        message = json.dumps({"create-time": "2026-08-22T15:17:05+00:00", "synctoken": sync,
                              "md5": md5, "url": url}, separators=(",", ":"))
        m = {"Type": "Notification", "MessageId": f"e2e-{self.n}", "TopicArn": TOPIC,
             "Subject": "IP Space Changed", "Message": message,
             "Timestamp": "2026-08-22T15:17:30.000Z", "SigningCertURL": self.cert_url,
             "UnsubscribeURL": self.base + "?Action=Unsubscribe"}
        m.update(override)
        return sign(m, self.dir, version)


@pytest.fixture
def sns(origin_factory, certs, signing):
    return Sns(origin_factory("sns", tls=certs.origin), signing)


@pytest.fixture
def watch(tmp_path, certs, sns):
    allow = tmp_path / "addresses.txt"
    proc = subprocess.Popen(
        [harness.EDGEGUARD_BIN, "ipranges", "watch", "--listen", "127.0.0.1:0", "--backend", "shield",
         "--shield-file", str(allow), "--sns-cert-url-prefix", sns.base, "--document-url-prefix",
         sns.base, "--ca-file", certs.ca],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    m = re.search(r"listening on port (\d+)", first)
    assert m, first + proc.stderr.read()
    out, err = [], []
    for stream, sink in ((proc.stdout, out), (proc.stderr, err)):
        threading.Thread(target=lambda s=stream, k=sink: k.extend(iter(s.readline, "")), daemon=True).start()

    class W:
        url = f"http://127.0.0.1:{m.group(1)}/"
        file = allow
        stdout = out
        stderr = err

        @staticmethod
        def post(message: dict, **kw):
            headers = {"x-amz-sns-message-type": message.get("Type", ""), "Content-Type": "text/plain; charset=UTF-8"}
            return requests.post(W.url, data=json.dumps(message), headers=headers, timeout=30, **kw)

        @staticmethod
        def prefixes() -> list:
            if not allow.exists():
                return []
            return [l for l in allow.read_text().splitlines() if l and not l.startswith("#")]

    yield W
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def test_subscription_confirmation_is_confirmed(watch, sns):
    url = sns.base + "?Action=ConfirmSubscription&TopicArn=" + TOPIC + "&Token=2336412f37fb687f5d51e6e241d"
    m = sign({"Type": "SubscriptionConfirmation", "MessageId": "c-1", "Token": "2336412f37fb687f5d51e6e241d",
              "TopicArn": TOPIC, "Message": f"You have chosen to subscribe to the topic {TOPIC}.\n"
              "To confirm the subscription, visit the SubscribeURL included in this message.",
              "SubscribeURL": url, "Timestamp": "2026-08-22T15:00:00.000Z",
              "SigningCertURL": sns.cert_url}, sns.dir)
    r = watch.post(m)
    assert r.status_code == 200, r.text
    confirm = [q for q in sns.origin.requests if q.query.startswith("Action=ConfirmSubscription")]
    assert len(confirm) == 1 and "Token=2336412f37fb687f5d51e6e241d" in confirm[0].query


def test_notifications_drive_the_allowlist(watch, sns):
    url, md5 = sns.publish_document("ip-ranges-1.json", ["15.158.0.0/16", "120.52.22.96/27"], "1000")
    r = watch.post(sns.notification(url, md5, "1000", version="1"))
    assert r.status_code == 200 and r.text == "applied\n", r.text
    assert watch.prefixes() == ["15.158.0.0/16", "120.52.22.96/27"]
    assert "md5 matches the notification" in "".join(watch.stdout)

    # SNS retries and reorders: the same or an older synctoken changes nothing.
    r = watch.post(sns.notification(url, md5, "1000"))
    assert r.status_code == 200 and r.text == "already applied\n"
    r = watch.post(sns.notification(url, md5, "999"))
    assert r.status_code == 200 and r.text == "already applied\n"

    # A newer document, announced with SignatureVersion 2 (SHA256withRSA).
    url2, md5_2 = sns.publish_document("ip-ranges-2.json", ["15.158.0.0/16", "3.172.0.0/18"], "1001")
    r = watch.post(sns.notification(url2, md5_2, "1001", version="2"))
    assert r.status_code == 200 and r.text == "applied\n", r.text
    assert watch.prefixes() == ["3.172.0.0/18", "15.158.0.0/16"]


def test_forged_foreign_and_mismatching_deliveries_change_nothing(watch, sns):
    url, md5 = sns.publish_document("ip-ranges-1.json", ["15.158.0.0/16"], "2000")
    good = sns.notification(url, md5, "2000")

    tampered = dict(good, Message=good["Message"].replace("2000", "2001"))
    r = watch.post(tampered)
    assert r.status_code == 403 and "signature" in r.text

    foreign = sns.notification(url, md5, "2000", TopicArn="arn:aws:sns:us-east-1:123456789012:Mine")
    r = watch.post(foreign)
    assert r.status_code == 403 and "not an accepted topic" in r.text

    elsewhere = sns.notification(url, md5, "2000", SigningCertURL="https://sns.example.test/cert.pem")
    r = watch.post(elsewhere)
    assert r.status_code == 403 and "SigningCertURL" in r.text

    wrong_md5 = sns.notification(url, "0" * 32, "2000")
    r = watch.post(wrong_md5)
    assert r.status_code == 500
    assert md5 in r.text and "0" * 32 in r.text  # both hashes

    off_site = sns.notification("https://example.test/ip-ranges.json", md5, "2000")
    r = watch.post(off_site)
    assert r.status_code == 403 and "document url" in r.text

    r = watch.post({"Type": "Notification"})
    assert r.status_code == 400
    r = requests.get(watch.url, timeout=10)
    assert r.status_code == 405
    assert watch.prefixes() == [], "nothing refused may reach the allowlist"

    r = watch.post(good)
    assert r.status_code == 200, r.text
    assert watch.prefixes() == ["15.158.0.0/16"]
