"""`edgeguard sign` and the SigV4 verifier against botocore, the AWS SDK for Python.

(a) Random requests (methods, paths with odd characters and dot segments, queries with
    repeated and unsorted keys, headers with extra spaces, binary bodies, session tokens,
    S3 and non-S3 services) signed by `edgeguard sign --date ...` carry exactly the
    Authorization botocore's SigV4Auth / S3SigV4Auth computes for the same request and time.
(b) `edgeguard sign --send` to a local HTTP(S) server that recomputes the signature with
    botocore: accepted; a server holding another secret refuses it and the command says so.
(c) Requests signed by botocore, written as raw HTTP, are accepted by the verifier
    (`edgeguard sign --verify FILE`); the same bytes with one byte changed are refused
    with SignatureDoesNotMatch.
Only loopback addresses are used; nothing reaches AWS.
"""
from __future__ import annotations

import datetime
import hashlib
import http.server
import os
import random
import ssl
import subprocess
import threading
import types
from typing import Optional
from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
import botocore.auth

import harness

AKID = "AKIDE2EEXAMPLE"
SECRET = "e2e/Secret+Key==example"
TOKEN = "FQoGZXIvYXdzE//////////wEaDE2ETOKEN+with/slashes=="

SERVICES = ["execute-api", "lambda", "s3", "service", "ec2"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
# Characters for path segments, query names and values, beyond the alphanumerics.
ODD = [" ", "+", "=", "&", "$", "@", ":", ",", ";", "!", "*", "'", "(", ")", "%", "~", "-",
       "_", ".", "é", "ሴ", "/", "?", "#", "[", "]"]


# ---- helpers -------------------------------------------------------------------------------

def sign_env(token: Optional[str] = None, secret: str = SECRET) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": secret,
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                "AWS_CONFIG_FILE": "/nonexistent/config"})
    if token:
        env["AWS_SESSION_TOKEN"] = token
    return env


