"""A shard waits for what another shard creates: an inbox in a pod of that shard (whose id this
shard never read) is found through its pod's client_id, and a pod not made yet is waited for like
the inbox, then deferred: never a failure of this shard."""

from __future__ import annotations

import httpx
import pytest

from mailctl.api.client import AgentMailClient
from mailctl.api.writer import ApiWriter, IdRegistry
from mailctl.errors import Deferred
from mailctl.resources import INBOX, POD, Resource, inbox_address, pod_address
from mailctl.sandbox import create_app

KEY = "am_test_key_for_awaiting_another_shard"
POD_T = Resource(POD, pod_address("t"), {"name": "T"})
INBOX_T = Resource(INBOX, inbox_address("t", "t-a@agentmail.to"), {}, parent=POD_T.address)


def _writers(**knobs: object) -> tuple[ApiWriter, ApiWriter]:
    """(this shard's writer, the other shard's), on one organisation."""
    app = create_app(api_keys=(KEY,))
    other = ApiWriter(AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=app)), IdRegistry({}))
    this = ApiWriter(
        AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=app)), IdRegistry({}), **knobs
    )
    return this, other


def test_an_inbox_in_a_pod_of_another_shard_is_found_though_its_pod_was_never_read():
    this, other = _writers()
    other.create(POD_T)
    other.create(INBOX_T)
    this.await_created(INBOX_T, "3/3")
    assert this.ids.get(INBOX_T.address) == "t-a@agentmail.to"
    assert this.ids.get(POD_T.address) == other.ids[POD_T.address]


def test_an_inbox_whose_pod_is_not_made_yet_is_waited_for_until_the_other_shard_makes_both():
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 2:
            other.create(POD_T)  # the other shard makes the pod, then (a poll later) the inbox
        if len(polls) == 3:
            other.create(INBOX_T)

    this, other = _writers(shard_wait=60.0, poll_interval=1.0, sleep=sleep)
    this.await_created(INBOX_T, "3/3")
    assert len(polls) == 3 and this.ids.get(INBOX_T.address) == "t-a@agentmail.to"


def test_an_inbox_whose_pod_never_appears_is_deferred_for_that_shard_with_a_readable_reason():
    seen: list[tuple[str, str]] = []
    this, _ = _writers(shard_wait=0.0, on_shard_wait=lambda address, status, waited: seen.append((address, status)))
    with pytest.raises(Deferred) as caught:
        this.await_created(INBOX_T, "3/3")
    assert caught.value.shard == "3/3"
    assert str(caught.value).startswith("pod/t not created yet: shard 3/3 creates it")
    assert seen == [(INBOX_T.address, "pod/t not created yet, made by shard 3/3")]
