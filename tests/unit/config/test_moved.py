"""``moved:`` blocks are checked offline: what the API cannot rename in place is a located error
saying why, and the blocks it can do reach the desired state."""

from __future__ import annotations

import pytest

from mailctl.config import load_texts
from mailctl.errors import ConfigError


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_texts({"m.yaml": "version: 1\n" + text})
    return str(caught.value).splitlines()[1:]


def test_two_blocks_that_chain_are_one_error_saying_to_write_one_block():
    lines = problems(
        "api_keys:\n  c: {}\nmoved:\n  - {from: api_key/a, to: api_key/b}\n  - {from: api_key/b, to: api_key/c}\n"
    )
    assert lines == [
        "m.yaml:5:5: moved[0]: moves chain: api_key/a -> api_key/b -> api_key/c; write one block from "
        "the first address to the last"
    ]


def test_a_chain_is_found_whichever_block_comes_first():
    lines = problems(
        "api_keys:\n  c: {}\nmoved:\n  - {from: api_key/b, to: api_key/c}\n  - {from: api_key/a, to: api_key/b}\n"
    )
    assert lines == [
        "m.yaml:6:5: moved[1]: moves chain: api_key/a -> api_key/b -> api_key/c; write one block from "
        "the first address to the last"
    ]


def test_a_kind_that_cannot_be_renamed_is_named_with_its_article():
    lines = problems(
        "pods:\n  t:\n    inboxes: {new@agentmail.to: {}}\n"
        "moved:\n  - {from: pod/t/inbox/old@agentmail.to, to: pod/t/inbox/new@agentmail.to}\n"
    )
    assert lines == [
        "m.yaml:6:5: moved[0]: an inbox cannot be renamed in place: an inbox's address is fixed in the API"
    ]


def test_a_key_that_changes_scope_is_refused_naming_both_scopes():
    lines = problems(
        "pods:\n  t:\n    api_keys: {backend: {}}\nmoved:\n  - {from: api_key/backend, to: pod/t/api_key/backend}\n"
    )
    assert lines == [
        "m.yaml:6:5: moved[0]: `api_key/backend` -> `pod/t/api_key/backend` changes scope (organisation -> "
        "pod/t): the API cannot move an api_key to another scope"
    ]


def test_a_valid_block_reaches_the_desired_state_with_its_location():
    state = load_texts(
        {"m.yaml": "version: 1\napi_keys:\n  new: {}\nmoved:\n  - {from: api_key/old, to: api_key/new}\n"}
    ).state
    [move] = state.moved
    assert (move.source_address, move.target_address) == ("api_key/old", "api_key/new")
    assert (move.source.file, move.source.line) == ("m.yaml", 5)
