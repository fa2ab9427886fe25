"""Access logs: CloudFront standard format parsed back field by field, JSON lines, and
SIGUSR1 reopening after rotation. Lines are flushed about every flush_interval: poll."""
import datetime
import json
import os
import re
import time

import pytest

from harness import RawConn, header_of, http_request, read_cloudfront_log, wait_until

FIELDS = ("date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
          "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id "
          "x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher "
          "x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port "
          "time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
          "sc-range-start sc-range-end").split()

CONFIG = """
listeners:
  - address: "127.0.0.1:{port}"
  - address: "127.0.0.1:{tls_port}"
    tls: {cert: "{edge_cert}", key: "{edge_key}"}
origins:
  app: {url: "{origin_url}"}
  site: {directory: "{public_dir}"}
behaviors:
  - {path: /static/*, origin: site, rewrite: {strip_prefix: /static}}
  - {path: /ro/*, origin: app}
  - {path: default, origin: app, allowed_methods: ALL}
access_log: {path: "{access_log}", format: FORMAT, edge_location: TST1, flush_interval: 300ms}
"""


def send(gw, method, target, headers, body=b""):
    """One request on a raw connection; returns (response, client port)."""
    with RawConn(gw.port) as c:
        port = c.sock.getsockname()[1]
        lines = [f"{method} {target} HTTP/1.1", "Host: www.example.test"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        c.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return c.read_response(method), port


def wait_rows(path, ids, timeout=3):
    def ready():
        if not os.path.exists(path):
            return None
        headers, rows = read_cloudfront_log(path)
        by_id = {r.get("x-edge-request-id"): r for r in rows}
        return (headers, by_id) if all(i in by_id for i in ids) else None
    return wait_until(ready, timeout=timeout, what=f"log lines for {ids} in {path}")


def test_cloudfront_format(gateway, origin, client_tls):
    gw = gateway(CONFIG.replace("FORMAT", "cloudfront"), origin_url=origin.url)
    t_before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ua = "Mozilla/5.0 (X11; e2e test) Agent/1.0"
    r1, port1 = send(gw, "GET", "/api/items?x=1&y=two", {"User-Agent": ua, "Referer": "http://ref.test/a b",
                                                          "X-Forwarded-For": "203.0.113.9"})
    assert r1.status == 200
    r2, port2 = send(gw, "DELETE", "/ro/thing", {})
    assert r2.status == 403
    r3, port3 = send(gw, "GET", "/static/notes.txt", {"Range": "bytes=0-9"})
    assert r3.status == 206
    status, h4, _ = http_request(gw.tls_port, "POST", "/tls/path", body=b"12345", tls_ctx=client_tls)
    assert status == 200
    # (the 403 is found by its client port: test_methods_vpp checks its request id header)
    ids = [r1.header("X-Amz-Cf-Id"), None, r3.header("X-Amz-Cf-Id"), header_of(h4, "X-Amz-Cf-Id")]
    assert ids[0] and ids[2] and ids[3], ids
    t_after = datetime.datetime.now(datetime.timezone.utc)
    headers, rows = wait_rows(gw.access_log, [ids[0], ids[2], ids[3]])
    wait_until(lambda: any(r["c-port"] == str(port2) for r in read_cloudfront_log(gw.access_log)[1]),
               timeout=3, what="the 403 log line")
    headers, all_rows = read_cloudfront_log(gw.access_log)
    rows[None] = next(r for r in all_rows if r["c-port"] == str(port2))

    assert headers[0] == "#Version: 1.0"
    assert headers[1].startswith("#Fields: ")
    assert headers[1][len("#Fields: "):].split() == FIELDS
    assert len(FIELDS) == 33
    for row in rows.values():
        assert row["_count"] == 33, row["_raw"]

    a = rows[ids[0]]
    stamp = datetime.datetime.strptime(a["date"] + " " + a["time"], "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    assert t_before - datetime.timedelta(seconds=1) <= stamp <= t_after + datetime.timedelta(seconds=1)
    assert a["x-edge-location"] == "TST1"
    assert a["c-ip"] == "127.0.0.1"
    assert a["cs-method"] == "GET"
    assert a["cs(Host)"] == "www.example.test"
    assert a["cs-uri-stem"] == "/api/items"
    assert a["sc-status"] == "200"
    assert a["cs-uri-query"] == "x=1&y=two"
    assert a["cs(User-Agent)"] == "Mozilla/5.0%20(X11;%20e2e%20test)%20Agent/1.0"
    assert a["cs(Referer)"] == "http://ref.test/a%20b"
    assert a["cs(Cookie)"] == "-"
    assert a["x-edge-result-type"] == "Miss"
    assert a["x-edge-response-result-type"] == "Miss"
    assert a["x-edge-request-id"] == ids[0]
    assert a["cs-protocol"] == "http"
    assert a["cs-protocol-version"] == "HTTP/1.1"
    assert a["c-port"] == str(port1)
    assert a["x-forwarded-for"] == "203.0.113.9"
    assert a["ssl-protocol"] == "-" and a["ssl-cipher"] == "-"
    assert int(a["sc-bytes"]) > len(r1.body)
    assert int(a["cs-bytes"]) > 0
    assert re.fullmatch(r"\d+\.\d{3}", a["time-taken"]), a["time-taken"]
    assert re.fullmatch(r"\d+\.\d{3}", a["time-to-first-byte"]), a["time-to-first-byte"]
    assert a["sc-content-type"] == "text/plain;%20charset=utf-8"
    assert a["sc-content-len"] == str(len(r1.body))

    b = rows[ids[1]]
    assert (b["cs-method"], b["sc-status"], b["cs-uri-stem"]) == ("DELETE", "403", "/ro/thing")
    assert b["x-edge-result-type"] == "Error"
    assert b["cs-uri-query"] == "-"
    assert re.fullmatch(r"[A-Za-z0-9_=-]{20,}", b["x-edge-request-id"]), b["x-edge-request-id"]
    assert b["c-port"] == str(port2)

    c = rows[ids[2]]
    assert (c["sc-status"], c["cs-uri-stem"]) == ("206", "/static/notes.txt")
    assert (c["sc-range-start"], c["sc-range-end"]) == ("0", "9")

    d = rows[ids[3]]
    assert (d["cs-method"], d["cs-protocol"], d["sc-status"]) == ("POST", "https", "200")
    assert d["ssl-protocol"].startswith("TLSv1."), d["ssl-protocol"]
    assert d["ssl-cipher"] != "-"


def test_json_lines_format(gateway, origin):
    gw = gateway(CONFIG.replace("FORMAT", "json"), origin_url=origin.url)
    r, port = send(gw, "GET", "/j/path?q=1", {"User-Agent": "json agent \"quoted\""})
    rid = r.header("X-Amz-Cf-Id")

    def line():
        if not os.path.exists(gw.access_log):
            return None
        with open(gw.access_log) as f:
            docs = [json.loads(l) for l in f if l.strip()]
        return [d for d in docs if rid in d.values()]
    docs = wait_until(line, timeout=3, what="the JSON log line")
    d = docs[0]
    assert d["request_id"] == rid
    assert d["method"] == "GET"
    assert d["uri_stem"] == "/j/path"
    assert d["query"] == "q=1"
    assert d["user_agent"] == 'json agent "quoted"'
    assert d["client_ip"] == "127.0.0.1"
    assert str(d.get("status", d.get("sc_status"))) == "200"
    with open(gw.access_log) as f:
        for l in f:
            json.loads(l)  # every line is JSON, no '#' header


def test_sigusr1_reopens_after_rename(gateway, origin):
    gw = gateway(CONFIG.replace("FORMAT", "cloudfront"), origin_url=origin.url)
    r1, _ = send(gw, "GET", "/before-rotation", {})
    id1 = r1.header("X-Amz-Cf-Id")
    wait_rows(gw.access_log, [id1])
    rotated = gw.access_log + ".1"
    os.rename(gw.access_log, rotated)
    gw.reopen_logs()
    wait_until(lambda: os.path.exists(gw.access_log), timeout=3, what="the reopened log file")
    r2, _ = send(gw, "GET", "/after-rotation", {})
    id2 = r2.header("X-Amz-Cf-Id")
    headers, rows = wait_rows(gw.access_log, [id2])
    assert headers[0] == "#Version: 1.0" and headers[1].startswith("#Fields: ")
    assert rows[id2]["cs-uri-stem"] == "/after-rotation"
    assert id1 not in rows
    _, old_rows = read_cloudfront_log(rotated)
    assert id1 in {r["x-edge-request-id"] for r in old_rows}
    assert id2 not in {r["x-edge-request-id"] for r in old_rows}
    with open(gw.access_log) as f:
        assert f.read().count("#Version: 1.0") == 1


def test_default_flush_interval_is_about_a_second(gateway, origin):
    gw = gateway(CONFIG.replace("FORMAT", "cloudfront").replace(", flush_interval: 300ms", ""),
                 origin_url=origin.url)
    r, _ = send(gw, "GET", "/flush-me", {})
    t0 = time.monotonic()
    wait_rows(gw.access_log, [r.header("X-Amz-Cf-Id")], timeout=3)
    assert time.monotonic() - t0 < 2.0
