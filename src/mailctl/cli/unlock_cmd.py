"""`mailctl unlock`: remove the organisation apply lock left by a crashed apply."""

from __future__ import annotations

import click

from mailctl.api import lock
from mailctl.cli import hints
from mailctl.cli.common import connection_options, open_client
from mailctl.errors import UnsafePlan


@click.command("unlock")
@connection_options
@click.option("--force", is_flag=True, help="Remove the lock even while its holder still runs on this host.")
def unlock(endpoint: str | None, sandbox: str | None, force: bool) -> None:
    """Remove the apply lock left by a crashed apply.

    Refused while the holder's process still runs on this host, unless --force.

    \b
    Examples:
      mailctl unlock
      mailctl unlock --sandbox sandbox.db
    """
    with open_client(endpoint, sandbox) as client:
        held = lock.find(client)
        if held is None:
            click.echo("No apply lock is held.")
            return
        holder = lock.Holder.parse(held["name"])
        if holder.running_here() and not force:
            raise UnsafePlan(f"the apply lock is held by a process still running on this host: {holder}; "
                             f"wait for that apply to finish (removing its lock lets another apply "
                             f"interleave with it), or remove it anyway with `{hints.command('unlock', '--force')}`")
        if not holder.on_this_host() and not force:
            click.secho(f"Note: the holder ran on {holder.host or 'an unknown host'}; mailctl cannot tell "
                        f"whether it still runs there.", fg="yellow", err=True)
        lock.release(client, held["pod_id"])
        click.echo(f"Released the apply lock held by: {holder}")