def run_sign(args: list, token: Optional[str] = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([harness.EDGEGUARD_BIN, "sign", *args], capture_output=True,
                          env=sign_env(token), timeout=timeout)


def botocore_sign(method: str, url: str, headers: list, body: bytes, service: str,
                  region: str, amz_date: str, token: Optional[str] = None,
                  secret: str = SECRET) -> AWSRequest:
    """Signs with botocore as if the clock said `amz_date`."""
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    auth_class = S3SigV4Auth if service == "s3" else SigV4Auth
    auth = auth_class(Credentials(AKID, secret, token), service, region)
    fixed = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")

    class FixedClock(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    saved = botocore.auth.datetime
    botocore.auth.datetime = types.SimpleNamespace(datetime=FixedClock)
    try:
        auth.add_auth(request)
    finally:
        botocore.auth.datetime = saved
    return request


def parse_printed_request(out: bytes) -> tuple:
    """`edgeguard sign` prints the head with LF line ends, a blank line, then the body."""
    head, _, body = out.partition(b"\n\n")
    lines = head.decode("latin-1").split("\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name, value.lstrip(" ")))
    return lines[0], headers, body


def header(headers: list, name: str) -> Optional[str]:
    for n, v in headers:
        if n.lower() == name.lower():
            return v
    return None


def random_text(rng: random.Random, n: int) -> str:
    alphabet = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("ABCXYZ0189") + ODD
    return "".join(rng.choice(alphabet) for _ in range(n))


def random_request(rng: random.Random) -> dict:
    method = rng.choice(["GET", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
    service = rng.choice(SERVICES)
    segments = []
    for _ in range(rng.randint(0, 4)):
        kind = rng.random()
        if kind < 0.1:
            segments.append(".")
        elif kind < 0.2:
            segments.append("..")
        elif kind < 0.28:
            segments.append("")  # a doubled slash
        else:
            segments.append(quote(random_text(rng, rng.randint(1, 8)), safe="-_.~!$&'()*+,;=:@"))
    path = "/" + "/".join(segments)
    if rng.random() < 0.3:
        path += "/"
    # AWS-style encoded query: repeated and unsorted keys, empty values, bare names.
    keys = ["a", "b", "B", "key", "k-1", "x_y", "ሴ", "sp ace", "plus+", "eq=", "Z"]
    params = []
    for _ in range(rng.randint(0, 6)):
        k = quote(rng.choice(keys), safe="-_.~")
        r = rng.random()
        if r < 0.15:
            params.append(k)
        elif r < 0.3:
            params.append(k + "=")
        else:
            params.append(k + "=" + quote(random_text(rng, rng.randint(1, 10)), safe="-_.~"))
    query = "&".join(params)
    headers = []
    names = rng.sample(["X-Test-One", "X-Test-Two", "Content-Type", "X-Amz-Meta-Owner",
                        "Accept", "User-Agent", "X-Custom-Spaces"], rng.randint(0, 4))
    for name in names:
        words = ["w" + str(rng.randint(0, 99)) for _ in range(rng.randint(1, 4))]
        value = (" " * rng.randint(0, 2)).join(words)
        if name == "X-Custom-Spaces":
            value = "a   b\tc    d"
        headers.append((name, value))
    body = b""
    if method in ("POST", "PUT", "PATCH") and rng.random() < 0.85:
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 2048)))
    when = datetime.datetime(2015, 1, 1) + datetime.timedelta(seconds=rng.randint(0, 500_000_000))
    return {
        "method": method, "service": service, "region": rng.choice(REGIONS),
        "host": rng.choice(["example.amazonaws.com", "origin.test:8443", "127.0.0.1:9000"]),
        "path": path, "query": query, "headers": headers, "body": body,
        "date": when.strftime("%Y%m%dT%H%M%SZ"),
        "token": TOKEN if rng.random() < 0.3 else None,
    }


def url_of(req: dict, scheme: str = "http") -> str:
    return f"{scheme}://{req['host']}{req['path']}" + (f"?{req['query']}" if req["query"] else "")


# ---- (a) byte-for-byte against botocore ----------------------------------------------------

def test_random_requests_sign_exactly_like_botocore(tmp_path):
    rng = random.Random(20150830)
    for i in range(120):
        req = random_request(rng)
        body_file = tmp_path / f"body-{i}"
        body_file.write_bytes(req["body"])
        args = ["--service", req["service"], "--region", req["region"], "--method", req["method"],
                "--url", url_of(req), "--date", req["date"], "--body-file", str(body_file)]
        for name, value in req["headers"]:
            args += ["-H", f"{name}: {value}"]
        res = run_sign(args, token=req["token"])
        assert res.returncode == 0, (req, res.stderr.decode())
        request_line, headers, body = parse_printed_request(res.stdout)

        target = req["path"] + (f"?{req['query']}" if req["query"] else "")
        assert request_line == f"{req['method']} {target} HTTP/1.1", req
        assert body == req["body"]

        expected = botocore_sign(req["method"], url_of(req), req["headers"], req["body"],
                                 req["service"], req["region"], req["date"], req["token"])
        assert header(headers, "Authorization") == expected.headers["Authorization"], req
        assert header(headers, "X-Amz-Date") == req["date"]
        assert header(headers, "X-Amz-Security-Token") == req["token"]
        if req["service"] == "s3":
            assert header(headers, "x-amz-content-sha256") == expected.headers["X-Amz-Content-SHA256"]
        else:
            assert header(headers, "x-amz-content-sha256") is None


def test_service_and_region_are_inferred_from_the_host():
    res = run_sign(["--url", "https://abcdefghij.lambda-url.eu-west-1.on.aws/api?x=1",
                    "--date", "20260501T120000Z", "--method", "POST", "--body", '{"a":1}',
                    "-H", "Content-Type: application/json"])
    assert res.returncode == 0, res.stderr.decode()
    _, headers, _ = parse_printed_request(res.stdout)
    expected = botocore_sign("POST", "https://abcdefghij.lambda-url.eu-west-1.on.aws/api?x=1",
                             [("Content-Type", "application/json")], b'{"a":1}', "lambda",
                             "eu-west-1", "20260501T120000Z")
    assert header(headers, "Authorization") == expected.headers["Authorization"]
    assert "/eu-west-1/lambda/aws4_request" in header(headers, "Authorization")

    res = run_sign(["--url", "http://origin.internal/x"])
    assert res.returncode == 2
    assert b"pass --service and --region" in res.stderr


def test_bad_usage_and_missing_credentials_are_explained():
    res = run_sign(["--service", "s", "--region", "r", "--url", "ftp://x/"])
    assert res.returncode == 2 and b"unsupported URL scheme 'ftp'" in res.stderr
    res = run_sign(["--service", "s", "--region", "r", "--url", "http://x/", "-H", "no colon"])
    assert res.returncode == 2 and b"expected 'Name: value'" in res.stderr
    res = run_sign(["--service", "s", "--region", "r", "--url", "http://x/", "--date", "2015"])
    assert res.returncode == 2 and b"is not YYYYMMDDTHHMMSSZ" in res.stderr
    env = sign_env()
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    res = subprocess.run([harness.EDGEGUARD_BIN, "sign", "--service", "s", "--region", "r",
                          "--url", "http://x/"], capture_output=True, env=env, timeout=30)
    assert res.returncode == 1
    assert b"no AWS credentials found" in res.stderr


def test_profile_with_credential_process(tmp_path):
    script = tmp_path / "creds.sh"
    script.write_text("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
                      "\"SecretAccessKey\": \"procsecret\", \"SessionToken\": \"proctoken\", "
                      "\"Expiration\": \"2099-01-01T00:00:00Z\"}'\n")
    script.chmod(0o755)
    config = tmp_path / "config"
    config.write_text(f"[profile proc]\ncredential_process = {script}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_CONFIG_FILE": str(config),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")})
    res = subprocess.run([harness.EDGEGUARD_BIN, "sign", "--profile", "proc", "--service",
                          "execute-api", "--region", "us-east-1", "--url",
                          "https://api.example/v1", "--date", "20260101T000000Z"],
                         capture_output=True, env=env, timeout=30)
    assert res.returncode == 0, res.stderr.decode()
    _, headers, _ = parse_printed_request(res.stdout)
    assert header(headers, "X-Amz-Security-Token") == "proctoken"
    assert header(headers, "Authorization").startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDPROC/20260101/us-east-1/execute-api/aws4_request")


# ---- (b) --send to a server that verifies with botocore ------------------------------------

class VerifyingHandler(http.server.BaseHTTPRequestHandler):
    """Recomputes the request's signature with botocore and answers 200 or 403."""
    secret = SECRET
    token: Optional[str] = None
    seen: list = []

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization", "")
        fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        akid, date, region, service, _ = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        headers = [(name, ",".join(self.headers.get_all(name))) for name in signed
                   if name not in ("x-amz-date", "x-amz-security-token")]
        url = f"http://{self.headers['Host']}{self.path}"
        token = self.headers.get("X-Amz-Security-Token")
        expected = botocore_sign(self.command, url, headers, body, service, region,
                                 self.headers["X-Amz-Date"], token, secret=self.secret)
        ok = akid == AKID and expected.headers["Authorization"] == auth
        type(self).seen.append({"ok": ok, "method": self.command, "path": self.path,
                                "body": body, "token": token})
        reply = b"verified by botocore\n" if ok else ("expected " + expected.headers["Authorization"]).encode()
        self.send_response(200 if ok else 403)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


@pytest.fixture
def verifying_server(certs):
    servers = []

    def start(tls: bool = False, secret: str = SECRET):
        handler = type("Handler", (VerifyingHandler,), {"secret": secret, "seen": []})
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*certs.origin)
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv, handler

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def test_send_is_accepted_by_a_botocore_verifier(verifying_server, tmp_path):
    srv, handler = verifying_server()
    port = srv.server_address[1]
    rng = random.Random(7)
    for i in range(25):
        req = random_request(rng)
        req["host"] = f"127.0.0.1:{port}"
        req["service"] = rng.choice(["execute-api", "lambda", "service"])
        # Dot segments would be resolved differently by the server's URL handling; the
        # signing of those is covered by (a).
        req["path"] = "/" + "/".join(s for s in req["path"].split("/") if s not in (".", "..", ""))
        body_file = tmp_path / f"b{i}"
        body_file.write_bytes(req["body"])
        args = ["--service", req["service"], "--region", req["region"], "--method",
                req["method"], "--url", url_of(req), "--body-file", str(body_file), "--send"]
        for name, value in req["headers"]:
            args += ["-H", f"{name}: {value}"]
        res = run_sign(args, token=req["token"])
        assert res.returncode == 0, (req, res.stdout.decode(errors="replace"), res.stderr.decode())
        assert res.stdout.startswith(b"HTTP/1.1 200 OK\n"), res.stdout
        if req["method"] != "HEAD":
            assert res.stdout.endswith(b"\n\nverified by botocore\n")
        seen = handler.seen[-1]
        assert seen["ok"] and seen["body"] == req["body"] and seen["token"] == req["token"]


def test_send_refused_by_a_server_with_another_secret(verifying_server):
    srv, handler = verifying_server(secret="not-the-same-secret")
    res = run_sign(["--service", "execute-api", "--region", "us-east-1", "--url",
                    f"http://127.0.0.1:{srv.server_address[1]}/private", "--send"])
    assert res.returncode == 1
    assert res.stdout.startswith(b"HTTP/1.1 403 Forbidden\n")
    assert b"the server answered 403" in res.stderr
    assert handler.seen and not handler.seen[-1]["ok"]


def test_send_over_https_verifies_the_certificate(verifying_server, certs):
    srv, handler = verifying_server(tls=True)
    url = f"https://localhost:{srv.server_address[1]}/tls?x=1"
    res = run_sign(["--service", "lambda", "--region", "eu-west-1", "--method", "POST",
                    "--url", url, "--body", "over tls", "--send", "--ca-file", certs.ca])
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.startswith(b"HTTP/1.1 200 OK\n")
    assert handler.seen[-1]["ok"] and handler.seen[-1]["body"] == b"over tls"

    res = run_sign(["--service", "lambda", "--region", "eu-west-1", "--url", url, "--send"])
    assert res.returncode == 1
    assert b"certificate verify failed" in res.stderr or b"certificate verification failed" in res.stderr, res.stderr


def test_send_to_a_closed_port_fails_clearly():
    port = harness.free_port()
    res = run_sign(["--service", "s", "--region", "r", "--url", f"http://127.0.0.1:{port}/",
                    "--send"])
    assert res.returncode == 1
    assert b"cannot connect to 127.0.0.1" in res.stderr


# ---- (c) botocore-signed requests through the verifier -------------------------------------

def raw_http(request: AWSRequest, method: str, target: str, body: bytes) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    for name, value in request.headers.items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def verify_cli(raw: bytes, req: dict, tmp_path, name: str, shape: str = "s3"):
    f = tmp_path / name
    f.write_bytes(raw)
    return subprocess.run([harness.EDGEGUARD_BIN, "sign", "--verify", str(f), "--service",
                           req["service"], "--region", req["region"], "--date", req["date"],
                           "--error-shape", shape],
                          capture_output=True, env=sign_env(req["token"]), timeout=30)


def test_botocore_signed_requests_pass_the_verifier(tmp_path):
    rng = random.Random(4242)
    for i in range(60):
        req = random_request(rng)
        url = url_of(req)
        headers = [("Host", req["host"])] + req["headers"]
        signed = botocore_sign(req["method"], url, headers, req["body"], req["service"],
                               req["region"], req["date"], req["token"])
        target = req["path"] + (f"?{req['query']}" if req["query"] else "")
        raw = raw_http(signed, req["method"], target, req["body"])
        res = verify_cli(raw, req, tmp_path, f"req-{i}")
        assert res.returncode == 0, (req, res.stdout.decode(), res.stderr.decode())
        assert res.stdout.startswith(b"OK: signature valid (access key AKIDE2EEXAMPLE")

        # One byte changed in the head (the Host value) or the body: refused.
        tampered = raw.replace(req["host"].encode(), req["host"][:-1].encode() + b"7", 1)
        if tampered == raw:
            tampered = raw.replace(req["host"].encode(), req["host"][:-1].encode() + b"8", 1)
        res = verify_cli(tampered, req, tmp_path, f"tampered-{i}")
        assert res.returncode == 1
        assert b"REFUSED: SignatureDoesNotMatch" in res.stdout, res.stdout
        if req["body"]:
            flipped = bytearray(raw)
            flipped[-1] ^= 0x01
            res = verify_cli(bytes(flipped), req, tmp_path, f"body-{i}", shape="json")
            assert res.returncode == 1
            code = b"XAmzContentSHA256Mismatch" if req["service"] == "s3" else b"SignatureDoesNotMatch"
            assert code in res.stdout, res.stdout
            assert b"x-amzn-ErrorType: InvalidSignatureException" in res.stdout


def test_verifier_refusals_name_the_aws_error(tmp_path):
    req = {"method": "GET", "service": "execute-api", "region": "us-east-1",
           "host": "api.example", "date": "20260301T100000Z", "token": None}
    signed = botocore_sign("GET", "http://api.example/x", [("Host", "api.example")], b"",
                           "execute-api", "us-east-1", req["date"])
    raw = raw_http(signed, "GET", "/x", b"")

    late = dict(req, date="20260301T100600Z")  # verified 6 minutes later
    res = verify_cli(raw, late, tmp_path, "late", shape="json")
    assert res.returncode == 1
    assert (b"Signature expired: 20260301T100000Z is now earlier than 20260301T100100Z "
            b"(20260301T100600Z - 5 min.)") in res.stdout

    other_region = dict(req, region="eu-west-1")
    res = verify_cli(raw, other_region, tmp_path, "region")
    assert b"Credential should be scoped to a valid region, not 'us-east-1'." in res.stdout

    unsigned = b"GET /x HTTP/1.1\r\nHost: api.example\r\n\r\n"
    res = verify_cli(unsigned, req, tmp_path, "unsigned", shape="json")
    assert res.returncode == 1
    assert b'{"message":"Missing Authentication Token"}' in res.stdout
    assert b"x-amzn-ErrorType: MissingAuthenticationTokenException" in res.stdout
