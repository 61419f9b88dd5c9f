"""``manage.protect`` refuses destroying what it matches, and only that: an update of a protected
resource, or a delete of one outside the rule, goes through (and says nothing about protect)."""

from __future__ import annotations

import pytest

from mailctl.errors import UnsafePlan
from mailctl.plan import safety
from mailctl.plan.changes import CREATE, DELETE, UPDATE, AttributeChange, Change, Plan
from mailctl.resources import INBOX, ActualState, DesiredState, ManagePolicy, Resource

VIP = DesiredState(manage=ManagePolicy(protect=("pod/vip",)))


def _inbox(pod: str, name: str) -> Resource:
    return Resource(INBOX, f"pod/{pod}/inbox/{name}@agentmail.to", {}, parent=f"pod/{pod}")


def _apply_check(plan: Plan, desired: DesiredState) -> None:
    """What apply does: the plan's refusals, then the flags (none given)."""
    plan.refusals = safety.refusals(plan, desired, ActualState())
    safety.check(plan)


def test_updating_or_creating_a_protected_resource_is_not_refused():
    """Deleting the ``continue`` for changes that destroy nothing (line ``if not change.destroys
    ...: continue``) refused every update and create under a protected scope."""
    box = _inbox("vip", "a")
    renamed = Resource(INBOX, box.address, {"display_name": "A"}, parent="pod/vip")
    plan = Plan(
        changes=[
            Change(UPDATE, box.address, desired=renamed, actual=box, diff=[AttributeChange("display_name", None, "A")]),
            Change(CREATE, "pod/vip/inbox/b@agentmail.to", desired=_inbox("vip", "b")),
        ],
        managed_count=100,
    )
    _apply_check(plan, VIP)
    assert plan.refusals == []


def test_deleting_a_resource_outside_the_protect_rule_is_not_refused():
    """Deleting the ``if hit is None: continue`` made a delete that no protect glob matches crash
    (unpacking None) instead of going through."""
    box = _inbox("other", "a")
    plan = Plan(changes=[Change(DELETE, box.address, actual=box)], managed_count=100)
    _apply_check(plan, VIP)
    assert plan.refusals == []


def test_deleting_a_protected_resource_is_still_refused_next_to_an_unprotected_one():
    """The two cases above, side by side with the refusal they must not hide."""
    inside, outside = _inbox("vip", "a"), _inbox("other", "a")
    plan = Plan(
        changes=[Change(DELETE, outside.address, actual=outside), Change(DELETE, inside.address, actual=inside)],
        managed_count=100,
    )
    with pytest.raises(
        UnsafePlan, match=r"pod/vip/inbox/a@agentmail.to is protected by manage.protect `pod/vip`"
    ) as err:
        _apply_check(plan, VIP)
    assert "pod/other" not in str(err.value)
    assert [r.addresses for r in plan.refusals] == [(inside.address,)]
