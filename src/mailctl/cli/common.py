"""Options and steps shared by the commands: config files, connection, reading and planning."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import click

from mailctl.api.client import DEFAULT_TIMEOUT, AgentMailClient
from mailctl.api.connect import connect
from mailctl.api.reader import StateReader
from mailctl.plan import planner, targeting
from mailctl.plan.changes import CREATE, REPLACE, Plan
from mailctl.resources import DEFAULT_DOMAIN, INBOX, ActualState, DesiredState, domain_address

DEFAULT_CONFIG = "mailctl.yaml"

F = Callable[..., Any]


def config_option(func: F) -> F:
    return click.option(
        "-f", "--file", "files", multiple=True, type=click.Path(), metavar="PATH",
        help=f"Config file or directory of *.yaml/*.yml (repeatable). Default: ./{DEFAULT_CONFIG}.",
    )(func)


TIMEOUT_META = "mailctl.timeout"


def _remember_timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    ctx.meta[TIMEOUT_META] = value
    return value


def connection_options(func: F) -> F:
    """--endpoint, --sandbox and --timeout. --timeout is kept in the click context (not passed
    to the command function): :func:`open_client` reads it, so commands need no extra parameter."""
    func = click.option("--timeout", "timeout", metavar="SECONDS", default=DEFAULT_TIMEOUT, show_default=True,
                        type=click.FloatRange(min=0, min_open=True, max=86400), expose_value=False,
                        callback=_remember_timeout,
                        help="Deadline for each API request: connecting, waiting and reading the "
                             "whole answer. A request that runs out of time is not retried.")(func)
    func = click.option("--sandbox", "sandbox", metavar="PATH", default=None,
                        help="Use an embedded AgentMail sandbox stored at PATH (no key needed).")(func)
    func = click.option("--endpoint", "endpoint", metavar="URL", default=None,
                        help="AgentMail API base URL (default: $AGENTMAIL_BASE_URL or the real API).")(func)
    return func


def target_options(func: F) -> F:
    func = click.option("--exclude", "excludes", multiple=True, metavar="ADDR",
                        help="Leave out changes at ADDR (glob) and what needs them (repeatable).")(func)
    func = click.option("--target", "targets", multiple=True, metavar="ADDR",
                        help="Only changes at ADDR (glob, e.g. 'pod/tenant-a*'), what is under it "
                             "and what it needs (repeatable).")(func)
    return func


def load_desired(files: tuple[str, ...]) -> DesiredState:
    from mailctl.config import load

    return load(list(files) or [DEFAULT_CONFIG])


def open_client(endpoint: str | None, sandbox: str | None, timeout: float | None = None) -> AgentMailClient:
    """The client for this command; ``timeout`` defaults to the command's ``--timeout``."""
    if timeout is None:
        ctx = click.get_current_context(silent=True)
        timeout = ctx.meta.get(TIMEOUT_META, DEFAULT_TIMEOUT) if ctx is not None else DEFAULT_TIMEOUT
    return connect(endpoint, sandbox, os.environ.get("AGENTMAIL_API_KEY"), timeout=timeout)


@dataclass
class Planned:
    desired: DesiredState
    actual: ActualState
    plan: Plan


def make_plan(client: AgentMailClient, desired: DesiredState, targets: tuple[str, ...] | list[str],
              excludes: tuple[str, ...] | list[str]) -> Planned:
    targeting.validate_patterns(list(targets), "--target")
    targeting.validate_patterns(list(excludes), "--exclude")
    reader = StateReader(client)
    actual = reader.read(desired)
    full = planner.plan(desired, actual)
    selected = targeting.select(full, list(targets), list(excludes))
    _attach_data_at_risk(selected, reader)
    _note_unverified_domains(selected, actual, reader)
    return Planned(desired, actual, selected)


def _note_unverified_domains(plan: Plan, actual: ActualState, reader: StateReader) -> None:
    """Inboxes planned on a domain that is not verified will wait for it: say so in the plan."""
    waiting: dict[str, list[str]] = {}
    planned = plan.by_address()
    for change in plan.changes:
        if change.kind == INBOX and change.action in (CREATE, REPLACE) and change.desired is not None:
            domain = change.desired.name.partition("@")[2]
            if domain == DEFAULT_DOMAIN:
                continue
            for address in (domain_address(domain, pod=change.desired.pod), domain_address(domain)):
                if address in actual.resources or address in planned:
                    waiting.setdefault(address, []).append(change.address)
                    break
    existing = [actual.resources[a] for a in waiting if a in actual.resources]
    statuses = reader.domain_statuses(existing, actual) if existing else {}
    for address, inboxes in sorted(waiting.items()):
        status = statuses.get(address, "new")
        if status == "VERIFIED":
            continue
        plan.notes.append(f"{len(inboxes)} inbox(es) on {address} ({status}) are created only once it "
                             f"verifies: apply starts verification; see `mailctl dns`, `--wait-for-domains`")


def _attach_data_at_risk(plan: Plan, reader: StateReader) -> None:
    """Deleting an inbox destroys its mail: count what each doomed inbox holds."""
    doomed = {c.actual.name: c for c in plan.changes
              if c.kind == INBOX and c.destroys and c.actual is not None}
    if not doomed:
        return
    for inbox_id, counts in reader.count_inbox_data(sorted(doomed)).items():
        doomed[inbox_id].data_at_risk = counts


__all__ = ["Planned", "config_option", "connection_options", "load_desired",
           "make_plan", "open_client", "target_options"]
