"""A webhook row of a pod (or an inbox) the listings did not show (the lock pod, or one created
while the lists were read, by another shard applying at the same time) is left out of the read:
not taken for an organisation webhook, and no crash."""

from __future__ import annotations

from mailctl.kinds import Owners, spec_of
from mailctl.resources import WEBHOOK


def _row(webhook_id: str, pod_id: str | None = None, inbox_id: str | None = None) -> dict:
    return {
        "webhook_id": webhook_id,
        "pod_id": pod_id,
        "inbox_id": inbox_id,
        "url": "https://example.com/hook",
        "event_types": ["message.sent"],
        "enabled": True,
    }


def test_webhooks_of_an_unseen_pod_or_inbox_are_left_out_and_the_others_read():
    """``continue`` past a row whose owner is unknown: deleted, reading it raised a TypeError (the
    whole plan failed on a webhook of a pod it was never going to touch)."""
    read = spec_of(WEBHOOK).read_rows
    assert read is not None
    rows = [
        _row("w-new", pod_id="p-new"),
        _row("w-gone", inbox_id="gone@agentmail.to"),
        _row("w-org"),
        _row("w-a", "p1"),
    ]
    addresses = [r.address for r in read(rows, Owners({"p1": "tenant-a"}, {}))]
    assert addresses == ["webhook/w-org", "pod/tenant-a/webhook/w-a"]
