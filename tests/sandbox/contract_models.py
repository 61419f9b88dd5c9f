"""Which SDK model every sandbox response must parse as, and the strict checks applied to it.

The SDK builds response objects with `construct_type`, which never validates. These helpers
validate the *raw JSON* the sandbox sent, route by route, with `Model.model_validate`, and add
the checks pydantic's lax mode skips: no unknown fields, enum values from the listed set,
optional fields omitted rather than `null`, and RFC 3339 UTC timestamps (spec §1.4, §9).
"""

from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass
from typing import Any

import pydantic
from agentmail import (
    BearerApiKey,
    CreateApiKeyResponse,
    Domain,
    Draft,
    ErrorResponse,
    GetSetupLinkResponse,
    Identity,
    ListApiKeysResponse,
    ListDomainsResponse,
    ListDraftsResponse,
    ListEntry,
    ListListEntriesResponse,
    ListMessagesResponse,
    ListThreadsResponse,
    Message,
    Organization,
    PodListEntry,
    PodListListEntriesResponse,
    PublicKeyCredential,
    SendMessageResponse,
    Thread,
    UpdateMessageResponse,
    UpdateThreadResponse,
    ValidationErrorResponse,
)
from agentmail.inboxes import Inbox, ListInboxesResponse, SearchInboxesResponse
from agentmail.pods import ListPodsResponse, Pod
from agentmail.webhooks import ListWebhooksResponse, Webhook, WebhookHeaderNamesResponse

ZONE_FILE = "zone-file"  # marker: the body is BIND text, not JSON
API_KEY = "api-key-union"  # marker: BearerApiKey | PublicKeyCredential, resolved by `type`
CREATED_KEY = "created-key-union"  # marker: CreateApiKeyResponse | PublicKeyCredential (`type`)
NO_BODY = "no-body"  # 204 routes

# (method, path pattern, model). `*` matches one path segment; literals are listed before
# the `*` routes they collide with (spec §1.3: /inboxes/search, /webhooks/polling).
_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/v0/auth/me", Identity),
    ("GET", "/v0/organizations", Organization),
    ("GET", "/v0/pods", ListPodsResponse),
    ("POST", "/v0/pods", Pod),
    ("GET", "/v0/pods/*", Pod),
    ("GET", "/v0/inboxes", ListInboxesResponse),
    ("GET", "/v0/inboxes/search", SearchInboxesResponse),
    ("POST", "/v0/inboxes", Inbox),
    ("GET", "/v0/inboxes/*", Inbox),
    ("PATCH", "/v0/inboxes/*", Inbox),
    ("GET", "/v0/pods/*/inboxes", ListInboxesResponse),
    ("GET", "/v0/pods/*/inboxes/search", SearchInboxesResponse),
    ("POST", "/v0/pods/*/inboxes", Inbox),
    ("GET", "/v0/pods/*/inboxes/*", Inbox),
    ("PATCH", "/v0/pods/*/inboxes/*", Inbox),
    ("GET", "/v0/domains", ListDomainsResponse),
    ("POST", "/v0/domains", Domain),
    ("GET", "/v0/domains/*", Domain),
    ("PATCH", "/v0/domains/*", Domain),
    ("GET", "/v0/domains/*/zone-file", ZONE_FILE),
    ("GET", "/v0/domains/*/setup-link", GetSetupLinkResponse),
    ("GET", "/v0/pods/*/domains", ListDomainsResponse),
    ("POST", "/v0/pods/*/domains", Domain),
    ("GET", "/v0/pods/*/domains/*", Domain),
    ("PATCH", "/v0/pods/*/domains/*", Domain),
    ("GET", "/v0/pods/*/domains/*/zone-file", ZONE_FILE),
    ("GET", "/v0/api-keys", ListApiKeysResponse),
    ("POST", "/v0/api-keys", CREATED_KEY),
    ("GET", "/v0/api-keys/*", API_KEY),
    ("PATCH", "/v0/api-keys/*", API_KEY),
    ("GET", "/v0/pods/*/api-keys", ListApiKeysResponse),
    ("POST", "/v0/pods/*/api-keys", CREATED_KEY),
    ("PATCH", "/v0/pods/*/api-keys/*", API_KEY),
    ("GET", "/v0/inboxes/*/api-keys", ListApiKeysResponse),
    ("POST", "/v0/inboxes/*/api-keys", CREATED_KEY),
    ("PATCH", "/v0/inboxes/*/api-keys/*", API_KEY),
    ("GET", "/v0/lists/*/*", ListListEntriesResponse),
    ("POST", "/v0/lists/*/*", ListEntry),
    ("GET", "/v0/lists/*/*/*", ListEntry),
    ("GET", "/v0/threads", ListThreadsResponse),
    ("GET", "/v0/threads/*", Thread),
    ("PATCH", "/v0/threads/*", UpdateThreadResponse),
    ("GET", "/v0/drafts", ListDraftsResponse),
    ("GET", "/v0/drafts/*", Draft),
]
for _prefix in ("/v0", "/v0/pods/*", "/v0/inboxes/*"):
    _ROUTES += [
        ("GET", f"{_prefix}/webhooks", ListWebhooksResponse),
        ("POST", f"{_prefix}/webhooks", Webhook),
        ("GET", f"{_prefix}/webhooks/*", Webhook),
        ("PATCH", f"{_prefix}/webhooks/*", Webhook),
        ("GET", f"{_prefix}/webhooks/*/headers", WebhookHeaderNamesResponse),
    ]
