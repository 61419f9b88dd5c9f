"""The `mailctl` command group. Each subcommand lives in its own module and is registered here
(the console entry point, which takes over signals before this module is imported, is
:mod:`mailctl.cli.main`). Command modules import what their command runs (the workflows, httpx,
the config loader, the sandbox) inside its function, so that ``--help``, completion and every
command start in about 50 ms instead of 0.35 s (``tests/unit/cli/test_startup_imports.py``).

This is the one place where errors become messages and exit codes: every MailctlError is
printed as ``Error: ...`` on stderr (hidden characters in it escaped, see :mod:`mailctl.text`)
and exits with its code, never with a traceback. Usage errors (unknown option, bad value,
missing argument) exit 1 like every other error: 2 means "changes pending" / "drift found" only.
A signal exits 128 + its number (see ``mailctl.cli.signals``). A write to stdout that fails
(closed pipe, full disk) is one line and exit 1 (:func:`mailctl.cli.main.output_failed`).
"""

from __future__ import annotations

import errno
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from mailctl import __version__
from mailctl.cli import colour, signals
from mailctl.cli.helptext import FullSummaryGroup
from mailctl.cli.main import output_failed
from mailctl.errors import EXIT_ERROR, MailctlError, Terminated
from mailctl.text import shown

# Commands that write without apply's graceful stop: an interrupt may cut a change in half.
_WRITERS = {"rotate", "unlock"}
# Commands that change nothing through the API: a signal ends them at once.
_READ_ONLY = {"validate", "render", "graph", "plan", "drift", "export", "import", "dns", "schema", "completion"}
_SIGNALS = "mailctl.signals"
# A write to stdout failed: the reader went away, or the disk or quota is full.
OUTPUT_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


@contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except click.UsageError as exc:  # NoSuchOption, BadParameter, MissingParameter, ...
        exc.exit_code = EXIT_ERROR  # type: ignore[misc]  # click's class default is 2
        raise


@contextmanager
def _output_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno not in OUTPUT_ERRNOS or exc.filename is not None:
            raise
        raise click.exceptions.Exit(output_failed(exc)) from None


class MailctlGroup(FullSummaryGroup):
    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with _usage_errors_exit_1(), _output_errors_exit_1():  # --help, --version
            return super().make_context(info_name, args, parent, **extra)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if _SIGNALS in ctx.meta:
            ctx.meta[_SIGNALS].read_only = name in _READ_ONLY
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            policy = ctx.meta[_SIGNALS] = signals.CommandSignals()
            with _usage_errors_exit_1(), _output_errors_exit_1(), policy.installed():
                return super().invoke(ctx)
        except MailctlError as exc:
            message = shown(exc, keep="\n")  # mailctl's own line breaks, nothing the config or API says
            click.echo(f"Error: {message}{_notes(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except (KeyboardInterrupt, Terminated) as exc:
            signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
            click.echo(_interrupted(signum, ctx.invoked_subcommand) + _notes(exc), err=True)
            ctx.exit(signals.exit_code(signum))


def _notes(exc: BaseException) -> str:
    """What happened besides the error itself (``add_note``: a lock that may still be held)."""
    return "".join(f"\n{shown(note)}" for note in getattr(exc, "__notes__", ()))


def _interrupted(signum: int, command: str | None) -> str:
    text = f"\nAborted: interrupted ({signals.name_of(signum)})."
    if command in _WRITERS:
        text += " Changes in flight may or may not have completed; re-run plan to see where things stand."
    return text


@click.group(cls=MailctlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mailctl")
def cli() -> None:
    """Declarative provisioning for AgentMail: pods, inboxes, domains, keys as code.

    \b
    Examples:
      mailctl plan  -f mailctl/ --sandbox sandbox.db
      mailctl apply -f mailctl/ --sandbox sandbox.db --auto-approve --secrets-out secrets.json
    """


def _register() -> None:
    from mailctl.cli import (
        apply_cmd,
        dns_cmd,
        drift_cmd,
        export_cmd,
        graph_cmd,
        plan_cmd,
        render_cmd,
        rotate_cmd,
        sandbox_cmd,
        unlock_cmd,
        validate_cmd,
    )
    from mailctl.cli.completion_cmd import completion
    from mailctl.cli.schema_cmd import schema

    cli.add_command(validate_cmd.validate)
    cli.add_command(render_cmd.render)
    cli.add_command(plan_cmd.plan)
    cli.add_command(apply_cmd.apply)
    cli.add_command(drift_cmd.drift)
    cli.add_command(graph_cmd.graph)
    cli.add_command(unlock_cmd.unlock)
    cli.add_command(export_cmd.export)
    cli.add_command(export_cmd.import_)
    cli.add_command(dns_cmd.dns)
    cli.add_command(rotate_cmd.rotate)
    cli.add_command(sandbox_cmd.sandbox)
    cli.add_command(schema)
    cli.add_command(completion)
    colour.add_color_option(cli)  # --color on the group and on every command


_register()
