"""Plan files and write-only values (webhook header values, issue 20 point 1): a plan file records
where each value comes from (`{env: NAME}`, or that it was a literal), never the value; applying
one that must send a value it cannot hold is refused before any change."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailctl.errors import UnsafePlan
from mailctl.plan import planfile
from mailctl.plan.planner import plan as make_plan
from mailctl.resources import POD, WEBHOOK, ActualState, DesiredState, Resource, WriteOnly

VALUE = "hdr-value-5be1d0"
HOOK = "pod/t/webhook/events"


def _desired(*values: tuple[str, WriteOnly]) -> DesiredState:
    desired = DesiredState()
    desired.add(Resource(POD, "pod/t", {}))
    hook = Resource(WEBHOOK, HOOK, {"url": "https://x.test/h", "headers": sorted(n.lower() for n, _ in values)})
    hook.parent, hook.write_only = "pod/t", {"headers": dict(values)}
    desired.add(hook)
    return desired


def _actual(*names: str) -> ActualState:
    actual = ActualState()
    actual.add(Resource(POD, "pod/t", {}, remote_id="pod-1", observed={"client_id": "t"}))
    if names:
        hook = Resource(WEBHOOK, HOOK, {"url": "https://x.test/h", "headers": list(names)}, parent="pod/t")
        hook.remote_id = "ep_1"
        actual.add(hook)
    return actual


def _save_and_read(tmp_path: Path, desired: DesiredState, actual: ActualState) -> tuple[Path, planfile.SavedPlan]:
    path = tmp_path / "headers.plan"
    planfile.save(str(path), make_plan(desired, actual), desired, actual, [], [])
    return path, planfile.SavedPlan(str(path))


def test_a_plan_file_records_environment_references_and_never_a_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desired = _desired(("X-Token", WriteOnly(VALUE, env="HOOK_TOKEN")), ("X-Lit", WriteOnly(VALUE + "-lit")))
    path, _ = _save_and_read(tmp_path, desired, _actual())
    text = path.read_text()
    assert VALUE not in text
    assert '"X-Token": {\n' in text and '"env": "HOOK_TOKEN"' in text and '"literal": true' in text


def test_applying_a_plan_file_reads_the_environment_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    actual = _actual()
    path, _ = _save_and_read(tmp_path, _desired(("X-Token", WriteOnly(VALUE, env="HOOK_TOKEN"))), actual)
    monkeypatch.setenv("HOOK_TOKEN", "value-at-apply-time")
    saved = planfile.SavedPlan(str(path))
    assert saved.desired.resources[HOOK].write_only == {
        "headers": {"X-Token": WriteOnly("value-at-apply-time", "HOOK_TOKEN")}
    }
    saved.check_fresh(actual, make_plan(saved.desired, actual))  # every value is known: accepted


def test_a_plan_file_that_must_send_a_literal_is_refused_naming_it(tmp_path: Path) -> None:
    actual = _actual()
    _, saved = _save_and_read(tmp_path, _desired(("X-Lit", WriteOnly(VALUE))), actual)
    with pytest.raises(UnsafePlan) as refused:
        saved.check_fresh(actual, make_plan(saved.desired, actual))
    message = str(refused.value)
    assert f"{HOOK}: headers `X-Lit` has a literal value in the config" in message
    assert "Nothing was changed" in message and VALUE not in message


def test_a_plan_file_whose_variable_is_unset_at_apply_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_TOKEN_GONE", raising=False)
    actual = _actual()
    _, saved = _save_and_read(tmp_path, _desired(("X-Token", WriteOnly(VALUE, env="HOOK_TOKEN_GONE"))), actual)
    with pytest.raises(UnsafePlan, match="environment variable `HOOK_TOKEN_GONE`, which is not set"):
        saved.check_fresh(actual, make_plan(saved.desired, actual))


def test_a_literal_already_sent_does_not_block_an_update_that_only_adds_another_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_NEW", "new")
    actual = _actual("x-lit")
    desired = _desired(("X-Lit", WriteOnly(VALUE)), ("X-New", WriteOnly("new", env="HOOK_NEW")))
    _, saved = _save_and_read(tmp_path, desired, actual)
    saved.check_fresh(actual, make_plan(saved.desired, actual))  # only X-New is sent, from the environment
