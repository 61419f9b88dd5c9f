"""paginate/list_all follow next_page_token to the end, and refuse to loop forever."""

from __future__ import annotations

import httpx
import pytest
from client_harness import replies

from mailctl.errors import ApiError


def page(items, token=None, key="pods"):
    body = {"count": len(items), key: items}
    if token is not None:
        body["next_page_token"] = token
    return httpx.Response(200, json=body)


def test_follows_tokens_across_pages_including_an_empty_one(harness):
    client = harness.client(
        replies(page([{"pod_id": "1"}, {"pod_id": "2"}], "t1"), page([], "t2"), page([{"pod_id": "3"}]))
    )
    assert [p["pod_id"] for p in client.list_all("/v0/pods", "pods")] == ["1", "2", "3"]
    sent = [dict(r.url.params) for r in harness.requests]
    assert sent == [{"limit": "100"}, {"limit": "100", "page_token": "t1"}, {"limit": "100", "page_token": "t2"}]


def test_keeps_caller_params_and_page_size(harness):
    client = harness.client(replies(page([], key="api_keys")))
    assert list(client.paginate("/v0/api-keys", "api_keys", {"type": "bearer"}, page_size=7)) == []
    assert dict(harness.requests[0].url.params) == {"type": "bearer", "limit": "7"}


def test_empty_string_token_ends_the_list(harness):
    client = harness.client(replies(page([{"pod_id": "1"}], "")))
    assert len(client.list_all("/v0/pods", "pods")) == 1


def test_page_tokens_are_sent_encoded(harness):
    client = harness.client(replies(page([], "a+b/c=="), page([])))
    client.list_all("/v0/pods", "pods")
    assert harness.requests[1].url.params["page_token"] == "a+b/c=="
    assert b"page_token=a%2Bb%2Fc%3D%3D" in harness.requests[1].url.raw_path


def test_a_repeated_token_raises_instead_of_looping(harness):
    client = harness.client(lambda request: page([{"pod_id": "1"}], "same"))
    with pytest.raises(ApiError) as caught:
        client.list_all("/v0/pods", "pods")
    assert caught.value.code == "pagination_loop"
    assert len(harness.requests) == 2


def test_a_page_without_the_items_array_is_an_invalid_response(harness):
    client = harness.client(replies(page([{"pod_id": "1"}])))
    with pytest.raises(ApiError) as caught:
        client.list_all("/v0/pods", "inboxes")
    assert caught.value.code == "invalid_response" and "'inboxes'" in str(caught.value)


def test_pages_are_fetched_lazily(harness):
    client = harness.client(replies(page([{"pod_id": "1"}], "t1"), page([{"pod_id": "2"}])))
    first = next(iter(client.paginate("/v0/pods", "pods")))
    assert first == {"pod_id": "1"} and len(harness.requests) == 1


def test_page_size_must_be_positive(harness):
    client = harness.client(replies())
    with pytest.raises(ValueError):
        list(client.paginate("/v0/pods", "pods", page_size=0))


def test_a_list_that_never_ends_stops_at_the_page_cap(harness, monkeypatch):
    from mailctl.api import client as client_module

    monkeypatch.setattr(client_module, "MAX_PAGES", 5)
    tokens = iter(range(1_000_000))
    client = harness.client(lambda request: page([{"pod_id": str(next(tokens))}], f"t{next(tokens)}"))
    with pytest.raises(ApiError, match="did not end after 5 pages"):
        client.list_all("/v0/pods", "pods")
    assert len(harness.requests) == 5


def test_empty_pages_that_keep_pointing_further_stop_after_a_run_of_them(harness):
    from mailctl.api.client import MAX_EMPTY_PAGES

    tokens = iter(range(1_000_000))
    client = harness.client(lambda request: page([], f"t{next(tokens)}"))
    with pytest.raises(ApiError, match=f"{MAX_EMPTY_PAGES} empty pages in a row"):
        client.list_all("/v0/pods", "pods")
    assert len(harness.requests) == MAX_EMPTY_PAGES
