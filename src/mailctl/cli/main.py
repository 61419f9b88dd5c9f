"""The `mailctl` command group. Each subcommand lives in its own module and is registered here.

This is the one place where errors become messages and exit codes: every MailctlError is
printed as ``Error: ...`` on stderr and exits with its code, never with a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from mailctl import __version__
from mailctl.errors import MailctlError


class MailctlGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MailctlError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Aborted: interrupted (changes in flight may or may not have completed; "
                       "re-run plan to see where things stand).", err=True)
            ctx.exit(130)


@click.group(cls=MailctlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mailctl")
def cli() -> None:
    """Declarative provisioning for AgentMail: pods, inboxes, domains, keys as code."""


def _register() -> None:
    from mailctl.cli import (apply_cmd, dns_cmd, drift_cmd, export_cmd, plan_cmd, rotate_cmd, sandbox_cmd,
                             render_cmd, unlock_cmd, validate_cmd)

    cli.add_command(validate_cmd.validate)
    cli.add_command(render_cmd.render)
    cli.add_command(plan_cmd.plan)
    cli.add_command(apply_cmd.apply)
    cli.add_command(drift_cmd.drift)
    cli.add_command(unlock_cmd.unlock)
    cli.add_command(export_cmd.export)
    cli.add_command(export_cmd.import_)
    cli.add_command(dns_cmd.dns)
    cli.add_command(rotate_cmd.rotate)
    cli.add_command(sandbox_cmd.sandbox)


_register()


def main() -> None:
    """Console entry point."""
    cli()
