"""Runs every data-driven proxy case in tests/cases/proxy/*.yaml (format: README.md there).

Each case starts its recording origins, starts the gateway with the case's config, sends the
requests in order and checks each `expect:` against the response and against what the
origin received for that request."""
from __future__ import annotations

import glob
import os

import pytest
import yaml

from harness import Recorded, http_request, header_of, substitute

CASES_DIR = os.path.join(os.path.dirname(__file__), "..", "cases", "proxy")
CASE_FILES = sorted(glob.glob(os.path.join(CASES_DIR, "*.yaml")))


def _as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _headers(v) -> list:
    if v is None:
        return []
    if isinstance(v, dict):
        return [(str(k), str(x)) for k, x in v.items()]
    return [(str(p[0]), str(p[1])) for p in v]


def _sub(v, values):
    if isinstance(v, str):
        return substitute(v, values)
    if isinstance(v, list):
        return [_sub(x, values) for x in v]
    if isinstance(v, dict):
        return {_sub(k, values): _sub(x, values) for k, x in v.items()}
    return v


def _check_origin(where, exp, rec: Recorded, resp_headers):
    if "method" in exp:
        assert rec.method == exp["method"], f"{where}: origin method"
    if "path" in exp:
        assert rec.path == exp["path"], f"{where}: origin path (target {rec.target!r})"
    if "query" in exp:
        assert rec.query == exp["query"], f"{where}: origin query (target {rec.target!r})"
    for name, want in (exp.get("headers") or {}).items():
        got = rec.header(name)
        assert got == str(want), (f"{where}: origin header {name}: got {got!r}, want {want!r}"
                                  f"\n  origin headers: {rec.headers}")
    for name in _as_list(exp.get("headers_present")):
        assert rec.header(name) is not None, (f"{where}: origin header {name} missing"
                                              f"\n  origin headers: {rec.headers}")
    for name in _as_list(exp.get("headers_absent")):
        assert rec.header(name) is None, (f"{where}: origin header {name} must be absent, got "
                                          f"{rec.header(name)!r}\n  origin headers: {rec.headers}")
    for line in _as_list(exp.get("raw_headers")):
        assert line in rec.raw_header_lines(), (f"{where}: origin header line {line!r} (exact case)"
                                                f" missing\n  origin headers: {rec.headers}")
    for name in _as_list(exp.get("header_equals_response")):
        got = rec.header(name)
        sent = header_of(resp_headers, name)
        assert got is not None and got == sent, (f"{where}: {name} at the origin {got!r} != "
                                                 f"in the response {sent!r}")
    if "body" in exp:
        assert rec.body.decode("utf-8", "replace") == exp["body"], f"{where}: origin body"


@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda p: os.path.basename(p)[:-5])
def test_case(case_file, gateway, origin_factory, client_tls, tmp_path):
    with open(case_file) as f:
        case = yaml.safe_load(f)
    # Origins: `origins: {name: [rules]}` or one origin named "origin" with `origin: [rules]`.
    specs = case.get("origins")
    if specs is None:
        specs = {"origin": case.get("origin") or []}
    origins = {}
    values = {}
    for name, rules in specs.items():
        o = origin_factory(name)
        for r in rules or []:
            o.on(**r)
        origins[name] = o
        values[f"{name}_url"] = o.url
        values[f"{name}_port"] = o.port
    case_dir = tmp_path / "files"
    case_dir.mkdir()
    values["files"] = str(case_dir)
    for rel, content in (case.get("files") or {}).items():
        (case_dir / rel).write_text(content)

    gw = gateway(case["config"], **values)
    all_values = gw.values()

    for i, req in enumerate(case["requests"]):
        req = _sub(req, all_values)
        method = req.get("method", "GET")
        path = req["path"]
        where = f"{os.path.basename(case_file)} request {i + 1} ({method} {path})"
        before = {n: len(o.requests) for n, o in origins.items()}
        body = req.get("body", "")
        body = body.encode() if isinstance(body, str) else body
        use_tls = bool(req.get("tls"))
        status, resp_headers, resp_body = http_request(
            gw.tls_port if use_tls else gw.port, method, path, _headers(req.get("headers")), body,
            tls_ctx=client_tls if use_tls else None)
        exp = req.get("expect") or {}
        text = resp_body.decode("utf-8", "replace")
        if "status" in exp:
            assert status == exp["status"], f"{where}: status {status}, body:\n{text}"
        for name, want in (exp.get("headers") or {}).items():
            got = header_of(resp_headers, name)
            assert got == str(want), (f"{where}: response header {name}: got {got!r}, want "
                                      f"{want!r}\n  headers: {resp_headers}")
        for name in _as_list(exp.get("headers_present")):
            assert header_of(resp_headers, name) is not None, (
                f"{where}: response header {name} missing\n  headers: {resp_headers}")
        for name in _as_list(exp.get("headers_absent")):
            assert header_of(resp_headers, name) is None, (
                f"{where}: response header {name} must be absent\n  headers: {resp_headers}")
        for s in _as_list(exp.get("body_contains")):
            assert s in text, f"{where}: body lacks {s!r}:\n{text}"
        for s in _as_list(exp.get("body_not_contains")):
            assert s not in text, f"{where}: body must not contain {s!r}:\n{text}"

        if "origin" not in exp:
            continue
        oexp = exp["origin"]
        new = {n: o.requests[before[n]:] for n, o in origins.items()}
        if oexp is None or oexp == "none":
            got = {n: [r.target for r in v] for n, v in new.items() if v}
            assert not got, f"{where}: no origin should have been asked, got {got}"
            continue
        name = oexp.get("name", "origin" if "origin" in origins else next(iter(origins)))
        assert len(new[name]) == 1, (f"{where}: origin {name} received {len(new[name])} "
                                     f"requests: {[r.target for r in new[name]]}")
        others = {n: [r.target for r in v] for n, v in new.items() if v and n != name}
        assert not others, f"{where}: only origin {name} should be asked, also got {others}"
        _check_origin(where, oexp, new[name][0], resp_headers)
