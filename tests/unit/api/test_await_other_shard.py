"""A shard waits for what another shard creates: an inbox in a pod of that shard (whose id this
shard never read) is found through its pod's client_id, and a pod not made yet is waited for like
the inbox, then deferred: never a failure of this shard."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from mailctl.api import newest
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


class _CountingTransport(httpx.WSGITransport):
    def __init__(self, app: object) -> None:
        super().__init__(app=app)
        self.pod_pages = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/v0/pods":
            self.pod_pages += 1
        return super().handle_request(request)


def test_polls_for_a_pod_read_only_what_was_created_since_the_last_poll_not_every_page(
    monkeypatch: pytest.MonkeyPatch,
):
    """A fleet of thousands of pods: a shard waiting for another shard's new pod used to list every
    page at every poll (100 requests per poll at 10,000 pods, over the organisation's rate limit).
    The list is newest first: after one whole listing, a poll stops at the pods it has seen."""
    monkeypatch.setattr(newest, "SKEW", timedelta(0))  # the old pods were made a moment ago, not 30 s
    app = create_app(api_keys=(KEY,))
    other = ApiWriter(AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=app)), IdRegistry({}))
    for n in range(350):
        other.create(Resource(POD, pod_address(f"old-{n}"), {"name": f"Old {n}"}))
    counting = _CountingTransport(app)
    pages: list[int] = []

    def sleep(seconds: float) -> None:
        pages.append(counting.pod_pages)
        if len(pages) == 4:
            other.create(Resource(POD, pod_address("new-elsewhere"), {"name": "Another shard's"}))
        if len(pages) == 6:
            other.create(POD_T)

    this = ApiWriter(
        AgentMailClient("http://sandbox", KEY, transport=counting),
        IdRegistry({}),
        shard_wait=60.0,
        poll_interval=1.0,
        sleep=sleep,
    )
    this.await_created(POD_T, "3/3")
    assert this.ids.get(POD_T.address) == other.ids[POD_T.address]
    per_poll = [b - a for a, b in zip([0, *pages], [*pages, counting.pod_pages], strict=True)]
    assert per_poll[0] == 4  # the first look lists them all: 351 pods (the Default Pod too)
    assert per_poll[1:] == [1] * (len(per_poll) - 1), per_poll


def test_a_pod_made_before_the_wait_is_found_by_the_first_whole_listing():
    app = create_app(api_keys=(KEY,))
    other = ApiWriter(AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=app)), IdRegistry({}))
    other.create(POD_T)
    for n in range(150):
        other.create(Resource(POD, pod_address(f"newer-{n}"), {"name": f"Newer {n}"}))
    this = ApiWriter(AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=app)), IdRegistry({}))
    this.await_created(POD_T, "3/3")
    assert this.ids.get(POD_T.address) == other.ids[POD_T.address]


def test_a_pod_passed_over_by_the_looks_for_another_is_still_found(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(newest, "SKEW", timedelta(0))
    app = create_app(api_keys=(KEY,))
    other = ApiWriter(AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=app)), IdRegistry({}))
    pod_u = Resource(POD, pod_address("u"), {"name": "U"})
    other.create(pod_u)  # made first: the oldest pod the looks for pod/t pass over
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 2:  # a pod newer than pod/u: the looks for pod/t now stop above pod/u
            other.create(Resource(POD, pod_address("x"), {"name": "X"}))
        if len(polls) == 4:
            other.create(POD_T)

    this = ApiWriter(
        AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=app)),
        IdRegistry({}),
        shard_wait=60.0,
        poll_interval=1.0,
        sleep=sleep,
    )
    this.await_created(POD_T, "3/3")
    this.await_created(pod_u, "2/3")
    assert this.ids.get(pod_u.address) == other.ids[pod_u.address]


def test_the_wait_reports_the_find_last_so_the_log_says_the_wait_ended():
    seen: list[tuple[str, str]] = []

    def sleep(seconds: float) -> None:
        other.create(POD_T)

    this, other = _writers(
        shard_wait=60.0, poll_interval=1.0, sleep=sleep, on_shard_wait=lambda a, status, w: seen.append((a, status))
    )
    this.await_created(POD_T, "3/3")
    assert seen == [("pod/t", "not created yet, made by shard 3/3"), ("pod/t", "found, made by shard 3/3")]


def test_the_wait_for_a_second_pod_pages_only_through_what_is_new(monkeypatch: pytest.MonkeyPatch):
    """An organisation webhook naming ten pods of other shards: the pods are listed whole once,
    not once per pod."""
    monkeypatch.setattr(newest, "SKEW", timedelta(0))
    app = create_app(api_keys=(KEY,))
    other = ApiWriter(AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=app)), IdRegistry({}))
    for n in range(350):
        other.create(Resource(POD, pod_address(f"old-{n}"), {"name": f"Old {n}"}))
    other.create(POD_T)
    counting = _CountingTransport(app)
    this = ApiWriter(AgentMailClient("http://sandbox", KEY, transport=counting), IdRegistry({}))
    this.await_created(POD_T, "3/3")
    assert counting.pod_pages == 1  # found on the first page (newest first)
    this.await_created(Resource(POD, pod_address("old-0"), {"name": "Old 0"}), "2/3")  # the oldest
    first_whole = counting.pod_pages
    assert first_whole == 5  # the first page again, then the three more pages down to old-0
    pod_u = Resource(POD, pod_address("u"), {"name": "U"})
    other.create(pod_u)
    this.await_created(pod_u, "2/3")
    assert counting.pod_pages - first_whole == 1  # only what is new since the whole listing
    this.await_created(Resource(POD, pod_address("old-7"), {"name": "Old 7"}), "2/3")
    assert counting.pod_pages - first_whole == 1  # found among the rows read before: no page at all
