"""Every limit in `mailctl.limits` is enforced alike by the sandbox and by `mailctl validate` (issue 17
point 3): at the limit both accept, just past it the sandbox answers 400 and validate reports the
field, before any request. Both read the one table, so neither can drift from the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from contract_harness import ORG_KEY, Sandbox, auth

from mailctl import limits
from mailctl.config import load_texts
from mailctl.errors import ConfigError
from mailctl.kinds.base import REPLACED_SUFFIX
from mailctl.secrets import PENDING_SUFFIX

Send = Callable[[Sandbox, Any], httpx.Response]


def _post(path: str, body: Callable[[Any], dict[str, Any]]) -> Send:
    return lambda box, value: box.http.post(path, json=body(value), headers=auth(ORG_KEY))


def _inbox_config(fields: str) -> str:
    return f"version: 1\npods:\n  p:\n    inboxes:\n      a@agentmail.to: {{{fields}}}\n"


_WEBHOOK = {"url": "https://hooks.example/h", "event_types": ["message.received"]}


def _webhook_config(headers: str) -> str:
    hook = f"{{url: 'https://hooks.example/h', event_types: [message.received], headers: {headers}}}"
    return f"version: 1\nwebhooks:\n  w: {hook}\n"


def _domain(length: int) -> str:
    """A valid domain name of exactly ``length`` characters (labels of at most 63)."""
    labels, left = [], length
    while left > 64:
        labels.append("a" * 63)
        left -= 64
    name = ".".join([*labels, "b" * (left - 4), "com"])
    assert len(name) == length and left > 4, (length, len(name))
    return name


def _pods(box: Sandbox, count: int) -> list[str]:
    return [_post("/v0/pods", lambda i: {"name": f"p{i}"})(box, i).json()["pod_id"] for i in range(count)]


@dataclass(frozen=True)
class Case:
    limit: str  # its name in mailctl.limits
    at: Any  # accepted by both
    over: Any  # refused by both
    config: Callable[[Any], str]  # value -> a config file
    field: str  # where validate reports it (a prefix of the problem's path)
    send: Callable[[Sandbox, Any], httpx.Response]  # value -> the request that carries it


def _longest(limit: str, config: Callable[[Any], str], field: str, send: Send) -> Case:
    """The longest text the limit allows, and one character more."""
    length: limits.Length = getattr(limits, limit)
    return Case(limit, "x" * length.max, "x" * (length.max + 1), config, field, send)


CASES = [
    _longest(
        "POD_NAME",
        lambda v: f"version: 1\npods:\n  p: {{name: {v}}}\n",
        "pods.p.name",
        _post("/v0/pods", lambda v: {"name": v}),
    ),
    _longest(
        "CLIENT_ID",
        lambda v: f"version: 1\npods:\n  {v}: {{}}\n",
        "pods.x",
        _post("/v0/pods", lambda v: {"name": "p", "client_id": v}),
    ),
    _longest(
        "DISPLAY_NAME",
        lambda v: _inbox_config(f"display_name: {v}"),
        "pods.p.inboxes.a@agentmail.to.display_name",
        _post("/v0/inboxes", lambda v: {"username": "a", "display_name": v}),
    ),
    _longest(
        "METADATA_KEY",
        lambda v: _inbox_config(f"metadata: {{{v}: x}}"),
        "pods.p.inboxes.a@agentmail.to.metadata",
        _post("/v0/inboxes", lambda v: {"username": "a", "metadata": {v: "x"}}),
    ),
    Case(
        "METADATA_KEY",
        "k",
        "",
        lambda v: _inbox_config(f'metadata: {{"{v}": x}}'),
        "pods.p.inboxes.a@agentmail.to.metadata",
        _post("/v0/inboxes", lambda v: {"username": "a", "metadata": {v: "x"}}),
    ),
    _longest(
        "METADATA_VALUE",
        lambda v: _inbox_config(f"metadata: {{tier: {v}}}"),
        "pods.p.inboxes.a@agentmail.to.metadata.tier",
        _post("/v0/inboxes", lambda v: {"username": "a", "metadata": {"tier": v}}),
    ),
    Case(
        "METADATA_ENTRIES",
        limits.METADATA_ENTRIES,
        limits.METADATA_ENTRIES + 1,
        lambda n: _inbox_config("metadata: {" + ", ".join(f"k{i}: {i}" for i in range(n)) + "}"),
        "pods.p.inboxes.a@agentmail.to.metadata",
        _post("/v0/inboxes", lambda n: {"username": "a", "metadata": {f"k{i}": i for i in range(n)}}),
    ),
    Case(
        "WEBHOOK_URL",
        "https://hooks.example/" + "u" * (limits.WEBHOOK_URL.max - 22),
        "https://hooks.example/" + "u" * (limits.WEBHOOK_URL.max - 21),
        lambda v: f"version: 1\nwebhooks:\n  w: {{url: '{v}', event_types: [message.received]}}\n",
        "webhooks.w.url",
        _post("/v0/webhooks", lambda v: {"url": v, "event_types": ["message.received"]}),
    ),
    _longest(
        "WEBHOOK_HEADER_NAME",
        lambda v: _webhook_config(f"{{{v}: x}}"),
        "webhooks.w.headers",
        _post("/v0/webhooks", lambda v: {**_WEBHOOK, "headers": {v: "x"}}),
    ),
    _longest(
        "WEBHOOK_HEADER_VALUE",
        lambda v: _webhook_config(f"{{X-Token: {v}}}"),
        "webhooks.w.headers.X-Token",
        _post("/v0/webhooks", lambda v: {**_WEBHOOK, "headers": {"X-Token": v}}),
    ),
    _longest(
        "LIST_REASON",
        lambda v: f"version: 1\nlists:\n  receive:\n    block:\n      spam.example: {{reason: {v}}}\n",
        "lists.receive.block.spam.example.reason",
        _post("/v0/lists/receive/block", lambda v: {"entry": "spam.example", "reason": v}),
    ),
    Case(
        "LIST_REASON",
        "r",
        "",
        lambda v: f"version: 1\nlists:\n  receive:\n    block:\n      spam.example: {{reason: '{v}'}}\n",
        "lists.receive.block.spam.example.reason",
        _post("/v0/lists/receive/block", lambda v: {"entry": "spam.example", "reason": v}),
    ),
    Case(
        "LIST_ENTRY",
        "e" * limits.USERNAME.max + "@" + _domain(limits.DOMAIN_NAME.max),
        "e" * (limits.USERNAME.max + 1) + "@" + _domain(limits.DOMAIN_NAME.max),
        lambda v: f"version: 1\nlists:\n  receive:\n    block:\n      - {v}\n",
        "lists.receive.block[0]",
        _post("/v0/lists/receive/block", lambda v: {"entry": v}),
    ),
    Case(
        "DOMAIN_NAME",
        _domain(limits.DOMAIN_NAME.max),
        _domain(limits.DOMAIN_NAME.max + 1),
        lambda v: f"version: 1\ndomains:\n  {v}: {{}}\n",
        "domains.",
        _post("/v0/domains", lambda v: {"domain": v}),
    ),
    _longest(
        "USERNAME",
        lambda v: f"version: 1\npods:\n  p:\n    inboxes:\n      {v}@agentmail.to: {{}}\n",
        "pods.p.inboxes.x",
        _post("/v0/inboxes", lambda v: {"username": v}),
    ),
    Case(
        "TIMESTAMP_MAX",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-00:01",
        lambda v: f"version: 1\napi_keys:\n  k: {{expires_at: '{v}'}}\n",
        "api_keys.k.expires_at",
        _post("/v0/api-keys", lambda v: {"name": "k", "expires_at": v}),
    ),
]

# In the table but not a field a config can write: checked by the sandbox alone (for now).
NOT_IN_CONFIG = {
    "API_KEY_NAME": "config names stay within DECLARED_KEY_NAME (test below)",
    "TIMESTAMP_MIN": "in the past: the API refuses it anyway ('must be in the future')",
    "CLIENT_ID_CHARACTERS": "a character class, checked in both by the same pattern",
    "RESERVED_POD_PREFIX": "mailctl's own: tests/fixtures/bad/pod-client-id-reserved.yaml",
    "DECLARED_KEY_NAME": "mailctl's own: test below",
    "DECLARABLE_KEY_NAME": "a pattern, not a length: tests/unit/config/test_names_end_where_they_end.py and the "
    "export of undeclarable key names (tests/e2e/test_e2e_adoption.py)",
    "DECLARED_NAME": "mailctl's own: a webhook name inside its client_id",
    "WEBHOOK_PODS": "test below (needs existing pods)",
    "WEBHOOK_RESERVED_HEADERS": "names, not a length: test below",
    "WEBHOOK_HEADER_VALUE_CHARACTERS": "characters, not a length: both ask limits.header_value_fault (test below)",
    "HEADER_VALUE_PADDED": "a message header_value_fault gives, not a limit",
    "EVENT_TYPES": "a vocabulary, not a length: tests/unit/config/test_schema_generated.py checks both read it",
}


def _problems(config: str) -> list[str]:
    try:
        load_texts({"mailctl.yaml": config})
    except ConfigError as error:
        return [p.path for p in error.problems]
    return []


def test_every_limit_in_the_table_has_a_case() -> None:
    table = {name for name, value in vars(limits).items() if name.isupper() and name != "UTC"}
    assert table == {c.limit for c in CASES} | set(NOT_IN_CONFIG)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.limit}-{len(str(c.over))}")
def test_the_sandbox_and_validate_accept_at_the_limit_and_refuse_just_past_it(sandbox: Sandbox, case: Case) -> None:
    assert _problems(case.config(case.at)) == []
    assert case.send(sandbox, case.at).status_code == 200
    assert [p for p in _problems(case.config(case.over)) if p.startswith(case.field)], _problems(case.config(case.over))
    refused = case.send(sandbox, case.over)
    assert refused.status_code == 400, refused.text[:300]


def test_webhook_pods_are_limited_alike(sandbox: Sandbox) -> None:
    most = limits.WEBHOOK_PODS

    def config(n: int) -> str:
        pods = "".join(f"  t{i}: {{}}\n" for i in range(n))
        listed = ", ".join(f"t{i}" for i in range(n))
        hook = f"{{url: 'https://h.example', event_types: [message.received], pods: [{listed}]}}"
        return f"version: 1\npods:\n{pods}webhooks:\n  w: {hook}\n"

    pod_ids = _pods(sandbox, most + 1)
    send = _post(
        "/v0/webhooks", lambda ids: {"url": "https://h.example", "event_types": ["message.received"], "pod_ids": ids}
    )
    assert _problems(config(most)) == []
    assert send(sandbox, pod_ids[:most]).status_code == 200
    assert _problems(config(most + 1)) == ["webhooks.w.pods"]
    assert send(sandbox, pod_ids).status_code == 400


def test_a_declared_key_name_leaves_room_for_mailctls_markers_within_the_api_limit(sandbox: Sandbox) -> None:
    longest = "k" * limits.DECLARED_KEY_NAME.max
    assert _problems(f"version: 1\napi_keys:\n  {longest}: {{}}\n") == []
    send = _post("/v0/api-keys", lambda name: {"name": name})
    for marker in (PENDING_SUFFIX, REPLACED_SUFFIX):
        assert send(sandbox, longest + marker).status_code == 200  # what the writer names it meanwhile
    assert _problems(f"version: 1\napi_keys:\n  {longest}k: {{}}\n") == [f"api_keys.{longest}k"]
    assert send(sandbox, "k" * (limits.API_KEY_NAME.max + 1)).status_code == 400


def test_the_reserved_pod_prefix_is_the_apply_locks() -> None:
    from mailctl.api.lock import LOCK_PREFIX

    assert limits.RESERVED_POD_PREFIX == LOCK_PREFIX


@pytest.mark.parametrize("reserved", limits.WEBHOOK_RESERVED_HEADERS)
def test_reserved_webhook_header_names_are_refused_alike(sandbox: Sandbox, reserved: str) -> None:
    """A custom header named like one the delivery sets itself went out as a second copy (a forged
    ``svix-id`` a handler reads first) or broke every attempt (``Content-Length``): validate and the
    sandbox refuse it in any case, on create and on PATCH .../headers, and nothing changes."""
    name = reserved.title()  # Svix-Id, Content-Length: names are case-insensitive
    assert _problems(_webhook_config(f"{{{name}: x}}")) == [f"webhooks.w.headers.{name}"]
    send = _post("/v0/webhooks", lambda headers: {**_WEBHOOK, "headers": headers})
    refused = send(sandbox, {"X-Token": "t", name: "forged"})
    assert (refused.status_code, refused.json()["errors"][0]["path"]) == (400, f"headers.{name}"), refused.text
    assert sandbox.http.get("/v0/webhooks", headers=auth(ORG_KEY)).json()["webhooks"] == []
    hook = send(sandbox, {"X-Token": "t"}).json()["webhook_id"]
    patched = sandbox.http.patch(
        f"/v0/webhooks/{hook}/headers", json={"headers": {name: "forged"}}, headers=auth(ORG_KEY)
    )
    assert (patched.status_code, patched.json()["errors"][0]["path"]) == (400, f"headers.{name}"), patched.text
    names = sandbox.http.get(f"/v0/webhooks/{hook}/headers", headers=auth(ORG_KEY)).json()["header_names"]
    assert names == ["X-Token"]


@pytest.mark.parametrize(
    ("value", "refused"),
    [(" t0k", True), ("t0k ", True), ("\tt0k", True), (" ", True), ("t0k\x07", True), ("", False), ("t 0\tk", False)],
)
def test_webhook_header_values_http_cannot_carry_are_refused_alike(sandbox: Sandbox, value: str, refused: bool) -> None:
    """A value with a space or tab at either end was stored, then failed every delivery before it
    was sent: validate and the sandbox refuse the same values (create and PATCH .../headers)."""
    wanted = ["webhooks.w.headers.X-Token"] if refused else []
    assert _problems(_webhook_config("{X-Token: " + json.dumps(value) + "}")) == wanted
    made = _post("/v0/webhooks", lambda headers: {**_WEBHOOK, "headers": headers})(sandbox, {"X-Token": value})
    assert made.status_code == (400 if refused else 200), made.text
    hook = _post("/v0/webhooks", lambda body: body)(sandbox, _WEBHOOK).json()["webhook_id"]
    patched = sandbox.http.patch(
        f"/v0/webhooks/{hook}/headers", json={"headers": {"X-Token": value}}, headers=auth(ORG_KEY)
    )
    assert patched.status_code == (400 if refused else 204), patched.text
