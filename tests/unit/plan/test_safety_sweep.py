"""Safety rails the mutation sweep of ``plan/safety.py`` left to judge
(``.ci/mutate.py --sweep src/mailctl/plan/safety.py tests/unit/plan/test_safety_sweep.py``).

The sweep itself (statements as ``pass``, ``if`` negated) found two survivors, both equivalent: the
early ``return []`` of ``ignored_children`` and of ``open_rotations`` are fast paths, the loops
after them find nothing either. The sweep does not mutate expressions, so the rails' conditions
were mutated by hand too (a comparison, a tuple, a default, one at a time, against the same
tests): each test here names the expression whose mutation it catches. Pure: desired state from
config text, actual state built by hand, the plan made as the commands make it
(``pipeline.make_plan``) or, for the rails' arithmetic, a plan built by hand."""

from __future__ import annotations

import pytest
from test_fleet_rules import actual, desired  # the same builders as the planner's other fleet rules

from mailctl.errors import UnsafePlan
from mailctl.facts import StateFacts
from mailctl.plan import pipeline, safety
from mailctl.plan.changes import DELETE, REPLACE, UPDATE, Change, Plan, Rule
from mailctl.resources import API_KEY, INBOX, POD, ActualState, DesiredState, Observed, Resource

BOX = "pod/t-a/inbox/b@agentmail.to"


def planned(config: DesiredState, state: ActualState) -> Plan:
    return pipeline.make_plan(config, state, lambda needed: StateFacts(), [], [])


def pod(client_id: str) -> Resource:
    return Resource(POD, f"pod/{client_id}", {}, remote_id=f"id-{client_id}", observed=Observed(client_id=client_id))


def deletes(n_existing: int, n: int) -> Plan:
    """``n`` inbox deletes among ``n_existing`` managed resources."""
    changes = [
        Change(DELETE, f"pod/p/inbox/d{i}@agentmail.to", actual=Resource(INBOX, f"pod/p/inbox/d{i}@agentmail.to"))
        for i in range(n)
    ]
    return Plan(changes=changes, managed_count=n_existing)


def test_prevent_destroy_does_not_refuse_an_update_in_place() -> None:
    """Pins ``not change.destroys`` in ``guarded_destroys``: without it a guarded inbox whose
    display name changes was refused ("would delete it"), whatever the flags, though nothing
    is destroyed."""
    config = desired("pods:\n  t-a:\n    inboxes:\n      b@agentmail.to: {display_name: New, prevent_destroy: true}\n")
    box = Resource(INBOX, BOX, {"display_name": "Old"}, parent="pod/t-a", remote_id="b@agentmail.to")
    plan = planned(config, actual(pod("t-a"), box))
    assert [(c.address, c.action) for c in plan.changes] == [(BOX, UPDATE)]
    assert plan.refusals == []
    safety.check(plan)


def test_protect_guards_the_old_address_of_a_key_replaced_through_moved() -> None:
    """Pins ``change.moved_from`` and ``change.actual.address`` among the addresses
    ``protected_destroys`` matches: the replacement of a moved key is planned at its new address,
    but it deletes the key at the old one; matched on the new address alone, a protected key
    was destroyed without a refusal."""
    config = desired(
        "manage:\n  protect: ['pod/t-a/api_key/backend']\n"
        "pods:\n  t-a:\n    api_keys: {backend-v2: {permissions: null, expires_at: '2032-01-01T00:00:00Z'}}\n"
        "moved:\n  - {from: pod/t-a/api_key/backend, to: pod/t-a/api_key/backend-v2}\n"
    )
    key = Resource(
        API_KEY,
        "pod/t-a/api_key/backend",
        {"permissions": None, "expires_at": "2031-01-01T00:00:00Z"},
        parent="pod/t-a",
        remote_id="k1",
        observed=Observed(declared_address="pod/t-a/api_key/backend"),
    )
    plan = planned(config, actual(pod("t-a"), key))
    assert [(c.address, c.action, c.moved_from) for c in plan.changes] == [
        ("pod/t-a/api_key/backend-v2", REPLACE, "pod/t-a/api_key/backend")
    ]
    [refusal] = plan.refusals
    assert refusal.rule == Rule.PROTECT and refusal.lifted_by is None
    assert refusal.message.startswith(
        "pod/t-a/api_key/backend is protected by manage.protect `pod/t-a/api_key/backend`, but the plan would "
        "replace it (as pod/t-a/api_key/backend-v2): moved from pod/t-a/api_key/backend; expires_at forces replacement"
    )
    with pytest.raises(UnsafePlan, match="is protected by manage.protect"):
        safety.check(plan, force=True, allow_data_loss=True)


def test_min_existing_zero_plans_a_first_apply_without_dividing_by_zero() -> None:
    """Pins ``or existing == 0`` in ``threshold_violations``: with ``settings.safety.min_existing: 0``
    (allowed by the schema) the first plan of an empty organisation crashed with
    ZeroDivisionError instead of planning its creates."""
    config = desired("settings:\n  safety: {min_existing: 0}\npods:\n  t-a: {}\n")
    plan = planned(config, actual())
    assert [(c.address, c.action) for c in plan.changes] == [("pod/t-a", "create")]
    assert plan.refusals == []


def test_max_change_fraction_sets_the_delete_threshold_too() -> None:
    """Pins ``common`` as the default of ``max_delete_fraction`` in ``Thresholds.from_settings``:
    with the built-in 30% instead, ``max_change_fraction: 0.5`` raised the update threshold only
    and 5 deletes of 10 were still refused."""
    config = DesiredState(settings={"safety": {"max_change_fraction": 0.5}})
    allowed = deletes(10, 5)
    allowed.refusals = safety.refusals(allowed, config, ActualState())
    assert allowed.refusals == []
    refused = deletes(10, 6)
    refused.refusals = safety.refusals(refused, config, ActualState())
    assert [r.message for r in refused.refusals] == [
        "the plan would delete 6 of 10 existing managed resources (60%), above the 50% threshold "
        "(use --force to apply anyway, or raise settings.safety)"
    ]


def test_exactly_three_things_are_all_named_with_no_count_of_more() -> None:
    """Pins ``len(addresses) <= SHOWN`` in ``_few``: with ``<`` a refusal naming exactly three
    things added "and 0 more"."""
    plan = Plan(changes=[Change(DELETE, "pod/t-b", actual=Resource(POD, "pod/t-b"))], managed_count=100)
    things = ["public-key credential a", "public-key credential b", "public-key credential c"]
    plan.refusals = safety.refusals(plan, DesiredState(), ActualState(left_alone={"pod/t-b": things}))
    [refusal] = plan.refusals
    assert refusal.message.startswith(
        "pod/t-b holds 3 thing(s) mailctl never manages "
        "(public-key credential a, public-key credential b, public-key credential c), but"
    )
    assert "more" not in refusal.message


def test_an_inbox_holding_threads_but_no_messages_never_asks_to_type_0() -> None:
    """Pins ``h.get("threads", 0)`` in ``messages_at_risk``: an inbox reported with threads but no
    messages (nor drafts) is refused as data loss, and without its threads counted the prompt
    asked the user to type 0 to destroy them."""
    plan = deletes(100, 1)
    plan.changes[0].data_at_risk = {"threads": 2, "messages": 0, "drafts": 0}
    plan.refusals = safety.refusals(plan, DesiredState(), ActualState())
    assert [r.rule for r in plan.refusals] == [Rule.DATA_LOSS]
    assert safety.messages_at_risk(plan) > 0
