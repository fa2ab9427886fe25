"""The web ACL's Challenge and CAPTCHA actions, proven with a real headless browser.

An ACL challenges /protected* and puts /captcha* behind a CAPTCHA in front of the echo
origin. A plain HTTP client gets 202 (or 405) and never reaches the origin; headless
Chromium runs the interstitial's proof of work, earns the aws-waf-token cookie and is let
through; the cookie is bound to the client address. The CAPTCHA cannot be read by a
machine here, so its page, its picture and the refusal of a wrong answer are what is
tested (the right-answer path is in tests/unit/waf/challenge_test.cc).

Needs chromium, chromium-driver and python3-selenium (scripts/install-deps.sh); without
them these tests fail, they do not skip.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import time

import pytest
import requests

CHROMEDRIVER = "/usr/bin/chromedriver"
ENDPOINT = "/.edgeguard/waf/"
KEY_VALUE = "e2e-waf-challenge-key-0123456789abcdef0123456789abcdef"


def byte_match_rule(name: str, priority: int, prefix: str, action: str) -> dict:
    return {
        "Name": name,
        "Priority": priority,
        "Statement": {"ByteMatchStatement": {
            "SearchString": prefix,
            "FieldToMatch": {"UriPath": {}},
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
            "PositionalConstraint": "STARTS_WITH"}},
        "Action": {action: {}},
        "VisibilityConfig": {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                             "MetricName": name},
    }


ACL = {
    "Name": "e2e-challenge",
    "DefaultAction": {"Allow": {}},
    "VisibilityConfig": {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                         "MetricName": "e2e-challenge"},
    "Rules": [byte_match_rule("challenge-all", 0, "/protected", "Challenge"),
              byte_match_rule("captcha-all", 1, "/captcha", "Captcha")],
}

CONFIG = """
listeners: [{address: "127.0.0.1:{port}"}]
origins: {echo: {echo: true}}
behaviors: [{path: default, origin: echo}]
web_acl:
  file: "{acl}"
  challenge_key: {secret: waf-challenge}
secrets: {file: "{store}"}
"""


@pytest.fixture
def gw(gateway, tmp_path):
    d = tmp_path / "waf"
    d.mkdir()
    (d / "web-acl.json").write_text(json.dumps(ACL))
    (d / "secrets.json").write_text(json.dumps({"secrets": {"waf-challenge": {"versions": [
        {"id": "v1", "value": KEY_VALUE, "stages": ["CURRENT"]}]}}}))
    return gateway(CONFIG, acl=str(d / "web-acl.json"), store=str(d / "secrets.json"))


def make_browser(*extra_args):
    """Headless Chromium. A missing or broken browser is a failure, never a skip: the
    interstitial is only proven by running it."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        pytest.fail(f"python3-selenium is not installed ({e}); run scripts/install-deps.sh")
    if not os.access(CHROMEDRIVER, os.X_OK):
        pytest.fail(f"{CHROMEDRIVER} not found: install chromium and chromium-driver "
                    "(scripts/install-deps.sh)")
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", *extra_args):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    except WebDriverException as e:
        pytest.fail(f"headless chromium could not start: {e.msg}")


@pytest.fixture
def browser():
    driver = make_browser()
    yield driver
    driver.quit()


def page_json(driver):
    """The echo origin's JSON as the browser shows it, or None while another page is up."""
    text = driver.execute_script("return document.body ? document.body.innerText : ''") or ""
    start = text.find("{")
    if start < 0:
        return None
    try:
        return json.loads(text[start:])
    except ValueError:
        return None


def wait_for_echo(driver, timeout: float = 10.0) -> dict:
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import TimeoutException
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(page_json)
    except TimeoutException:
        body = driver.execute_script("return document.body ? document.body.innerText : ''")
        pytest.fail(f"the browser was not let through within {timeout}s; page shows: {body!r}; "
                    f"console: {driver.get_log('browser')}")


def csp_violations(driver) -> list:
    return [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]


