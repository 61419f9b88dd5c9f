"""`mailctl rotate`: give a declared API key a new secret without an outage.

The workflow (under the apply lock) is ``mailctl.ops.rotate``; this parses flags and prints.
"""

from __future__ import annotations

import click

from mailctl.cli import hints
from mailctl.cli.common import config_option, connection_options, load_desired, open_client
from mailctl.cli.wait_progress import LockWaitReporter
from mailctl.ops.apply import ApplyHooks, open_sink
from mailctl.ops.rotate import declared_key, rotate_key
from mailctl.text import shown


@click.command("rotate")
@click.argument("address")
@config_option
@connection_options
@click.option("--secrets-out", metavar="FILE", help="Where the new secret goes (required to create).")
@click.option("--delete-old", is_flag=True, help="Delete the old key right after creating the new one.")
@click.option("--retire-old", is_flag=True, help="Create nothing: delete the older keys of this name.")
@click.option(
    "--lock-timeout",
    metavar="SECONDS",
    type=click.FloatRange(0),
    default=0.0,
    help="Wait up to SECONDS for the apply lock when an apply holds it (default 0: fail at once).",
)
def rotate(
    address: str,
    files: tuple[str, ...],
    endpoint: str | None,
    sandbox: str | None,
    secrets_out: str | None,
    delete_old: bool,
    retire_old: bool,
    lock_timeout: float,
) -> None:
    """Give the API key at ADDRESS a new secret without an outage.

    \b
    Examples:
      mailctl rotate pod/tenant-acme/api_key/acme-backend --secrets-out new.json
      mailctl rotate pod/tenant-acme/api_key/acme-backend --retire-old
    """
    desired = load_desired(files)
    declared_key(desired, address)
    sink = None if retire_old else open_sink(secrets_out)
    hooks = ApplyHooks(on_lock_wait=LockWaitReporter(lock_timeout), unlock_hint=hints.command("unlock"))
    with open_client(endpoint, sandbox) as client:
        result = rotate_key(client, desired, address, sink, delete_old, retire_old, hooks, lock_timeout)
    if result.created:
        click.echo(f"{shown(address)}: new key created; its secret is in {shown(secrets_out or '')}")
    if result.kept:
        click.echo(
            f"{result.kept} older key(s) kept; delete them once consumers switched: "
            f"{hints.command('rotate', address, '--retire-old', *hints.config_flags(files))}"
        )
    for old in result.deleted:
        click.echo(f"{shown(address)}: deleted older key {shown(old)}")
