"""Building blocks of the end-to-end suite (the fixtures in conftest.py hand them out).

- Gateway: the real `edgeguard serve` process on loopback ports, from a config text with
  {placeholders}; SIGHUP/SIGUSR1/SIGTERM, the admin API.
- RecordingOrigin: a threaded HTTP(S) origin that records every request it receives
  (method, target, headers in order with their case, body) and answers per path: status,
  body, headers, a delay, chunked, close-delimited, or an abrupt close.
- Raw sockets: send exact bytes, read exact responses (status, headers, body), for what an
  HTTP library would refuse to send or would hide.
- make_certs: a self-signed CA and server certificates made with the openssl CLI.
"""
from __future__ import annotations

import http.client
import http.server
import json
import os
import re
import select
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import threading
import textwrap
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EDGEGUARD_BIN = os.environ.get("EDGEGUARD_BIN", os.path.join(REPO, "build", "edgeguard"))
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"


# ---- small utilities ---------------------------------------------------------------------

def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (bind port 0, close). Callers retry on conflict."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(pred: Callable[[], object], timeout: float = 5.0, interval: float = 0.02,
               what: str = "condition"):
    """Polls pred() until it returns something truthy; returns it, or fails after timeout."""
    end = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
        except Exception as e:  # noqa: BLE001 - a poll may race with the thing it waits for
            last = e
            if time.monotonic() >= end:
                raise
        else:
            if last:
                return last
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(text: str, values: dict) -> str:
    """Replaces {name} for every known name. An unknown {name} is a test bug: fail loudly.
    YAML flow maps ({a: b}) never match: they hold ': ' or ','."""
    def repl(m):
        name = m.group(1)
        if name not in values:
            raise KeyError(f"unknown placeholder {{{name}}} (known: {sorted(values)})")
        return str(values[name])
    return _PLACEHOLDER.sub(repl, text)


# ---- certificates --------------------------------------------------------------------------

