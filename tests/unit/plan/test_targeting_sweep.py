"""``--target`` / ``--exclude`` selection as the mutation sweep of ``plan/targeting.py`` found it
unpinned: each test names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/plan/targeting.py tests/unit/plan/test_targeting_sweep.py``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailctl.errors import UsageError
from mailctl.plan import targeting
from mailctl.plan.changes import Plan
from mailctl.plan.planner import plan as make_plan
from mailctl.plan.targeting import Derived
from mailctl.resources import INBOX, POD, ActualState, DesiredState, Resource

CHANGED = (("--changed-since", "origin/main"),)
A_INBOX = "pod/tenant-a/inbox/x@tenant-a.example"


def _world() -> Plan:
    """Two tenants to create, each a pod and an inbox in it."""
    desired = DesiredState()
    for pod in ("tenant-a", "tenant-b"):
        desired.add(Resource(POD, f"pod/{pod}", {}))
        desired.add(Resource(INBOX, f"pod/{pod}/inbox/x@{pod}.example", {}, parent=f"pod/{pod}"))
    return make_plan(desired, ActualState())


def _addresses(plan: Plan) -> list[str]:
    return [c.address for c in plan.changes]


def test_a_derived_target_is_its_pattern_and_remembers_the_flags_it_came_from() -> None:
    """Pins the three lines of ``Derived.__new__`` (make the string, keep ``flags``, return it):
    without any of them a ``--changed-since`` target was not its address, or lost its flag."""
    derived = Derived("pod/tenant-a", CHANGED)
    assert isinstance(derived, str) and derived == "pod/tenant-a"
    assert derived.flags == CHANGED


def test_derived_targets_select_like_targets_and_are_named_as_their_flag_once() -> None:
    """Pins ``if isinstance(pattern, Derived): continue`` in ``select`` and the derived branch of
    ``_selection``: a derived target that matches nothing (a pull request already applied) is no
    note of its own, and the selection names ``--changed-since`` once, not once per address."""
    chosen = targeting.select(_world(), [Derived("pod/tenant-a", CHANGED), Derived("pod/tenant-z", CHANGED)], [])
    assert _addresses(chosen) == ["pod/tenant-a", A_INBOX]
    assert chosen.notes == []
    assert chosen.selection == CHANGED


def test_only_patterns_given_by_hand_that_match_nothing_are_named() -> None:
    """Pins ``matching_nothing``: a hand-written pattern that matches nothing (a typo) is named,
    a derived one never is, nor is one that matches an address or its scope."""
    addresses = ["pod/tenant-a", A_INBOX]
    patterns = [Derived("pod/gone", CHANGED), "pod/tenant-a", "pod/tenant-aa", "pod/*/inbox/x@*"]
    assert targeting.matching_nothing(patterns, addresses) == ["pod/tenant-aa"]
    assert targeting.matching_nothing([Derived("pod/gone", CHANGED)], addresses) == []


def test_canonical_lowercases_what_the_api_lowercases_and_keeps_derived_targets_as_given() -> None:
    """Pins ``canonical``: an inbox's address in a pattern is read in lower case, a client_id keeps
    its case, and a derived target (already an address) is kept with its flags."""
    derived = Derived("pod/Tenant-A", CHANGED)
    out = targeting.canonical(["pod/Tenant-A/inbox/Conv-*", derived])
    assert out == ["pod/Tenant-A/inbox/conv-*", "pod/Tenant-A"]
    assert out[1] is derived


@pytest.mark.parametrize("pattern", ["", "/pod/a", "pod//a", "pod/a//inbox/x@y.example"])
def test_a_pattern_that_is_no_address_is_a_usage_error_naming_the_option(pattern: str) -> None:
    """Pins each condition of ``validate_patterns``: empty, a leading ``/`` and an empty segment."""
    with pytest.raises(UsageError) as refused:
        targeting.validate_patterns(["pod/ok", pattern], "--exclude")
    assert str(refused.value).startswith(
        f"--exclude {pattern!r}: expected an address such as pod/tenant-a or pod/tenant-* (it can never match one: "
    )


def test_patterns_that_are_addresses_are_accepted() -> None:
    """The other side of ``validate_patterns``: globs and addresses pass."""
    targeting.validate_patterns(["pod/tenant-a", "pod/tenant-*", A_INBOX, "api_key/ci-reader"], "--target")


_ADDRESSES = st.lists(
    st.sampled_from(
        ["pod/a", "pod/b", "pod/a/inbox/x@a.example", "pod/b/api_key/k#1", "api_key/k", "domain/d.example"]
    ),
    max_size=5,
)
_PATTERNS = st.lists(
    st.tuples(
        st.sampled_from(["pod/a", "pod/*", "pod/b/api_key/k", "pod/c", "api_key/*", "*/d.example", "pod/?/inbox/*"]),
        st.booleans(),
    ).map(lambda p: Derived(p[0], CHANGED) if p[1] else p[0]),
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(_PATTERNS, _ADDRESSES)
def test_matching_nothing_is_the_hand_given_patterns_no_address_matches(patterns: list[str], addresses: list[str]):
    """``matching_nothing`` against its definition, pattern by pattern with ``matches``: derived
    patterns are never named, hand-given ones in order when no address (or its scope, or a key it
    is a leftover of) matches them."""
    expected = [
        p for p in patterns if not isinstance(p, Derived) and not any(targeting.matches(a, p) for a in addresses)
    ]
    assert targeting.matching_nothing(patterns, addresses) == list(dict.fromkeys(expected))
