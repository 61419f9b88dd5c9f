"""The sandbox as a WSGI application: HTTP in, backend call, HTTP out. No API rules live here.

    app = create_app()                      # in-memory, dev key "am_sandbox_dev_key"
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox")

Webhook events a request records are POSTed afterwards by ``webhooks`` (a ``WebhookWorker``), on
its own thread, so no request waits for a handler.

Request pipeline: the key's organisation -> path checks -> latency (no lock held, and over HTTP
no server turn either: ``pace``) -> route ->
rate limit -> body -> fault "before" -> one store transaction (auth + handler) -> fault "after"
-> response. Knobs, stats and scripted faults belong to one organisation (``OrgRegistry``);
latency, rate limits and faults apply to ``/v0`` only, never to the ``/_sandbox`` control API.
Bad input of any kind gives a 4xx JSON body in the §2.1 shape; an unexpected bug gives a 500
JSON body (logged to ``wsgi.errors``), never a traceback on the wire.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mailctl import strict_json
from mailctl.sandbox.backend import org
from mailctl.sandbox.backend.auth import authenticate, bearer_token, live_key_org
from mailctl.sandbox.backend.core import Ctx, Reply, SandboxError, Settings, Tx, bad_request, secret_hash
from mailctl.sandbox.backend.errors import not_found
from mailctl.sandbox.backend.events import PENDING, WEBHOOK_DELIVERY
from mailctl.sandbox.backend.validate import Body, Query
from mailctl.sandbox.knobs import OrgKnobs, OrgRegistry, RateLimiter, Stats
from mailctl.sandbox.router import Router
from mailctl.sandbox.routes import ROUTES
from mailctl.sandbox.store import Store
from mailctl.sandbox.webhook_worker import WebhookWorker

DEV_API_KEY = "am_sandbox_dev_key"  # the org-level key used when none is configured
MAX_BODY_BYTES = 1024 * 1024
_LATENCY_ORGS_KEPT = 10_000  # keys remembered by _latency_org (past it, forgotten at once)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
PACED = "mailctl.sandbox.paced"  # environ key: the latency was waited out already (``pace``)
_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

StartResponse = Callable[..., Any]


def _path_parts(environ: dict[str, Any]) -> list[str]:
    """The decoded path segments, or a 4xx for NUL bytes, dot segments and encoded slashes."""
    path = environ.get("PATH_INFO") or "/"
    try:  # PEP 3333 servers (server.py) hand over latin-1; in-process transports give real text
        path = path.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    raw = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or "").split("?", 1)[0].lower()
    if "\x00" in path or "%00" in raw:
        raise bad_request("The path must not contain NUL characters")
    if "%2f" in raw or "%5c" in raw or "\\" in path:
        raise bad_request("The path must not contain encoded slashes or backslashes")
    parts = path.strip("/").split("/") if path.strip("/") else []
    if any(p in (".", "..") for p in parts):
        raise bad_request("The path must not contain '.' or '..' segments")
    return parts


def _read_body(environ: dict[str, Any], method: str) -> Body:
    if method not in WRITE_METHODS:
        return Body({})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise bad_request("Invalid Content-Length header") from None
    if length > MAX_BODY_BYTES:
        raise SandboxError(413, "payload_too_large", f"Request body exceeds {MAX_BODY_BYTES} bytes")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not raw.strip():
        return Body({})
    _require_identity_coding(environ.get("HTTP_CONTENT_ENCODING"))
    _require_json_media_type(environ.get("CONTENT_TYPE"))
    try:
        # Not NaN, Infinity nor 1e400: stored, no answer holding one would be JSON.
        data = strict_json.loads(raw.decode("utf-8"))
    except strict_json.NotFinite as exc:
        raise bad_request(f"Request body holds a number no float can hold: {exc}") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request("Request body is not valid JSON") from None
    _reject_unencodable(data, "")
    return Body(data)


def _require_identity_coding(content_encoding: str | None) -> None:
    """A body in a content coding the sandbox does not decode (anything but ``identity``) is 415,
    with ``Accept-Encoding: identity`` (RFC 9110 §8.4.1, §12.5.3): read as it came, a gzip body
    was a 400 "not valid JSON", and ``{}`` labelled gzip passed for JSON."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    unsupported = [c for c in codings if c != "identity"]
    if unsupported:
        named = ", ".join(unsupported)
        named = named if len(named) <= 100 else named[:100] + "..."
        raise SandboxError(
            415,
            "unsupported_media_type",
            f"Request bodies must not be content-encoded; {named} is not supported",
            headers={"Accept-Encoding": "identity"},
            fix="Send the JSON body uncompressed, without a Content-Encoding header.",
        )


