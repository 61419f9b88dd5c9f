"""`mailctl apply`'s lines that the mutation sweep of ``apply_cmd.py`` found unpinned: each test
names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/cli/apply_cmd.py tests/unit/cli/test_apply_cmd_sweep.py``)."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mailctl.apply import DEFERRED, DONE, FAILED, FOUND, NOT_STARTED, SKIPPED, ApplyResult, StepResult
from mailctl.cli.apply_cmd import _confirm, _finish, _print_steps, _recovery, _report
from mailctl.cli.main import cli
from mailctl.errors import ApplyFailed, Cancelled, DeferredWork, LockNotReleased, Terminated, UnsafePlan, UsageError
from mailctl.ops.apply import ApplyHooks, ApplyOutcome
from mailctl.ops.planning import Planned
from mailctl.plan.changes import Plan, Refusal, Rule
from mailctl.plan.shards import Shard
from mailctl.resources import ActualState, DesiredState

POD = "pod/a"
INBOX = "pod/a/inbox/help@mail.a.example"
LIFTED_THRESHOLD = Refusal(Rule.THRESHOLD, "the plan deletes 5 of 6 managed resources", (), "--force")
DATA_LOSS = Refusal(
    Rule.DATA_LOSS, "pod/a/inbox/x@agentmail.to holds 3 messages\x1b[2J", ("pod/a",), "--allow-data-loss"
)


# -- interrupted before any change ----------------------------------------------------------------


def _apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_apply: Callable[..., ApplyOutcome], *flags: str
) -> Result:
    """``mailctl apply`` with the workflow replaced by ``run_apply``."""
    monkeypatch.setattr("mailctl.ops.apply.run_apply", run_apply)
    config = tmp_path / "mailctl.yaml"
    config.write_text("version: 1\n")
    return CliRunner().invoke(
        cli,
        ["apply", "-f", str(config), "--sandbox", str(tmp_path / "sandbox.db"), "--auto-approve", *flags],
        env={"AGENTMAIL_API_KEY": "am_unused"},
    )


def _raising(exc: BaseException) -> Callable[..., ApplyOutcome]:
    def run_apply(*_: object) -> ApplyOutcome:
        raise exc

    return run_apply


@pytest.mark.parametrize(
    ("exc", "code", "name"),
    [(KeyboardInterrupt(), 130, "Ctrl-C"), (Terminated(signal.SIGTERM), 143, "SIGTERM")],
    ids=["Ctrl-C", "SIGTERM"],
)
def test_a_signal_before_any_change_exits_with_its_code_and_says_nothing_was_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException, code: int, name: str
) -> None:
    """Deleting ``raise Cancelled(signum, "apply interrupted ...")`` let the interrupt escape
    unexplained; deleting ``signum = ...`` turned it into a NameError."""
    run = _apply(tmp_path, monkeypatch, _raising(exc))
    assert run.exit_code == code, run.output
    assert (
        f"apply interrupted ({name}) before any change was made: nothing was changed; no lock was taken" in run.stderr
    )


def test_a_lock_left_held_fails_apply_after_its_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleting ``raise outcome.lock_left`` exited 0 with the lock possibly still held and never
    said how to remove it; the report of what was done comes first, as it still stands."""
    left = LockNotReleased("the organisation lock may still be held: run `mailctl unlock`")
    result = ApplyResult([StepResult(POD, "create", DONE)])
    run = _apply(tmp_path, monkeypatch, lambda *_: ApplyOutcome(_planned(), result, None, left))
    assert run.exit_code == 1, run.output
    assert "Apply complete! 1 done" in run.stdout
    assert "the organisation lock may still be held: run `mailctl unlock`" in run.stderr


def test_nothing_to_change_exits_0_without_a_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _apply(tmp_path, monkeypatch, lambda *_: ApplyOutcome(_planned(), None, None))
    assert run.exit_code == 0, run.output
    assert "Apply" not in run.stdout and run.stderr == ""


# -- the exit status -------------------------------------------------------------------------------


def test_sigterm_after_a_complete_apply_still_exits_with_the_signals_code() -> None:
    """Deleting the ``raise Cancelled(...)`` for a signal other than Ctrl-C exited 0 after a
    SIGTERM: a supervisor stopping mailctl took the run for a finished one."""
    result = ApplyResult([StepResult(POD, "create", DONE)])
    with pytest.raises(Cancelled) as caught:
        _finish(result, signal.SIGTERM, False, 0.0, ())
    assert caught.value.exit_code == 128 + signal.SIGTERM
    assert "apply stopped by SIGTERM before finishing" in str(caught.value)


