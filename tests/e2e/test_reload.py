"""Hot reload while traffic flows: SIGHUP and POST /reload swap the config without a single
failed request; an invalid config is refused and the old one keeps serving."""
import re
import threading
import time

import requests

from harness import wait_until

CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins:
  echo: {echo: true, custom_headers: {X-Config-Version: "VERSION"}}
  app: {url: "{origin_url}", custom_headers: {X-Config-Version: "VERSION"}}
behaviors:
  - {path: /echo/*, origin: echo}
  - {path: default, origin: app}
limits: {idle_timeout: 30s}
"""


def config(version):
    return CONFIG.replace("VERSION", version)


def generation(gw):
    m = re.search(r"^edgeguard_config_generation (\d+)", gw.stats(), re.M)
    assert m, gw.stats()
    return int(m.group(1))


class Load:
    """N threads, each a keep-alive session, requesting until stopped."""

    def __init__(self, gw, threads=8):
        self.gw = gw
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self.seen = []
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(threads)]

    def run(self, i):
        s = requests.Session()
        n = 0
        while not self.stop.is_set():
            path = f"/echo/t{i}/{n}" if n % 2 == 0 else f"/app/t{i}/{n}"
            n += 1
            try:
                r = s.get(self.gw.url + path, timeout=10)
                if r.status_code != 200:
                    raise AssertionError(f"{path}: {r.status_code} {r.text[:200]}")
                if path.startswith("/echo/"):
                    v = r.json()["headers"]["x-config-version"]
                    with self.lock:
                        self.seen.append(v)
                with self.lock:
                    self.ok += 1
            except Exception as e:  # noqa: BLE001 - every failure counts
                with self.lock:
                    self.failures.append(f"{path}: {e!r}")

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(15)


def version_seen(gw, want):
    r = requests.get(gw.url + "/echo/check", timeout=5)
    return r.status_code == 200 and r.json()["headers"]["x-config-version"] == want


def test_reload_under_load_loses_no_request(gateway, origin):
    gw = gateway(config("v0"), origin_url=origin.url)
    g0 = generation(gw)
    with Load(gw) as load:
        time.sleep(0.3)
        for i in range(1, 11):
            gw.write_config(config(f"v{i}"))
            if i % 2:
                gw.reload()
            else:
                r = gw.admin("POST", "/reload")
                assert r.status_code == 200, r.text
            wait_until(lambda: version_seen(gw, f"v{i}"), timeout=5, what=f"config v{i} in effect")
            time.sleep(0.1)
        time.sleep(0.3)
    assert load.failures == [], f"{len(load.failures)} failed requests, first: {load.failures[:5]}"
    assert load.ok > 200, load.ok
    assert "v10" in load.seen and "v0" in load.seen
    assert generation(gw) == g0 + 10
    # afterwards every response shows the new config, at both origins
    for _ in range(10):
        assert version_seen(gw, "v10")
    origin.clear()
    assert requests.get(gw.url + "/after").status_code == 200
    assert origin.last().header("X-Config-Version") == "v10"


def test_invalid_config_refused_old_keeps_serving(gateway, origin):
    gw = gateway(config("good"), origin_url=origin.url)
    g0 = generation(gw)
    bad = config("bad").replace("origin: app}", "origin: missing-origin}")
    gw.write_config(bad)
    r = gw.admin("POST", "/reload")
    assert r.status_code == 400
    assert "missing-origin" in r.text
    assert re.search(r"edgeguard\.yaml:\d+:\d+: behaviors\[1\]\.origin: ", r.text), r.text
    assert version_seen(gw, "good")
    assert generation(gw) == g0
    # SIGHUP with the same bad file: refused too, still serving the good one
    gw.reload()
    wait_until(lambda: 'edgeguard_config_reloads_total{result="failed"} 2' in gw.stats(), timeout=5,
               what="the failed SIGHUP reload to be counted")
    assert version_seen(gw, "good")
    assert requests.get(gw.url + "/x").status_code == 200
    assert gw.running()
    # fixed: accepted
    gw.write_config(config("fixed"))
    assert gw.admin("POST", "/reload").status_code == 200
    assert version_seen(gw, "fixed")
    assert generation(gw) == g0 + 1


def test_yaml_syntax_error_on_reload(gateway, origin):
    gw = gateway(config("good"), origin_url=origin.url)
    with open(gw.config_path, "a") as f:
        f.write("behaviors: [\n")
    r = gw.admin("POST", "/reload")
    assert r.status_code == 400
    assert "edgeguard.yaml:" in r.text
    assert version_seen(gw, "good")
