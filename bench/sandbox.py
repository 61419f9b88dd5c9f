"""Throughput of `mailctl sandbox serve`: 10 concurrent clients, mixed read/write, no latency.

    .venv/bin/python bench/sandbox.py [--seconds 5] [--clients 10]
    .venv/bin/python bench/sandbox.py --slow-clients [--held 100]
    .venv/bin/python bench/sandbox.py --trickling [--held 1100]

Starts the server as a subprocess on a free port, runs the load, prints requests/second and the
sandbox's own request counts (GET /_sandbox/stats), then stops the server.

``--slow-clients`` instead holds ``--held`` idle connections, then as many half-sent requests,
and times a normal request after each step (the target: served within 2 s). ``--trickling``
holds ``--held`` connections that each send a byte of an unfinished request header every half
second (more than the 1,000-connection cap by default) and times normal requests among them.
"""

from __future__ import annotations

import argparse
import itertools
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

KEY = "am_bench_key_0123456789abcdef"
LISTENING = re.compile(r"listening on (http://\S+)")


def start_server() -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).with_name("mailctl")
    proc = subprocess.Popen(
        [str(exe), "sandbox", "serve", "--port", "0", "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    match = LISTENING.search(proc.stdout.readline())
    if not match:
        proc.terminate()
        raise SystemExit("the sandbox did not start")
    return proc, match.group(1)


def worker(url: str, n: int, deadline: float, counts: list[int], errors: list[int]) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        pod = client.post("/v0/pods", json={"name": f"bench-{n}", "client_id": f"bench-{n}"}).json()["pod_id"]
        for i in itertools.count():
            if time.monotonic() >= deadline:
                break
            step = i % 10
            if step < 6:  # 60 % reads
                if step % 2:
                    response = client.get("/v0/inboxes", params={"limit": 20})
                else:
                    response = client.get(f"/v0/pods/{pod}")
            elif step < 9:  # 30 % creates
                response = client.post(f"/v0/pods/{pod}/inboxes", json={"username": f"b{n}-{i}"})
            else:  # 10 % updates
                response = client.get(f"/v0/pods/{pod}/inboxes", params={"limit": 1})
                inboxes = response.json().get("inboxes") or []
                if inboxes:
                    counts[n] += 1
                    response = client.patch(f"/v0/inboxes/{inboxes[0]['inbox_id']}", json={"display_name": f"n{i}"})
            counts[n] += 1
            errors[n] += response.status_code >= 400


def timed_request(url: str) -> str:
    started = time.monotonic()
    try:
        status = httpx.get(f"{url}/v0/pods", headers={"Authorization": f"Bearer {KEY}"}, timeout=60).status_code
    except httpx.HTTPError as exc:
        status = type(exc).__name__  # type: ignore[assignment]
    return f"{status} in {time.monotonic() - started:.3f} s"


def slow_clients(held: int) -> None:
    proc, url = start_server()
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sockets: list[socket.socket] = []
    try:
        print(f"baseline: {timed_request(url)}")
        sockets += [socket.create_connection((host, int(port))) for _ in range(held)]
        print(f"{held} idle connections held: {timed_request(url)}")
        for _ in range(held):
            sock = socket.create_connection((host, int(port)))
            sock.sendall(b'POST /v0/pods HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"na')
            sockets.append(sock)
        print(f"+ {held} half-sent requests held: {timed_request(url)}")
    finally:
        for sock in sockets:
            sock.close()
        proc.terminate()
        proc.wait(timeout=10)


def trickling(held: int) -> None:
    proc, url = start_server()
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sockets: list[socket.socket] = []
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            for sock in sockets:
                try:
                    sock.send(b"x")
                except OSError:
                    pass  # shed by the server

    try:
        print(f"baseline: {timed_request(url)}")
        for _ in range(held):
            sock = socket.create_connection((host, int(port)), timeout=10)
            sock.sendall(b"GET /v0/pods HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            sock.setblocking(False)
            sockets.append(sock)
        threading.Thread(target=trickle, daemon=True).start()
        for i in range(3):
            print(f"{held} trickling clients, request {i + 1}: {timed_request(url)}")
    finally:
        stop.set()
        for sock in sockets:
            sock.close()
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--slow-clients", action="store_true", help="the slow-client case instead of the load")
    parser.add_argument("--trickling", action="store_true", help="clients that never finish a request header")
    parser.add_argument("--held", type=int, default=None, help="connections to hold (100 slow, 1100 trickling)")
    args = parser.parse_args()
    if args.slow_clients:
        slow_clients(args.held or 100)
        return
    if args.trickling:
        trickling(args.held or 1100)
        return
    proc, url = start_server()
    try:
        counts, errors = [0] * args.clients, [0] * args.clients
        deadline = time.monotonic() + args.seconds
        started = time.monotonic()
        threads = [
            threading.Thread(target=worker, args=(url, n, deadline, counts, errors)) for n in range(args.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        stats = httpx.get(f"{url}/_sandbox/stats", headers={"Authorization": f"Bearer {KEY}"}).json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    total = sum(counts)
    print(
        f"{args.clients} clients, {elapsed:.1f} s: {total} requests, {total / elapsed:.0f} requests/second, "
        f"{sum(errors)} errors"
    )
    print(f"sandbox stats: total {stats['total']}, by status {stats['by_status']}")
    for route, count in sorted(stats["by_route"].items(), key=lambda kv: -kv[1]):
        print(f"  {count:7d}  {route}")


if __name__ == "__main__":
    main()
