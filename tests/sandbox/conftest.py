"""Fixtures for the SDK contract suite: every test runs over real HTTP and in-process (WSGI).

`sandbox` resets the sandbox (POST /_sandbox/reset) before the test and, after it, validates
every response the test received against the SDK model for its route (`contract_models`).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from agentmail.core import http_client as sdk_http_client
from contract_harness import ORG_KEY, WSGI_BASE, Sandbox, SandboxServer


@pytest.fixture(autouse=True)
def _no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK sleeps >= 1 s before retrying a 409/429/5xx; the retry still happens (and is
    recorded), only the wait is skipped so a misbehaving sandbox cannot slow the suite."""
    monkeypatch.setattr(sdk_http_client, "_retry_timeout", lambda response, retries: 0.0)


@pytest.fixture(scope="session")
def http_server() -> Iterator[SandboxServer]:
    server = SandboxServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def wsgi_app() -> object:
    from mailctl.sandbox.app import create_app

    return create_app(db=":memory:", api_keys=(ORG_KEY,))


@pytest.fixture(params=["http", "wsgi"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    if request.param == "http":
        server: SandboxServer = request.getfixturevalue("http_server")
        box = Sandbox("http", server.url, httpx.HTTPTransport())
    else:
        box = Sandbox("wsgi", WSGI_BASE, httpx.WSGITransport(app=request.getfixturevalue("wsgi_app")))
    box.reset()
    yield box
    box.restore()
    problems = box.problems()
    box.close()
    if problems:
        listing = "\n".join(f"  {p}" for p in problems[:40])
        pytest.fail(f"{len(problems)} contract violation(s) in sandbox responses:\n{listing}", pytrace=False)
