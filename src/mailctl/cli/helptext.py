"""Command lists in ``--help`` that show each command's whole one-line summary.

click shortens a command's first sentence to fit the terminal ("Make the actual state match the
config (or execute a saved..."). Here the summary is never cut: it wraps instead, so every command
says in full what it does however narrow the terminal.
"""

from __future__ import annotations

from typing import Any

import click

_NO_LIMIT = 10_000


class FullSummaryGroup(click.Group):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # click's "COMMAND [ARGS]..." reads as if the usage line, too, were cut off.
        kwargs.setdefault("subcommand_metavar", "COMMAND [ARGS]")
        super().__init__(*args, **kwargs)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(_NO_LIMIT)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
