"""What a refusal says about why the resource goes: a delete of what the config no longer declares
says so in words, never ``None``."""

from __future__ import annotations

import pytest

from mailctl.errors import UnsafePlan
from mailctl.plan import safety
from mailctl.plan.changes import DELETE, Change, Plan
from mailctl.resources import INBOX, ActualState, DesiredState, Resource


def test_deleting_an_undeclared_inbox_with_mail_says_it_is_no_longer_declared():
    """Deleting ``return "it is no longer declared"`` (the last reason ``_why_destroyed`` gives)
    made the data-loss refusal read ``(...; None)``."""
    address = "pod/p/inbox/old@agentmail.to"
    box = Resource(INBOX, address, {}, parent="pod/p")
    plan = Plan(changes=[Change(DELETE, address, actual=box, data_at_risk={"messages": 2})], managed_count=100)
    plan.refusals = safety.refusals(plan, DesiredState(), ActualState())
    with pytest.raises(UnsafePlan) as err:
        safety.check(plan, force=True)
    assert f"{address} (2 messages; it is no longer declared)" in str(err.value)
    assert "None" not in str(err.value)
