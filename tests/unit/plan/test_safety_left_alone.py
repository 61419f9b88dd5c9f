"""The ``ignored_children`` rail also guards what mailctl never manages (public-key credentials,
``ActualState.left_alone``): destroying the scope that holds them is refused, whatever the flags,
naming them; a scope that is not destroyed is not."""

from __future__ import annotations

import pytest

from mailctl.errors import UnsafePlan
from mailctl.plan import safety
from mailctl.plan.changes import DELETE, Change, Plan, Rule
from mailctl.resources import INBOX, POD, ActualState, DesiredState, Resource

POD_ADDRESS = "pod/t-b"
BOX = f"{POD_ADDRESS}/inbox/b@agentmail.to"


def _deleting_the_pod() -> Plan:
    return Plan(
        changes=[
            Change(DELETE, POD_ADDRESS, actual=Resource(POD, POD_ADDRESS, {})),
            Change(DELETE, BOX, actual=Resource(INBOX, BOX, {}, parent=POD_ADDRESS)),
        ],
        managed_count=100,
    )


def test_deleting_a_pod_holding_public_key_credentials_is_refused_whatever_the_flags_naming_them_all():
    """Deleting ``unmanageable.setdefault(scope, []).extend(things)`` (or negating the ``if`` above
    it) dropped every left-alone thing: the pod and its credentials were deleted without a word.
    Deleting ``things = sorted(unmanageable[scope])`` named only the last holder's (the inbox's
    credential went unsaid); deleting the ``parts.append`` left the refusal saying nothing of them."""
    plan = _deleting_the_pod()
    actual = ActualState(left_alone={BOX: ["public-key credential zeta"], POD_ADDRESS: ["public-key credential alpha"]})
    plan.refusals = safety.refusals(plan, DesiredState(), actual)
    with pytest.raises(UnsafePlan) as err:
        safety.check(plan, force=True, allow_data_loss=True)
    assert (
        f"{POD_ADDRESS} holds 2 thing(s) mailctl never manages "
        "(public-key credential alpha, public-key credential zeta), "
        "but the plan would delete it: it is no longer declared" in str(err.value)
    )
    assert [(r.rule, r.addresses) for r in plan.refusals] == [(Rule.IGNORED_CHILDREN, (POD_ADDRESS,))]


def test_a_public_key_credential_in_a_scope_that_stays_refuses_nothing():
    """The ``is not None`` test on the outermost destroyed scope: a credential elsewhere is no reason
    to refuse (negated, it refused with a scope of None)."""
    plan = _deleting_the_pod()
    actual = ActualState(left_alone={"pod/t-a/inbox/a@agentmail.to": ["public-key credential other"]})
    plan.refusals = safety.refusals(plan, DesiredState(), actual)
    safety.check(plan)
    assert plan.refusals == []
