"""The directory origin (a local folder standing in for a storage bucket)."""
import hashlib
import os
import subprocess

import pytest
import requests

from conftest import BIG_FILE_SIZE
from harness import header_of, http_request

CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins:
  site: {directory: "{public_dir}"}
behaviors:
  - {path: default, origin: site}
"""

SECRET = b"TOP-SECRET-OUTSIDE-THE-ROOT"


@pytest.fixture
def gw(gateway):
    return gateway(CONFIG)


@pytest.mark.parametrize("path,ctype", [
    ("/index.html", "text/html"),
    ("/style.css", "text/css"),
    ("/app.js", "javascript"),
    ("/data.json", "application/json"),
    ("/image.png", "image/png"),
    ("/notes.txt", "text/plain"),
    ("/big.bin", "application/octet-stream"),
])
def test_content_types(gw, path, ctype):
    r = requests.head(gw.url + path)
    assert r.status_code == 200
    assert ctype in r.headers["Content-Type"], r.headers["Content-Type"]


def test_file_body_and_validators(gw, public_dir):
    r = requests.get(gw.url + "/notes.txt")
    assert r.status_code == 200
    assert r.content == open(os.path.join(public_dir, "notes.txt"), "rb").read()
    assert r.headers["ETag"].startswith(('"', 'W/"'))
    assert r.headers["Last-Modified"].endswith("GMT")
    assert r.headers["Content-Length"] == str(len(r.content))


def test_if_none_match_304(gw):
    etag = requests.get(gw.url + "/style.css").headers["ETag"]
    r = requests.get(gw.url + "/style.css", headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["ETag"] == etag
    r = requests.get(gw.url + "/style.css", headers={"If-None-Match": '"something-else"'})
    assert r.status_code == 200 and b"color" in r.content
    r = requests.get(gw.url + "/style.css", headers={"If-None-Match": f'"x", {etag}'})
    assert r.status_code == 304


def test_if_modified_since_304(gw):
    lm = requests.get(gw.url + "/app.js").headers["Last-Modified"]
    r = requests.get(gw.url + "/app.js", headers={"If-Modified-Since": lm})
    assert r.status_code == 304
    r = requests.get(gw.url + "/app.js", headers={"If-Modified-Since": "Thu, 01 Jan 1998 00:00:00 GMT"})
    assert r.status_code == 200


def test_range_206(gw):
    r = requests.get(gw.url + "/notes.txt", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206
    assert r.content == b"0123456789"
    assert r.headers["Content-Range"] == "bytes 0-9/37"
    r = requests.get(gw.url + "/notes.txt", headers={"Range": "bytes=-4"})
    assert r.status_code == 206 and r.content == b"xyz\n"
    r = requests.get(gw.url + "/notes.txt", headers={"Range": "bytes=30-"})
    assert r.status_code == 206 and r.content == b"uvwxyz\n"
    assert r.headers["Content-Range"] == "bytes 30-36/37"


def test_range_unsatisfiable_416(gw):
    r = requests.get(gw.url + "/notes.txt", headers={"Range": "bytes=100-200"})
    assert r.status_code == 416
    assert r.headers.get("Content-Range") == "bytes */37"


def test_range_in_large_file(gw, public_dir):
    data = open(os.path.join(public_dir, "big.bin"), "rb").read()
    r = requests.get(gw.url + "/big.bin", headers={"Range": "bytes=1000000-1099999"})
    assert r.status_code == 206
    assert r.content == data[1000000:1100000]


def test_large_file_streamed_intact(gw, public_dir):
    want = open(os.path.join(os.path.dirname(public_dir), "big.sha256")).read()
    r = requests.get(gw.url + "/big.bin", stream=True)
    assert r.status_code == 200
    assert r.headers["Content-Length"] == str(BIG_FILE_SIZE)
    h = hashlib.sha256()
    n = 0
    for chunk in r.iter_content(65536):
        h.update(chunk)
        n += len(chunk)
    assert n == BIG_FILE_SIZE
    assert h.hexdigest() == want
    # and with curl, a real client
    out = subprocess.run(["curl", "-sS", "--noproxy", "*", gw.url + "/big.bin"], capture_output=True,
                         timeout=30)
    assert out.returncode == 0
    assert hashlib.sha256(out.stdout).hexdigest() == want


@pytest.mark.parametrize("path,size", [("/notes.txt", 37), ("/big.bin", BIG_FILE_SIZE)])
def test_head_has_length_no_body(gw, path, size):
    """HEAD answers with the headers GET would send (Content-Length included), no body."""
    status, headers, body = http_request(gw.port, "HEAD", path)
    assert status == 200
    assert body == b""
    assert header_of(headers, "Content-Length") == str(size)


def test_index_document(gw):
    r = requests.get(gw.url + "/")
    assert r.status_code == 200 and b"home page" in r.content
    assert "text/html" in r.headers["Content-Type"]
    r = requests.get(gw.url + "/docs/")
    assert r.status_code == 200 and b"docs index" in r.content


def test_missing_file_404(gw):
    r = requests.get(gw.url + "/nope.html")
    assert r.status_code == 404
    r = requests.get(gw.url + "/docs/nope/")
    assert r.status_code == 404


def test_percent_encoded_name(gw):
    r = requests.get(gw.url + "/hello%20world.txt")
    assert r.status_code == 200 and r.content == b"spaced name\n"


@pytest.mark.parametrize("target", [
    "/../outside/secret.txt",
    "/docs/../../outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/%2E%2E/outside/secret.txt",
    "/docs/%2e%2e/%2e%2e/outside/secret.txt",
    "/..%2foutside%2fsecret.txt",
    "/%2e%2e%2foutside%2fsecret.txt",
    "/link-out.txt",
    "/linkdir/secret.txt",
    "/../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
])
def test_no_escape_from_the_directory(gw, target):
    status, _, body = http_request(gw.port, "GET", target)
    assert status in (400, 403, 404), (status, body[:200])
    assert SECRET not in body
    assert b"root:" not in body
