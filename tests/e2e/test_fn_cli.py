"""`edgeguard fn event` and `edgeguard fn test`: the local loop for a handler's author."""
import json
import time

from harness import run_edgeguard

NODE_ADD_HEADER = """
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  console.log('saw', request.uri);
  request.headers['x-seen'] = [{key: 'X-Seen', value: request.uri}];
  return request;
};
"""

NODE_WRONG_STATUS = """
exports.handler = (event, context, callback) => {
  callback(null, {statusCode: 302, headers: {location: [{key: 'Location', value: '/x'}]}});
};
"""

CFF_REDIRECT = """
function handler(event) {
  return {statusCode: 301, statusDescription: 'Moved', headers: {location: {value: 'https://example.com' + event.request.uri}}};
}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_fn_test_runs_a_node_handler_validates_and_shows_what_changed(tmp_path):
    f = write(tmp_path, "add.js", NODE_ADD_HEADER)
    started = time.monotonic()
    r = run_edgeguard("fn", "test", f, "--event", "viewer-request", "--uri", "/shop", "-H",
                      "X-Trace: 7")
    elapsed = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["headers"]["x-seen"] == [{"key": "X-Seen", "value": "/shop"}]
    assert result["headers"]["x-trace"] == [{"key": "X-Trace", "value": "7"}]
    assert "+ headers.x-seen" in r.stderr and "saw /shop" in r.stderr
    assert elapsed < 1.0, elapsed  # the whole loop: node start, run, validation


def test_fn_test_exits_1_with_the_precise_validation_message(tmp_path):
    f = write(tmp_path, "wrong.js", NODE_WRONG_STATUS)
    r = run_edgeguard("fn", "test", f, "--event", "viewer-request")
    assert r.returncode == 1
    assert "returned a response with `statusCode`; a Lambda@Edge response uses `status`" in r.stderr
    assert f in r.stderr


def test_fn_test_runs_a_cloudfront_function_and_checks_expect(tmp_path):
    f = write(tmp_path, "redirect.js", CFF_REDIRECT)
    ok = run_edgeguard("fn", "test", f, "--event", "viewer-request", "--uri", "/a",
                       "--expect", '{"statusCode": 301, "headers": {"location": {"value": "https://example.com/a"}}}')
    assert ok.returncode == 0, ok.stderr
    assert "generated response" in ok.stderr and "compute utilization" in ok.stderr
    bad = run_edgeguard("fn", "test", f, "--event", "viewer-request", "--uri", "/a",
                        "--expect", '{"statusCode": 302}')
    assert bad.returncode == 1
    assert "--expect: statusCode: expected 302, got 301" in bad.stderr


def test_fn_event_output_feeds_fn_test(tmp_path):
    ev = run_edgeguard("fn", "event", "origin-request", "--uri", "/img/cat.png?w=100",
                       "-H", "Accept: image/webp")
    assert ev.returncode == 0, ev.stderr
    event = json.loads(ev.stdout)
    cf = event["Records"][0]["cf"]
    assert cf["config"]["eventType"] == "origin-request"
    assert cf["request"]["uri"] == "/img/cat.png" and cf["request"]["querystring"] == "w=100"
    assert cf["request"]["origin"]["custom"]["domainName"]
    path = write(tmp_path, "event.json", ev.stdout)
    f = write(tmp_path, "add.js", NODE_ADD_HEADER)
    r = run_edgeguard("fn", "test", f, "--event", path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["headers"]["x-seen"][0]["value"] == "/img/cat.png"


def test_fn_usage_errors_exit_2(tmp_path):
    f = write(tmp_path, "add.js", NODE_ADD_HEADER)
    r = run_edgeguard("fn", "test", f, "--event", "viewer_request")
    assert r.returncode == 2 and "viewer_request" in r.stderr
    r = run_edgeguard("fn", "event", "viewer-request", "--client-ip", "not-an-ip")
    assert r.returncode == 2 and "--client-ip" in r.stderr
