"""S6: origin-verify secrets rotated without downtime (`edgeguard secrets rotate`).

Three real processes: the origin (RecordingOrigin) <- a shield gateway (shield mode:
origin_verify on X-Origin-Verify, admin on) <- an edge gateway (custom origin header
`X-Origin-Verify: {secret: origin-verify}`, admin on), both reading the same store file.

(a) Three rotations (`--every 1s --count 3`) while threads send a few hundred requests per
    second through the edge: not one refused or failed request; the store ends with CURRENT
    and PREVIOUS; every value the origin saw was in the store at the time; the shield refuses
    a direct request without the header or with the PREVIOUS value; no value in any log,
    output or /config.
(b) A rotation whose test fails (the test URL is a shield that reads another store) exits 1:
    CURRENT untouched, PENDING kept, the edge still sends the old value and requests still
    pass; a second run with the right test URL reuses the PENDING version and finishes.
"""
from __future__ import annotations

import http.client
import json
import os
import stat
import subprocess
import threading
import time

import pytest

import harness
from harness import http_request

SECRET = "origin-verify"
HEADER = "X-Origin-Verify"

SHIELD = """
listeners: [{address: "127.0.0.1:{port}"}]
secrets: {file: "{store}"}
origins: {app: {url: "{origin_url}"}}
behaviors:
  - path: default
    origin: app
    shield: {origin_verify: {header: X-Origin-Verify, secret: origin-verify}}
"""

EDGE = """
listeners: [{address: "127.0.0.1:{port}"}]
secrets: {file: "{store}"}
origins:
  shield: {url: "{shield_url}", custom_headers: {X-Origin-Verify: {secret: origin-verify}}}
behaviors: [{path: default, origin: shield}]
"""


def read_store(path: str) -> dict:
    with open(path) as f:
        return json.load(f)["secrets"][SECRET]


def stage_of(store: dict, stage: str):
    for v in store["versions"]:
        if stage in v["stages"]:
            return v
    return None


def store_values(path: str) -> set:
    return {v["value"] for v in read_store(path)["versions"]}


class Topology:
    def __init__(self, gateway, origin, tmp_path):
        self.dir = tmp_path / "store"
        self.dir.mkdir()
        self.store = str(self.dir / "secrets.json")
        r = harness.run_edgeguard("secrets", "add", SECRET, "--store", self.store)
        assert r.returncode == 0, r.stderr
        assert f"added {SECRET}" in r.stdout
        self.initial = stage_of(read_store(self.store), "CURRENT")
        self.origin = origin
        self.shield = gateway(SHIELD, store=self.store, origin_url=origin.url)
        self.edge = gateway(EDGE, store=self.store, shield_url=self.shield.url)

    def rotate_args(self, *extra, test_url=None):
        return ["secrets", "rotate", SECRET, "--store", self.store,
                "--shield-admin", self.shield.admin_url, "--edge-admin", self.edge.admin_url,
                "--token-file", self.shield.admin_token_file,
                "--test-url", test_url or self.shield.url + "/rotation-check",
                "--test-header", HEADER, *extra]


@pytest.fixture
def topo(gateway, origin, tmp_path):
    return Topology(gateway, origin, tmp_path)


