"""`mailctl apply`: plan, show, check, confirm, then execute in dependency order."""

from __future__ import annotations

import signal
import sys

import click

from mailctl.api.lock import ApplyLock
from mailctl.api.writer import ApiWriter, IdRegistry
from mailctl.apply import DEFERRED, DONE, FAILED, NOT_STARTED, SKIPPED, Applier, ApplyResult, StepResult
from mailctl.cli import colour, hints
from mailctl.cli.apply_progress import ApplyProgress
from mailctl.cli.changed_since_option import changed_since_option
from mailctl.cli.common import (
    Planned,
    config_option,
    connection_options,
    load_desired,
    make_plan,
    open_client,
    target_options,
)
from mailctl.cli.scale_options import paced, parallelism_options, shard_option, workers
from mailctl.cli.signals import GracefulStop, name_of
from mailctl.cli.wait_progress import DomainWaitReporter, LockWaitReporter
from mailctl.errors import EXIT_OK, ApplyFailed, Cancelled, DeferredWork, Terminated, UsageError
from mailctl.plan import planfile, safety
from mailctl.plan.changes import CREATE, REPLACE, Plan
from mailctl.plan.render import render_text
from mailctl.plan.shards import Shard
from mailctl.plan.steps import steps_of
from mailctl.resources import API_KEY, INBOX, kind_of
from mailctl.secrets import SecretSink

_PAST = {"create": "created", "update": "updated", "delete": "destroyed"}


@click.command("apply")
@click.argument("planfile_path", metavar="[PLANFILE]", required=False)
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
    help="Append new API key secrets to FILE (JSON, mode 0600). Required to create keys.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Apply even when the plan exceeds the update/delete thresholds (never lifts prevent_destroy).",
)
@click.option(
    "--wait-for-domains",
    metavar="SECONDS",
    type=click.FloatRange(0),
    default=0.0,
    help="Wait up to SECONDS for new domains to verify before creating inboxes on them.",
)
@click.option(
    "--allow-deferred",
    is_flag=True,
    help="Exit 0 even when work is left deferred (inboxes waiting for a domain to verify).",
)
@click.option(
    "--lock-timeout",
    metavar="SECONDS",
    type=click.FloatRange(0),
    default=0.0,
    help="Wait up to SECONDS for the organisation lock when another apply holds it (default 0: fail at once).",
)
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
    wait_for_domains: float,
    allow_deferred: bool,
    lock_timeout: float,
) -> None:
    """Make the actual state match the config (or execute a saved PLANFILE).

    \b
    Examples:
      mailctl apply -f mailctl/ --auto-approve --secrets-out new-keys.json
      mailctl plan -f mailctl/ --out plan.bin && mailctl apply plan.bin
    """
    saved = (
        planfile.SavedPlan(
            planfile_path, lambda paths: hints.command("plan", *hints.config_flags(paths), "--out", planfile_path)
        )
        if planfile_path
        else None
    )
    if saved and (files or targets or excludes or shard):
        raise UsageError("a saved PLANFILE already fixes the config and targets: drop -f/--target/--exclude/--shard")
    desired = saved.desired if saved else load_desired(files)
    sink = _secret_sink(secrets_out)  # a bad sink is refused whatever the plan, before the lock
    guard = GracefulStop(recovery=_recovery(files))
    color = colour.current()  # for what is printed from other threads, which see no click context
    lock: ApplyLock | None = None  # for the message when a signal stops apply before any change
    with guard.installed():
        try:
            # The lock is taken before reading the state: nothing can change it between plan and apply.
            with (
                paced(open_client(endpoint, sandbox), parallelism, max_parallelism) as client,
                (
                    lock := ApplyLock(
                        client,
                        timeout=lock_timeout,
                        shield=guard.deferred,
                        on_wait=LockWaitReporter(lock_timeout, color=color),
                        unlock_hint=hints.command("unlock"),
                        exclude_shards=True,
                        shard=(shard.index, shard.count) if shard else None,
                    )
                ),
            ):
                planned = make_plan(
                    client, desired, saved.targets if saved else targets, saved.excludes if saved else excludes, shard
                )
                if saved:
                    saved.check_fresh(planned.actual, planned.plan)  # exactly the recorded changes, or refuse
                click.echo(render_text(planned.plan))
                if not planned.plan.has_changes:
                    sys.exit(EXIT_OK)
                safety.check(planned.plan, planned.desired, force)
                _require_sink(planned.plan, sink)
                if not (auto_approve or saved):
                    _confirm()
                guard.executing()  # from here a signal lets changes in flight finish
                waits = DomainWaitReporter(wait_for_domains, color=color) if wait_for_domains else None
                writer = ApiWriter(
                    client,
                    IdRegistry(_known_ids(planned)),
                    sink,
                    domain_wait=wait_for_domains,
                    on_wait=waits,
                    stop=guard.stop,
                )
                progress = ApplyProgress(len(steps_of(planned.plan)), client.pacer, color=color)
                with progress.running():
                    result = Applier(
                        writer,
                        workers(parallelism, max_parallelism),
                        stop=guard.stop,
                        on_result=lambda r: progress.step_finished(lambda: _print_step(r)),
                    ).apply(planned.plan)
        except (KeyboardInterrupt, Terminated) as exc:
            signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
            released = f"{lock.what} was released" if lock and lock.taken else "no lock was taken"
            raise Cancelled(
                signum,
                f"apply interrupted ({name_of(signum)}) before any change was made: nothing was changed; {released}",
            ) from None
        _report(result, sink)
    _finish(result, guard.signum, allow_deferred, wait_for_domains)


