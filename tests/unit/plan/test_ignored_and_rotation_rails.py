"""Two rails on what mailctl leaves alone: a scope destroyed while it holds ``manage.ignore``
matches (``ignored_children``), and a key renamed by ``moved`` while its rotation is open
(``open_rotation``). Pure: desired state from config text, actual state built by hand, the plan
made as the commands make it (``pipeline.make_plan``)."""

from __future__ import annotations

import pytest
from test_fleet_rules import actual, desired  # the same builders as the planner's other fleet rules

from mailctl.errors import UnsafePlan
from mailctl.facts import StateFacts
from mailctl.plan import pipeline, safety
from mailctl.plan.changes import Plan, Rule
from mailctl.resources import API_KEY, INBOX, POD, ActualState, DesiredState, Observed, Resource

MANAGE = (
    "manage:\n  pods: {client_id_prefix: t-}\n  ignore: ['pod/*/inbox/conv-*', 'pod/*/inbox/*/api_key/session-*']\n"
)


def planned(config: DesiredState, state: ActualState, targets: list[str] | None = None) -> Plan:
    return pipeline.make_plan(config, state, lambda needed: StateFacts(), targets or [], [])


def pod(client_id: str, **attrs: object) -> Resource:
    return Resource(
        POD, f"pod/{client_id}", dict(attrs), remote_id=f"id-{client_id}", observed=Observed(client_id=client_id)
    )


def inbox(pod_name: str, email: str) -> Resource:
    return Resource(INBOX, f"pod/{pod_name}/inbox/{email}", {}, parent=f"pod/{pod_name}")


def inbox_key(inbox_: Resource, name: str) -> Resource:
    return Resource(API_KEY, f"{inbox_.address}/api_key/{name}", {"permissions": None}, parent=inbox_.address)


def rule(plan: Plan, which: Rule) -> list[tuple[tuple[str, ...], str]]:
    return [(r.addresses, r.message) for r in plan.refusals if r.rule == which]


# ---------------------------------------------------------------------------------------------
# ignored_children


def test_a_removed_pod_holding_an_ignored_inbox_is_refused_whatever_the_flags():
    state = actual(pod("t-a"), pod("t-b"), inbox("t-b", "b@agentmail.to"), inbox("t-b", "conv-1@agentmail.to"))
    plan = planned(desired(MANAGE + "pods:\n  t-a: {}\n"), state)
    assert {c.address: c.action for c in plan.changes} == {
        "pod/t-b": "delete",
        "pod/t-b/inbox/b@agentmail.to": "delete",
    }
    [(addresses, message)] = rule(plan, Rule.IGNORED_CHILDREN)
    assert addresses == ("pod/t-b",)
    assert message.startswith(
        "pod/t-b holds 1 resource(s) that manage.ignore leaves alone (pod/t-b/inbox/conv-1@agentmail.to), "
        "but the plan would delete it: not declared; matches manage.pods."
    )
    assert [r.lifted_by for r in plan.refusals] == [None]
    with pytest.raises(UnsafePlan, match="conv-1@agentmail.to"):
        safety.check(plan, force=True, allow_data_loss=True)


def test_a_replaced_pod_holding_an_ignored_inbox_is_refused():
    state = actual(pod("t-b", name="B"), inbox("t-b", "conv-1@agentmail.to"))
    plan = planned(desired(MANAGE + "pods:\n  t-b: {name: B2}\n"), state)
    [(addresses, message)] = rule(plan, Rule.IGNORED_CHILDREN)
    assert addresses == ("pod/t-b",) and "but the plan would replace it: name forces replacement" in message


def test_a_deleted_inbox_holding_an_ignored_key_is_refused_naming_the_inbox():
    box = inbox("t-a", "b@agentmail.to")
    state = actual(pod("t-a"), box, inbox_key(box, "session-9"), inbox_key(box, "stray"))
    plan = planned(desired(MANAGE + "pods:\n  t-a: {}\n"), state)
    assert {c.address for c in plan.changes} == {box.address, f"{box.address}/api_key/stray"}
    [(addresses, message)] = rule(plan, Rule.IGNORED_CHILDREN)
    assert addresses == (box.address,)
    assert f"({box.address}/api_key/session-9)" in message


