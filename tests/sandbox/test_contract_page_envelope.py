"""The `limit` field of list envelopes (spec §4: present on every family but API keys): the page
size this page was cut to, whether the caller gave `limit` or the default applied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from agentmail import AgentMail
from contract_harness import Sandbox

LISTINGS: dict[str, Callable[[AgentMail], Callable[..., Any]]] = {
    "pods": lambda c: c.pods.list,
    "inboxes": lambda c: c.inboxes.list,
    "domains": lambda c: c.domains.list,
    "webhooks": lambda c: c.webhooks.list,
}


@pytest.mark.parametrize("family", list(LISTINGS))
def test_row_listings_echo_the_limit_they_were_cut_to(sandbox: Sandbox, family: str) -> None:
    """Deleting `envelope["limit"] = limit` in `paginate` dropped the field from every row-based
    listing (the SDK models make it optional, so only this notices)."""
    list_page = LISTINGS[family](sandbox.client)
    assert list_page(limit=7).limit == 7
    sandbox.configure(page_size=3)
    assert list_page().limit == 3


def test_list_entry_listings_echo_the_limit_they_were_cut_to(sandbox: Sandbox) -> None:
    lists = sandbox.client.lists
    assert lists.list("receive", "block", limit=7).limit == 7
    sandbox.configure(page_size=3)
    assert lists.list("receive", "block").limit == 3
