"""`mailctl unlock`: remove the organisation apply lock left by a crashed apply."""

from __future__ import annotations

import click

from mailctl import lock
from mailctl.cli.common import connection_options, open_client


@click.command("unlock")
@connection_options
def unlock(endpoint: str | None, sandbox: str | None) -> None:
    """Release the apply lock (only when no apply is running: it does not check)."""
    with open_client(endpoint, sandbox) as client:
        held = lock.find(client)
        if held is None:
            click.echo("No apply lock is held.")
            return
        lock.release(client, held["pod_id"])
        click.echo(f"Released the apply lock held by: {held.get('name')}")
