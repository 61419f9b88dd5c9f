"""`mailctl apply`: flags in, the apply workflow (``mailctl.ops.apply``), its plan, prompt,
progress and report out."""

from __future__ import annotations

import itertools
import signal
import sys
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import click

from mailctl.cli import colour, hints
from mailctl.cli.apply_progress import ApplyProgress
from mailctl.cli.changed_since_option import changed_since_option
from mailctl.cli.common import (
    config_option,
    connection_options,
    load_desired,
    lock_timeout_option,
    non_empty_path,
    open_client,
    target_options,
)
from mailctl.cli.numbers import Number
from mailctl.cli.scale_options import paced, parallelism_options, shard_option, workers
from mailctl.cli.signals import GracefulStop, name_of
from mailctl.cli.wait_progress import DomainWaitReporter, LockWaitReporter, ShardWaitReporter
from mailctl.errors import EXIT_OK, ApplyFailed, Cancelled, DeferredWork, Terminated, UsageError
from mailctl.text import shown

if TYPE_CHECKING:
    from mailctl.api.pacing import Pacer
    from mailctl.ops.apply import ApplyHooks, ApplyOutcome, ApplyResult, StepResult
    from mailctl.ops.planning import Planned
    from mailctl.plan.shards import Shard

_PAST = {"create": "created", "update": "updated", "delete": "destroyed"}


@click.command("apply")
@click.argument("planfile_path", metavar="[PLANFILE]", required=False, callback=non_empty_path)
@config_option
@connection_options
@target_options
@changed_since_option
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@parallelism_options
@shard_option
@click.option(
    "--secrets-out",
    metavar="FILE",
    callback=non_empty_path,
    help="Append new API key secrets to FILE (JSON, mode 0600). Required to create keys.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Apply even when the plan exceeds the update/delete thresholds (never lifts prevent_destroy).",
)
@click.option(
    "--allow-data-loss",
    is_flag=True,
    help="Apply even when the plan destroys inboxes holding mail (--force and --auto-approve do not).",
)
@click.option(
    "--wait-for-domains",
    metavar="SECONDS",
    type=Number(0),
    default=0.0,
    help="Wait up to SECONDS for new domains to verify before creating inboxes on them.",
)
@click.option(
    "--wait-for-shards",
    metavar="SECONDS",
    type=Number(0),
    default=300.0,
    show_default=True,
    help="With --shard: wait up to SECONDS for what other shards create (organisation domains, pods an "
    "organisation webhook names) before what needs it; then it is deferred.",
)
@click.option(
    "--allow-deferred",
    is_flag=True,
    help="Exit 0 even when work is left deferred (inboxes waiting for a domain to verify).",
)
@lock_timeout_option
def apply(
    planfile_path: str | None,
    files: tuple[str, ...],
    endpoint: str | None,
    sandbox: str | None,
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
    auto_approve: bool,
    parallelism: int | None,
    max_parallelism: int,
    shard: Shard | None,
    secrets_out: str | None,
    force: bool,
    allow_data_loss: bool,
    wait_for_domains: float,
    wait_for_shards: float,
    allow_deferred: bool,
    lock_timeout: float,
) -> None:
    """Make the actual state match the config (or execute a saved PLANFILE).

    \b
    Examples:
      mailctl apply -f mailctl/ --auto-approve --secrets-out new-keys.json
      mailctl plan -f mailctl/ --out plan.bin && mailctl apply plan.bin
    """
    from mailctl.ops.apply import ApplyOptions, LockState, open_sink, run_apply
    from mailctl.plan import planfile

    saved = (
        planfile.SavedPlan(
            planfile_path,
            lambda paths, targets, excludes: hints.command(
                "plan",
                *hints.config_flags(paths),
                *(word for t in targets for word in ("--target", t)),
                *(word for e in excludes for word in ("--exclude", e)),
                "--out",
                planfile_path,
            ),
        )
        if planfile_path
        else None
    )
    if saved and (files or targets or excludes or shard):
        raise UsageError("a saved PLANFILE already fixes the config and targets: drop -f/--target/--exclude/--shard")
    desired = saved.desired if saved else load_desired(files)
    sink = open_sink(secrets_out)  # a bad sink is refused whatever the plan, before the lock
    guard = GracefulStop(recovery=_recovery(files, shard))
    color = colour.current()  # for what is printed from other threads, which see no click context
    options = ApplyOptions(
        targets=list(targets),
        excludes=list(excludes),
        shard=shard,
        auto_approve=auto_approve,
        force=force,
        allow_data_loss=allow_data_loss,
        wait_for_domains=wait_for_domains,
        wait_for_shards=wait_for_shards,
        lock_timeout=lock_timeout,
        workers=workers(parallelism, max_parallelism),
    )
    hooks = _hooks(color, lock_timeout, wait_for_domains)
    hooks.on_shard_wait = ShardWaitReporter(wait_for_shards, color=color)
    hooks.lock_shield = guard.deferred
    lock = LockState()  # for the message when a signal stops apply before any change
    with guard.installed():
        try:
            with paced(open_client(endpoint, sandbox), parallelism, max_parallelism) as client:
                outcome = run_apply(client, desired, options, hooks, sink, saved, guard.stop, guard.executing, lock)
        except (KeyboardInterrupt, Terminated) as exc:
            signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
            raise Cancelled(
                signum,
                f"apply interrupted ({name_of(signum)}) before any change was made: "
                f"nothing was changed; {lock.released}",
            ) from None
        if outcome.result is None and outcome.lock_left is None:
            sys.exit(EXIT_OK)
        if outcome.result is not None:
            _report(outcome.result, outcome)
    if outcome.lock_left is not None:  # after the report: what was done still stands
        raise outcome.lock_left
    assert outcome.result is not None
    _finish(outcome.result, guard.signum, allow_deferred, wait_for_domains, files)