class Load:
    """Threads on keep-alive connections to the edge, paced to `rate` requests per second in
    all; every status other than 200 and every exception is a failure."""

    def __init__(self, port: int, threads: int = 6, rate: int = 300):
        self.port = port
        self.interval = threads / rate
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]

    def run(self, i: int):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        n = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            path = f"/load/t{i}/{n}"
            n += 1
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                body = r.read()
                if r.status != 200:
                    with self.lock:
                        self.failures.append(f"{path}: {r.status} {body[:200]!r}")
                else:
                    with self.lock:
                        self.ok += 1
            except Exception as e:  # noqa: BLE001 - every error is a failed request
                with self.lock:
                    self.failures.append(f"{path}: {type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()
        conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(15)


class StoreWatch:
    """Every value the store held while the test ran (versions are dropped by rotations)."""

    def __init__(self, path: str):
        self.path = path
        self.values: set = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                self.values |= store_values(self.path)
            except (OSError, ValueError, KeyError):
                pass  # replaced by rename: never half-written, but may vanish between calls
            time.sleep(0.02)

    def __enter__(self):
        self.values |= store_values(self.path)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        self.values |= store_values(self.path)


def origin_values(origin) -> list:
    with origin._lock:
        recs = list(origin.requests)
    return [r.header(HEADER) for r in recs]


def test_rotation_under_load(topo):
    assert http_request(topo.edge.port, "GET", "/warm")[0] == 200
    proc_out = ""
    with StoreWatch(topo.store) as watch, Load(topo.edge.port) as load:
        time.sleep(1.0)
        started = time.monotonic()
        r = harness.run_edgeguard(*topo.rotate_args("--every", "1s", "--count", "3"),
                                  timeout=120)
        took = time.monotonic() - started
        proc_out = r.stdout + r.stderr
        assert r.returncode == 0, proc_out
        time.sleep(1.0)  # traffic after the last finish
    sent = load.ok + len(load.failures)
    assert load.failures == [], f"{len(load.failures)} of {sent} failed:\n" + "\n".join(
        load.failures[:20]) + "\n" + proc_out
    assert load.ok >= 200 * (took + 2) * 0.5, (load.ok, took)

    # each step printed, three rotations done
    assert proc_out.count(f"rotated {SECRET}") == 3, proc_out
    for step in ("create: new version", "set: shield", "test: ", "set: edge", "finish: "):
        assert proc_out.count(step) >= 3, (step, proc_out)
    assert "schedule: stopped after 3 rotations" in proc_out

    # the store: CURRENT and PREVIOUS only, mode 0600
    store = read_store(topo.store)
    assert sorted(s for v in store["versions"] for s in v["stages"]) == ["CURRENT", "PREVIOUS"]
    assert len(store["versions"]) == 2
    assert stat.S_IMODE(os.stat(topo.store).st_mode) == 0o600
    current, previous = stage_of(store, "CURRENT"), stage_of(store, "PREVIOUS")
    assert topo.initial["value"] not in {current["value"], previous["value"]}
    assert len(watch.values) == 4  # the initial value and three new ones

    # the origin saw only values that were in the store, and ends with the new CURRENT
    seen = origin_values(topo.origin)
    assert None not in seen
    assert set(seen) <= watch.values, set(seen) - watch.values
    load_seen = [r.header(HEADER) for r in topo.origin.requests if r.path.startswith("/load/")]
    assert load_seen[-1] == current["value"]
    assert len(set(load_seen)) == 4  # the edge sent each value in turn

    # the shield refuses what the edge does not send
    sp = topo.shield.port
    assert http_request(sp, "GET", "/direct")[0] == 403
    assert http_request(sp, "GET", "/direct", headers={HEADER: previous["value"]})[0] == 403
    assert http_request(sp, "GET", "/direct", headers={HEADER: topo.initial["value"]})[0] == 403
    assert http_request(sp, "GET", "/direct", headers={HEADER: current["value"]})[0] == 200
    assert http_request(topo.edge.port, "GET", "/through-the-edge")[0] == 200

    # never a value in a log, the command's output, /config or `secrets show`
    show = harness.run_edgeguard("secrets", "show", "--store", topo.store)
    assert show.returncode == 0, show.stderr
    assert current["id"] in show.stdout and previous["id"] in show.stdout
    texts = {"rotate output": proc_out, "show": show.stdout + show.stderr,
             "shield log": topo.shield.log(), "edge log": topo.edge.log(),
             "shield /config": topo.shield.admin("GET", "/config").text,
             "edge /config": topo.edge.admin("GET", "/config").text}
    for name, text in texts.items():
        for value in watch.values:
            assert value not in text, f"a secret value appears in the {name}"


def test_failed_test_keeps_the_old_value(topo, gateway, origin, tmp_path):
    # A second shield reading its own copy of the store: it never learns the new value.
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_store = str(other_dir / "secrets.json")
    with open(topo.store) as f, open(other_store, "w") as g:
        g.write(f.read())
    os.chmod(other_store, 0o600)
    stale = gateway(SHIELD, store=other_store, origin_url=origin.url)

    r = harness.run_edgeguard(*topo.rotate_args(test_url=stale.url + "/rotation-check"))
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "test: " in out and "= CURRENT" in out and "= PENDING" in out
    assert "403" in out, out
    assert "set: edge" not in out and "finish: " not in out, out
    assert "the edges were not told" in out

    store = read_store(topo.store)
    assert stage_of(store, "CURRENT") == topo.initial  # untouched
    pending = stage_of(store, "PENDING")
    assert pending is not None and pending["value"] != topo.initial["value"]

    # the edge still sends the old value; requests pass
    origin.clear()
    for i in range(20):
        assert http_request(topo.edge.port, "GET", f"/after/{i}")[0] == 200
    assert {r.header(HEADER) for r in origin.requests} == {topo.initial["value"]}

    # fixed and rerun: the PENDING version is reused, not stacked
    r = harness.run_edgeguard(*topo.rotate_args())
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert f"version {pending['id']} is already PENDING" in out and "reusing it" in out
    store = read_store(topo.store)
    assert stage_of(store, "CURRENT") == {**pending, "stages": ["CURRENT"]}
    assert stage_of(store, "PREVIOUS")["id"] == topo.initial["id"]
    assert len(store["versions"]) == 2
    origin.clear()
    assert http_request(topo.edge.port, "GET", "/after-rotation")[0] == 200
    assert origin.last().header(HEADER) == pending["value"]
    for text in (out, topo.edge.log(), topo.shield.log()):
        assert pending["value"] not in text and topo.initial["value"] not in text


def test_usage_and_lock(topo):
    # the gateways are required: their reload order is what keeps requests accepted
    r = harness.run_edgeguard("secrets", "rotate", SECRET, "--store", topo.store,
                              "--shield-admin", topo.shield.admin_url)
    assert r.returncode == 2
    assert "--edge-admin" in r.stderr
    r = harness.run_edgeguard(*topo.rotate_args("--every", "2w"))
    assert r.returncode == 2 and "--every" in r.stderr
    # a secret the store does not hold
    r = harness.run_edgeguard("secrets", "rotate", "other", "--store", topo.store,
                              "--shield-admin", topo.shield.admin_url,
                              "--edge-admin", topo.edge.admin_url)
    assert r.returncode == 1
    assert f"no secret 'other' in {topo.store} (it holds: {SECRET})" in r.stderr
    # a wrong token: the shield refuses the reload, nothing reaches the edge
    bad = topo.dir / "bad.token"
    bad.write_text("not-the-token-not-the-token-000\n")
    args = topo.rotate_args()
    args[args.index("--token-file") + 1] = str(bad)
    r = harness.run_edgeguard(*args)
    assert r.returncode == 1
    assert "401" in r.stderr and "--token-file" in r.stderr
    assert stage_of(read_store(topo.store), "CURRENT") == topo.initial
    # while one rotation holds the lock, another waits and reports who holds it
    lock = subprocess.Popen(["flock", topo.store + ".lock", "sleep", "60"])
    try:
        time.sleep(0.3)
        started = time.monotonic()
        r = harness.run_edgeguard(*topo.rotate_args("--lock-wait", "1s"), timeout=60)
        assert r.returncode == 1
        assert "holds " + topo.store + ".lock; waited 1000 ms" in r.stderr
        assert time.monotonic() - started >= 1
    finally:
        lock.kill()
        lock.wait()
