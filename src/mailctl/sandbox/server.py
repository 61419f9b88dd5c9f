"""The sandbox over real HTTP, on waitress (multi-threaded).

``serve(app, host, port, on_ready)`` blocks until SIGINT/SIGTERM; ``run_in_thread(app)`` starts a
server in a background thread for tests and returns ``(url, stop)``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from waitress.server import create_server

# Worker threads. Injected latency sleeps inside a worker, so the thread count caps throughput at
# threads / latency: 48 keeps the sandbox from being the bottleneck of mailctl's parallel applies.
THREADS = 48


def _server(app: Any, host: str, port: int, threads: int = THREADS) -> Any:
    # clear_untrusted_proxy_headers: ignore X-Forwarded-*; expose_tracebacks off (the app never raises)
    return create_server(app, host=host, port=port, threads=threads, ident="agentmail-sandbox",
                         clear_untrusted_proxy_headers=True, expose_tracebacks=False)


def _shutdown(server: Any) -> None:
    """Close the listener and every open connection (keep-alive ones too), then stop the workers."""
    socket_map = server._map
    while socket_map:
        for dispatcher in list(socket_map.values()):
            try:
                dispatcher.close()
            except OSError:
                socket_map.pop(getattr(dispatcher, "_fileno", None), None)
    server.task_dispatcher.shutdown(timeout=2)


def _url(server: Any, host: str) -> str:
    port = server.effective_port
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(app: Any, host: str = "127.0.0.1", port: int = 8025, on_ready: Callable[[str], None] | None = None,
          threads: int = THREADS) -> None:
    """Serve until SIGINT or SIGTERM, then close the listening socket and return."""
    server = _server(app, host, port, threads)

    def stop(_signum: int, _frame: Any) -> None:
        # emptying the socket map from the signal handler makes server.run() leave its loop
        _shutdown(server)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if on_ready is not None:
            on_ready(_url(server, host))
        try:
            server.run()
        except (OSError, ValueError):
            pass  # the socket map is torn down under run() on shutdown
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if server._map:
            _shutdown(server)


def run_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> tuple[str, Callable[[], None]]:
    """Start a server on a daemon thread; returns its base URL and an idempotent ``stop()``."""
    server = _server(app, host, port)
    thread = threading.Thread(target=server.run, name="agentmail-sandbox", daemon=True)
    thread.start()
    lock = threading.Lock()

    def stop() -> None:
        with lock:
            if thread.is_alive():
                _shutdown(server)
                thread.join(timeout=5)

    return _url(server, host), stop