def test_a_failed_step_makes_apply_fail_and_says_a_rerun_converges() -> None:
    """Deleting ``raise ApplyFailed(...)`` exited 0 after a failed step."""
    result = ApplyResult([StepResult(POD, "create", FAILED, "500 boom")])
    with pytest.raises(ApplyFailed, match="re-running apply converges"):
        _finish(result, None, False, 0.0, ())


def test_a_complete_apply_stopped_by_ctrl_c_after_its_last_step_exits_0() -> None:
    """Ctrl-C that changed nothing of the outcome (every step done) is not a failure."""
    _finish(ApplyResult([StepResult(POD, "create", DONE)]), signal.SIGINT, False, 0.0, ())


def test_allow_deferred_exits_0_and_says_on_stderr_what_is_deferred(capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting the ``click.secho("Deferred (allowed by --allow-deferred): ...")`` left the
    deferred work unsaid; deleting its ``return`` (or negating ``if allow_deferred``) exited 1."""
    result = ApplyResult([StepResult(INBOX, "create", DEFERRED, "domain mail.a.example is not verified")])
    _finish(result, None, True, 0.0, ("mailctl/",))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        "Deferred (allowed by --allow-deferred): 1 change(s) deferred, waiting for domain(s)"
    )
    assert "mail.a.example" in captured.err and "`mailctl dns -f mailctl/`" in captured.err


def test_deferred_work_suggests_waiting_only_when_no_wait_was_made() -> None:
    """The ``--wait-for-domains SECONDS`` hint: suggested without a wait, not after one."""
    result = ApplyResult([StepResult(INBOX, "create", DEFERRED, "not verified")])
    with pytest.raises(DeferredWork) as unwaited:
        _finish(result, None, False, 0.0, ())
    with pytest.raises(DeferredWork) as waited:
        _finish(result, None, False, 30.0, ())
    assert "or wait for them with --wait-for-domains SECONDS," in str(unwaited.value)
    assert "--wait-for-domains SECONDS" not in str(waited.value)


# -- the confirmation ------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    """Stdin on a terminal, holding the answers typed."""

    def isatty(self) -> bool:
        return True


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def _planned(*refusals: Refusal) -> Planned:
    return Planned(DesiredState(), ActualState(), Plan(refusals=list(refusals)))


def _typing(monkeypatch: pytest.MonkeyPatch, answers: str) -> None:
    monkeypatch.setattr("sys.stdin", _Terminal(answers))


# An answer lost on its way (``_ask`` returning nothing, or carrying on at end of input) asks
# "Please answer y or n." forever: fail such a breakage in seconds, not at the suite's limit.
asks_once = pytest.mark.timeout(10)


@asks_once
@pytest.mark.parametrize("answer", ["y", "yes", "Y", " YES "])
def test_yes_approves(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], answer: str) -> None:
    _typing(monkeypatch, f"{answer}\n")
    _confirm(_planned(), None)
    assert capsys.readouterr().out == "\nApply these changes? [y/N]: "


@asks_once
@pytest.mark.parametrize("answer", ["", "n", "no", "No"])
def test_no_or_just_enter_cancels_saying_nothing_was_changed(monkeypatch: pytest.MonkeyPatch, answer: str) -> None:
    _typing(monkeypatch, f"{answer}\n")
    with pytest.raises(UsageError, match=r"^apply cancelled \(nothing was changed\)$"):
        _confirm(_planned(), None)


@asks_once
def test_an_unclear_answer_is_asked_again(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _typing(monkeypatch, "maybe\ny\n")
    _confirm(_planned(), None)
    assert capsys.readouterr().out.count("Please answer y or n.\n") == 1


@asks_once
def test_end_of_input_at_the_prompt_cancels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleting ``raise UsageError("apply cancelled: no answer ...")`` (or the ``return input()``)
    asked again and again once stdin had closed."""
    _typing(monkeypatch, "")
    with pytest.raises(UsageError, match=r"apply cancelled: no answer \(nothing was changed\)"):
        _confirm(_planned(), None)


def test_without_a_terminal_apply_refuses_and_names_auto_approve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _Pipe("y\n"))
    with pytest.raises(UsageError, match="no terminal to confirm on: pass --auto-approve"):
        _confirm(_planned(), None)