def get_from(source_ip: str, port: int, path: str, headers: dict) -> tuple:
    """GET with the connection bound to source_ip (another client address on loopback)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source_ip, 0))
    try:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


def leading_zero_bits(digest: bytes) -> int:
    n = int.from_bytes(digest, "big")
    return 256 - n.bit_length()


def solve(nonce: str, bits: int) -> str:
    c = 0
    while leading_zero_bits(hashlib.sha256(f"{nonce}:{c}".encode()).digest()) < bits:
        c += 1
    return str(c)


# ---- (a) plain HTTP clients ------------------------------------------------------------------

def test_plain_client_is_challenged_and_never_reaches_the_origin(gw):
    r = requests.get(gw.url + "/protected?x=1", headers={"Accept": "*/*"}, timeout=10)
    assert r.status_code == 202
    assert r.headers["x-amzn-waf-action"] == "challenge"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-length"] == "0" and r.content == b""

    r = requests.get(gw.url + "/protected/deeper", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 202
    assert r.headers["x-amzn-waf-action"] == "challenge"
    assert r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "<script>" in r.text and ENDPOINT in r.text
    assert '"path"' not in r.text  # the page, not the echo origin's answer

    r = requests.post(gw.url + "/protected", data=b"x=1", timeout=10)
    assert r.status_code == 202 and r.content == b""
    # Paths outside the rule reach the origin as usual.
    assert requests.get(gw.url + "/open", timeout=10).json()["path"] == "/open"


def test_a_client_that_does_the_work_is_let_through(gw):
    s = requests.Session()
    puzzle = s.get(gw.url + ENDPOINT + "challenge", timeout=10).json()
    assert puzzle["difficulty"] >= 8
    wrong = s.post(gw.url + ENDPOINT + "verify", timeout=10,
                   json={"nonce": puzzle["nonce"], "counter": "not-a-counter"})
    assert wrong.status_code == 400
    r = s.post(gw.url + ENDPOINT + "verify", timeout=10,
               json={"nonce": puzzle["nonce"], "counter": solve(puzzle["nonce"],
                                                                puzzle["difficulty"])})
    assert r.status_code == 200, r.text
    set_cookie = r.headers["set-cookie"]
    assert set_cookie.startswith("aws-waf-token=") and "HttpOnly" in set_cookie
    assert "Secure" not in set_cookie  # plain http
    r = s.get(gw.url + "/protected?paid=1", timeout=10)
    assert r.status_code == 200 and r.json()["query"] == "paid=1"


def test_verify_refuses_a_nonce_solved_for_another_address(gw):
    puzzle = requests.get(gw.url + ENDPOINT + "challenge", timeout=10).json()
    counter = solve(puzzle["nonce"], puzzle["difficulty"])
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10,
                                      source_address=("127.0.0.2", 0))
    try:
        conn.request("POST", ENDPOINT + "verify", headers={"Content-Type": "application/json"},
                     body=json.dumps({"nonce": puzzle["nonce"], "counter": counter}))
        r = conn.getresponse()
        assert r.status == 403
        assert json.loads(r.read())["reason"] == "other client address"
        assert r.getheader("set-cookie") is None
    finally:
        conn.close()
    forged = puzzle["nonce"][:-2] + ("AA" if not puzzle["nonce"].endswith("AA") else "BA")
    r = requests.post(gw.url + ENDPOINT + "verify", json={"nonce": forged, "counter": counter},
                      timeout=10)
    assert r.status_code == 403 and r.json()["reason"] == "forged nonce"
    assert requests.get(gw.url + ENDPOINT + "nothing-here", timeout=10).status_code == 404


# ---- (b) + (c) a real browser solves the challenge --------------------------------------------

def test_browser_solves_the_challenge_and_its_cookie_is_bound_to_its_address(gw, browser):
    t0 = time.monotonic()
    browser.get(gw.url + "/protected?x=1")
    echo = wait_for_echo(browser, 10)
    solved_in = time.monotonic() - t0
    assert echo["path"] == "/protected" and echo["query"] == "x=1"
    assert "aws-waf-token=" in echo["headers"].get("cookie", "")
    cookies = {c["name"]: c for c in browser.get_cookies()}
    assert "aws-waf-token" in cookies, cookies
    token = cookies["aws-waf-token"]
    assert token["httpOnly"] and token["path"] == "/"
    assert not csp_violations(browser)
    print(f"challenge solved and page shown in {solved_in:.2f}s")

    # (c) the same cookie from the same address passes without a browser...
    jar = {"aws-waf-token": token["value"]}
    r = requests.get(gw.url + "/protected?again=1", cookies=jar, timeout=10)
    assert r.status_code == 200
    assert r.json()["query"] == "again=1"
    # ...but not from another client address.
    status, headers, body = get_from("127.0.0.2", gw.port, "/protected?again=2",
                                     {"Cookie": f"aws-waf-token={token['value']}",
                                      "Accept": "*/*"})
    assert status == 202 and headers["x-amzn-waf-action"] == "challenge"
    # A proof of work is no CAPTCHA: the CAPTCHA rule still asks.
    r = requests.get(gw.url + "/captcha", cookies=jar, timeout=10)
    assert r.status_code == 405 and r.headers["x-amzn-waf-action"] == "captcha"


def test_browser_without_crypto_subtle_solves_with_the_script_fallback(gw):
    # http://<a name> is not a secure context, so crypto.subtle is missing there.
    driver = make_browser("--host-resolver-rules=MAP challenge.test 127.0.0.1")
    try:
        driver.get(f"http://challenge.test:{gw.port}/protected?fallback=1")
        echo = wait_for_echo(driver, 10)
        assert echo["query"] == "fallback=1"
        assert echo["headers"]["host"] == f"challenge.test:{gw.port}"
        assert driver.execute_script("return window.isSecureContext") is False
    finally:
        driver.quit()


def test_page_sha256_fallback_matches_hashlib(gw, browser):
    page = requests.get(gw.url + "/protected", headers={"Accept": "text/html"}, timeout=10).text
    script = page.split("<script>", 1)[1].split("(async function () {", 1)[0]
    assert "function sha256" in script
    browser.get(gw.url + "/open")
    messages = ["", "abc", "a" * 55, "a" * 56, "a" * 64, "x" * 119, "nonce.sig:123456789"]
    got = browser.execute_script(script + """
        var enc = new TextEncoder();
        return arguments[0].map(function (m) {
          return Array.from(sha256(enc.encode(m)), function (b) {
            return ('0' + b.toString(16)).slice(-2); }).join('');
        });""", messages)
    assert got == [hashlib.sha256(m.encode()).hexdigest() for m in messages]


# ---- (d) the CAPTCHA -----------------------------------------------------------------------

def test_captcha_page_with_picture_and_wrong_answer_refused(gw, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    r = requests.get(gw.url + "/captcha", headers={"Accept": "*/*"}, timeout=10)
    assert r.status_code == 405 and r.headers["x-amzn-waf-action"] == "captcha"
    assert r.content == b""
    r = requests.get(gw.url + "/captcha?q=1", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 405 and r.headers["x-amzn-waf-action"] == "captcha"
    assert "<input" in r.text and "default-src 'none'" in r.headers["content-security-policy"]

    browser.get(gw.url + "/captcha?q=1")
    pictures = WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#pic svg path"))
    first = browser.find_element(By.CSS_SELECTOR, "#pic svg").get_attribute("outerHTML")
    assert "<text" not in first  # drawn strokes, nothing a bot could just read
    assert pictures and browser.find_element(By.ID, "answer").is_displayed()
    browser.find_element(By.ID, "answer").send_keys("WRONG9")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 10).until(
        lambda d: "not right" in d.find_element(By.ID, "msg").text)
    again = browser.find_element(By.CSS_SELECTOR, "#pic svg").get_attribute("outerHTML")
    assert again != first  # a new puzzle after a wrong answer
    assert not any(c["name"] == "aws-waf-token" for c in browser.get_cookies())
    assert not csp_violations(browser)

    # The endpoint itself, without the page.
    puzzle = requests.get(gw.url + ENDPOINT + "captcha", timeout=10).json()
    assert puzzle["svg"].startswith("<svg")
    r = requests.post(gw.url + ENDPOINT + "captcha-verify", timeout=10,
                      json={"puzzle": puzzle["puzzle"], "answer": "WRONG9"})
    assert r.status_code == 403
    assert r.json()["reason"] == "wrong answer" and "next" in r.json()
    assert "set-cookie" not in r.headers