def _hooks(color: bool | None, lock_timeout: float, wait_for_domains: float) -> ApplyHooks:
    from mailctl.ops.apply import ApplyHooks
    from mailctl.plan.render import render_text

    progress: list[ApplyProgress] = []

    def running(steps: int, pacer: Pacer | None) -> AbstractContextManager[object]:
        progress.append(ApplyProgress(steps, pacer, color=color))
        return progress[-1].running()

    def on_results(results: list[StepResult]) -> None:
        progress[-1].steps_finished(len(results), lambda: _print_steps(results))

    return ApplyHooks(
        show_plan=lambda planned: click.echo(render_text(planned.plan)),
        confirm=_confirm,
        on_results=on_results,
        running=running,
        on_lock_wait=LockWaitReporter(lock_timeout, color=color),
        on_domain_wait=DomainWaitReporter(wait_for_domains, color=color) if wait_for_domains else None,
        unlock_hint=hints.unlock_command,
    )


def _recovery(files: tuple[str, ...], shard: Shard | None) -> str:
    plan = hints.command("plan", *hints.config_flags(files))
    return (
        f"Changes in flight may or may not have happened: run `{plan}` to see where "
        f"things stand; if the next apply says {'its shard' if shard else 'the organisation'} lock is held, run "
        f"`{hints.unlock_command(str(shard) if shard else None)}`."
    )


def _finish(
    result: ApplyResult, signum: int | None, allow_deferred: bool, waited: float, files: tuple[str, ...]
) -> None:
    """The exit status: a signal's code, 1 for failed or (unless allowed) deferred work, else 0."""
    if signum is not None and signum != signal.SIGINT:
        raise Cancelled(
            signum,
            f"apply stopped by {name_of(signum)} before finishing: see the report above; re-running apply converges",
        )
    if not result.ok:
        raise ApplyFailed("apply did not complete: see the report above; re-running apply converges")
    deferred = result.deferred
    if not deferred:
        return
    for_shards = [r for r in deferred if r.shard is not None]
    for_domains = [r for r in deferred if r.shard is None]
    parts = []
    if for_shards:
        parts.append(_waiting_for_shards(result, len(for_shards)))
    if for_domains:
        parts.append(_waiting_for_domains(for_domains, waited, signum, files))
    summary = "; ".join(parts)
    if allow_deferred:
        click.secho(f"Deferred (allowed by --allow-deferred): {summary}.", fg="yellow", err=True)
        return
    more = "" if waited or not for_domains else " or wait for them with --wait-for-domains SECONDS,"
    raise DeferredWork(
        f"apply left work undone: {summary};{more} pass --allow-deferred to accept deferred work (exit 0)"
    )


def _waiting_for_shards(result: ApplyResult, count: int) -> str:
    """What other shards create and this one waited for in vain: apply them first."""
    awaited = result.waited_for
    shards = sorted({r.shard for r in awaited if r.shard is not None})
    return (
        f"{count} change(s) deferred, waiting for {', '.join(shown(r.address) for r in awaited)}, which "
        f"shard {', '.join(shards)} creates: apply that shard first (or start the shards together "
        f"with --wait-for-shards SECONDS), then re-run this one"
    )


def _waiting_for_domains(deferred: list[StepResult], waited: float, signum: int | None, files: tuple[str, ...]) -> str:
    domains = sorted({r.address.rpartition("@")[2] for r in deferred if "@" in r.address.rpartition("/")[2]})
    why = (
        f"waiting for domain(s) {', '.join(shown(d) for d in domains)} to verify" if domains else "waiting for a domain"
    )
    waited_text = f" (still not verified after --wait-for-domains {waited:g})" if waited else ""
    if waited and signum is not None:  # Ctrl-C stopped the wait early: it did not last `waited` seconds
        waited_text = f" (the --wait-for-domains wait was cut short by {name_of(signum)})"
    dns = hints.command("dns", *hints.config_flags(files))
    return (
        f"{len(deferred)} change(s) deferred, {why}{waited_text}: publish the DNS records (`{dns}`), then re-run apply"
    )