def test_without_a_terminal_a_plan_destroying_mail_is_refused_for_its_data_loss_not_for_want_of_auto_approve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deleting ``safety.refuse([...DATA_LOSS...])`` (or negating its ``if``) told the user to pass
    --auto-approve, which does not lift the data-loss rail: the refusal must name what is lost."""
    monkeypatch.setattr("sys.stdin", _Pipe("3\n"))
    with pytest.raises(UnsafePlan) as caught:
        _confirm(_planned(DATA_LOSS), 3)
    assert "refusing to apply (nothing was changed)" in str(caught.value)
    assert "holds 3 messages" in str(caught.value) and "--auto-approve" not in str(caught.value)


def test_data_loss_is_approved_by_typing_the_number_of_messages_after_an_escaped_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Deleting the ``Warning:`` line (or negating its ``if``) asked for the number without saying
    which inbox loses its mail; the message is escaped: a hostile name cannot clear the screen. A
    rail already lifted (--force) is not repeated as a warning here."""
    _typing(monkeypatch, "3\n")
    _confirm(_planned(LIFTED_THRESHOLD, DATA_LOSS), 3)
    out = capsys.readouterr().out
    assert "Warning: pod/a/inbox/x@agentmail.to holds 3 messages\\x1b[2J\n" in out
    assert "\x1b[2J" not in out
    assert out.count("Warning:") == 1 and LIFTED_THRESHOLD.message not in out
    assert out.endswith("This destroys 3 message(s) permanently. Type 3 to apply: ")


@pytest.mark.parametrize("answer", ["y", "yes", "2", ""])
def test_data_loss_is_not_approved_by_yes_or_a_wrong_number(monkeypatch: pytest.MonkeyPatch, answer: str) -> None:
    """Deleting ``raise UsageError("apply cancelled: ... is not N")`` (or negating its ``if``)
    destroyed mail on any answer."""
    _typing(monkeypatch, f"{answer}\n")
    with pytest.raises(UsageError, match=rf"apply cancelled: '{answer}' is not 3 \(nothing was changed\)"):
        _confirm(_planned(DATA_LOSS), 3)


# -- the lines per step and the report -------------------------------------------------------------


def test_done_steps_go_to_stdout_and_failed_ones_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    _print_steps(
        [
            StepResult(POD, "create", DONE),
            StepResult("pod/b", "update", DONE),
            StepResult("pod/c", "delete", DONE),
            StepResult("pod/d", "create", FAILED, "500 boom"),
            StepResult("pod/e", "create", SKIPPED, "depends on create of pod/d"),
        ]
    )
    captured = capsys.readouterr()
    assert captured.out == "pod/a: created\npod/b: updated\npod/c: destroyed\n"
    assert captured.err == "pod/d: create FAILED: 500 boom\n"


class _Sink:
    def __init__(self, path: str, written: list[str]) -> None:
        self.path, self.written = path, written


def _reported(result: ApplyResult, sink: _Sink | None = None) -> None:
    _report(result, ApplyOutcome(_planned(), result, sink))  # type: ignore[arg-type]  # path and written only


def test_the_report_lists_each_section_with_its_rows_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting the section title or its rows left failures and skips unlisted after the run."""
    result = ApplyResult(
        [
            StepResult(POD, "create", DONE),
            StepResult("pod/b", "create", FAILED, "500 boom"),
            StepResult("pod/b/inbox/x@agentmail.to", "create", SKIPPED, "depends on create of pod/b"),
            StepResult(INBOX, "create", DEFERRED, "domain mail.a.example is not verified"),
            StepResult("pod/c", "delete", NOT_STARTED, "interrupted"),
        ]
    )
    _reported(result)
    assert capsys.readouterr().out == (
        "\n"
        "Failed:\n  create pod/b: 500 boom\n"
        "Skipped:\n  create pod/b/inbox/x@agentmail.to: depends on create of pod/b\n"
        f"Deferred:\n  create {INBOX}: domain mail.a.example is not verified\n"
        "Not started:\n  delete pod/c: interrupted\n"
        "Apply incomplete! 1 done, 1 failed, 1 skipped, 1 deferred, 1 not started.\n"
    )


def test_the_report_names_the_secrets_file_only_when_secrets_were_stored(capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting the ``Stored N new API key secret(s) in FILE`` line hid where the only copy went."""
    done = ApplyResult([StepResult(POD, "create", DONE)])
    _reported(done, _Sink("keys.json", ["k1", "k2"]))
    assert "Stored 2 new API key secret(s) in keys.json.\n" in capsys.readouterr().out
    _reported(done, _Sink("keys.json", []))
    assert "Stored" not in capsys.readouterr().out


def test_another_shards_creates_are_listed_apart_and_not_counted_as_this_applys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = ApplyResult(
        [
            StepResult("domain/shared.example", "create", FOUND, "made by shard 1/2", shard="1/2", awaited=True),
            StepResult(POD, "create", DONE),
        ]
    )
    _reported(result)
    out = capsys.readouterr().out
    assert "Waited for (made by another shard):\n  domain/shared.example: made by shard 1/2\n" in out
    assert out.endswith(
        "Apply complete! 1 done, 0 failed, 0 skipped, 0 deferred, 0 not started; "
        "waited for 1 made by another shard, 1 found.\n"
    )


