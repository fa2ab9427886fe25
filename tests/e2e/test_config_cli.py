"""`edgeguard check` and `serve` on good and bad configs."""
import glob
import os
import re

import pytest

from harness import free_port, port_open, run_edgeguard

GOOD = """\
listeners:
  - address: 127.0.0.1:{port}
origins:
  site: {{directory: public}}
  api: {{url: "http://localhost:9/base", read_timeout: 2s}}
behaviors:
  - {{path: /api/*, origin: api, allowed_methods: ALL}}
  - {{path: default, origin: site}}
"""

# Four mistakes, on known lines.
BAD = """\
listeners:
  - adress: 127.0.0.1:8080
origins:
  site: {directory: public}
  api: {url: "ftp://example.test"}
behaviors:
  - {path: /api/*, origin: apii}
  - {path: default, origin: site, allowed_methods: [GET, POST]}
"""

LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<path>[^:]+): (?P<msg>.+)$")


def write(tmp_path, text, name="edgeguard.yaml"):
    (tmp_path / "public").mkdir(exist_ok=True)
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_check_good_config(tmp_path):
    f = write(tmp_path, GOOD.format(port=free_port()))
    r = run_edgeguard("check", "-c", f)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK" in r.stdout or "ok" in r.stdout.lower()


def test_check_bad_config_lists_every_error(tmp_path):
    f = write(tmp_path, BAD)
    r = run_edgeguard("check", "-c", f)
    assert r.returncode == 1
    lines = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    parsed = [LINE.match(l) for l in lines]
    assert all(parsed), f"every line is file:line:col: path: message; got:\n" + "\n".join(lines)
    assert all(m["file"] == f for m in parsed)
    by_line = {int(m["line"]): m for m in parsed}
    assert len(parsed) >= 4, lines
    assert 2 in by_line and "adress" in by_line[2]["msg"] and "address" in by_line[2]["msg"]
    assert by_line[2]["path"] == "listeners[0].adress"
    assert by_line[2]["col"] == "5"
    assert 5 in by_line and "ftp" in by_line[5]["msg"]
    assert by_line[5]["path"] == "origins.api.url"
    assert 7 in by_line and "apii" in by_line[7]["msg"]
    assert by_line[7]["path"] == "behaviors[0].origin"
    assert 8 in by_line and "allowed_methods" in by_line[8]["path"]


def test_check_yaml_syntax_error(tmp_path):
    f = write(tmp_path, "listeners: [\n  {address: 127.0.0.1:1\n")
    r = run_edgeguard("check", "-c", f)
    assert r.returncode == 1
    assert re.search(rf"^{re.escape(f)}:\d+:\d+: ", r.stderr + r.stdout, re.M), r.stderr


def test_check_missing_file(tmp_path):
    r = run_edgeguard("check", "-c", str(tmp_path / "nope.yaml"))
    assert r.returncode == 1
    assert "nope.yaml" in r.stderr + r.stdout


def test_bad_usage_exit_2():
    assert run_edgeguard("check").returncode == 2
    assert run_edgeguard("no-such-command").returncode == 2


def test_serve_refuses_bad_config(tmp_path):
    port = free_port()
    f = write(tmp_path, BAD.replace("8080", str(port)))
    p = run_edgeguard("serve", "-c", f, "--workers", "2", timeout=15)
    assert p.returncode == 1
    out = p.stdout + p.stderr
    assert "adress" in out and "apii" in out
    assert not port_open(port)


def test_serve_starts_on_good_config_and_stops_on_sigterm(gateway):
    gw = gateway("""
        listeners: [{address: "127.0.0.1:{port}"}]
        origins: {echo: {echo: true}}
        behaviors: [{path: default, origin: echo}]
    """)
    assert port_open(gw.port)
    assert gw.stop() == 0
    assert not port_open(gw.port)


EXAMPLES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "examples", "*.yaml")))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.rsplit("/", 1)[-1])
def test_every_example_config_is_valid(path):
    r = run_edgeguard("check", "-c", path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "config OK" in r.stdout
