"""Which pods and levels a narrowed plan reads (``mailctl.plan.reads``): pure, tested directly."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailctl.plan.reads import can_continue, pods_cheaper, read_scope
from mailctl.plan.shards import Shard, shard_of
from mailctl.resources import DesiredState, Resource


def test_a_plan_without_targets_or_shard_reads_everything():
    assert read_scope(()).everything
    assert read_scope((), Shard(1, 1)).everything
    assert not read_scope(("pod/a",)).everything
    assert not read_scope((), Shard(2, 4)).everything


@pytest.mark.parametrize(
    ("pattern", "taken", "left"),
    [
        ("pod/t-042", ["t-042"], ["t-0421", "t-04", "t-043"]),
        ("pod/t-042/inbox/x@agentmail.to", ["t-042"], ["t-043"]),
        ("pod/t-*", ["t-1", "t-042"], ["u-1", "t"]),
        ("pod/t-0[0-4]?", ["t-042", "t-001"], ["t-052", "t-0420"]),
        ("pod/*/inbox/x@*", ["a", "b"], []),  # any pod may hold such an inbox
        ("pod/a*b", ["a", "ab", "axb"], ["b", "xab"]),  # '*' spans '/': pod a may hold .../x-b
        ("pod/t[*]", ["t*"], ["tx", "t"]),  # a --changed-since literal
    ],
)
def test_a_target_takes_the_pods_it_may_select_something_in(pattern, taken, left):
    scope = read_scope((pattern,))
    assert [p for p in taken if scope.takes_pod(p)] == taken
    assert [p for p in left if scope.takes_pod(p)] == []


@pytest.mark.parametrize(
    ("pattern", "organisation"),
    [
        ("pod/a", False),
        ("pod/*", False),
        ("api_key/ci", True),
        ("domain/*", True),
        ("*", True),
        ("p*", True),  # may select anything
    ],
)
def test_only_a_target_that_may_select_the_organisation_level_reads_it(pattern, organisation):
    assert read_scope((pattern,)).organisation is organisation


def test_a_shard_takes_its_own_pods_and_shard_one_the_organisation_level():
    pods = [f"t-{i}" for i in range(40)]
    for k in (1, 2, 3):
        scope = read_scope((), Shard(k, 3))
        assert [p for p in pods if scope.takes_pod(p)] == [p for p in pods if shard_of(p, 3) == k]
        assert scope.organisation is (k == 1)


def test_a_target_and_a_shard_read_what_both_take():
    pods = [f"t-{i}" for i in range(40)]
    scope = read_scope(("pod/t-1*",), Shard(2, 3))
    assert [p for p in pods if scope.takes_pod(p)] == [p for p in pods if p.startswith("t-1") and shard_of(p, 3) == 2]
    assert not scope.organisation


segment = st.text(alphabet="ab/-*?[]!", max_size=8)


@given(pattern=segment, prefix=st.text(alphabet="ab/-", max_size=6), rest=st.text(alphabet="ab/-", max_size=6))
def test_a_glob_that_matches_an_extension_of_a_prefix_can_continue_it(pattern, prefix, rest):
    if fnmatchcase(prefix + rest, pattern):
        assert can_continue(pattern, prefix)


@pytest.mark.parametrize(
    ("pattern", "prefix", "expected"),
    [
        ("pod/a/*", "pod/a/", True),
        ("pod/a", "pod/a/", False),
        ("pod/b*", "pod/a/", False),
        ("*", "x", True),
        # character classes, as fnmatch reads them: one character of the set, or (!) not of it
        ("pod/t[ab]/*", "pod/ta/", True),
        ("pod/t[ab]/*", "pod/tc/", False),
        ("pod/t[!ab]*", "pod/tc/", True),
        ("pod/t[!ab]*", "pod/ta/", False),
        ("pod/t[a", "pod/t[", True),  # a '[' without its ']' is a literal
        ("pod/t[!]]x*", "pod/tax", True),  # a ']' first in a class is one of its characters
        ("pod/t[!]]x*", "pod/t]x", False),
        ("pod/t?/x", "pod/ta/", True),
        ("pod/t*a/x", "pod/ta/", True),  # '*' may match nothing
        ("pod/t**a/x", "pod/ta/", True),  # ... and so may every '*' in a row
        ("pod/t?/x", "pod/tab/", False),
    ],
)
def test_can_continue(pattern, prefix, expected):
    assert can_continue(pattern, prefix) is expected


def _fleet(pods: int, inboxes: int) -> DesiredState:
    desired = DesiredState()
    for i in range(pods):
        pod = f"pod/t-{i:04d}"
        desired.add(Resource("pod", pod, {"name": pod}))
        for j in range(inboxes):
            desired.add(Resource("inbox", f"{pod}/inbox/t{i}-{j}@agentmail.to", parent=pod))
    return desired


def test_one_tenant_of_a_big_fleet_is_read_pod_by_pod_and_a_small_fleet_is_listed():
    big, small = _fleet(2000, 2), _fleet(20, 2)
    scope = read_scope(("pod/t-0042",))
    assert pods_cheaper(big, scope)(["t-0042"], 2000)
    assert not pods_cheaper(small, scope)(["t-0042"], 20)  # its lists are one page each


def test_a_shard_of_a_big_fleet_is_listed_not_read_pod_by_pod():
    big = _fleet(2000, 2)
    scope = read_scope((), Shard(2, 4))
    taken = [f"t-{i:04d}" for i in range(2000) if scope.takes_pod(f"t-{i:04d}")]
    assert not pods_cheaper(big, scope)(taken, 2000)


def test_a_scope_copied_with_other_targets_does_not_share_the_first_ones_answers():
    from dataclasses import replace

    first = read_scope(("pod/a",))
    assert first.takes_pod("a")
    other = replace(first, targets=("pod/b",))
    assert not other.takes_pod("a") and other.takes_pod("b")
