"""Webhook body rules (spec §7.5): URL, event types, delivery headers, subscription lists.

Pure validation, no store access, so each rule is testable alone. ``webhooks.py`` applies them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mailctl import limits
from mailctl.sandbox.backend.core import Caller, bad_request, missing_permission

EVENT_TYPES = frozenset(limits.EVENT_TYPES)

# §3.2: these events are never implied and need the matching label permission.
LABEL_EVENTS = {
    "message.received.spam": "label_spam_read",
    "message.received.blocked": "label_blocked_read",
    "message.received.unauthenticated": "label_unauthenticated_read",
}

MAX_POD_IDS = limits.WEBHOOK_PODS  # spec §7.5 (SDK docstring): at most 10 pods per webhook
MAX_URL_LEN = limits.WEBHOOK_URL.max
_NAME, _VALUE = limits.WEBHOOK_HEADER_NAME, limits.WEBHOOK_HEADER_VALUE
_HEADER_NAME = re.compile(rf"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{{{_NAME.min},{_NAME.max}}}\Z")
RESERVED_HEADERS = frozenset(limits.WEBHOOK_RESERVED_HEADERS)  # lower-case: a delivery sets or frames them
_FIX_VALUE = "Remove the spaces or tabs at the start and end of the value (those between other characters are kept)."


def check_url(url: str) -> str:
    """§11 Q24: an absolute http(s) URL with a host (http://localhost is fine for local CI)."""
    if len(url) > MAX_URL_LEN:
        raise bad_request(f"'url' must be at most {MAX_URL_LEN} characters", "url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise bad_request(f"'url' is not a valid URL: {url!r}", "url") from None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise bad_request(
            "'url' must be an absolute http:// or https:// URL with a host",
            "url",
            fix="Use e.g. https://example.com/webhooks or http://localhost:8080/hook.",
        )
    return url


def check_event_types(values: list[str] | None, *, required: bool) -> list[str] | None:
    """A non-empty list of known event types, de-duplicated in order; ``None``/``[]`` when optional.

    On update an omitted or empty list leaves the current one unchanged (spec §7.5), so the list
    can never be cleared.
    """
    if not values:
        if required:
            raise bad_request("'event_types' is required and must list at least one event type", "event_types")
        return None
    out: list[str] = []
    for i, value in enumerate(values):
        if value not in EVENT_TYPES:
            raise bad_request(
                f"Unknown event type {value!r}",
                f"event_types[{i}]",
                fix="Use one of: " + ", ".join(sorted(EVENT_TYPES)),
            )
        if value not in out:
            out.append(value)
    return out


def require_label_permissions(caller: Caller, event_types: list[str] | None) -> None:
    """§3.2: spam / blocked / unauthenticated events need the matching ``label_*_read`` flag.

    A webhook without a filter (legacy, ``event_types`` absent) receives every event, so it needs
    all three.
    """
    wanted = LABEL_EVENTS if event_types is None else {e: LABEL_EVENTS[e] for e in event_types if e in LABEL_EVENTS}
    for permission in wanted.values():
        if not caller.holds(permission):
            raise missing_permission(permission)


def check_headers(
    headers: dict[str, object] | None, field: str = "headers", *, webhook: bool = False
) -> dict[str, str] | None:
    """Custom headers: non-empty when present, valid HTTP names and values, unique names. A
    webhook's (``webhook``), which every delivery sends, also: none named in ``RESERVED_HEADERS``,
    and no value HTTP cannot carry (``limits.header_value_fault``: a space or tab at either end),
    which would fail every delivery before it is sent."""
    if headers is None:
        return None
    if not headers:
        raise bad_request(f"'{field}' must not be empty when present", field)
    seen: set[str] = set()
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise bad_request(f"Invalid header name {name!r}", f"{field}.{name}")
        if webhook and name.lower() in RESERVED_HEADERS:
            raise bad_request(
                f"Header {name!r} is reserved: every delivery sets or frames it itself",
                f"{field}.{name}",
                fix="Use another name; reserved (any case): " + ", ".join(sorted(RESERVED_HEADERS)) + ".",
            )
        if not isinstance(value, str):
            raise bad_request(f"Header {name!r} must have a string value", f"{field}.{name}")
        if len(value) > _VALUE.max:
            raise bad_request(f"The value of header {name!r} is longer than {_VALUE.max} characters", f"{field}.{name}")
        fault = limits.header_value_fault(value, padded_too=webhook)
        if fault is not None:  # the value is a secret: the message names the header only
            fix = _FIX_VALUE if fault == limits.HEADER_VALUE_PADDED else None
            raise bad_request(f"The value of header {name!r} {fault}", f"{field}.{name}", fix=fix)
        if name.lower() in seen:
            raise bad_request(f"Header {name!r} is given twice (names are case-insensitive)", f"{field}.{name}")
        seen.add(name.lower())
    return {name: str(value) for name, value in headers.items()}


def merge_headers(current: dict[str, str], set_: dict[str, str] | None, remove: list[str] | None) -> dict[str, str]:
    """Apply a headers PATCH atomically: set/replace ``set_``, drop ``remove`` (case-insensitive)."""
    removing = {name.lower() for name in remove or []}
    clash = sorted(name for name in set_ or {} if name.lower() in removing)
    if clash:
        raise bad_request(f"Header {clash[0]!r} cannot be set and removed in the same request", "remove_headers")
    replacing = {name.lower() for name in set_ or {}}
    kept = {n: v for n, v in current.items() if n.lower() not in removing and n.lower() not in replacing}
    return {**kept, **(set_ or {})}


def apply_id_changes(current: list[str], add: list[str] | None, remove: list[str] | None, field: str) -> list[str]:
    """Set semantics: add missing ids, drop removed ones; one id in both lists is a 400."""
    both = sorted(set(add or []) & set(remove or []))
    if both:
        raise bad_request(f"{both[0]!r} cannot be both added and removed", f"add_{field}")
    out = [i for i in current if i not in set(remove or [])]
    out += [i for i in dict.fromkeys(add or []) if i not in out]
    return out
