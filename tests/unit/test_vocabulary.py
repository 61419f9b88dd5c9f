"""Actions and outcomes are enums, valued as the words the JSON and text output always used."""

from __future__ import annotations

import json

from mailctl.apply import DEFERRED, DONE, FAILED, FOUND, NOT_STARTED, SKIPPED, Outcome
from mailctl.plan.changes import ACTIONS, CREATE, DELETE, REPLACE, UPDATE, Action, Change, Plan


def test_actions_are_an_enum_of_the_four_words():
    assert list(Action) == [CREATE, UPDATE, REPLACE, DELETE] == list(ACTIONS)
    assert [str(a) for a in Action] == ["create", "update", "replace", "delete"]
    assert CREATE == "create" and f"{DELETE}" == "delete"


def test_outcomes_are_an_enum_of_the_six_words():
    # "found": another shard's create that a sharded apply waited for and found (not its own change).
    assert [DONE, FOUND, FAILED, SKIPPED, DEFERRED, NOT_STARTED] == list(Outcome)
    assert [str(o) for o in Outcome] == ["done", "found", "failed", "skipped", "deferred", "not started"]


def test_json_output_carries_the_bare_words():
    plan = Plan(changes=[Change(CREATE, "pod/a")])
    assert json.dumps(plan.counts(), sort_keys=True) == '{"create": 1, "delete": 0, "replace": 0, "update": 0}'
    assert (
        json.dumps({"action": plan.changes[0].action, "outcome": NOT_STARTED})
        == '{"action": "create", "outcome": "not started"}'
    )