def _confirm(planned: Planned, messages_at_risk: int | None) -> None:
    from mailctl.plan import safety
    from mailctl.plan.changes import Rule

    if not sys.stdin.isatty():
        if messages_at_risk is not None:
            safety.refuse([r for r in planned.plan.refusals if r.rule == Rule.DATA_LOSS])
        raise UsageError("no terminal to confirm on: pass --auto-approve to apply unattended (nothing was changed)")
    click.echo("")
    if messages_at_risk is not None:
        _confirm_data_loss(planned, messages_at_risk)
        return
    # Not click.confirm: it turns Ctrl-C into click.Abort ("Aborted!", exit 1); here Ctrl-C must
    # stay an interrupt (exit 130, lock released) like every other signal at this moment.
    while True:
        answer = _ask("Apply these changes? [y/N]: ")
        if answer in ("y", "yes"):
            return
        if answer in ("", "n", "no"):
            raise UsageError("apply cancelled (nothing was changed)")
        click.echo("Please answer y or n.")


def _confirm_data_loss(planned: Planned, messages: int) -> None:
    """A plan that destroys mail is approved by typing how many messages go, not by "yes"."""
    from mailctl.plan.changes import Rule

    for refusal in planned.plan.refusals:
        if refusal.rule == Rule.DATA_LOSS:
            click.secho(f"Warning: {shown(refusal.message)}", fg="red", bold=True)
    if messages:
        wanted, prompt = str(messages), f"This destroys {messages} message(s) permanently. Type {messages} to apply: "
    else:  # none counted: the key may not see the mail (plan/safety.unseen_mail)
        wanted, prompt = "delete", "This deletes mail this API key may not see. Type delete to apply: "
    answer = _ask(prompt)
    if answer != wanted:
        raise UsageError(f"apply cancelled: {answer!r} is not {wanted} (nothing was changed)")


def _ask(prompt: str) -> str:
    click.echo(prompt, nl=False)
    try:
        return input().strip().lower()
    except EOFError:
        raise UsageError("apply cancelled: no answer (nothing was changed)") from None


def _print_steps(results: list[StepResult]) -> None:
    """A line per step done (stdout) or failed (stderr, red), each run of lines for one stream
    in one write: under apply's workers every write waits for its turn on the GIL."""
    from mailctl.ops.apply import DONE, FAILED

    lines: list[tuple[bool, str]] = []  # (to stderr, line)
    for result in results:
        if result.outcome == DONE:
            lines.append((False, f"{shown(result.address)}: {_PAST[result.phase]}"))
        elif result.outcome == FAILED:
            failed = f"{shown(result.address)}: {result.phase} FAILED: {shown(result.message)}"
            lines.append((True, click.style(failed, fg="red")))
    for to_stderr, run in itertools.groupby(lines, key=lambda line: line[0]):
        click.echo("\n".join(text for _, text in run), err=to_stderr)


def _report(result: ApplyResult, outcome: ApplyOutcome) -> None:
    from mailctl.ops.apply import DONE, FAILED

    done, failed = result.having(DONE), result.having(FAILED)
    skipped, not_started = result.skipped, result.not_started
    found, deferred = result.found, result.deferred
    # Another shard's creates: found, or waited for in vain. Neither is a change of this apply.
    awaited = sorted([*found, *result.waited_for], key=lambda r: r.address)
    click.echo("")
    for title, rows, fg in (
        ("Failed", failed, "red"),
        ("Skipped", skipped, "yellow"),
        ("Waited for (made by another shard)", awaited, "yellow"),
        ("Deferred", deferred, "yellow"),
        ("Not started", not_started, "yellow"),
    ):
        if rows:
            click.secho(f"{title}:", fg=fg, bold=True)
            for row in rows:
                verb = "" if row.awaited else f"{row.phase} "
                click.echo(f"  {verb}{shown(row.address)}: {shown(row.message)}")
    sink = outcome.sink
    if sink is not None and sink.written:
        click.echo(f"Stored {len(sink.written)} new API key secret(s) in {sink.path}.")
    complete = result.ok and not deferred
    apart = f"; waited for {len(awaited)} made by another shard, {len(found)} found" if awaited else ""
    click.secho(
        f"Apply {'complete' if complete else 'incomplete'}! {len(done)} done, {len(failed)} failed, "
        f"{len(skipped)} skipped, {len(deferred)} deferred, {len(not_started)} not started{apart}.",
        bold=True,
        fg=None if complete else "red",
    )