def _require_json_media_type(content_type: str | None) -> None:
    """A body declared as anything but JSON is 415, not parsed as JSON anyway (issue 17). No
    Content-Type at all is read as JSON (curl-style clients leave it out)."""
    if not content_type:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise SandboxError(
            415,
            "unsupported_media_type",
            f"Request bodies must be application/json, not {media or 'an empty media type'}",
            fix="Send the body as JSON with 'Content-Type: application/json'.",
        )


def _reject_unencodable(value: Any, path: str) -> None:
    """400 for text UTF-8 cannot carry (a lone surrogate such as ``"\\ud800"``): stored, it would
    break every later response that includes it."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request(
                f"'{path or 'body'}' contains a lone surrogate (text that is not valid Unicode)", path
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            _reject_unencodable(key, path or "body")
            _reject_unencodable(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _reject_unencodable(item, f"{path}[{i}]")


@dataclass
class _Call:
    """What the stats and the webhook worker need to know of one request, however it ends."""

    method: str
    token: str | None
    knobs: OrgKnobs | None = None  # the organisation of a live key (stats, knobs)
    known: bool = False  # whether ``knobs`` was looked up (in the request's transaction)
    route_name: str = "(unmatched)"
    fault: Literal["before", "after"] | None = None
    recorded_deliveries: bool = False  # the transaction wrote webhook deliveries to send


_INJECTED_BEFORE = SandboxError(503, "service_unavailable", "Injected fault: the request was not processed")
_INJECTED_AFTER = SandboxError(500, "internal_error", "Injected fault: the write was committed but the response failed")


class SandboxApp:
    """A WSGI callable exposing ``store``, ``orgs`` (per-organisation knobs, stats and faults),
    ``org_id`` (the bootstrap organisation) and ``reset()`` for tests."""

    def __init__(self, db: str, api_keys: Sequence[str], settings: Settings):
        self.store = Store(db)
        self.bootstrap_keys = tuple(api_keys) or (DEV_API_KEY,)
        self.router = Router(ROUTES)
        self.orgs = OrgRegistry(settings)
        self.unattributed = Stats()  # requests without a known key (401s); no key can read them
        self.rate_limiter = RateLimiter()
        self.webhooks = WebhookWorker(self.store, lambda org_id: self.orgs.get(org_id).settings)
        self._latency_orgs: dict[str, OrgKnobs] = {}  # key hash -> its organisation (``_latency_org``)
        with self.store.transaction() as tx:
            self.org_id = org.seed(tx, self.bootstrap_keys)
            pending = tx.count(WEBHOOK_DELIVERY, ref=PENDING)
        if pending:  # left by a previous run of this database
            self.webhooks.wake()

    @property
    def settings(self) -> Settings:
        """The bootstrap organisation's knobs (what ``create_app`` was given, unless PATCHed)."""
        return self.orgs.get(self.org_id).settings

    # -- control -----------------------------------------------------------------------------
    def reset_org(self, tx: Tx, org_id: str) -> None:
        """Wipe one organisation inside ``tx`` and reseed it; zero its stats, buckets and faults."""
        org.reset(tx, org_id, self.bootstrap_keys if org_id == self.org_id else ())
        knobs = self.orgs.get(org_id)
        knobs.stats.clear()
        knobs.faults.disarm()
        self.rate_limiter.clear(org_id)

    def reset(self) -> None:
        with self.store.transaction() as tx:
            self.reset_org(tx, self.org_id)

    def close(self) -> None:
        """Stop the webhook worker (an attempt in flight finishes), then close the store."""
        self.webhooks.close()
        self.store.close()

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        call = _Call(str(environ.get("REQUEST_METHOD", "GET")).upper(), bearer_token(environ.get("HTTP_AUTHORIZATION")))
        try:
            reply = self._handle(environ, call)
        except SandboxError as exc:
            reply = Reply(exc.status, exc.body(), headers=exc.headers)
        except Exception:  # a sandbox bug: report it as a JSON 500, log it, never leak a traceback
            environ["wsgi.errors"].write(traceback.format_exc())
            reply = Reply(500, SandboxError(500, "internal_error", "Internal sandbox error").body())
        if not call.known:  # refused before its transaction looked the key up (a bad path or route)
            call.knobs = self._knobs_of(call.token)
        stats = call.knobs.stats if call.knobs is not None else self.unattributed
        stats.record(call.method, call.route_name, reply.status, call.fault)
        if call.recorded_deliveries:
            self.webhooks.wake()
        return self._respond(reply, start_response, head=call.method == "HEAD")

    def _handle(self, environ: dict[str, Any], call: _Call) -> Reply:
        """Route, pace, throttle, inject faults and run the handler in one transaction."""
        parts = _path_parts(environ)
        api = bool(parts) and parts[0] == "v0"  # knobs apply to the API, never to /_sandbox
        if api and not environ.get(PACED):
            self._sleep(self._latency_org(call.token))
        route, params = self.router.match(call.method, parts)
        call.route_name = route.pattern
        with self.store.transaction() as tx:
            org_id = live_key_org(tx, call.token) if call.token else None
            call.knobs, call.known = (self.orgs.get(org_id) if org_id else None), True
            throttled = call.knobs if api else None  # nor to 401s: a dead key spends no budget
            if throttled is not None and org_id is not None and call.token is not None:
                self._throttle(throttled.settings, org_id, call.token)
            body = _read_body(environ, call.method)
            armed = self._fault(call, throttled, route.pattern)
            if call.fault == "before":
                raise armed.error() if armed else _INJECTED_BEFORE
            ctx = Ctx(
                tx=tx,
                caller=authenticate(tx, environ.get("HTTP_AUTHORIZATION")),
                params=params,
                query=Query(environ.get("QUERY_STRING", "")),
                body=body,
                settings=call.knobs.settings if call.knobs is not None else self.orgs.defaults,
                route=route.pattern,
                method=call.method,
                sandbox=self,
                idempotency_key=environ.get("HTTP_IDEMPOTENCY_KEY"),
            )
            reply = route.handler(ctx)
            call.recorded_deliveries = WEBHOOK_DELIVERY in tx.inserted  # the worker sends them
        if call.fault == "after":
            raise armed.error() if armed else _INJECTED_AFTER
        return reply

    @staticmethod
    def _fault(call: _Call, api: OrgKnobs | None, pattern: str) -> Any:
        """The fault armed for this route (``/_sandbox/faults``), else one drawn at the fault rate."""
        if api is None:
            return None
        armed = api.faults.take(call.method, pattern)
        if armed:
            call.fault = armed.when
        elif call.method in WRITE_METHODS:
            call.fault = api.faults.draw(api.settings)
        return armed

    def _knobs_of(self, token: str | None) -> OrgKnobs | None:
        """The knobs of a live key's organisation, or None for an unknown, deleted or expired key.
        Never cached: a key deleted a moment ago must not keep spending its organisation's budget."""
        if token is None:
            return None
        with self.store.transaction() as tx:
            org_id = live_key_org(tx, token)
        return self.orgs.get(org_id) if org_id else None

    def _latency_org(self, token: str | None) -> OrgKnobs | None:
        """Whose latency a request waits out, before the store is touched: the organisation its key
        belonged to when first seen live. A key never changes organisation, so this one is cached
        (a lookup fewer per request, in the lock every request takes); whether the key is still
        live is decided in the request's transaction, before the rate limit and the stats."""
        if token is None:
            return None
        digest = secret_hash(token)
        knobs = self._latency_orgs.get(digest)
        if knobs is None:
            knobs = self._knobs_of(token)
            if knobs is not None:
                if len(self._latency_orgs) >= _LATENCY_ORGS_KEPT:
                    self._latency_orgs.clear()
                self._latency_orgs[digest] = knobs
        return knobs

    def _throttle(self, settings: Settings, org_id: str, token: str) -> None:
        # AgentMail's budget is per organisation (every key shares it); per key on request
        budget = org_id if settings.rate_limit_scope == "org" else f"{org_id}|{secret_hash(token)}"
        retry_after = self.rate_limiter.acquire(budget, settings.rate_limit)
        if retry_after is not None:
            whose = "organization" if settings.rate_limit_scope == "org" else "API key"
            raise SandboxError(
                429,
                "rate_limit_exceeded",
                f"Rate limit exceeded for this {whose}; retry after {retry_after} s (the Retry-After header)",
                headers={"Retry-After": str(retry_after)},
                fix="Retry after the Retry-After delay.",
            )

    def pace(self, environ: dict[str, Any]) -> None:
        """Wait out the injected latency of a request's organisation before it is served, and mark
        the request as paced. ``server.py`` calls it before taking one of the ``--threads`` turns,
        so one organisation's latency never holds a turn another organisation's request needs (a
        request that skips it, in-process, waits its latency inside ``__call__`` instead)."""
        try:
            parts = _path_parts(environ)
        except SandboxError:
            return  # refused by __call__, unpaced
        if parts and parts[0] == "v0":
            self._sleep(self._latency_org(bearer_token(environ.get("HTTP_AUTHORIZATION"))))
        environ[PACED] = True

    @staticmethod
    def _sleep(knobs: OrgKnobs | None) -> None:
        if knobs is None:
            return
        delay = knobs.latency()
        if delay > 0:
            time.sleep(delay)

    @staticmethod
    def _respond(reply: Reply, start_response: StartResponse, *, head: bool = False) -> Iterable[bytes]:
        """The reply on the wire; for HEAD, the GET answer's status and headers (its
        Content-Length included) without the body."""
        if reply.status == 204 or reply.body is None:
            payload = b""
        elif isinstance(reply.body, bytes):
            payload = reply.body
        elif isinstance(reply.body, str):
            payload = reply.body.encode("utf-8")
        else:
            try:
                payload = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:  # a surrogate stored before writes rejected them: still answer
                payload = json.dumps(reply.body).encode("ascii")
        headers = [("Content-Length", str(len(payload)))]
        if payload:
            headers.append(("Content-Type", reply.content_type))
        headers += list(reply.headers.items())
        start_response(f"{reply.status} {_REASONS.get(reply.status, 'Status')}", headers)
        return [b"" if head else payload]