def test_the_outermost_destroyed_scope_is_named_once_with_everything_it_holds():
    conv = inbox("t-b", "conv-1@agentmail.to")  # ignored, and holds an ignored key of its own
    box = inbox("t-b", "b@agentmail.to")
    state = actual(pod("t-b"), conv, box, inbox_key(conv, "k"), inbox_key(box, "session-1"))
    plan = planned(desired(MANAGE), state)
    [(addresses, message)] = rule(plan, Rule.IGNORED_CHILDREN)
    assert addresses == ("pod/t-b",) and "holds 3 resource(s)" in message


def test_many_ignored_children_are_named_a_few_then_counted():
    state = actual(pod("t-b"), *(inbox("t-b", f"conv-{n}@agentmail.to") for n in range(7)))
    [(_, message)] = rule(planned(desired(MANAGE), state), Rule.IGNORED_CHILDREN)
    assert "holds 7 resource(s)" in message and "and 4 more)" in message
    assert message.count("pod/t-b/inbox/conv-") == 3


def test_nothing_is_refused_when_the_destroyed_scope_holds_no_ignored_match():
    state = actual(pod("t-a"), inbox("t-a", "conv-1@agentmail.to"), pod("t-b"), inbox("t-b", "b@agentmail.to"))
    plan = planned(desired(MANAGE + "pods:\n  t-a: {}\n"), state)
    assert plan.refusals == []
    no_rule = planned(desired("manage:\n  pods: {client_id_prefix: t-}\n"), actual(pod("t-b"), inbox("t-b", "x@y.to")))
    assert no_rule.refusals == []


def test_a_targeted_plan_sees_the_ignored_children_of_the_targeted_pod():
    state = actual(pod("t-a"), pod("t-b"), inbox("t-b", "b@agentmail.to"), inbox("t-b", "conv-1@agentmail.to"))
    config = desired(MANAGE + "pods:\n  t-a: {}\n")
    assert [r.addresses for r in planned(config, state, ["pod/t-b"]).refusals] == [("pod/t-b",)]
    assert planned(config, state, ["pod/t-b/inbox/b@agentmail.to"]).refusals == []  # the pod stays


# ---------------------------------------------------------------------------------------------
# open_rotation


def pod_key(name: str, remote_id: str, created_at: str, superseded: bool = False) -> Resource:
    address = f"pod/t-a/api_key/{name}" + (f"#{remote_id}" if superseded else "")
    return Resource(
        API_KEY,
        address,
        {"permissions": None},
        parent="pod/t-a",
        remote_id=remote_id,
        observed=Observed(superseded=superseded, created_at=created_at, declared_address=f"pod/t-a/api_key/{name}"),
    )


ROTATING = (
    pod("t-a"),
    pod_key("backend", "k2", "2026-01-02T00:00:00Z"),
    pod_key("backend", "k1", "2026-01-01T00:00:00Z", superseded=True),
)
MOVED = "moved:\n  - {from: pod/t-a/api_key/backend, to: pod/t-a/api_key/backend-v2}\n"


@pytest.mark.parametrize("expires", ["", ", expires_at: '2032-01-01T00:00:00Z'"])
def test_a_key_moved_while_its_rotation_is_open_is_refused_naming_retire_old(expires: str):
    config = desired(f"pods:\n  t-a:\n    api_keys: {{backend-v2: {{permissions: null{expires}}}}}\n" + MOVED)
    plan = planned(config, actual(*ROTATING))
    assert [c.address for c in plan.changes] == ["pod/t-a/api_key/backend-v2"]
    assert "pod/t-a/api_key/backend#k1" in plan.unmanaged
    [(addresses, message)] = rule(plan, Rule.OPEN_ROTATION)
    assert addresses == ("pod/t-a/api_key/backend-v2",)
    assert "pod/t-a/api_key/backend has 1 older key(s) still in rotation (pod/t-a/api_key/backend#k1)" in message
    assert "mailctl rotate pod/t-a/api_key/backend --retire-old" in message
    assert [r.lifted_by for r in plan.refusals] == [None]


def test_a_key_moved_once_its_rotation_is_finished_is_renamed():
    config = desired("pods:\n  t-a:\n    api_keys: {backend-v2: {}}\n" + MOVED)
    plan = planned(config, actual(*ROTATING[:2]))
    assert [c.action for c in plan.changes] == ["update"] and plan.refusals == []


def test_an_open_rotation_of_a_key_that_is_not_moved_refuses_nothing():
    config = desired("pods:\n  t-a:\n    api_keys: {backend: {}}\n")
    plan = planned(config, actual(*ROTATING))
    assert plan.changes == [] and plan.refusals == [] and plan.notes == []