# -- the hint after a second interrupt -------------------------------------------------------------


def test_the_recovery_hint_says_how_to_see_where_things_stand_and_which_lock_to_remove() -> None:
    """Deleting ``_recovery``'s ``return`` left the second interrupt's message ending in "None"."""
    whole = _recovery(("mailctl/",), None)
    assert "run `mailctl plan -f mailctl/` to see where things stand" in whole
    assert whole.endswith("if the next apply says the organisation lock is held, run `mailctl unlock`.")
    sharded = _recovery(("mailctl/",), Shard(2, 3))
    assert sharded.endswith("if the next apply says its shard lock is held, run `mailctl unlock --shard 2/3`.")


# -- a saved plan ----------------------------------------------------------------------------------


def test_a_saved_plan_with_a_config_alongside_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    """Deleting ``raise UsageError("a saved PLANFILE already fixes the config ...")`` applied the
    saved plan and silently ignored the -f given with it."""
    config = tmp_path / "mailctl.yaml"
    config.write_text("version: 1\npods:\n  t-a: {name: A}\n")
    connection = ["--sandbox", str(tmp_path / "sandbox.db")]
    env = {"AGENTMAIL_API_KEY": "am_unused"}
    runner = CliRunner()
    saved = runner.invoke(cli, ["plan", "-f", str(config), *connection, "--out", str(tmp_path / "p.plan")], env=env)
    assert saved.exit_code == 0, saved.output

    run = runner.invoke(
        cli, ["apply", str(tmp_path / "p.plan"), "-f", str(config), *connection, "--auto-approve"], env=env
    )
    assert run.exit_code == 1, run.output
    assert "a saved PLANFILE already fixes the config and targets: drop -f/--target/--exclude/--shard" in run.stderr
    still = runner.invoke(cli, ["plan", "-f", str(config), *connection, "--detailed-exitcode"], env=env)
    assert still.exit_code == 2 and "pod/t-a" in still.stdout  # the pod is still to be created


# -- hooks the workflow is given -------------------------------------------------------------------


def test_a_signal_during_the_lock_request_waits_for_its_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleting ``hooks.lock_shield = guard.deferred`` let a signal abandon the lock request in
    flight, so a lock the server made anyway was left behind unsaid."""
    answered = []

    def run_apply(*args: object) -> ApplyOutcome:
        hooks = args[3]
        assert isinstance(hooks, ApplyHooks)
        with hooks.lock_shield():  # the lock's POST, on its way
            os.kill(os.getpid(), signal.SIGTERM)
            answered.append("the lock request returned")
        raise AssertionError("the held signal stops apply once the request returns")

    run = _apply(tmp_path, monkeypatch, run_apply)
    assert answered == ["the lock request returned"]
    assert run.exit_code == 143, run.output
    assert "apply interrupted (SIGTERM) before any change was made" in run.stderr


def test_waits_for_another_shards_creates_are_reported_with_the_wait_for_shards_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting ``hooks.on_shard_wait = ShardWaitReporter(...)`` left a shard silent for up to
    --wait-for-shards while it waited for another shard."""

    def run_apply(*args: object) -> ApplyOutcome:
        hooks = args[3]
        assert isinstance(hooks, ApplyHooks) and hooks.on_shard_wait is not None
        hooks.on_shard_wait("pod/t", "not created yet, made by shard 3/3", 0.0)  # as the writer's first poll
        return ApplyOutcome(_planned(), None, None)

    run = _apply(tmp_path, monkeypatch, run_apply, "--wait-for-shards", "90")
    assert run.exit_code == 0, run.output
    assert "Waiting up to 90s for pod/t (not created yet, made by shard 3/3)" in run.stderr


def test_mail_the_key_cannot_see_is_approved_by_typing_the_inboxes_not_a_count_of_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key without label_*_read counts no mail where some may be: the prompt said "This destroys 0
    message(s) permanently. Type 0", which reads as nothing at risk."""
    unseen = Refusal(Rule.DATA_LOSS, "pod/a/inbox/x@agentmail.to ... this API key may not all see", ("pod/a",))
    _typing(monkeypatch, "0\n")
    with pytest.raises(UsageError, match="apply cancelled"):
        _confirm(_planned(unseen), 0)
    out = capsys.readouterr().out
    assert "0 message(s)" not in out
    assert out.endswith("This deletes mail this API key may not see. Type delete to apply: ")
    _typing(monkeypatch, "delete\n")
    _confirm(_planned(unseen), 0)  # approved
