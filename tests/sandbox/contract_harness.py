"""The sandbox under test, reached over real HTTP or in-process, with every exchange recorded.

Both transports give the same `Sandbox` object: an SDK client factory, a raw httpx client and
the log of every response, which the `sandbox` fixture validates after each test
(`contract_models`). Nothing here reads the sandbox's implementation: only its CLI, its
`create_app` factory and its control API.
"""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from agentmail import AgentMail, AgentMailEnvironment
from agentmail.core.api_error import ApiError
from contract_models import NO_BODY, ZONE_FILE, Problem, decode_json, model_for, validate_body, validate_error

ORG_KEY = "am_test_contract_root_key_7f3a91c2"
WSGI_BASE = "http://sandbox.invalid"
LISTENING = re.compile(r"AgentMail sandbox listening on (http://\S+)")
NO_RETRY = {"max_retries": 0}


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    content_type: str
    content: bytes

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


class RecordingTransport(httpx.BaseTransport):
    """Pass requests to `inner` and append every response to `log` (body read eagerly)."""

    def __init__(self, inner: httpx.BaseTransport, log: list[Exchange]) -> None:
        self._inner = inner
        self.log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.read()
        self.log.append(
            Exchange(
                request.method,
                request.url.path,
                response.status_code,
                response.headers.get("content-type", ""),
                response.content,
            )
        )
        return response

    def close(self) -> None:
        self._inner.close()


class SandboxServer:
    """`mailctl sandbox serve --port 0` in a subprocess; the URL comes from its listening line."""

    def __init__(self, extra_args: tuple[str, ...] = ()) -> None:
        exe = Path(sys.executable).with_name("mailctl")
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [str(exe), "sandbox", "serve", "--host", "127.0.0.1", "--port", "0", "--api-key", ORG_KEY, *extra_args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._drain, args=(lines,), daemon=True).start()
        self.url = self._await_listening(lines)

    def _drain(self, lines: queue.Queue[str | None]) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            lines.put(line)
        lines.put(None)

    def _await_listening(self, lines: queue.Queue[str | None]) -> str:
        try:
            while (line := lines.get(timeout=30)) is not None:
                if match := LISTENING.search(line):
                    return match.group(1).rstrip("/")
        except queue.Empty:
            pass
        tail = self.stderr_text()[-2000:]
        self.stop()
        raise RuntimeError(f"sandbox server never printed its listening line; stderr:\n{tail}")

    def stderr_text(self) -> str:
        """Everything the server has written to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()


@dataclass
class Sandbox:
    """One test's view of the sandbox: clients plus the log of everything they received."""

    name: str
    base_url: str
    inner: httpx.BaseTransport
    exchanges: list[Exchange] = field(default_factory=list)
    _saved_knobs: dict[str, Any] = field(default_factory=dict)
    _other_org_keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._transport = RecordingTransport(self.inner, self.exchanges)
        self._httpx = httpx.Client(transport=self._transport, timeout=30)
        self.http = httpx.Client(transport=self._transport, base_url=self.base_url, timeout=30)
        self.client = self.sdk(ORG_KEY)

    def sdk(self, api_key: str | None) -> AgentMail:
        """An official SDK client using `api_key` (no key: no Authorization header)."""
        environment = AgentMailEnvironment(http=self.base_url, websockets="ws://unused")
        return AgentMail(api_key=api_key, environment=environment, httpx_client=self._httpx)  # type: ignore[arg-type]

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the sandbox control API (`/_sandbox/...`) with the root key."""
        response = self.http.request(method, f"/_sandbox/{path}", headers=auth(ORG_KEY), **kwargs)
        assert response.is_success, f"control API {method} {path}: {response.status_code} {response.text[:300]}"
        return response

    def new_organization(self) -> str:
        """The API key of a new organization (POST /_sandbox/organizations); `restore()` wipes it,
        since addresses are unique across organizations and the HTTP server outlives the test."""
        key: str = self.control("POST", "organizations").json()["api_key"]
        self._other_org_keys.append(key)
        return key

    def configure(self, **knobs: Any) -> None:
        """Change sandbox knobs (PATCH /_sandbox/config); `restore()` puts the old values back."""
        current = self.control("GET", "config").json()
        for name in knobs:
            self._saved_knobs.setdefault(name, current.get(name))
        self.control("PATCH", "config", json=knobs)

    def restore(self) -> None:
        for key in self._other_org_keys:
            response = self.http.post("/_sandbox/reset", headers=auth(key))
            assert response.is_success, f"reset of a test's organization: {response.status_code}"
        self._other_org_keys.clear()
        if self._saved_knobs:
            self.control("PATCH", "config", json=self._saved_knobs)
            self._saved_knobs.clear()

    def reset(self) -> None:
        self.control("POST", "reset")

    def problems(self) -> list[Problem]:
        """Every contract violation in the recorded responses (spec §1.4, §2, §9)."""
        found: list[Problem] = []
        for exchange in self.exchanges:
            if exchange.path.startswith("/v0"):
                found += [Problem(str(exchange), str(p)) for p in exchange_problems(exchange)]
        return found

    def close(self) -> None:
        self.http.close()
        self._httpx.close()


def exchange_problems(exchange: Exchange) -> list[Problem]:
    status, ctype = exchange.status, exchange.content_type
    if status >= 500:
        return [Problem("status", "server error: the sandbox must never answer 5xx to a client")]
    model = model_for(exchange.method, exchange.path) if status < 300 else None
    if status == 204:
        return [] if not exchange.content else [Problem("body", "204 with a body")]
    if 200 <= status < 300 and model is None:
        return [Problem("route", "2xx on a route the SDK does not have")]
    if model is ZONE_FILE:
        return [] if ctype.startswith("text/plain") else [Problem("content-type", f"zone file sent as {ctype!r}")]
    if model is NO_BODY:
        return [Problem("status", f"expected 204, got {status}")]
    if not ctype.startswith("application/json"):
        return [Problem("content-type", f"{ctype!r} is not application/json")]
    try:
        raw = decode_json(exchange.content)
    except ValueError:
        return [Problem("body", "not valid JSON")]
    return validate_body(model, raw) if status < 300 else validate_error(status, raw)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def error_code(exc: ApiError) -> Any:
    body = exc.body
    return body.get("code") if isinstance(body, dict) else getattr(body, "code", None)


@contextmanager
def raises_api_error(status: int, code: str | None = None, cls: type[ApiError] = ApiError) -> Iterator[Any]:
    """Expect the SDK to raise `cls` with `status` and (if given) `body.code == code`."""
    with pytest.raises(ApiError) as info:
        yield info
    exc = info.value
    assert (exc.status_code, error_code(exc)) == (status, code if code else error_code(exc)), (
        f"expected {status} {code}, got {exc.status_code} {error_code(exc)}"
    )
    assert isinstance(exc, cls), f"expected {cls.__name__}, got {type(exc).__name__}"