for _prefix in ("/v0/pods/*", "/v0/inboxes/*"):
    _ROUTES += [
        ("GET", f"{_prefix}/lists/*/*", PodListListEntriesResponse),
        ("POST", f"{_prefix}/lists/*/*", PodListEntry),
        ("GET", f"{_prefix}/lists/*/*/*", PodListEntry),
        ("GET", f"{_prefix}/threads", ListThreadsResponse),
        ("GET", f"{_prefix}/threads/*", Thread),
        ("PATCH", f"{_prefix}/threads/*", UpdateThreadResponse),
        ("GET", f"{_prefix}/drafts", ListDraftsResponse),
        ("GET", f"{_prefix}/drafts/*", Draft),
    ]
_ROUTES += [
    ("POST", "/v0/inboxes/*/messages/send", SendMessageResponse),
    ("POST", "/v0/inboxes/*/messages/*/reply", SendMessageResponse),
    ("POST", "/v0/inboxes/*/messages/*/reply-all", SendMessageResponse),
    ("POST", "/v0/inboxes/*/messages/*/forward", SendMessageResponse),
    ("GET", "/v0/inboxes/*/messages", ListMessagesResponse),
    ("GET", "/v0/inboxes/*/messages/*", Message),
    ("PATCH", "/v0/inboxes/*/messages/*", UpdateMessageResponse),
    ("POST", "/v0/inboxes/*/drafts", Draft),
    ("PATCH", "/v0/inboxes/*/drafts/*", Draft),
    ("POST", "/v0/inboxes/*/drafts/*/send", SendMessageResponse),
]

# Spec §1.4: deletes, domain verify and webhook header PATCH answer 204 with no body.
_ROUTES += [
    (m, p, NO_BODY)
    for m, p in [
        ("DELETE", "/v0/pods/*"),
        ("DELETE", "/v0/inboxes/*"),
        ("DELETE", "/v0/pods/*/inboxes/*"),
        ("DELETE", "/v0/domains/*"),
        ("DELETE", "/v0/pods/*/domains/*"),
        ("POST", "/v0/domains/*/verify"),
        ("POST", "/v0/pods/*/domains/*/verify"),
        ("DELETE", "/v0/api-keys/*"),
        ("DELETE", "/v0/pods/*/api-keys/*"),
        ("DELETE", "/v0/inboxes/*/api-keys/*"),
        ("DELETE", "/v0/lists/*/*/*"),
        ("DELETE", "/v0/pods/*/lists/*/*/*"),
        ("DELETE", "/v0/inboxes/*/lists/*/*/*"),
        ("DELETE", "/v0/inboxes/*/messages/*"),
        ("DELETE", "/v0/inboxes/*/drafts/*"),
        ("DELETE", "/v0/threads/*"),
        ("DELETE", "/v0/pods/*/threads/*"),
        ("DELETE", "/v0/inboxes/*/threads/*"),
    ]
]
_ROUTES += [
    (m, f"{prefix}/webhooks/*{tail}", NO_BODY)
    for prefix in ("/v0", "/v0/pods/*", "/v0/inboxes/*")
    for m, tail in (("DELETE", ""), ("PATCH", "/headers"))
]

# Spec §2.3: the documented `code` values per status. Statuses not listed (405, 413, ...)
# are not documented; any non-empty code is accepted for them.
ERROR_CODES: dict[int, set[str]] = {
    400: {"validation_error", "query_range_too_wide"},
    401: {"missing_authorization", "invalid_token_type", "unknown_api_key", "unauthorized", "api_key_expired"},
    403: {
        "missing_permission",
        "permission_escalation",
        "unrestricted_key_required",
        "forbidden",
        "message_rejected",
        "inbox_paused",
        "already_exists",
        "resource_taken",
        "limit_exceeded",
        "domain_not_verified",
        "resource_deleting",
        "cannot_delete",
    },
    404: {"not_found"},
    409: {"conflict", "race_condition"},
    422: {"unprocessable"},
    429: {"rate_limit_exceeded"},
    500: {"internal_error"},
    503: {"service_unavailable"},
}

