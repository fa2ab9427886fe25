#!/usr/bin/env python3
"""Resident memory of a server holding many idle keep-alive client connections.

Opens --conns connections to host:port, sends one GET on each and reads the whole response
(so the server has allocated its per-connection state and kept the connection for reuse),
then leaves them all idle and reads VmRSS from /proc/PID/status of the server's processes
(each --pid plus all of its descendants, e.g. nginx master + worker). Prints one line:

  RESULT rss_before_kb=... rss_with_kb=... held=... failed=... pids=...

followed by a human-readable summary on stderr. Used by bench/run.sh; loopback only.
"""
import argparse
import asyncio
import os
import resource
import sys
import time


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return sorted(set(out))


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def server_rss(roots):
    pids = sorted({p for r in roots for p in descendants(r)})
    return sum(rss_kb(p) for p in pids), pids


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    if headers.get("connection", "").lower() == "close":
        raise ConnectionError("server answered Connection: close")
    return status


async def open_one(host, port, request, sem, timeout):
    async with sem:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        try:
            writer.write(request)
            status = await asyncio.wait_for(read_response(reader), timeout)
            if status != 200:
                raise ConnectionError(f"status {status}")
        except BaseException:
            writer.close()
            raise
        return reader, writer


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, action="append", required=True,
                    help="server process; its descendants are counted too (repeatable)")
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=200,
                    help="connections being opened / requests in flight at once (the origin "
                         "allows 4096 connections, so keep this well below)")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds idle before reading RSS")
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    if not a.host.startswith("127.") and a.host not in ("::1", "localhost"):
        sys.exit("idle_conns.py: loopback addresses only")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < a.conns + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.conns + 1000), hard))

    time.sleep(0.5)
    before, pids = server_rss(a.pid)
    request = (f"GET / HTTP/1.1\r\nHost: {a.host}:{a.port}\r\n"
               f"User-Agent: edgeguard-bench-idle\r\n\r\n").encode()
    sem = asyncio.Semaphore(a.concurrency)
    t0 = time.monotonic()
    results = await asyncio.gather(
        *(open_one(a.host, a.port, request, sem, a.timeout) for _ in range(a.conns)),
        return_exceptions=True)
    opened = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    t_open = time.monotonic() - t0

    await asyncio.sleep(a.settle)
    with_conns, pids = server_rss(a.pid)
    held = sum(1 for reader, _ in opened if not reader.at_eof())

    for _, writer in opened:
        writer.close()
    await asyncio.sleep(0.2)

    kinds = {}
    for e in errors:
        k = f"{type(e).__name__}: {e}"[:80]
        kinds[k] = kinds.get(k, 0) + 1
    print(f"RESULT rss_before_kb={before} rss_with_kb={with_conns} held={held} "
          f"failed={len(errors)} pids={','.join(map(str, pids))}", flush=True)
    print(f"  {a.host}:{a.port}: opened {len(opened)}/{a.conns} in {t_open:.1f}s, "
          f"{held} still open after {a.settle:.0f}s idle", file=sys.stderr)
    for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {n} x {k}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
