"""`mailctl apply`: plan, show, check, confirm, then execute in dependency order."""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

import click

from mailctl.api.writer import ApiWriter, IdRegistry
from mailctl.apply import DEFERRED, DONE, FAILED, NOT_STARTED, SKIPPED, Applier, ApplyResult, StepResult
from mailctl.cli.common import (
    Planned,
    config_option,
    connection_options,
    load_desired,
    make_plan,
    open_client,
    target_options,
)
from mailctl.errors import EXIT_OK, ApplyFailed, UsageError
from mailctl.lock import ApplyLock
from mailctl.plan import planfile, safety
from mailctl.plan.changes import CREATE, REPLACE, Plan
from mailctl.plan.render import render_text
from mailctl.resources import API_KEY
from mailctl.secrets import SecretSink

_PAST = {"create": "created", "update": "updated", "delete": "destroyed"}


@click.command("apply")
@click.argument("planfile_path", metavar="[PLANFILE]", required=False)
@config_option
@connection_options
@target_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--parallelism", default=10, show_default=True, type=click.IntRange(1, 256),
              help="Changes executed at once.")
@click.option("--secrets-out", metavar="FILE",
              help="Append new API key secrets to FILE (JSON, mode 0600). Required to create keys.")
@click.option("--force", is_flag=True,
              help="Apply even when the plan exceeds the update/delete thresholds (never lifts prevent_destroy).")
@click.option("--wait-for-domains", metavar="SECONDS", type=click.FloatRange(0), default=0.0,
              help="Wait up to SECONDS for new domains to verify before creating inboxes on them.")
def apply(planfile_path: str | None, files: tuple[str, ...], endpoint: str | None, sandbox: str | None,
          targets: tuple[str, ...], excludes: tuple[str, ...], auto_approve: bool, parallelism: int,
          secrets_out: str | None, force: bool, wait_for_domains: float) -> None:
    """Make the actual state match the config (or execute a saved PLANFILE)."""
    saved = planfile.SavedPlan(planfile_path) if planfile_path else None
    if saved and (files or targets or excludes):
        raise UsageError("a saved PLANFILE already fixes the config and targets: drop -f/--target/--exclude")
    desired = saved.desired if saved else load_desired(files)
    # The lock is taken before reading the state: nothing can change it between plan and apply.
    with open_client(endpoint, sandbox) as client, ApplyLock(client):
        planned = make_plan(client, desired, saved.targets if saved else targets,
                            saved.excludes if saved else excludes)
        if saved:
            saved.check_fresh(planned.actual, planned.plan)  # exactly the recorded changes, or refuse
        click.echo(render_text(planned.plan))
        if not planned.plan.has_changes:
            sys.exit(EXIT_OK)
        safety.check(planned.plan, planned.desired, force)
        sink = _secret_sink(planned.plan, secrets_out)
        if not (auto_approve or saved):
            _confirm()
        writer = ApiWriter(client, IdRegistry(_known_ids(planned)), sink, domain_wait=wait_for_domains)
        with _interruptible() as stop:
            result = Applier(writer, parallelism, on_result=_print_step, stop=stop).apply(planned.plan)
    _report(result, sink)
    if not result.ok:
        raise ApplyFailed("apply did not complete: see the report above; re-running apply converges")


def _secret_sink(plan: Plan, secrets_out: str | None) -> SecretSink | None:
    creates_keys = any(c.kind == API_KEY and c.action in (CREATE, REPLACE) for c in plan.changes)
    if not secrets_out:
        if creates_keys:
            raise UsageError("this plan creates API keys, whose secrets are shown only once: pass "
                             "--secrets-out FILE to store them (nothing was changed)")
        return None
    sink = SecretSink(secrets_out)
    sink.check_writable()
    return sink


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise UsageError("no terminal to confirm on: pass --auto-approve to apply unattended "
                         "(nothing was changed)")
    click.echo("")
    if not click.confirm("Apply these changes?", default=False):
        raise UsageError("apply cancelled (nothing was changed)")


def _known_ids(planned: Planned) -> dict[str, str]:
    return {a: r.remote_id for a, r in planned.actual.resources.items() if r.remote_id is not None}


@contextmanager
def _interruptible() -> Iterator[threading.Event]:
    """First Ctrl-C: start nothing new, let in-flight changes finish. Second: abort at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_sigint(signum: int, frame: object) -> None:
        if stop.is_set():
            # Like Terraform: a second interrupt exits now, without waiting for requests in flight.
            click.echo("\nSecond interrupt: exiting now. Changes in flight may or may not have "
                       "happened: run `mailctl plan` to see; `mailctl unlock` frees the apply lock.", err=True)
            os._exit(130)
        stop.set()
        click.echo("\nInterrupt: finishing changes in flight, starting no new ones "
                   "(Ctrl-C again to abort).", err=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _print_step(result: StepResult) -> None:
    if result.outcome == DONE:
        click.echo(f"{result.address}: {_PAST[result.phase]}")
    elif result.outcome == FAILED:
        click.secho(f"{result.address}: {result.phase} FAILED: {result.message}", fg="red", err=True)


def _report(result: ApplyResult, sink: SecretSink | None) -> None:
    done, failed = result.having(DONE), result.having(FAILED)
    skipped, deferred, not_started = result.having(SKIPPED), result.having(DEFERRED), result.having(NOT_STARTED)
    click.echo("")
    for title, rows, colour in (("Failed", failed, "red"), ("Skipped", skipped, "yellow"),
                                ("Deferred", deferred, "yellow"), ("Not started", not_started, "yellow")):
        if rows:
            click.secho(f"{title}:", fg=colour, bold=True)
            for row in rows:
                click.echo(f"  {row.phase} {row.address}: {row.message}")
    if sink is not None and sink.written:
        click.echo(f"Stored {len(sink.written)} new API key secret(s) in {sink.path}.")
    click.secho(f"Apply {'complete' if result.ok else 'incomplete'}! {len(done)} done, {len(failed)} failed, "
                f"{len(skipped)} skipped, {len(deferred)} deferred, {len(not_started)} not started.",
                bold=True, fg=None if result.ok else "red")
