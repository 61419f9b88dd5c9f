"""Options and steps shared by the commands: config files, connection, reading and planning."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import click

from mailctl.api.budget import FASTEST, SLOWEST
from mailctl.api.timeouts import DEFAULT_TIMEOUT
from mailctl.cli.numbers import Number

if TYPE_CHECKING:
    from mailctl.api.client import AgentMailClient
    from mailctl.ops.planning import Planned
    from mailctl.plan.shards import Shard
    from mailctl.resources import DesiredState

DEFAULT_CONFIG = "mailctl.yaml"

F = Callable[..., Any]


def config_option(func: F) -> F:
    return click.option(
        "-f",
        "--file",
        "files",
        multiple=True,
        type=click.Path(),
        metavar="PATH",
        callback=_non_empty_paths,
        help=f"Config file or directory of *.yaml/*.yml (repeatable). Default: ./{DEFAULT_CONFIG}.",
    )(func)


def _non_empty_paths(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """``-f ''`` (``-f "$CONFIG"`` with the variable unset) is refused as every empty path is."""
    for path in value:
        non_empty_path(ctx, param, path)
    return value


def non_empty_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Callback of a file-path option or argument: an empty path (``"$PLAN"`` with the variable
    unset) is an error, never read as no path at all (no plan file, stdout)."""
    if value == "":
        raise click.BadParameter(
            "the path is empty (a shell variable that is not set?): name the file", ctx=ctx, param=param
        )
    return value


def check_out_path(out: str | None) -> None:
    """--out FILE: what the whole-file write would refuse (a secrets file, a planted link), refused
    before the plan or report is made (UsageError)."""
    from mailctl import atomic
    from mailctl.errors import UsageError

    if out is None:
        return
    try:
        atomic.check_replaceable(out)
    except OSError as exc:
        raise UsageError(f"--out {out}: {exc.strerror or exc}") from None


TIMEOUT_META = "mailctl.timeout"
RATE_LIMIT_META = "mailctl.rate_limit"


def _remember_timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    ctx.meta[TIMEOUT_META] = value
    return value


def _remember_rate_limit(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    ctx.meta[RATE_LIMIT_META] = value
    return value


def connection_options(func: F) -> F:
    """--endpoint, --sandbox, --timeout and --rate-limit. The last two are kept in the click context
    (not passed to the command function): :func:`open_client` reads them, so commands need no
    extra parameter."""
    func = click.option(
        "--rate-limit",
        "rate_limit",
        metavar="RPS",
        default=None,
        type=Number(min=SLOWEST, max=FASTEST),
        expose_value=False,
        callback=_remember_rate_limit,
        help="Requests per second the organisation allows, if you know it (or the part mailctl may "
        "use, to leave room for your agents): mailctl keeps within it from the first request "
        "instead of learning it from 429s. The shards of a --shard run each keep to their part.",
    )(func)
    func = click.option(
        "--timeout",
        "timeout",
        metavar="SECONDS",
        default=DEFAULT_TIMEOUT,
        show_default=True,
        type=Number(min=0, min_open=True, max=86400),
        expose_value=False,
        callback=_remember_timeout,
        help="Deadline for each API request: connecting, waiting and reading the "
        "whole answer. A request that runs out of time is not retried.",
    )(func)
    func = click.option(
        "--sandbox",
        "sandbox",
        metavar="PATH",
        default=None,
        help="Use an embedded AgentMail sandbox stored at PATH (no key needed).",
    )(func)
    func = click.option(
        "--endpoint",
        "endpoint",
        metavar="URL",
        default=None,
        help="AgentMail API base URL (default: $AGENTMAIL_BASE_URL or the real API).",
    )(func)
    return func


def target_options(func: F) -> F:
    func = click.option(
        "--exclude",
        "excludes",
        multiple=True,
        metavar="ADDR",
        help="Leave out changes at ADDR (glob) and what needs them (repeatable).",
    )(func)
    func = click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="ADDR",
        help="Only changes at ADDR (glob, e.g. 'pod/tenant-a*'), what is under it and what it needs (repeatable).",
    )(func)
    return func


def lock_timeout_option(func: F) -> F:
    """``--lock-timeout``: every command that writes takes the apply lock."""
    return click.option(
        "--lock-timeout",
        metavar="SECONDS",
        type=Number(0),
        default=0.0,
        help="Wait up to SECONDS for the apply lock when another run holds it (default 0: fail at once).",
    )(func)


LOADED_META = "mailctl.loaded"  # (files, the desired state): what --changed-since diffed


def load_desired(files: tuple[str, ...]) -> DesiredState:
    """The config's desired state. Once ``--changed-since`` has loaded it to diff, the command
    takes that very state: not a second load of the same files (seconds in a large fleet), nor
    files that changed in between."""
    ctx = click.get_current_context(silent=True)
    loaded = ctx.meta.pop(LOADED_META, None) if ctx is not None else None
    if loaded is not None and loaded[0] == files:
        return cast("DesiredState", loaded[1])
    from mailctl.config import load

    return load(list(files) or [DEFAULT_CONFIG])


def keep_loaded(files: tuple[str, ...], desired: DesiredState) -> None:
    """Hand ``desired`` to the command's next ``load_desired(files)``."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[LOADED_META] = (files, desired)


def open_client(endpoint: str | None, sandbox: str | None, timeout: float | None = None) -> AgentMailClient:
    """The client for this command; ``timeout`` defaults to the command's ``--timeout``, and its
    pacer keeps to the command's ``--rate-limit``."""
    from mailctl.ops import planning

    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    if timeout is None:
        timeout = meta.get(TIMEOUT_META, DEFAULT_TIMEOUT)
    key = os.environ.get("AGENTMAIL_API_KEY")
    return planning.open_client(endpoint, sandbox, key, timeout, rate_limit=meta.get(RATE_LIMIT_META))


def load_and_plan(
    files: tuple[str, ...],
    endpoint: str | None,
    sandbox: str | None,
    targets: tuple[str, ...] | list[str],
    excludes: tuple[str, ...] | list[str],
    shard: Shard | None = None,
) -> Planned:
    """Load the config and plan it against the command's endpoint (see ``ops.planning``)."""
    from mailctl.ops import planning

    return planning.load_and_plan(
        lambda: load_desired(files), lambda: open_client(endpoint, sandbox), targets, excludes, shard
    )


__all__ = [
    "check_out_path",
    "config_option",
    "connection_options",
    "load_desired",
    "lock_timeout_option",
    "load_and_plan",
    "non_empty_path",
    "open_client",
    "target_options",
]