def _recovery(files: tuple[str, ...]) -> str:
    plan = hints.command("plan", *hints.config_flags(files))
    return (
        f"Changes in flight may or may not have happened: run `{plan}` to see where "
        f"things stand; if the next apply says the organisation lock is held, run "
        f"`{hints.command('unlock')}`."
    )


def _finish(result: ApplyResult, signum: int | None, allow_deferred: bool, waited: float) -> None:
    """The exit status: a signal's code, 1 for failed or (unless allowed) deferred work, else 0."""
    if signum is not None and signum != signal.SIGINT:
        raise Cancelled(
            signum,
            f"apply stopped by {name_of(signum)} before finishing: see the report above; re-running apply converges",
        )
    if not result.ok:
        raise ApplyFailed("apply did not complete: see the report above; re-running apply converges")
    deferred = result.having(DEFERRED)
    if not deferred:
        return
    domains = sorted({r.address.rpartition("@")[2] for r in deferred if kind_of(r.address) == INBOX})
    why = f"waiting for domain(s) {', '.join(domains)} to verify" if domains else "waiting for a domain"
    waited_text = f" (still not verified after --wait-for-domains {waited:g})" if waited else ""
    if waited and signum is not None:  # Ctrl-C stopped the wait early: it did not last `waited` seconds
        waited_text = f" (the --wait-for-domains wait was cut short by {name_of(signum)})"
    summary = (
        f"{len(deferred)} change(s) deferred, {why}{waited_text}: publish the DNS records "
        f"(`{hints.command('dns')}`), then re-run apply"
    )
    if allow_deferred:
        click.secho(f"Deferred (allowed by --allow-deferred): {summary}.", fg="yellow", err=True)
        return
    more = "" if waited else " or wait for them with --wait-for-domains SECONDS,"
    raise DeferredWork(
        f"apply left work undone: {summary};{more} pass --allow-deferred to accept deferred work (exit 0)"
    )


def _secret_sink(secrets_out: str | None) -> SecretSink | None:
    """The checked --secrets-out sink (None without one). Checked whenever it is given, even when
    the plan turns out to create no key: a FIFO or device there is a mistake worth an error."""
    if not secrets_out:
        return None
    sink = SecretSink(secrets_out)
    try:
        sink.check_writable()
    except UsageError as exc:
        raise UsageError(f"{exc} (nothing was changed)") from None
    return sink


def _require_sink(plan: Plan, sink: SecretSink | None) -> None:
    creates_keys = any(c.kind == API_KEY and c.action in (CREATE, REPLACE) for c in plan.changes)
    if creates_keys and sink is None:
        raise UsageError(
            "this plan creates API keys, whose secrets are shown only once: pass "
            "--secrets-out FILE to store them (nothing was changed)"
        )


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise UsageError("no terminal to confirm on: pass --auto-approve to apply unattended (nothing was changed)")
    click.echo("")
    # Not click.confirm: it turns Ctrl-C into click.Abort ("Aborted!", exit 1); here Ctrl-C must
    # stay an interrupt (exit 130, lock released) like every other signal at this moment.
    while True:
        click.echo("Apply these changes? [y/N]: ", nl=False)
        try:
            answer = input().strip().lower()
        except EOFError:
            raise UsageError("apply cancelled: no answer (nothing was changed)") from None
        if answer in ("y", "yes"):
            return
        if answer in ("", "n", "no"):
            raise UsageError("apply cancelled (nothing was changed)")
        click.echo("Please answer y or n.")


def _known_ids(planned: Planned) -> dict[str, str]:
    return {a: r.remote_id for a, r in planned.actual.resources.items() if r.remote_id is not None}


def _print_step(result: StepResult) -> None:
    if result.outcome == DONE:
        click.echo(f"{result.address}: {_PAST[result.phase]}")
    elif result.outcome == FAILED:
        click.secho(f"{result.address}: {result.phase} FAILED: {result.message}", fg="red", err=True)


def _report(result: ApplyResult, sink: SecretSink | None) -> None:
    done, failed = result.having(DONE), result.having(FAILED)
    skipped, deferred, not_started = result.having(SKIPPED), result.having(DEFERRED), result.having(NOT_STARTED)
    click.echo("")
    for title, rows, fg in (
        ("Failed", failed, "red"),
        ("Skipped", skipped, "yellow"),
        ("Deferred", deferred, "yellow"),
        ("Not started", not_started, "yellow"),
    ):
        if rows:
            click.secho(f"{title}:", fg=fg, bold=True)
            for row in rows:
                click.echo(f"  {row.phase} {row.address}: {row.message}")
    if sink is not None and sink.written:
        click.echo(f"Stored {len(sink.written)} new API key secret(s) in {sink.path}.")
    complete = result.ok and not deferred
    click.secho(
        f"Apply {'complete' if complete else 'incomplete'}! {len(done)} done, {len(failed)} failed, "
        f"{len(skipped)} skipped, {len(deferred)} deferred, {len(not_started)} not started.",
        bold=True,
        fg=None if complete else "red",
    )