# Spec §2.1 [rec]: the `name` per status (403 also IsTakenError for taken names, §11 Q2).
ERROR_NAMES: dict[int, set[str]] = {
    400: {"ValidationError"},
    401: {"UnauthorizedError"},
    403: {"ForbiddenError", "IsTakenError"},
    404: {"NotFoundError"},
    409: {"ConflictError"},
    422: {"UnprocessableError"},
    429: {"RateLimitError"},
}
DOCS_URL = "https://docs.agentmail.to/errors#"

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
_TIMESTAMP_KEYS = {
    "created_at",
    "updated_at",
    "expires_at",
    "used_at",
    "timestamp",
    "received_timestamp",
    "sent_timestamp",
    "send_at",
}


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def model_for(method: str, path: str) -> Any | None:
    """The model (or marker) for a sandbox route; None when the route is not in the table."""
    segs = _segments(path)
    for route_method, pattern, model in _ROUTES:
        pat = _segments(pattern)
        if (
            route_method == method
            and len(pat) == len(segs)
            and all(p == "*" or p == s for p, s in zip(pat, segs, strict=True))
        ):
            return model
    return None


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _literal_choices(annotation: Any) -> tuple[Any, ...] | None:
    """For an SDK enum field (`Literal[...] | Any`), the listed values."""
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            return typing.get_args(arg)
    return None


def _model_problems(obj: Any, where: str) -> list[Problem]:
    """Extra fields and off-list enum values anywhere in a validated model tree."""
    problems: list[Problem] = []
    if isinstance(obj, pydantic.BaseModel):
        for key in obj.model_extra or {}:
            problems.append(Problem(where, f"unknown field {key!r} for {type(obj).__name__}"))
        for name, field in type(obj).model_fields.items():
            value = getattr(obj, name)
            choices = _literal_choices(field.annotation)
            if choices and value is not None and value not in choices:
                problems.append(Problem(f"{where}.{name}", f"{value!r} not one of {choices}"))
            problems += _model_problems(value, f"{where}.{name}")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            problems += _model_problems(item, f"{where}[{i}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            problems += _model_problems(item, f"{where}.{key}")
    return problems


def _raw_problems(raw: Any, where: str) -> list[Problem]:
    """`null` where a field should be omitted, and timestamps that are not UTC RFC 3339."""
    problems: list[Problem] = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            here = f"{where}.{key}"
            if value is None:
                problems.append(Problem(here, "null sent; unset optional fields must be omitted"))
            elif key in _TIMESTAMP_KEYS and not (isinstance(value, str) and _TIMESTAMP.match(value)):
                problems.append(Problem(here, f"timestamp {value!r} is not UTC RFC 3339 ('...Z')"))
            else:
                problems += _raw_problems(value, here)
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            problems += _raw_problems(item, f"{where}[{i}]")
    return problems


def validate_body(model: Any, raw: Any) -> list[Problem]:
    """Strictly validate one decoded JSON body against `model`; return every problem found."""
    public = isinstance(raw, dict) and raw.get("type") == "public_key"
    if model is API_KEY:
        model = PublicKeyCredential if public else BearerApiKey
    elif model is CREATED_KEY:  # a create with `public_key` registers a PublicKeyCredential
        model = PublicKeyCredential if public else CreateApiKeyResponse
    try:
        parsed = model.model_validate(raw)
    except pydantic.ValidationError as exc:
        return [Problem("$", f"{model.__name__}: {err['loc']} {err['msg']}") for err in exc.errors()]
    return _model_problems(parsed, "$") + _raw_problems(raw, "$")


def validate_error(status: int, raw: Any) -> list[Problem]:
    """Spec §2.1/§2.3: `name` + `message` (or `name` + `errors` for 400) and a documented code."""
    model = ValidationErrorResponse if status == 400 else ErrorResponse
    problems = validate_body(model, raw)
    code = raw.get("code") if isinstance(raw, dict) else None
    if not isinstance(code, str) or not code:
        problems.append(Problem("$.code", f"missing error code in a {status} body"))
    elif status in ERROR_CODES and code not in ERROR_CODES[status]:
        problems.append(Problem("$.code", f"{code!r} is not a documented code for {status}"))
    body = raw if isinstance(raw, dict) else {}
    if status in ERROR_NAMES and body.get("name") not in ERROR_NAMES[status]:
        problems.append(Problem("$.name", f"{body.get('name')!r} is not the name for {status}"))
    if "docs" in body and body["docs"] != f"{DOCS_URL}{code}":
        problems.append(Problem("$.docs", f"{body['docs']!r} is not {DOCS_URL}<code>"))
    return problems


def decode_json(content: bytes) -> Any:
    return json.loads(content.decode("utf-8"))
