"""A whole answer as the client passes it on: its status and body at hand, httpx's response on demand.

A success needs only its status and body (JSON parsed from the bytes). Building an
``httpx.Response`` from them (headers normalised, the body run through httpx's decoder chain
again) was ~6% of mailctl's CPU per request under apply's workers, so it is built only when
something asks for more: the headers (a 429's Retry-After), the text, an error's JSON, the
reason phrase.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import httpx


class Reply:
    def __init__(
        self,
        status_code: int,
        headers: list[tuple[bytes, bytes]],
        content: bytes,
        response: httpx.Response | None = None,
    ) -> None:
        self.status_code = status_code
        self.content = content
        self._headers = headers
        if response is not None:
            self.response = response

    @classmethod
    def of(cls, response: httpx.Response) -> Reply:
        """A response some transport handed over already read."""
        return cls(response.status_code, response.headers.raw, response.content, response)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @cached_property
    def response(self) -> httpx.Response:
        """httpx's response of the same status, headers and (decoded) body."""
        return httpx.Response(self.status_code, headers=self._headers, content=self.content)

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def text(self) -> str:
        return self.response.text

    @property
    def reason_phrase(self) -> str:
        return self.response.reason_phrase

    def json(self) -> Any:
        return self.response.json()
