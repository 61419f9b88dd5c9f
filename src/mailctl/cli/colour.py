"""When mailctl prints colour: ``--color auto|always|never`` and the ``NO_COLOR`` convention.

Colour goes through click (``click.style``/``secho``), which strips escapes when the context's
``color`` is False and, when it is None, whenever the stream is not a terminal. So the whole policy
is one value on the click context, set here for every command by one option:

- ``--color always``: escapes even into a pipe or file (a command-line flag beats ``NO_COLOR``);
- ``--color never``: no escapes at all;
- ``--color auto`` (the default): none when ``NO_COLOR`` is set, to any value (even empty), or
  when the output is not a terminal; colour on a terminal otherwise.

An explicit ``--color`` on the group (``mailctl --color never plan``) holds for the subcommand
unless the subcommand is given its own.

click keeps its context per thread, so output printed from another thread (apply's workers and
progress ticker) would fall back to "colour on any terminal": such printers take the decision
made here, :func:`current`, from the main thread and pass it along (``click.secho(color=...)``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import click

CHOICES = ("auto", "always", "never")
NO_COLOR = "NO_COLOR"
_EXPLICIT = "mailctl.color.explicit"


def resolve(choice: str, environ: Mapping[str, str] = os.environ) -> bool | None:
    """The click ``color`` value for a ``--color`` choice: True, False, or None (decide per stream)."""
    if choice == "always":
        return True
    if choice == "never" or NO_COLOR in environ:
        return False
    return None


def current() -> bool | None:
    """This command's colour decision (as :func:`resolve`), for printers that run in other threads."""
    ctx = click.get_current_context(silent=True)
    return ctx.color if ctx is not None else resolve("auto")


def wanted(color: bool | None, stream: object) -> bool:
    """Whether escapes may be written to ``stream`` under ``color`` (None: only to a terminal)."""
    if color is not None:
        return color
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _apply(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:  # not given here: keep what the group said, else the auto rules
        if not ctx.meta.get(_EXPLICIT):
            ctx.color = resolve("auto")
        return
    ctx.meta[_EXPLICIT] = True  # meta is shared with subcommand contexts
    ctx.color = resolve(value)


def color_option() -> click.Option:
    return click.Option(
        ["--color"],
        type=click.Choice(CHOICES),
        default=None,
        metavar="auto|always|never",
        expose_value=False,
        is_eager=True,
        callback=_apply,
        help="Colour the output: auto (default: on a terminal, unless NO_COLOR is set), always, never.",
    )


def add_color_option(command: click.Command) -> None:
    """Give ``command`` (and, for a group, each of its subcommands) the ``--color`` option."""
    if not any(param.name == "color" for param in command.params):
        command.params.append(color_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_color_option(sub)
