"""Backend rules in isolation: effective permissions, key escalation, page tokens."""

from __future__ import annotations

from functools import partial

import pytest

from mailctl.sandbox.backend.api_keys import check_grant
from mailctl.sandbox.backend.core import Caller, SandboxError
from mailctl.sandbox.backend.pagination import decode_token, encode_token
from mailctl.sandbox.store import Row

ORG = Caller(org_id="o", api_key_id="k")
POD = Caller(org_id="o", api_key_id="k", pod_id="p")
INBOX = Caller(
    org_id="o",
    api_key_id="k",
    pod_id="p",
    inbox_id="i@agentmail.to",
    permissions={"inbox_create": True, "inbox_read": True},
)


def _code(fn) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(SandboxError) as info:
        fn()
    return info.value.status, info.value.code


def test_absent_permissions_grant_everything_but_opt_in_flags() -> None:
    assert ORG.holds("domain_delete") and not ORG.holds("agent_armor_release")


def test_present_permissions_are_a_whitelist() -> None:
    restricted = Caller(org_id="o", api_key_id="k", permissions={"inbox_read": True, "inbox_update": False})
    assert restricted.holds("inbox_read")
    assert not restricted.holds("inbox_update") and not restricted.holds("pod_read")


def test_scope_caps_permissions_even_when_set_true() -> None:
    assert INBOX.holds("inbox_read") and not INBOX.holds("inbox_create")
    assert not POD.holds("pod_create") and POD.holds("inbox_create")


def test_restricted_key_cannot_create_an_unrestricted_one() -> None:
    restricted = Caller(org_id="o", api_key_id="k", permissions={"inbox_read": True})
    assert _code(lambda: check_grant(restricted, None)) == (403, "unrestricted_key_required")


def test_key_cannot_grant_a_flag_it_lacks() -> None:
    restricted = Caller(org_id="o", api_key_id="k", permissions={"inbox_read": True})
    check_grant(restricted, {"inbox_read": True, "inbox_delete": False})
    assert _code(lambda: check_grant(restricted, {"inbox_delete": True})) == (403, "permission_escalation")
    assert _code(lambda: check_grant(POD, {"pod_create": True})) == (403, "permission_escalation")


def _row(seq: int) -> Row:
    return Row("pod", "x", "o", None, None, None, None, "2026-01-01T00:00:00.000Z", seq, {})


def test_page_token_round_trips_and_is_bound_to_listing_and_order() -> None:
    token = encode_token(_row(42), False, "GET /v0/pods|o")
    assert decode_token(token, False, "GET /v0/pods|o").seq == 42
    for ascending, listing in ((True, "GET /v0/pods|o"), (False, "GET /v0/inboxes|o")):
        assert _code(partial(decode_token, token, ascending, listing)) == (400, "validation_error")


@pytest.mark.parametrize("junk", ["", "abc", "!!!", "eyJ9", "bm90IGpzb24"])
def test_garbage_page_tokens_are_400(junk: str) -> None:
    assert _code(lambda: decode_token(junk, False, "l")) == (400, "validation_error")
