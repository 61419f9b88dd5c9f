"""Commands printed as hints, with the connection flags the user ran with, quoted for a shell.

"Apply exactly this plan with: mailctl apply tf.plan" fails when the plan was made with
``--sandbox sandbox.db``: every printed command carries the same target the current one had; an
endpoint's credentials (``https://user:password@proxy``) are shown as ``***`` (``without_userinfo``).
"""

from __future__ import annotations

import shlex

import click
from click.core import ParameterSource

from mailctl.text import without_userinfo

# (parameter name, flag) of the options that pick what a command talks to; --timeout is optional.
CONNECTION_FLAGS = (("sandbox", "--sandbox"), ("endpoint", "--endpoint"), ("timeout", "--timeout"))


def connection_flags(ctx: click.Context | None = None) -> list[str]:
    """The connection flags given on this command line (not defaults), as argv words."""
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return []
    flags: list[str] = []
    for name, flag in CONNECTION_FLAGS:
        value = ctx.params.get(name, ctx.meta.get(f"mailctl.{name}"))  # --timeout lives in ctx.meta
        if value is None or ctx.get_parameter_source(name) != ParameterSource.COMMANDLINE:
            continue
        word = f"{value:g}" if isinstance(value, float) else str(value)
        flags += [flag, without_userinfo(word) if name == "endpoint" else word]
    return flags


def config_flags(files: tuple[str, ...] | list[str]) -> list[str]:
    """``-f PATH`` for each config path the user gave (none: the default ./mailctl.yaml)."""
    return [word for path in files for word in ("-f", path)]


def unlock_command(shard: str | None = None) -> str:
    """``mailctl unlock``, or ``mailctl unlock --shard K/N`` for one shard's lock (plain unlock
    removes every lock: a live shard's on another host too)."""
    return command("unlock", *(["--shard", shard] if shard else []))


def command(*args: str) -> str:
    """``mailctl ARGS... [--sandbox PATH | --endpoint URL] [--timeout S]``, shell-quoted."""
    return shlex.join(["mailctl", *args, *connection_flags()])
