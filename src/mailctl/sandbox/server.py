"""The sandbox over real HTTP, on waitress (multi-threaded).

``serve(app, host, port, on_ready)`` blocks until SIGINT/SIGTERM; ``run_in_thread(app)`` starts a
server in a background thread for tests and returns ``(url, stop)``.

Slow or hostile clients: waitress reads requests on one event loop and hands only *complete*
requests to the worker threads, so idle connections and half-sent requests cost a socket, not a
worker. What starves a server is the connection cap: waitress stops *accepting* at its limit, so
once slow clients hold every slot a normal request waits in the backlog until one leaves, and a
client that trickles a byte now and then never leaves (1,100 of them stalled a request for 54 s,
issue 17). Here the cap sheds instead: past ``CONNECTION_LIMIT`` open connections, the loop
closes the oldest connection that has no complete request (idle, or still sending one), so a
new client is always accepted and served. Waitress' own limit sits a little higher, only as a
backstop for descriptors. A connection silent for ``CHANNEL_TIMEOUT`` seconds is closed too.
Descriptors are polled, not select()ed, so those above 1024 work. ``bench/sandbox.py
--slow-clients`` and ``--trickling`` measure it.

Shutdown never reaches into the server object: it gets our own socket map (``map=``) and worker
pool, and the event loop runs here, so stopping closes every connection on the loop's own thread
(never under a running ``poll``, the old source of EBADF) and then joins the workers.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.server import create_server
from waitress.task import ThreadedTaskDispatcher

# Worker threads. Injected latency sleeps inside a worker, so the thread count caps throughput at
# threads / latency: 48 keeps the sandbox from being the bottleneck of mailctl's parallel applies.
THREADS = 48
CONNECTION_LIMIT = 1000  # open connections kept; past it the stalest unfinished one is shed
_BACKSTOP = 100  # waitress stops accepting at CONNECTION_LIMIT + this (never reached while shedding)
CHANNEL_TIMEOUT = 30  # seconds of silence before a connection (idle or half-sent) is closed
_LOOP_TICK = 1.0  # the loop re-checks its stop flag at least this often


class _Server:
    """A waitress server on a socket map we own, with a loop that a flag stops."""

    def __init__(self, app: Any, host: str, port: int, threads: int = THREADS) -> None:
        self.map: dict[int, Any] = {}
        self.stopping = threading.Event()
        self.workers = ThreadedTaskDispatcher()  # ours, so we stop it (create_server's injection point)
        self.workers.set_thread_count(threads)
        # clear_untrusted_proxy_headers: ignore X-Forwarded-*; expose_tracebacks off (the app never raises)
        self.waitress = create_server(
            app,
            map=self.map,
            _dispatcher=self.workers,
            host=host,
            port=port,
            threads=threads,
            ident="agentmail-sandbox",
            clear_untrusted_proxy_headers=True,
            expose_tracebacks=False,
            connection_limit=CONNECTION_LIMIT + _BACKSTOP,
            channel_timeout=CHANNEL_TIMEOUT,
            cleanup_interval=min(CHANNEL_TIMEOUT, 10),
            asyncore_use_poll=True,
        )
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.waitress.effective_port}"

    def run(self) -> None:
        """Serve until ``stop()``; then close every connection here, on the loop's thread."""
        try:
            while not self.stopping.is_set():
                wasyncore.loop(timeout=_LOOP_TICK, use_poll=True, map=self.map, count=1)
                shed_connections(self.waitress.active_channels, CONNECTION_LIMIT)
        finally:
            wasyncore.close_all(self.map)
            self.waitress.close()  # the listener and its wake-up pipe (idempotent)

    def stop(self) -> None:
        """Ask the loop to finish (from any thread or a signal handler) and wake it now."""
        self.stopping.set()
        try:
            self.waitress.pull_trigger()
        except OSError:
            pass  # already closed: the loop is gone


def shed_connections(channels: dict[int, Any], limit: int) -> int:
    """Close the oldest connections without a complete request until at most ``limit`` remain;
    the number closed. Runs on the loop's thread: no worker touches a channel without requests."""
    excess = len(channels) - limit
    if excess <= 0:
        return 0
    idle = sorted((c for c in channels.values() if not c.requests), key=lambda c: c.creation_time)
    for channel in idle[:excess]:
        channel.handle_close()
    return min(excess, len(idle))


def serve(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 8025,
    on_ready: Callable[[str], None] | None = None,
    threads: int = THREADS,
) -> None:
    """Serve until SIGINT or SIGTERM, then close the listening socket and return."""
    server = _Server(app, host, port, threads)
    previous = {sig: signal.signal(sig, lambda _s, _f: server.stop()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if on_ready is not None:
            on_ready(server.url)
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.workers.shutdown(timeout=2)


def run_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> tuple[str, Callable[[], None]]:
    """Start a server on a daemon thread; returns its base URL and an idempotent ``stop()``."""
    server = _Server(app, host, port)
    thread = threading.Thread(target=server.run, name="agentmail-sandbox", daemon=True)
    thread.start()
    lock = threading.Lock()

    def stop() -> None:
        with lock:
            if thread.is_alive():
                server.stop()
                thread.join(timeout=5)
                server.workers.shutdown(timeout=2)

    return server.url, stop
