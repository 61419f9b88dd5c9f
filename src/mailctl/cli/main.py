"""The `mailctl` command group. Each subcommand lives in its own module and is registered here."""

from __future__ import annotations

import sys

import click

from mailctl import __version__
from mailctl.errors import EXIT_ERROR, MailctlError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mailctl")
def cli() -> None:
    """Declarative provisioning for AgentMail: pods, inboxes, domains, keys as code."""


def _register() -> None:
    from mailctl.cli import sandbox_cmd

    cli.add_command(sandbox_cmd.sandbox)


_register()


def main() -> None:
    """Console entry point: every MailctlError becomes a message and an exit code, never a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except MailctlError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
