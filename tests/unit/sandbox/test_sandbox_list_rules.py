"""Allow / block list rules (spec §7.6, §11 Q19/Q20): normalisation, order, scope, read-only."""

from __future__ import annotations

from typing import Any

import pytest
from agentmail.lists.types import ListListEntriesResponse, PodListEntry
from mail_rig import Rig

from mailctl.sandbox.backend.lists import normalize_entry


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
