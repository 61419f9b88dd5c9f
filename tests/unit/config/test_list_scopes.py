"""A `lists` key (even empty) makes that scope's allow/block lists managed."""

from __future__ import annotations

from mailctl.config import load


def test_scopes_with_a_lists_key_are_recorded_even_when_empty(tmp_path):
    path = tmp_path / "mailctl.yaml"
    path.write_text(
        "version: 1\n"
        "lists: {}\n"
        "pods:\n"
        "  tenant-a:\n"
        "    lists: {receive: {block: [spam.example]}}\n"
        "    inboxes:\n"
        "      x@agentmail.to: {lists: {}}\n"
        "  tenant-b: {}\n"
    )
    desired = load([str(path)])
    assert desired.list_scopes == {None, "pod/tenant-a", "pod/tenant-a/inbox/x@agentmail.to"}
    assert "pod/tenant-a/list/receive/block/spam.example" in desired.resources