@dataclass
class Certs:
    dir: str
    ca: str            # CA certificate (PEM) that signed every certificate below
    edge: tuple        # (cert, key) CN=edge.test, SAN edge.test, localhost, 127.0.0.1, ::1
    other: tuple       # (cert, key) CN=other.test, SAN other.test (the second SNI cert)
    origin: tuple      # (cert, key) CN=localhost, SAN localhost, 127.0.0.1 (HTTPS origin)


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_certs(d: str) -> Certs:
    os.makedirs(d, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
             "-subj", "/CN=edgeguard e2e test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)

    def leaf(name, cn, sans):
        ext = os.path.join(d, f"{name}.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\nsubjectAltName=" + ",".join(sans) + "\n")
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={cn}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "30", "-extfile", ext, cwd=d)
        return (os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key"))

    edge = leaf("edge", "edge.test", ["DNS:edge.test", "DNS:localhost", "IP:127.0.0.1", "IP:::1"])
    other = leaf("other", "other.test", ["DNS:other.test"])
    origin = leaf("origin", "localhost", ["DNS:localhost", "IP:127.0.0.1"])
    return Certs(d, os.path.join(d, "ca.pem"), edge, other, origin)


# ---- the recording origin --------------------------------------------------------------------

@dataclass
class Recorded:
    """One request as the origin received it."""
    method: str
    target: str              # the request-target as sent: path?query
    version: str
    headers: list            # [(name, value)] in order, with the case the gateway sent
    body: bytes
    client_port: int
    time: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header_values(self, name: str) -> list:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def header(self, name: str) -> Optional[str]:
        """All values of `name` joined by ', ' (None when absent)."""
        vals = self.header_values(name)
        return ", ".join(vals) if vals else None

    def raw_header_lines(self) -> list:
        return [f"{n}: {v}" for n, v in self.headers]


@dataclass
class Rule:
    """How the origin answers a path ('*' at the end of `path` makes it a prefix)."""
    path: str
    status: int = 200
    body: Optional[object] = None     # str/bytes; None: "origin=NAME path=PATH\n"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0                # seconds before the response head
    mode: str = "normal"              # normal | chunked | close (close-delimited) | abort | hangup

    def matches(self, path: str) -> bool:
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


class _OriginHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "e2e-origin"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        self.origin: RecordingOrigin = self.server.origin  # type: ignore[attr-defined]
        self.origin._conn_opened()

    def finish(self):
        try:
            super().finish()
        finally:
            self.origin._conn_closed()

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, OSError, TimeoutError):
            self.close_connection = True

    def _read_body(self) -> bytes:
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def _serve(self):
        body = self._read_body()
        rec = Recorded(self.command, self.path, self.request_version, list(self.headers.items()),
                       body, self.client_address[1])
        self.origin._record(rec)
        rule = self.origin.rule_for(rec.path)
        if rule.delay and not self._wait(rule.delay, rec):
            self.close_connection = True
            return
        if rule.mode in ("abort", "hangup"):
            self.close_connection = True
            if rule.mode == "abort":  # RST
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                except OSError:
                    pass
            try:
                self.connection.close()
            except OSError:
                pass
            return
        payload = rule.body
        if payload is None:
            payload = f"origin={self.origin.name} path={rec.path}\n"
        if isinstance(payload, str):
            payload = payload.encode()
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        headers.update(rule.headers)
        self.send_response_only(rule.status)
        for k, v in headers.items():
            self.send_header(k, v)
        no_body = self.command == "HEAD" or rule.status in (204, 304) or rule.status < 200
        if rule.mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not no_body:
                pieces = [payload[i:i + max(1, len(payload) // 3 + 1)]
                          for i in range(0, len(payload), max(1, len(payload) // 3 + 1))]
                for p in pieces:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
                    self.wfile.flush()
                    time.sleep(0.01)
                self.wfile.write(b"0\r\n\r\n")
        elif rule.mode == "close":
            self.send_header("Connection", "close")
            self.end_headers()
            if not no_body:
                self.wfile.write(payload)
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if not no_body:
                self.wfile.write(payload)
        self.wfile.flush()

    def _wait(self, delay: float, rec: Recorded) -> bool:
        """Sleeps `delay` seconds unless the gateway closes the connection first (recorded)."""
        end = time.monotonic() + delay
        sock = self.connection
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return True
            try:
                r, _, _ = select.select([sock], [], [], left)
            except (OSError, ValueError):
                time.sleep(left)
                return True
            if not r:
                continue
            try:
                data = socket.socket.recv(sock, 1, socket.MSG_PEEK)
            except OSError:
                data = b""
            if not data:
                self.origin._peer_closed(rec)
                return False
            time.sleep(left)  # bytes waiting (TLS or pipelining): just wait
            return True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve


class _OriginServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, origin, tls_ctx):
        self.origin = origin
        self.tls_ctx = tls_ctx
        super().__init__(addr, _OriginHandler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls_ctx is not None:
            sock = self.tls_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def process_request_thread(self, request, client_address):
        if self.tls_ctx is not None:
            try:
                request.settimeout(5)
                request.do_handshake()
                request.settimeout(None)
            except (ssl.SSLError, OSError) as e:
                self.origin.tls_errors.append(str(e))
                self.shutdown_request(request)
                return
        super().process_request_thread(request, client_address)

    def handle_error(self, request, client_address):  # quiet: the gateway may hang up
        pass


class RecordingOrigin:
    """An HTTP (or HTTPS, with tls=(cert, key)) origin on loopback that records requests."""

    def __init__(self, name: str = "origin", tls: Optional[tuple] = None, host: str = "127.0.0.1"):
        self.name = name
        self.host = host
        self.requests: list[Recorded] = []
        self.peer_closed: list[tuple] = []   # (Recorded, monotonic time the gateway hung up)
        self.tls_errors: list[str] = []
        self.rules: list[Rule] = []
        self.open_connections = 0
        self.connections_total = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        ctx = None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
        self.https = tls is not None
        self._server = _OriginServer((host, 0), self, ctx)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{'https' if self.https else 'http'}://{self.host}:{self.port}"

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    # behaviour
    def on(self, path: str, **kw) -> "RecordingOrigin":
        """origin.on('/slow', delay=3) - later rules win over earlier ones for the same path."""
        self.rules.insert(0, Rule(path, **kw))
        return self

    def rule_for(self, path: str) -> Rule:
        for r in self.rules:
            if r.matches(path):
                return r
        return Rule(path)

    # recording
    def _record(self, rec: Recorded):
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()

    def _peer_closed(self, rec: Recorded):
        with self._cond:
            self.peer_closed.append((rec, time.monotonic()))
            self._cond.notify_all()

    def _conn_opened(self):
        with self._cond:
            self.open_connections += 1
            self.connections_total += 1

    def _conn_closed(self):
        with self._cond:
            self.open_connections -= 1
            self._cond.notify_all()

    def last(self) -> Recorded:
        assert self.requests, f"origin {self.name} received no request"
        return self.requests[-1]

    def wait_requests(self, n: int, timeout: float = 5.0) -> list:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.requests) >= n, timeout)
            assert ok, f"origin {self.name}: {len(self.requests)} requests, expected {n}"
            return list(self.requests)

    def clear(self):
        with self._cond:
            self.requests.clear()
            self.peer_closed.clear()


# ---- raw HTTP over sockets -----------------------------------------------------------------

@dataclass
class RawResponse:
    status: int
    reason: str
    version: str
    headers: list       # [(name, value)]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        vals = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(vals) if vals else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class RawConn:
    """One TCP (or TLS) connection to send exact bytes and read exact responses."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0,
                 tls_ctx: Optional[ssl.SSLContext] = None, server_hostname: Optional[str] = None):
        s = socket.create_connection((host, port), timeout=timeout)
        if tls_ctx is not None:
            s = tls_ctx.wrap_socket(s, server_hostname=server_hostname)
        self.sock = s
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_response(self, method: str = "GET") -> RawResponse:
        """Reads one response (Content-Length, chunked or until close)."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise ConnectionError(f"connection closed before a complete head: {self.buf!r}")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status, *reason = lines[0].split(" ", 2)
        headers = []
        for l in lines[1:]:
            n, v = l.split(":", 1)
            headers.append((n, v.strip()))
        resp = RawResponse(int(status), reason[0] if reason else "", version, headers, b"")
        st = resp.status
        if method == "HEAD" or st in (204, 304) or 100 <= st < 200:
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te and "chunked" in te.lower():
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    if not self._fill():
                        raise ConnectionError("closed inside a chunked body")
                line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    if not self._fill():
                        raise ConnectionError("closed inside a chunk")
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    break
            resp.body = body
        elif cl is not None:
            n = int(cl)
            while len(self.buf) < n:
                if not self._fill():
                    raise ConnectionError(f"closed after {len(self.buf)} of {n} body bytes")
            resp.body, self.buf = self.buf[:n], self.buf[n:]
        else:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def closed_by_peer(self, timeout: float = 2.0) -> bool:
        """True when the peer closes (EOF or reset) within timeout with nothing more to read."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            return True
        except (socket.timeout, TimeoutError):
            return False
        if data:
            self.buf += data
            return False
        return True


def raw_exchange(port: int, data: bytes, timeout: float = 5.0, method: str = "GET") -> tuple:
    """Sends `data` on a new connection, reads one response; returns (response, closed_after)."""
    with RawConn(port, timeout=timeout) as c:
        c.send(data)
        resp = c.read_response(method)
        closed = c.closed_by_peer(timeout=2.0)
        return resp, closed


def http_request(port: int, method: str, target: str, headers=None, body: bytes = b"",
                 host: str = "127.0.0.1", tls_ctx: Optional[ssl.SSLContext] = None,
                 timeout: float = 10.0):
    """One request with http.client, sending exactly the given headers (plus Host when absent
    and Content-Length for a body). Returns (status, [(name, value)], body bytes)."""
    if tls_ctx is not None:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls_ctx)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        if not any(n.lower() == "host" for n, _ in items):
            conn.putheader("Host", f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        for n, v in items:
            conn.putheader(n, v)
        if body or method in ("POST", "PUT", "PATCH"):
            if not any(n.lower() in ("content-length", "transfer-encoding") for n, _ in items):
                conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        r = conn.getresponse()
        data = r.read()
        return r.status, list(r.getheaders()), data
    finally:
        conn.close()


def header_of(headers: list, name: str) -> Optional[str]:
    vals = [v for n, v in headers if n.lower() == name.lower()]
    return ", ".join(vals) if vals else None


# ---- the gateway -----------------------------------------------------------------------------

class GatewayStartError(RuntimeError):
    pass


class Gateway:
    """A running `edgeguard serve -c FILE --workers N`.

    The config text may use {port} (plain listener), {tls_port}, {port6} (on ::1), {admin_port}, {dir} (this
    gateway's folder), {access_log}, {admin_token_file}, the certificate paths and whatever
    the test passes in `values`. When the text has no `admin:` section, one is appended
    (admin on {admin_port} with a known token)."""

    def __init__(self, workdir: str, config: str, values: dict, workers: int = 2,
                 start_timeout: float = 10.0):
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.workers = workers
        self.template = config
        self.extra_values = dict(values)
        self.config_path = os.path.join(workdir, "edgeguard.yaml")
        self.log_path = os.path.join(workdir, "edgeguard.log")
        self.access_log = os.path.join(workdir, "access.log")
        self.admin_token_file = os.path.join(workdir, "admin.token")
        self.admin_token = ADMIN_TOKEN
        with open(self.admin_token_file, "w") as f:
            f.write(self.admin_token + "\n")
        self.proc: Optional[subprocess.Popen] = None
        self.returncode: Optional[int] = None
        self._start(start_timeout)

    # placeholders
    def values(self) -> dict:
        v = {
            "port": self.port, "tls_port": self.tls_port, "admin_port": self.admin_port,
            "port6": self.port6,
            "dir": self.dir, "access_log": self.access_log,
            "admin_token_file": self.admin_token_file,
        }
        v.update(self.extra_values)
        return v

    def render(self, text: str) -> str:
        out = substitute(textwrap.dedent(text), self.values())
        if not re.search(r"^admin:", out, re.M):
            out = out.rstrip("\n") + (f"\nadmin: {{address: \"127.0.0.1:{self.admin_port}\", "
                                      f"token_file: \"{self.admin_token_file}\"}}\n")
        return out

    def write_config(self, text: Optional[str] = None):
        """Writes the config (the start template, or a new text) rendered; atomically."""
        if text is not None:
            self.template = text
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(self.render(self.template))
        os.replace(tmp, self.config_path)

    def _start(self, timeout: float):
        last_err = ""
        for _attempt in range(5):
            self.port, self.tls_port, self.admin_port = free_port(), free_port(), free_port()
            self.port6 = free_port("::1")
            self.write_config()
            rendered = self.render(self.template)
            logf = open(self.log_path, "ab")
            try:
                self.proc = popen_edgeguard(
                    ["serve", "-c", self.config_path, "--workers", str(self.workers)],
                    stdout=logf, stderr=subprocess.STDOUT, cwd=self.dir)
            finally:
                logf.close()
            wanted = [(self.admin_port, "127.0.0.1")] if re.search(r"^admin:", rendered, re.M) else []
            if "{port}" in self.template:
                wanted.append((self.port, "127.0.0.1"))
            if "{tls_port}" in self.template:
                wanted.append((self.tls_port, "127.0.0.1"))
            if "{port6}" in self.template:
                wanted.append((self.port6, "::1"))
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    break
                if all(port_open(p, h) for p, h in wanted):
                    return
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise GatewayStartError(f"gateway not answering after {timeout}s:\n{self.log()}")
            last_err = self.log()
            if "in use" not in last_err:
                raise GatewayStartError(f"gateway exited with {self.proc.returncode}:\n{last_err}")
        raise GatewayStartError(f"could not find free ports:\n{last_err}")

    # views
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # control
    def signal(self, sig):
        self.proc.send_signal(sig)

    def reload(self):
        """SIGHUP (asynchronous: poll for the effect)."""
        self.signal(signal.SIGHUP)

    def reopen_logs(self):
        self.signal(signal.SIGUSR1)

    def admin(self, method: str, path: str, token: Optional[str] = "default", **kw):
        headers = kw.pop("headers", {})
        if token == "default":
            token = self.admin_token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.admin_url + path, headers=headers, timeout=10, **kw)

    def stats(self) -> str:
        r = self.admin("GET", "/stats")
        assert r.status_code == 200, r.text
        return r.text

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; returns the exit code (kills after timeout and fails)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"gateway did not stop within {timeout}s after SIGTERM:\n"
                                     f"{self.log()[-3000:]}")
        self.returncode = self.proc.returncode
        return self.returncode


BINARY_WAIT = 300  # seconds to wait for a binary that another engineer is relinking


def _wait_for_binary(err: OSError, waited_since: float):
    if time.monotonic() - waited_since > BINARY_WAIT:
        raise err
    time.sleep(1)


def popen_edgeguard(args, **kw) -> subprocess.Popen:
    """Starts the binary; while it is being rebuilt (missing, not executable, text file busy)
    waits and retries."""
    since = time.monotonic()
    while True:
        try:
            return subprocess.Popen([EDGEGUARD_BIN, *args], **kw)
        except OSError as e:
            _wait_for_binary(e, since)


def run_edgeguard(*args, cwd=None, timeout=30) -> subprocess.CompletedProcess:
    since = time.monotonic()
    while True:
        try:
            return subprocess.run([EDGEGUARD_BIN, *args], cwd=cwd, capture_output=True,
                                  text=True, timeout=timeout)
        except OSError as e:
            _wait_for_binary(e, since)


# ---- access logs -----------------------------------------------------------------------------

def read_cloudfront_log(path: str) -> tuple:
    """Returns (header lines, [dict field -> value]) of a CloudFront standard log."""
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    headers = [l for l in lines if l.startswith("#")]
    fields = None
    for h in headers:
        if h.startswith("#Fields:"):
            fields = h[len("#Fields:"):].split()
    rows = []
    for l in lines:
        if l.startswith("#"):
            continue
        vals = l.split("\t")
        rows.append(dict(zip(fields or [], vals)) | {"_raw": l, "_count": len(vals)})
    return headers, rows


def origin_tls_context(ca: Optional[str] = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca:
        ctx.load_verify_locations(ca)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def json_body(data: bytes):
    return json.loads(data.decode())
