"""Build the AgentMailClient a command should use: the real API, another endpoint, or a sandbox.

Resolution (never a silent fallback):
1. ``sandbox`` (a SQLite path) -> an in-process sandbox over ``httpx.WSGITransport``, with a fixed
   internal key; the endpoint and API-key settings are not used.
2. otherwise the endpoint is the argument, else ``AGENTMAIL_BASE_URL``, else the production API,
   and the key is the argument, else ``AGENTMAIL_API_KEY``; no key at all is a ``UsageError``.
   An endpoint ending in ``/v0`` is a ``UsageError`` with a hint: the endpoint is the API root and
   every path already starts with ``/v0``, so it would only ever reach ``/v0/v0/...`` (404s).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx

from mailctl.api.client import API_BASE_DEFAULT, AgentMailClient
from mailctl.errors import UsageError
from mailctl.text import without_userinfo

ENV_BASE_URL = "AGENTMAIL_BASE_URL"
ENV_API_KEY = "AGENTMAIL_API_KEY"
SANDBOX_API_KEY = "am_mailctl_inprocess_sandbox_key"  # only ever sent to an in-process app
SANDBOX_BASE_URL = "http://sandbox.invalid"
NO_KEY_MESSAGE = "no API key: set AGENTMAIL_API_KEY, or use --sandbox PATH to run against a local sandbox"


class _SandboxTransport(httpx.WSGITransport):
    """A WSGI transport that also closes the sandbox database when the client closes (unless
    ``keep_open``: a sandbox that outlives the client, as a Project's in-memory one)."""

    def __init__(self, app: Any, keep_open: bool = False) -> None:
        super().__init__(app=app)
        self._sandbox = app
        self._keep_open = keep_open

    def close(self) -> None:
        store = getattr(self._sandbox, "store", None)
        if store is not None and not self._keep_open:
            store.close()


def connect(
    endpoint: str | None,
    sandbox: str | None,
    api_key: str | None,
    *,
    env: Mapping[str, str] | None = None,
    **client_options: Any,
) -> AgentMailClient:
    """The client for this run; ``client_options`` go to :class:`AgentMailClient` (retries...)."""
    env = os.environ if env is None else env
    if sandbox is not None:
        if endpoint:
            raise UsageError("use either --endpoint or --sandbox, not both")
        return _sandbox_client(sandbox, client_options)
    base_url = endpoint or env.get(ENV_BASE_URL) or API_BASE_DEFAULT
    _check_api_root(base_url, "--endpoint" if endpoint else ENV_BASE_URL)
    key = api_key or env.get(ENV_API_KEY)
    if not key or not key.strip():
        raise UsageError(NO_KEY_MESSAGE)
    return AgentMailClient(base_url, key.strip(), **client_options)


def _check_api_root(base_url: str, source: str) -> None:
    trimmed = base_url.rstrip("/")
    if trimmed.lower().endswith("/v0"):
        root = trimmed[: -len("/v0")]
        raise UsageError(
            f"{source} {without_userinfo(base_url)}: the endpoint is the API root without /v0 (mailctl adds "
            f"/v0 to every path); use {without_userinfo(root)}"
        )


def _sandbox_client(path: str, client_options: dict[str, Any]) -> AgentMailClient:
    return AgentMailClient(
        SANDBOX_BASE_URL, SANDBOX_API_KEY, transport=_SandboxTransport(open_sandbox(path)), **client_options
    )


def open_sandbox(path: str) -> Any:
    """The in-process sandbox app on the database at ``path`` (``:memory:``: a new, empty one)."""
    if not path.strip():
        raise UsageError("--sandbox needs a database path (or :memory:)")
    try:
        from mailctl.sandbox.app import create_app  # lazy: plain API use never loads the sandbox
        from mailctl.sandbox.store import OPEN_ERRORS, open_failure
    except ImportError as exc:
        raise UsageError(f"the local sandbox is not available in this installation: {exc}") from None
    try:
        return create_app(db=path, api_keys=(SANDBOX_API_KEY,))
    except (*OPEN_ERRORS, ValueError) as exc:
        raise UsageError(open_failure(path, exc)) from None


def sandbox_app_client(app: Any, **client_options: Any) -> AgentMailClient:
    """A client of the in-process sandbox ``app`` that leaves it open when it closes."""
    transport = _SandboxTransport(app, keep_open=True)
    return AgentMailClient(SANDBOX_BASE_URL, SANDBOX_API_KEY, transport=transport, **client_options)
