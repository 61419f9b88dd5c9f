"""An adversarial run against the answers mailctl trusts, over HTTP: a proxy in front of the real
sandbox forwards every request and rewrites the answers of one route, as a broken or hostile
endpoint would. Whatever the answer, no garbage reaches the secrets file, and a plain apply
afterwards converges.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

Rewrite = Callable[[dict[str, Any]], Any]


class Proxy:
    """Forwards to ``upstream``; the JSON answer of ``method`` + ``route`` (a regex) goes through
    ``rewrite`` first."""

    def __init__(self, upstream: str, method: str, route: str, rewrite: Rewrite):
        client = httpx.Client(base_url=upstream, timeout=30)
        self.hits = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = client.request(self.command, self.path, content=body, headers=headers)
                data = answer.content
                if self.command == method and re.search(route, self.path.split("?")[0]) and answer.is_success:
                    proxy.hits += 1
                    data = json.dumps(rewrite(answer.json())).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(sandbox) -> Iterator[Callable[[str, str, Rewrite], Proxy]]:
    made: list[Proxy] = []

    def make(method: str, route: str, rewrite: Rewrite) -> Proxy:
        made.append(Proxy(sandbox.url, method, route, rewrite))
        return made[-1]

    yield make
    for each in made:
        each.close()


KEY_CONFIG = {"version": 1, "pods": {"hp": {"name": "HP", "api_keys": {"backend": {}}}}}


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda created: {k: v for k, v in created.items() if k != "api_key"},
        lambda created: {**created, "api_key": None},
        lambda created: {**created, "api_key": 12345},
        lambda created: {**created, "api_key_id": ["not", "an", "id"]},
    ],
    ids=["no-secret", "null-secret", "number-secret", "list-id"],
)
def test_a_key_create_answered_without_a_usable_secret_records_nothing(mailctl, sandbox, write_config, proxy, rewrite):
    config = write_config(KEY_CONFIG)
    secrets = mailctl.workdir / "secrets.json"
    hostile = proxy("POST", r"/api-keys$", rewrite)
    run = mailctl(
        "apply", "-f", config, "--auto-approve", "--secrets-out", secrets, "--endpoint", hostile.url, endpoint=False
    )
    assert hostile.hits == 1
    assert run.exit_code == 1, run.output
    assert "unexpected response" in run.output
    records = json.loads(secrets.read_text()) if secrets.exists() else []
    assert all(isinstance(r["secret"], str) and isinstance(r["api_key_id"], str) for r in records), records
    mailctl.apply(config)  # straight to the sandbox: converges, the pending key repaired
    assert not mailctl("plan", "-f", config, "--detailed-exitcode").exit_code
    names = [k.name for k in sandbox.sdk().api_keys.list(limit=100).api_keys if k.pod_id]
    assert names == ["backend"]
