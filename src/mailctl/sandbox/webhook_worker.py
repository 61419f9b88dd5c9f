"""The webhook delivery worker: POSTs the events the backend recorded (``backend/events.py``) to
their webhooks, signed the way Svix signs them, and retries failures with backoff.

It runs on its own daemon thread, started when a request records a delivery and ended when none
is left pending, so the API never waits for a handler: a request only writes the outbox row.
Each attempt reads the webhook afresh (a webhook deleted or disabled since is ``cancelled``) and
the organisation's knobs (``webhook_deliveries: disabled`` settles it as ``skipped``). The
clock, the wait and the HTTP POST are parameters, so tests drive ``run_once()`` with no sleeps.

Signing (https://docs.svix.com/receiving/verifying-payloads/how-manual): headers ``svix-id``,
``svix-timestamp`` (unix seconds) and ``svix-signature`` = ``v1,`` + base64 of HMAC-SHA256 over
``{id}.{timestamp}.{body}``, keyed with the base64-decoded part of the secret after ``whsec_``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from mailctl.sandbox.backend.core import Settings
from mailctl.sandbox.backend.events import DONE, PENDING, WEBHOOK_DELIVERY
from mailctl.sandbox.backend.webhooks import WEBHOOK
from mailctl.sandbox.store import Row, Store

MAX_ATTEMPTS = 5  # the first try and four retries
TIMEOUT = 5.0  # seconds a handler has to answer one attempt
IDLE_WAIT = 1.0  # the longest the thread sleeps before looking again

Post = Callable[[str, bytes, dict[str, str]], int]  # (url, body, headers) -> status code


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT, follow_redirects=False)
    return response.status_code


def retry_delay(settings: Settings, attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: base, 2x, 4x, ..."""
    return float(settings.webhook_retry_ms / 1000.0 * 2 ** (attempts - 1))


class WebhookWorker:
    def __init__(
        self,
        store: Store,
        settings_of: Callable[[str], Settings],
        *,
        post: Post = http_post,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._settings_of = settings_of
        self._post = post
        self._clock = clock
        self._lock = threading.Lock()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- the thread ------------------------------------------------------------------------------
    def wake(self) -> None:
        """Deliveries may be due: start the thread if it is not running, else wake it."""
        with self._lock:
            if self._closed:
                return
            self._woken.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
                self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._woken.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=TIMEOUT + 1)

    def _run(self) -> None:
        while not self._closed:
            self._woken.clear()
            try:
                due_in = self.run_once()
            except sqlite3.ProgrammingError:  # the store was closed under us: the app is gone
                return
            with self._lock:
                if due_in is None and not self._woken.is_set():
                    self._thread = None
                    return
            self._woken.wait(IDLE_WAIT if due_in is None else min(IDLE_WAIT, max(0.0, due_in)))

    # -- one pass --------------------------------------------------------------------------------
    def run_once(self) -> float | None:
        """Attempt every due delivery once; seconds until the next one is due (None: none left)."""
        with self._store.transaction() as tx:
            pending = tx.find(WEBHOOK_DELIVERY, ref=PENDING)
        current = self._clock()
        for row in pending:
            if row.body["next_attempt"] <= current:
                self._attempt(row)
        with self._store.transaction() as tx:
            left = [r.body["next_attempt"] for r in tx.find(WEBHOOK_DELIVERY, ref=PENDING)]
        return max(0.0, min(left) - self._clock()) if left else None

    def _attempt(self, row: Row) -> None:
        settings = self._settings_of(row.org)
        with self._store.transaction() as tx:
            hook = tx.get(WEBHOOK, row.body["webhook_id"])
        if settings.webhook_deliveries == "disabled":
            return self._settle(row, "skipped")
        if hook is None or not hook.body["enabled"]:
            return self._settle(row, "cancelled")
        body = json.dumps(row.body["payload"], separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(self._clock())
        headers = {
            **hook.body.get("headers", {}),
            "Content-Type": "application/json",
            "svix-id": row.id,
            "svix-timestamp": str(timestamp),
            "svix-signature": sign(hook.body["secret"], row.id, timestamp, body),
        }
        status: int | None = None
        error: str | None = None
        try:
            status = self._post(hook.body["url"], body, headers)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError) as exc:  # the attempt failed: record why
            error = f"{type(exc).__name__}: {exc}"[:300]
        attempts = [*row.body["attempts"], _attempt_record(len(row.body["attempts"]) + 1, status, error)]
        row.body["attempts"] = attempts
        if status is not None and 200 <= status < 300:
            return self._settle(row, "delivered")
        if len(attempts) >= MAX_ATTEMPTS:
            return self._settle(row, "failed")
        row.body["next_attempt"] = self._clock() + retry_delay(settings, len(attempts))
        self._save(row)

    def _settle(self, row: Row, status: str) -> None:
        row.body["status"] = status
        row.ref = DONE
        self._save(row)

    def _save(self, row: Row) -> None:
        with self._store.transaction() as tx:
            if tx.get(WEBHOOK_DELIVERY, row.id) is not None:  # a reset may have wiped it meanwhile
                tx.update(row)


def _attempt_record(number: int, status: int | None, error: str | None) -> dict[str, Any]:
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    record: dict[str, Any] = {"attempt": number, "at": at, "status_code": status}
    if error is not None:
        record["error"] = error
    return record
