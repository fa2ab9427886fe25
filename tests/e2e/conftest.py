"""Fixtures of the end-to-end suite. The pieces themselves live in harness.py.

    def test_x(gateway, origin):
        origin.on("/slow", delay=2)
        gw = gateway('''
            listeners: [{address: "127.0.0.1:{port}"}]
            origins: {app: {url: "{origin_url}"}}
            behaviors: [{path: default, origin: app}]
        ''', origin_url=origin.url)
        requests.get(gw.url + "/slow")

`gateway(config, **values)` writes the config into a fresh folder with the placeholders
filled, starts `edgeguard serve -c FILE --workers 2`, waits until its ports answer and
returns a harness.Gateway (.url, .tls_url, .admin_url, .admin_token, .log_path, .proc,
.reload(), .admin(), .stop()). On teardown each gateway still running gets SIGTERM and
must exit with code 0.

Placeholders always available: {port} {tls_port} {port6} (::1) {admin_port} {dir} {access_log}
{admin_token_file} {public_dir} {outside_dir} {ca} {edge_cert} {edge_key} {other_cert}
{other_key} {origin_cert} {origin_key}.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import ssl
import textwrap
import time

import pytest

import harness
from harness import Gateway, RecordingOrigin


def pytest_configure(config):
    # Another engineer may be relinking the binary: give it a moment.
    deadline = time.monotonic() + 120
    while not os.access(harness.EDGEGUARD_BIN, os.X_OK) and time.monotonic() < deadline:
        time.sleep(1)
    if not os.access(harness.EDGEGUARD_BIN, os.X_OK):
        raise pytest.UsageError(
            f"edgeguard binary not found at {harness.EDGEGUARD_BIN}; build it "
            "(cmake --build build --target edgeguard) or set EDGEGUARD_BIN")


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> harness.Certs:
    return harness.make_certs(str(tmp_path_factory.mktemp("certs")))


BIG_FILE_SIZE = 2 * 1024 * 1024


@pytest.fixture(scope="session")
def public_dir(tmp_path_factory) -> str:
    """A directory origin's content, next to an `outside` folder that must never be served."""
    root = tmp_path_factory.mktemp("site")
    pub = root / "public"
    out = root / "outside"
    (pub / "errors").mkdir(parents=True)
    (pub / "docs").mkdir()
    (pub / "cars").mkdir()
    out.mkdir()
    (pub / "index.html").write_text("<html><body>home page</body></html>\n")
    (pub / "docs" / "index.html").write_text("<html><body>docs index</body></html>\n")
    (pub / "errors" / "404.html").write_text("<html><body>custom not found page</body></html>\n")
    (pub / "errors" / "500.html").write_text("<html><body>custom server error page</body></html>\n")
    (pub / "style.css").write_text("body { color: black; }\n")
    (pub / "app.js").write_text("console.log('hi');\n")
    (pub / "data.json").write_text('{"ok": true}\n')
    (pub / "notes.txt").write_text("0123456789abcdefghijklmnopqrstuvwxyz\n")
    (pub / "hello world.txt").write_text("spaced name\n")
    (pub / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (pub / "cars" / "index.html").write_text("<html><body>cars bucket</body></html>\n")
    (pub / "cars" / "list.json").write_text('["beetle", "mini"]\n')
    big = os.urandom(BIG_FILE_SIZE)
    (pub / "big.bin").write_bytes(big)
    (root / "big.sha256").write_text(hashlib.sha256(big).hexdigest())
    (out / "secret.txt").write_text("TOP-SECRET-OUTSIDE-THE-ROOT\n")
    os.symlink(str(out / "secret.txt"), str(pub / "link-out.txt"))
    os.symlink(str(out), str(pub / "linkdir"))
    return str(pub)


@pytest.fixture
def origin_factory():
    made = []

    def make(name="origin", tls=None, host="127.0.0.1"):
        o = RecordingOrigin(name, tls=tls, host=host)
        made.append(o)
        return o

    yield make
    for o in made:
        o.stop()


@pytest.fixture
def origin(origin_factory) -> RecordingOrigin:
    return origin_factory("origin")


@pytest.fixture
def https_origin(origin_factory, certs) -> RecordingOrigin:
    return origin_factory("secure", tls=certs.origin)


@pytest.fixture
def base_values(certs, public_dir) -> dict:
    return {
        "public_dir": public_dir,
        "outside_dir": os.path.join(os.path.dirname(public_dir), "outside"),
        "ca": certs.ca,
        "edge_cert": certs.edge[0], "edge_key": certs.edge[1],
        "other_cert": certs.other[0], "other_key": certs.other[1],
        "origin_cert": certs.origin[0], "origin_key": certs.origin[1],
    }


@pytest.fixture
def gateway(tmp_path, base_values):
    started: list[Gateway] = []

    def start(config: str, workers: int = 2, **values) -> Gateway:
        v = dict(base_values)
        v.update(values)
        gw = Gateway(str(tmp_path / f"gw{len(started)}"), textwrap.dedent(config), v,
                     workers=workers)
        started.append(gw)
        return gw

    yield start
    failures = []
    for gw in started:
        if gw.returncode is not None:
            continue
        rc = gw.stop()
        if rc != 0:
            failures.append(f"{gw.config_path}: exit code {rc} after SIGTERM\n{gw.log()[-2000:]}")
    assert not failures, "\n".join(failures)


@pytest.fixture
def client_tls(certs) -> ssl.SSLContext:
    """Verifies the gateway's certificates against the test CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs.ca)
    return ctx


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch):
    # requests would honour a proxy from the environment; loopback tests never want one.
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")


def copy_tree(src: str, dst: str):
    shutil.copytree(src, dst, symlinks=True)