def create_app(
    db: str = ":memory:",
    api_keys: Sequence[str] = (),
    page_size: int = 50,
    latency_ms: int = 0,
    latency_jitter_ms: int = 0,
    rate_limit: float | None = None,
    fault_rate: float = 0.0,
    seed: int | None = None,
    domain_verification: str = "auto",
    fault_mode: str = "both",
    rate_limit_scope: str = "org",
    open_tracking: str = "enabled",
    webhook_deliveries: str = "enabled",
    webhook_retry_ms: int = 1000,
) -> SandboxApp:
    """Build a sandbox. ``api_keys`` are org-level keys; with none, ``DEV_API_KEY`` is the key.
    The knobs are every organisation's starting values; each organisation changes its own."""
    from mailctl.sandbox.control import validate_config

    knobs = {
        "page_size": page_size,
        "latency_ms": latency_ms,
        "latency_jitter_ms": latency_jitter_ms,
        "rate_limit": rate_limit,
        "fault_rate": fault_rate,
        "seed": seed,
        "domain_verification": domain_verification,
        "fault_mode": fault_mode,
        "rate_limit_scope": rate_limit_scope,
        "open_tracking": open_tracking,
        "webhook_deliveries": webhook_deliveries,
        "webhook_retry_ms": webhook_retry_ms,
    }
    try:
        settings = validate_config(knobs, Settings())
    except SandboxError as exc:
        raise ValueError(exc.message) from None
    return SandboxApp(db, api_keys, settings)


__all__ = ["DEV_API_KEY", "SandboxApp", "create_app", "not_found"]
