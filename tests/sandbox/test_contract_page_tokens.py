"""A page token belongs to the listing and order that issued it (spec §4: send it back unchanged,
with the same filters); replayed anywhere else it is a 400, never a silently wrong page."""

from __future__ import annotations

from contract_harness import Sandbox, raises_api_error


def test_a_pods_token_replayed_on_the_inbox_listing_is_400(sandbox: Sandbox) -> None:
    """With `_fingerprint` or `decode_token`'s `raise` deleted, the pods token paged the inbox
    listing from a pod's position instead of being refused."""
    c = sandbox.client
    for name in ("a", "b", "c"):
        c.pods.create(name=name)
    c.inboxes.create()
    token = c.pods.list(limit=1).next_page_token
    assert token is not None
    with raises_api_error(400, "validation_error"):
        c.inboxes.list(limit=1, page_token=token)


def test_a_list_entries_token_replayed_on_another_list_is_400(sandbox: Sandbox) -> None:
    """With `_fingerprint` or `_decode_position`'s listing check deleted, the receive-block token
    was taken by the send-block list, which then skipped every entry up to its position."""
    lists = sandbox.client.lists
    for entry in ("a.example", "b.example", "c.example"):
        lists.create("receive", "block", entry=entry)
        lists.create("send", "block", entry=entry)
    token = lists.list("receive", "block", limit=2).next_page_token
    assert token is not None
    with raises_api_error(400, "validation_error"):
        lists.list("send", "block", limit=2, page_token=token)
    rest = lists.list("receive", "block", limit=2, page_token=token)
    assert [e.entry for e in rest.entries] == ["c.example"] and rest.next_page_token is None


def test_a_pod_list_token_replayed_on_another_pods_list_is_400(sandbox: Sandbox) -> None:
    """Same listing route, other pod: with `_fingerprint` or `_decode_position`'s listing check
    deleted, pod one's token paged pod two's list."""
    pods = sandbox.client.pods
    one, two = pods.create(name="one").pod_id, pods.create(name="two").pod_id
    for pod in (one, two):
        for entry in ("a.example", "b.example"):
            pods.lists.create(pod, "receive", "allow", entry=entry)
    token = pods.lists.list(one, "receive", "allow", limit=1).next_page_token
    assert token is not None
    with raises_api_error(400, "validation_error"):
        pods.lists.list(two, "receive", "allow", limit=1, page_token=token)


def test_a_token_replayed_with_the_other_order_is_400(sandbox: Sandbox) -> None:
    """Deleting `decode_token`'s `raise` let an `ascending=true` token page the newest-first
    listing from the wrong end."""
    c = sandbox.client
    for name in ("a", "b", "c"):
        c.pods.create(name=name)
    token = c.pods.list(limit=1, ascending=True).next_page_token
    assert token is not None
    with raises_api_error(400, "validation_error"):
        c.pods.list(limit=1, page_token=token)
    assert len(c.pods.list(limit=1, ascending=True, page_token=token).pods) == 1
