"""The webhook delivery worker: POSTs the events the backend recorded (``backend/events.py``) to
their webhooks, signed the way Svix signs them, and retries failures with backoff.

It runs on its own daemon thread, started when a request records a delivery and ended when none
is left pending, so the API never waits for a handler: a request only writes the outbox row.
Each attempt reads the webhook afresh (a webhook deleted or disabled since is ``cancelled``) and
the organisation's knobs (``webhook_deliveries: disabled`` settles it as ``skipped``). The
clock, the wait and the HTTP POST are parameters, so tests drive ``run_once()`` with no sleeps.

Lanes: each webhook's due delivery is attempted on a thread of its own (at most ``LANES`` at
once, one per webhook at a time), so a handler that hangs for its whole timeout holds back only
its own webhook's deliveries, never another organisation's, nor their retry schedule.

Leases: several servers may share one ``--db``. A delivery is claimed in a transaction (a lease
of ``LEASE`` seconds, named after this worker) before it is posted, and a leased one is left
alone by every other worker until the lease runs out (a server killed mid-attempt). An attempt
is appended to the stored row in one transaction, so none overwrites another's record; its
outcome (settle or reschedule) applies unless another worker holds the row by then.

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
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import h11
import httpx

from mailctl.sandbox.backend.core import Settings
from mailctl.sandbox.backend.events import DONE, PENDING, WEBHOOK_DELIVERY
from mailctl.sandbox.backend.webhook_rules import RESERVED_HEADERS
from mailctl.sandbox.backend.webhooks import WEBHOOK
from mailctl.sandbox.store import Row, Store

MAX_ATTEMPTS = 5  # the first try and four retries
TIMEOUT = 5.0  # seconds a handler has to answer one attempt
IDLE_WAIT = 1.0  # the longest the thread sleeps before looking again
LEASE = 30.0  # seconds a claimed delivery is left to its worker (an attempt takes TIMEOUT per step)
LANES = 16  # attempts in flight at once, each to a different webhook

Post = Callable[[str, bytes, dict[str, str]], int]  # (url, body, headers) -> status code


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    # Values may hold octets 0x80-0xff (webhook_rules: obs-text): sent as those octets, where
    # httpx would encode a str value as ASCII and fail every attempt.
    octets = {name.encode("ascii"): value.encode("latin-1") for name, value in headers.items()}
    response = httpx.post(url, content=body, headers=octets, timeout=TIMEOUT, follow_redirects=False)
    return response.status_code


# What an attempt's exception may say in the delivery log. The text of these describes the
# connection or the handler's answer, never the request: kept (clipped). Any other was raised while
# the request was built or sent, and may quote it: h11's "Illegal header value b'...'" quotes a
# custom header's value, a secret no API read returns. Those are recorded by type and a reason.
_TEXT_KEPT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_BAD_REQUEST = (h11.LocalProtocolError, httpx.LocalProtocolError, UnicodeError)
_WITHHELD = "(the details are not recorded: they may quote a header value)"


def attempt_error(exc: Exception) -> str:
    """An attempt's ``error`` as ``/_sandbox/deliveries`` shows it: never a header value."""
    if isinstance(exc, _TEXT_KEPT):
        return f"{type(exc).__name__}: {exc}"[:300]
    if isinstance(exc, _BAD_REQUEST):
        return f"{type(exc).__name__}: the request could not be sent: a header or its framing is invalid {_WITHHELD}"
    return f"{type(exc).__name__}: the request could not be sent {_WITHHELD}"


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
        self._name = uuid.uuid4().hex  # the lease holder's name, unique per worker and server
        self._lock = threading.Lock()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None
        self._lanes: dict[str, threading.Thread] = {}  # webhook id -> its attempt in flight
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
        """Stop; attempts in flight get their handler's timeout to finish and be recorded."""
        with self._lock:
            self._closed = True
            self._woken.set()
            waiting = [t for t in (self._thread, *self._lanes.values()) if t is not None]
        deadline = time.monotonic() + TIMEOUT + 1
        for thread in waiting:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        while not self._closed:
            self._woken.clear()
            try:
                due_in = self.run_once(wait=False)
            except sqlite3.ProgrammingError:  # the store was closed under us: the app is gone
                return
            with self._lock:
                if due_in is None and not self._woken.is_set() and not self._lanes:
                    self._thread = None
                    return
            self._woken.wait(IDLE_WAIT if due_in is None else min(IDLE_WAIT, max(0.0, due_in)))

    # -- one pass --------------------------------------------------------------------------------
    def run_once(self, *, wait: bool = True) -> float | None:
        """Start an attempt of every due delivery whose webhook has none in flight, each in its
        own lane; with ``wait``, return once they are recorded. Seconds until the next delivery is
        due, or its lease runs out (None: none left pending)."""
        for lane in [self._start(row) for row in self._claim()]:
            if wait:
                lane.join()
        current = self._clock()
        with self._store.transaction() as tx:
            left = [max(r.body["next_attempt"], _lease(r)[1]) for r in tx.find(WEBHOOK_DELIVERY, ref=PENDING)]
        return max(0.0, min(left) - current) if left else None

    def _claim(self) -> list[Row]:
        """Lease the oldest due delivery of each webhook that has no attempt in flight, in one
        transaction (another server's worker sees the lease and leaves the row alone)."""
        current = self._clock()
        claimed: list[Row] = []
        with self._lock:
            busy, room = set(self._lanes), LANES - len(self._lanes)
        with self._store.transaction() as tx:
            for row in tx.find(WEBHOOK_DELIVERY, ref=PENDING):
                webhook_id = row.body["webhook_id"]
                if len(claimed) >= room or webhook_id in busy or row.body["next_attempt"] > current:
                    continue
                if _lease(row)[1] > current:
                    continue  # another worker's attempt in flight
                row.body["lease"] = {"holder": self._name, "until": current + LEASE}
                tx.update(row)
                busy.add(webhook_id)
                claimed.append(row)
        return claimed

    def _start(self, row: Row) -> threading.Thread:
        lane = threading.Thread(target=self._lane, args=(row,), name="sandbox-webhook-attempt", daemon=True)
        with self._lock:
            self._lanes[row.body["webhook_id"]] = lane
        lane.start()
        return lane

    def _lane(self, row: Row) -> None:
        try:
            self._attempt(row)
        except sqlite3.ProgrammingError:
            pass  # the store was closed under us: the app is gone
        finally:
            with self._lock:
                self._lanes.pop(row.body["webhook_id"], None)
            self._woken.set()  # the webhook's next delivery may go now

    def _attempt(self, row: Row) -> None:
        settings = self._settings_of(row.org)
        with self._store.transaction() as tx:
            hook = tx.get(WEBHOOK, row.body["webhook_id"])
        if settings.webhook_deliveries == "disabled":
            return self._record(row, None, "skipped")
        if hook is None or not hook.body["enabled"]:
            return self._record(row, None, "cancelled")
        body = json.dumps(row.body["payload"], separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(self._clock())
        # Names compare case-insensitively: a stored custom header named like one of these (a
        # webhook made before they were refused) would go out as a second copy, or break framing.
        custom = {n: v for n, v in hook.body.get("headers", {}).items() if n.lower() not in RESERVED_HEADERS}
        headers = {
            **custom,
            "Content-Type": "application/json",
            "svix-id": row.id,
            "svix-timestamp": str(timestamp),
            "svix-signature": sign(hook.body["secret"], row.id, timestamp, body),
        }
        status: int | None = None
        error: str | None = None
        try:
            status = self._post(hook.body["url"], body, headers)
        except Exception as exc:  # noqa: BLE001 - whatever one attempt raises (httpcore lets some
            # h11 errors out unmapped) is a failed attempt, recorded and retried, never the lane's end
            error = attempt_error(exc)
        self._record(row, _attempt_record(status, error), None)

    def _record(self, claimed: Row, attempt: dict[str, Any] | None, settle: str | None) -> None:
        """Append ``attempt`` to the stored row and apply its outcome (``settle`` it, or from the
        attempt: delivered, failed after the last, else the next retry), in one transaction. The
        outcome is dropped if the row is settled or another worker holds it by now (this one's
        lease ran out); the attempt is kept either way."""
        with self._store.transaction() as tx:
            row = tx.get(WEBHOOK_DELIVERY, claimed.id)
            if row is None:  # a reset wiped it meanwhile
                return
            if attempt is not None:
                attempt["attempt"] = len(row.body["attempts"]) + 1
                row.body["attempts"] = [*row.body["attempts"], attempt]
            holder, until = _lease(row)
            if row.ref == PENDING and (holder == self._name or until <= self._clock()):
                row.body.pop("lease", None)
                self._outcome(row, attempt, settle)
            tx.update(row)

    def _outcome(self, row: Row, attempt: dict[str, Any] | None, settle: str | None) -> None:
        status = attempt["status_code"] if attempt is not None else None
        if settle is None and status is not None and 200 <= status < 300:
            settle = "delivered"
        elif settle is None and len(row.body["attempts"]) >= MAX_ATTEMPTS:
            settle = "failed"
        if settle is not None:
            row.body["status"] = settle
            row.ref = DONE
        else:
            row.body["next_attempt"] = self._clock() + retry_delay(
                self._settings_of(row.org), len(row.body["attempts"])
            )


def _lease(row: Row) -> tuple[str | None, float]:
    """Who holds a delivery and until when (nobody: ``(None, 0.0)``)."""
    lease = row.body.get("lease")
    return (lease["holder"], float(lease["until"])) if lease else (None, 0.0)


def _attempt_record(status: int | None, error: str | None) -> dict[str, Any]:
    """One attempt as ``/_sandbox/deliveries`` shows it (``_record`` numbers it)."""
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    record: dict[str, Any] = {"attempt": 0, "at": at, "status_code": status}
    if error is not None:
        record["error"] = error
    return record
