"""Test helpers: an AgentMailClient wired to an httpx.MockTransport, with recorded sleeps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from mailctl.api.client import AgentMailClient

CANARY_KEY = "am_us_CANARYcanary0123456789abcdefSECRET"
Handler = Callable[[httpx.Request], httpx.Response]


class Harness:
    """Builds clients over a mock transport and records every request and every sleep."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.requests: list[httpx.Request] = []
        self._clients: list[AgentMailClient] = []

    def client(self, handler: Handler, base_url: str = "http://api.test", **options: Any) -> AgentMailClient:
        def recording(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        options.setdefault("sleep", self.sleeps.append)
        client = AgentMailClient(base_url, CANARY_KEY, transport=httpx.MockTransport(recording), **options)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()


def replies(*responses: httpx.Response | Exception) -> Handler:
    """A handler answering with the given responses in order (raising the exceptions)."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def error(status: int, code: str, message: str = "boom", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"name": "Error", "code": code, "message": message}, headers=headers)
