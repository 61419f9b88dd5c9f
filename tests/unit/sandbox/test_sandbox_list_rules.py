"""Allow / block list rules (spec §7.6, §11 Q19/Q20): normalisation, order, scope, read-only."""

from __future__ import annotations

from typing import Any

import pytest
from agentmail.lists.types import ListListEntriesResponse, PodListEntry
from mail_rig import Rig

from mailctl.sandbox.backend import pagination
from mailctl.sandbox.backend.lists import LIST_ENTRY, normalize_entry


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bob@Example.COM", ("bob@example.com", "email")),
        (" Example.com ", ("example.com", "domain")),
        ("a+tag@sub.example.co.uk", ("a+tag@sub.example.co.uk", "email")),
    ],
)
def test_entries_are_lower_cased_and_typed(raw: str, expected: tuple[str, str]) -> None:
    assert normalize_entry(raw) == expected


@pytest.mark.parametrize("raw", ["", "localhost", "a@b", "@example.com", "a..b@example.com", "exa mple.com", "-x.com"])
def test_invalid_entries_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_entry(raw)


def test_entries_page_in_entry_order() -> None:
    rig = Rig(page_size=2)
    for entry in ("c.com", "a.com", "e.com", "b.com", "d.com"):
        rig.ok("POST", "/v0/lists/receive/block", {"entry": entry})
    seen, token = [], None
    while True:
        page = rig.ok("GET", "/v0/lists/receive/block", **({"page_token": token} if token else {}))
        ListListEntriesResponse.model_validate(page)
        seen += [e["entry"] for e in page["entries"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == ["a.com", "b.com", "c.com", "d.com", "e.com"]


def _follow(rig: Rig, path: str, items_key: str, field: str, between_pages: Any, **query: Any) -> list[str]:
    """Every page of a listing; ``between_pages()`` runs once, after the first page."""
    seen: list[str] = []
    page = rig.ok("GET", path, **query)
    seen += [item[field] for item in page[items_key]]
    between_pages()
    while token := page.get("next_page_token"):
        page = rig.ok("GET", path, page_token=token, **query)
        seen += [item[field] for item in page[items_key]]
    return seen


def test_an_entry_deleted_between_pages_never_hides_another() -> None:
    """Offset tokens: deleting b.com after the page a.com, b.com shifted c.com onto the page
    already read, so it was never listed. The token now holds the last entry read."""
    rig = Rig(page_size=2)
    for entry in ("a.com", "b.com", "c.com", "d.com", "e.com"):
        rig.ok("POST", "/v0/lists/receive/block", {"entry": entry})
    seen = _follow(
        rig, "/v0/lists/receive/block", "entries", "entry", lambda: rig.ok("DELETE", "/v0/lists/receive/block/b.com")
    )
    assert seen == ["a.com", "b.com", "c.com", "d.com", "e.com"]


def test_an_entry_added_between_pages_never_repeats_another() -> None:
    rig = Rig(page_size=2)
    for entry in ("b.com", "c.com", "d.com"):
        rig.ok("POST", "/v0/lists/receive/block", {"entry": entry})
    seen = _follow(
        rig,
        "/v0/lists/receive/block",
        "entries",
        "entry",
        lambda: rig.ok("POST", "/v0/lists/receive/block", {"entry": "a.com"}),
    )
    assert seen == ["b.com", "c.com", "d.com"]


def test_an_inbox_deleted_between_search_pages_never_hides_another() -> None:
    rig = Rig(page_size=2)
    made = [rig.inbox(f"zz{i}") for i in range(5)]  # found newest first
    seen = _follow(
        rig, "/v0/inboxes/search", "inboxes", "inbox_id", lambda: rig.ok("DELETE", f"/v0/inboxes/{made[3]}"), q="zz"
    )
    assert seen == made[::-1]


def test_an_inbox_created_between_search_pages_never_repeats_another() -> None:
    rig = Rig(page_size=2)
    made = [rig.inbox(f"zz{i}") for i in range(4)]
    seen = _follow(rig, "/v0/inboxes/search", "inboxes", "inbox_id", lambda: rig.inbox("zz-late"), q="zz")
    assert seen == made[::-1]


def test_inbox_entries_carry_pod_and_inbox_and_lists_are_separate_per_scope() -> None:
    rig = Rig()
    pod = rig.pod()
    inbox = rig.inbox("a", pod)
    entry = rig.ok("POST", f"/v0/inboxes/{inbox}/lists/send/allow", {"entry": "Partner.example", "reason": "ok"})
    PodListEntry.model_validate(entry)
    assert (entry["pod_id"], entry["inbox_id"], entry["entry"]) == (pod, inbox, "partner.example")
    assert rig.ok("GET", f"/v0/pods/{pod}/lists/send/allow")["entries"] == []
    assert rig.ok("GET", f"/v0/inboxes/{inbox}/lists/send/allow/PARTNER.example")["entry"] == "partner.example"


def test_scoped_keys_cannot_use_org_lists() -> None:
    rig = Rig()
    pod_key = rig.key(f"/pods/{rig.pod()}")
    rig.error(rig.call("GET", "/v0/lists/send/block", key=pod_key), 403, "forbidden")


def test_unknown_direction_is_400() -> None:
    rig = Rig()
    rig.error(rig.call("POST", "/v0/lists/sideways/block", {"entry": "x.com"}), 400, "validation_error")


def test_bounce_suppressions_are_read_only() -> None:
    rig = Rig()
    sender = rig.inbox("sender")
    rig.ok("POST", f"/v0/inboxes/{sender}/messages/send", {"to": "nobody@agentmail.to", "text": "hi"})
    entry = rig.ok("GET", "/v0/lists/send/block/nobody@agentmail.to")
    assert (entry["read_only"], entry["reason"]) == (True, "bounced")
    rig.error(rig.call("DELETE", "/v0/lists/send/block/nobody@agentmail.to"), 403, "cannot_delete")
    rig.error(rig.send(sender, to="nobody@agentmail.to"), 403, "message_rejected")


def test_deleting_a_pod_deletes_its_list_entries_and_keeps_the_others() -> None:
    """Spec §11 Q13: a pod's list entries go with it. Deleting `_pod_deleted`'s delete left the
    gone pod's entries in the store for ever (no route can reach or remove them any more)."""
    rig = Rig()
    gone, kept = rig.pod("gone"), rig.pod("kept")
    for pod in (gone, kept):
        rig.ok("POST", f"/v0/pods/{pod}/lists/receive/block", {"entry": "spam.example"})
    rig.ok("POST", "/v0/lists/receive/block", {"entry": "spam.example"})
    rig.ok("DELETE", f"/v0/pods/{gone}")
    with rig.app.store.transaction() as tx:
        left = {row.ref for row in tx.find(LIST_ENTRY)}
    assert left == {f"pod:{kept}|receive|block", "org|receive|block"}
    assert [e["entry"] for e in rig.ok("GET", f"/v0/pods/{kept}/lists/receive/block")["entries"]] == ["spam.example"]


_LONGEST_DOMAIN = ".".join(["a" * 63] * 3) + "." + "b" * 57 + ".com"  # 253 characters, the DNS limit
_TOO_LONG_DOMAIN = _LONGEST_DOMAIN.replace(".com", "b.com")  # 254, every label still <= 63


@pytest.mark.parametrize("raw", [".lead@example.com", "trail.@example.com", _TOO_LONG_DOMAIN, "x@" + _TOO_LONG_DOMAIN])
def test_dotted_local_parts_and_overlong_domains_are_refused(raw: str) -> None:
    """Only `..` and the regexes were pinned: dropping the leading/trailing-dot or the 253-character
    checks of `normalize_entry` stored entries no mail address can ever match."""
    with pytest.raises(ValueError):
        normalize_entry(raw)


def test_a_domain_of_exactly_253_characters_is_kept() -> None:
    assert (len(_LONGEST_DOMAIN), len(_TOO_LONG_DOMAIN)) == (253, 254)
    assert normalize_entry(_LONGEST_DOMAIN) == (_LONGEST_DOMAIN, "domain")
    assert normalize_entry("x@" + _LONGEST_DOMAIN) == ("x@" + _LONGEST_DOMAIN, "email")


def test_a_forged_token_shaped_unlike_the_listing_positions_is_400_not_a_crash() -> None:
    """Deleting `_decode_position`'s shape check let a token of this very listing (right
    fingerprint) carry `[1]` where entries sit at `["a.com"]`: comparing them raised, a 500."""
    rig = Rig(page_size=1)
    for entry in ("a.com", "b.com"):
        rig.ok("POST", "/v0/lists/receive/block", {"entry": entry})
    listing = "/v0/lists/{direction}/{type}|[('direction', 'receive'), ('type', 'block')]|org|receive|block"

    def forged(position: list[object]) -> str:
        return pagination._encode({"k": position, "f": pagination._fingerprint(listing)})

    page = rig.ok("GET", "/v0/lists/receive/block", page_token=forged(["a.com"]))  # the fingerprint is right
    assert [e["entry"] for e in page["entries"]] == ["b.com"]
    rig.error(rig.call("GET", "/v0/lists/receive/block", page_token=forged([1])), 400, "validation_error")
    rig.error(rig.call("GET", "/v0/lists/receive/block", page_token=forged(["a.com", 1])), 400, "validation_error")
