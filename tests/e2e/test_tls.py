"""TLS listeners (versions, SNI) and HTTPS origins (verification)."""
import socket
import ssl
import subprocess

import pytest

from harness import http_request

LISTENERS = """
listeners:
  - address: "127.0.0.1:{port}"
  - address: "127.0.0.1:{tls_port}"
    tls:
      certificates:
        - {cert: "{edge_cert}", key: "{edge_key}"}
        - {cert: "{other_cert}", key: "{other_key}"}
"""

CONFIG = LISTENERS + """
origins:
  echo: {echo: true}
behaviors:
  - {path: default, origin: echo}
"""


def handshake(port, ctx, server_hostname=None):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=server_hostname) as t:
            return t.version(), t.getpeercert()


def subject_cn(cert):
    return dict(x[0] for x in cert["subject"])["commonName"]


@pytest.fixture
def gw(gateway):
    return gateway(CONFIG)


@pytest.mark.parametrize("flags,version", [(["--tlsv1.2", "--tls-max", "1.2"], "TLSv1.2"),
                                           (["--tlsv1.3"], "TLSv1.3")])
def test_curl_tls_versions(gw, certs, flags, version):
    out = subprocess.run(["curl", "-sS", "--noproxy", "*", *flags, "--cacert", certs.ca,
                          "-o", "/dev/null", "-w", "%{http_code}",
                          f"https://127.0.0.1:{gw.tls_port}/hello"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "200"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs.ca)
    v = ssl.TLSVersion.TLSv1_2 if version == "TLSv1.2" else ssl.TLSVersion.TLSv1_3
    ctx.minimum_version = ctx.maximum_version = v
    assert handshake(gw.tls_port, ctx, "edge.test")[0] == version


def old_tls_client(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ctx.maximum_version = version
    return ctx


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls11_refused(gw):
    ctx = old_tls_client(ssl.TLSVersion.TLSv1_1)
    with pytest.raises(ssl.SSLError) as e:
        handshake(gw.tls_port, ctx)
    if "NO_PROTOCOLS_AVAILABLE" in str(e.value) or "no protocols available" in str(e.value):
        pytest.skip("this machine's OpenSSL cannot even offer TLS 1.1")
    assert "version" in str(e.value).lower(), e.value
    # and the listener still serves TLS 1.2 afterwards
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    assert handshake(gw.tls_port, ctx)[0] in ("TLSv1.2", "TLSv1.3")


def test_min_version_tls13_refuses_tls12(gateway, certs):
    gw = gateway("""
        listeners:
          - address: "127.0.0.1:{tls_port}"
            tls: {cert: "{edge_cert}", key: "{edge_key}", min_version: TLSv1.3}
        origins: {echo: {echo: true}}
        behaviors: [{path: default, origin: echo}]
    """)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs.ca)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        handshake(gw.tls_port, ctx, "edge.test")
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    assert handshake(gw.tls_port, ctx, "edge.test")[0] == "TLSv1.3"


def test_sni_picks_the_certificate(gw, certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs.ca)  # and check_hostname: the name must match the cert
    assert subject_cn(handshake(gw.tls_port, ctx, "other.test")[1]) == "other.test"
    assert subject_cn(handshake(gw.tls_port, ctx, "edge.test")[1]) == "edge.test"
    assert subject_cn(handshake(gw.tls_port, ctx, "localhost")[1]) == "edge.test"
    # an unknown name (and no SNI at all) gets the first certificate, the default
    nc = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    nc.load_verify_locations(certs.ca)
    nc.check_hostname = False
    assert subject_cn(handshake(gw.tls_port, nc, "unknown.test")[1]) == "edge.test"
    assert subject_cn(handshake(gw.tls_port, nc, None)[1]) == "edge.test"


def test_sni_with_openssl_s_client(gw):
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{gw.tls_port}",
                          "-servername", "other.test"], input="", capture_output=True,
                         text=True, timeout=20)
    assert "CN = other.test" in out.stdout or "CN=other.test" in out.stdout, out.stdout[-2000:]


def test_request_over_tls_reaches_origin(gw, client_tls):
    status, _, body = http_request(gw.tls_port, "GET", "/x?y=1", tls_ctx=client_tls)
    assert status == 200
    assert b'"query": "y=1"' in body


# ---- HTTPS origins -------------------------------------------------------------------------

ORIGIN_CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins:
  secure:
    url: "https://{host}:{origin_port}"
    {tls}
behaviors:
  - {path: default, origin: secure}
"""


def start(gateway, o, host="localhost", tls="tls: {ca_file: \"{ca}\"}"):
    return gateway(ORIGIN_CONFIG.replace("{tls}", tls), host=host, origin_port=o.port)


def test_https_origin_verified_with_ca(gateway, https_origin):
    gw = start(gateway, https_origin)
    status, _, body = http_request(gw.port, "GET", "/secure/page?q=1")
    assert status == 200, body
    assert b"origin=secure path=/secure/page" in body
    assert https_origin.last().target == "/secure/page?q=1"


def test_https_origin_by_ip_verified_with_ca(gateway, https_origin):
    gw = start(gateway, https_origin, host="127.0.0.1")
    status, _, body = http_request(gw.port, "GET", "/ip")
    assert status == 200, body


def test_https_origin_without_ca_is_502(gateway, https_origin):
    gw = start(gateway, https_origin, tls="custom_headers: {X-A: b}")  # system trust store
    status, _, body = http_request(gw.port, "GET", "/x")
    text = body.decode()
    assert status == 502, text
    assert "secure" in text and "certificate verification failed" in text, text
    assert https_origin.requests == []


def test_https_origin_wrong_name_is_502(gateway, origin_factory, certs):
    o = origin_factory("secure", tls=certs.other)  # a certificate for other.test, CA trusted
    gw = start(gateway, o)
    status, _, body = http_request(gw.port, "GET", "/x")
    text = body.decode()
    assert status == 502, text
    assert "secure" in text and "certificate verification failed" in text, text
    assert o.requests == []


def test_https_origin_verify_off(gateway, origin_factory, certs):
    o = origin_factory("secure", tls=certs.other)
    gw = start(gateway, o, tls="tls: {verify: false}")
    status, _, body = http_request(gw.port, "GET", "/x")
    assert status == 200, body


def test_https_origin_sni_setting(gateway, origin_factory, certs):
    """tls.sni names the certificate to expect when the URL host differs."""
    o = origin_factory("secure", tls=certs.other)
    gw = start(gateway, o, tls='tls: {ca_file: "{ca}", sni: other.test}')
    status, _, body = http_request(gw.port, "GET", "/x")
    assert status == 200, body
