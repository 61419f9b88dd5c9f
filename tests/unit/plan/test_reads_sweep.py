"""The lines of ``plan/reads.py`` that its mutation sweep found unpinned
(``.ci/mutate.py --sweep src/mailctl/plan/reads.py tests/unit/plan``): 76 mutations, 4 survivors.

- ``_takes_pod``'s branch for a pod whose client_id holds ``/``: pinned below.
- ``declared_in``'s whole-config answer: pinned below, directly.
- ``organisation``'s early ``return True`` and ``pod_selected``'s literal branch are equivalent:
  the lines after each give the same answer (``literal_text`` is not None only for a pattern
  fnmatch reads as that one string), so they only save work."""

from __future__ import annotations

import pytest

from mailctl.plan.reads import declared_in, read_scope
from mailctl.resources import DesiredState, Resource


@pytest.mark.parametrize(
    ("pattern", "taken"),
    [
        ("pod/tenant-a/b", True),
        ("pod/tenant-a/b/inbox/x@agentmail.to", True),
        ("pod/tenant-a/c", False),
    ],
)
def test_a_pod_whose_client_id_holds_a_slash_is_taken_by_the_whole_target(pattern: str, taken: bool) -> None:
    """The API never gives such a client_id (it allows ``A-Za-z0-9-._~``), but a broken server
    might. A target naming that pod, or something in it, takes it; the target's first segment
    alone (pod ``tenant-a``, which the fast path indexes address targets by) does not decide."""
    assert read_scope((pattern,)).takes_pod("tenant-a/b") is taken


def test_the_declarations_of_a_whole_plan_include_the_organisation_level() -> None:
    """``declared_in`` of a whole-config scope is everything declared; a narrowed one's, the
    taken pods' only (a whole plan does not call it today: this pins what it promises)."""
    desired = DesiredState()
    desired.add(Resource("pod", "pod/a"))
    desired.add(Resource("api_key", "api_key/ci"))
    assert [r.address for r in declared_in(desired, read_scope(()))] == ["pod/a", "api_key/ci"]
    assert [r.address for r in declared_in(desired, read_scope(("pod/*",)))] == ["pod/a"]
