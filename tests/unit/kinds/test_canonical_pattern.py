"""Addresses hold case-insensitive names (an inbox's address, a domain, a list entry) lowercased,
as the API does; a pattern naming them (``--target``, ``manage.ignore``, ``moved``) is read the same."""

from __future__ import annotations

import pytest

from mailctl.kinds import canonical_pattern


@pytest.mark.parametrize(
    ("pattern", "canonical"),
    [
        ("pod/Tenant-A/inbox/Conv-*@AgentMail.to", "pod/Tenant-A/inbox/conv-*@agentmail.to"),  # client_ids keep case
        ("pod/*/inbox/A@X.com/api_key/Agent", "pod/*/inbox/a@x.com/api_key/Agent"),  # key names keep case
        ("domain/Mail.Example.COM", "domain/mail.example.com"),
        ("pod/p/list/Receive/Allow/X.COM", "pod/p/list/receive/allow/x.com"),
        ("*/Conv-*", "*/Conv-*"),  # no kind to go by: left as written
        ("pod/P", "pod/P"),
    ],
)
def test_names_of_case_insensitive_kinds_are_lowercased(pattern: str, canonical: str):
    assert canonical_pattern(pattern) == canonical


def test_a_moved_block_naming_an_inbox_in_other_letter_case_stays_in_its_scope():
    from mailctl.config.pipeline import load_texts

    config = """version: 1
pods:
  tenant-a:
    name: A
    inboxes:
      a-support@agentmail.to:
        api_keys: {agent2: {}}
moved:
  - from: pod/tenant-a/inbox/A-Support@agentmail.to/api_key/agent
    to: pod/tenant-a/inbox/a-support@agentmail.to/api_key/agent2
"""
    state = load_texts({"c.yaml": config}).state
    [move] = state.moved
    assert move.source_address == "pod/tenant-a/inbox/a-support@agentmail.to/api_key/agent"


def test_manage_globs_are_read_as_addresses_are_written():
    from mailctl.config.pipeline import load_texts

    config = "version: 1\nmanage: {ignore: ['pod/*/inbox/Conv-*'], protect: ['domain/Mail.Example.com']}\n"
    manage = load_texts({"c.yaml": config}).state.manage
    assert manage.ignores("pod/p/inbox/conv-7@agentmail.to") == "pod/*/inbox/conv-*"
    assert manage.protects("domain/mail.example.com") is not None
