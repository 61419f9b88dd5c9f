"""The planner's lines that the mutation sweep of ``plan/planner.py`` found unpinned: each test
names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/plan/planner.py tests/unit/plan/test_planner_sweep.py``).

Pure: desired state from config text, actual state built by hand (the builders of the planner's
fleet rules), the plan made by ``planner.plan``."""

from __future__ import annotations

from test_fleet_rules import actual, desired, org_key

from mailctl.plan.changes import DELETE, REPLACE
from mailctl.plan.planner import SECRET_NEVER_RECORDED
from mailctl.plan.planner import plan as make_plan
from mailctl.resources import API_KEY, POD, Observed, Resource


def test_when_both_ends_of_an_organisation_move_exist_the_old_key_is_left_alone_not_deleted() -> None:
    """Pins the ``continue`` after the "both exist, so nothing is renamed" note in ``_moves``:
    without it the ``from`` key was still counted as renamed, so an undeclared organisation key
    (which mailctl never deletes) became managed and the plan deleted it, while the note said
    nothing was renamed."""
    config = desired("api_keys:\n  new: {}\nmoved:\n  - {from: api_key/old, to: api_key/new}\n")
    p = make_plan(config, actual(org_key("old", "k1"), org_key("new", "k2")))
    assert p.changes == []
    assert "api_key/old" in p.unmanaged
    assert p.notes == [
        "moved api_key/old -> api_key/new: both exist, so nothing is renamed (api_key/old is planned on its own)"
    ]


def test_a_declared_key_whose_secret_was_never_recorded_is_replaced_as_a_repair() -> None:
    """Pins ``return Change(REPLACE, ..., reason=SECRET_NEVER_RECORDED, repair=True)`` in
    ``_compare``: a key an interrupted apply left under its pending name (nobody holds its secret)
    and that now stands at its declared address with nothing else different was planned as no
    change at all, so the config's key stayed one whose secret nobody has."""
    pending = Observed(unrecorded=True, declared_address="api_key/backend")
    p = make_plan(desired("api_keys:\n  backend: {}\n"), actual(org_key("backend", "k1", pending)))
    planned = {c.address: (c.action, c.reason, c.repair) for c in p.changes}
    assert planned == {"api_key/backend": (REPLACE, SECRET_NEVER_RECORDED, True)}  # a repair: not counted


def test_an_older_key_of_a_removed_name_is_deleted_saying_it_was_mid_rotation() -> None:
    """Pins ``return f"not declared; an older key of ... (mid-rotation)"`` in
    ``_Scope.delete_reason``: without it the older key of a rotation, deleted with its name,
    read as an ordinary ``not declared`` key, hiding that consumers may still use it."""
    pod = Resource(POD, "pod/t", {}, remote_id="p1", observed=Observed(client_id="t"))
    newest = Resource(API_KEY, "pod/t/api_key/ci", {"permissions": None}, parent="pod/t", remote_id="k2")
    older = Resource(
        API_KEY,
        "pod/t/api_key/ci#k1",
        {"permissions": None},
        parent="pod/t",
        remote_id="k1",
        observed=Observed(superseded=True, declared_address="pod/t/api_key/ci"),
    )
    p = make_plan(desired("pods:\n  t: {}\n"), actual(pod, newest, older))
    assert {c.address: (c.action, c.reason) for c in p.changes} == {
        "pod/t/api_key/ci": (DELETE, "not declared"),
        "pod/t/api_key/ci#k1": (DELETE, "not declared; an older key of pod/t/api_key/ci (mid-rotation)"),
    }
