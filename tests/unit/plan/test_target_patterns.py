"""Target patterns that are addresses (``--changed-since`` gives one per changed tenant, thousands
after a template edit; ``rotate`` and ``dns`` one per address they act on) are matched by
comparing text, not by walking a glob per address. Pure, tested directly against fnmatch: every
pattern, escaped or not, selects exactly what fnmatch's reading of it selects."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mailctl.plan import reads, targeting
from mailctl.plan.reads import can_continue, pod_selected, read_scope
from mailctl.resources import API_KEY, address_matches, kind_of, literal, literal_text

# Addresses and patterns over a small alphabet, so that they meet often; the glob characters and
# fnmatch's edge cases ([!x], []], an unclosed [) are all in it.
TEXT = "ab/#-"
GLOB = TEXT + "*?[]!"
addresses = st.builds(
    lambda kind, name, rest: f"{kind}/{name}{rest}",
    st.sampled_from(["pod", "api_key", "inbox"]),
    st.text(TEXT, min_size=1, max_size=5),
    st.one_of(
        st.just(""),
        st.builds(
            lambda k, n: f"/{k}/{n}", st.sampled_from(["inbox", "api_key"]), st.text(TEXT, min_size=1, max_size=5)
        ),
    ),
)
patterns = st.one_of(
    st.text(GLOB, min_size=1, max_size=12), addresses, addresses.map(literal), addresses.map(lambda a: a[: len(a) // 2])
)


def _by_glob(address: str, pattern: str) -> bool:
    """``address_matches`` as fnmatch reads every pattern: the address, its scopes, a key's owner;
    each also matched by a pattern that is its very text (``pod/[ab]`` names the pod ``[ab]``)."""

    def one(candidate: str) -> bool:
        parts = candidate.split("/")
        scopes = ["/".join(parts[:n]) for n in range(2, len(parts) + 1, 2)] + [candidate]
        return any(fnmatchcase(scope, pattern) or scope == pattern for scope in scopes)

    head, _, name = address.rpartition("/")
    owner = f"{head}/{name.split('#', 1)[0]}" if "#" in name and kind_of(address) == API_KEY else None
    return one(address) or (owner is not None and one(owner))


@settings(max_examples=500)
@given(addresses, patterns)
@example("pod/!", "pod/[!]")  # fnmatch: no class here, the text '[!]' itself
@example("pod/[!]", "pod/[!]")
@example("pod/]", "pod/[]]")
@example("pod/[a", "pod/[a")
@example("pod/[", "pod/[[]")
@example("pod/[ab]", "pod/[ab]")  # the text itself, which fnmatch's class does not match
@example("pod/a/api_key/k [b]#x", "pod/a/api_key/k [b]")  # a leftover of that key
def test_a_pattern_matches_an_address_as_fnmatch_reads_it(address, pattern):
    assert address_matches(address, pattern) == _by_glob(address, pattern)


@settings(max_examples=500)
@given(st.text(TEXT.replace("/", ""), min_size=1, max_size=5), patterns)
def test_a_pattern_selects_a_pod_as_fnmatch_reads_it(client_id, pattern):
    address = f"pod/{client_id}"
    expected = fnmatchcase(address, pattern) or can_continue(pattern, address + "/")
    assert pod_selected(client_id, pattern) == expected
    assert read_scope((pattern,)).takes_pod(client_id) == expected


@settings(max_examples=300)
@given(st.lists(addresses, max_size=12), st.lists(patterns, min_size=1, max_size=6))
@example(["pod/a/api_key/k [b]", "pod/a/api_key/k b"], ["pod/a/api_key/k [b]"])
@example(["pod/[ab]"], ["pod/[ab]"])
def test_patterns_match_a_set_of_addresses_as_one_by_one(found, wanted):
    assert targeting.matched_by(found, wanted) == {p: {a for a in found if _by_glob(a, p)} for p in wanted}


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("pod/a", "pod/a"),
        ("pod/t[*]", "pod/t*"),  # as --changed-since escapes a name
        ("pod/[[]x", "pod/[x"),
        ("pod/[?]/inbox/[b]", "pod/?/inbox/b"),
        ("pod/*", None),
        ("pod/a?", None),
        ("pod/[ab]", None),  # a class of two
        ("pod/[!a]", None),  # a negation
        ("pod/[!]", None),  # not a class: fnmatch reads the text '[!]'
        ("pod/[]]", None),  # fnmatch reads a class holding ']'
        ("pod/[a", None),  # fnmatch reads an unclosed '[' as itself: left to fnmatch
    ],
)
def test_the_text_of_a_pattern_is_known_only_when_it_matches_one_string(pattern, text):
    assert literal_text(pattern) == text


def test_thousands_of_address_targets_are_matched_without_a_glob(monkeypatch):
    """What made a template edit's --changed-since plan of 10,000 tenants take minutes: every
    target tried on every pod and every change."""
    tenants = [f"t{i:04d}" for i in range(2000)]
    targets = [literal(f"pod/{t}/inbox/{t}@agentmail.to") for t in tenants]

    def refused(*args: object) -> bool:
        raise AssertionError("a glob was walked for an address target")

    monkeypatch.setattr(targeting, "matches", refused)
    monkeypatch.setattr(reads, "pod_selected", refused)
    scope = read_scope(targets)
    assert all(scope.takes_pod(t) for t in tenants) and not scope.takes_pod("other")
    changes = [f"pod/{t}" for t in tenants] + [f"pod/{t}/inbox/{t}@agentmail.to" for t in tenants]
    matched = targeting.matched_by(changes, targets)
    assert all(len(found) == 1 for found in matched.values())
