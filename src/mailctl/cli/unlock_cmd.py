"""`mailctl unlock`: remove the organisation apply lock left by a crashed apply."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mailctl.cli import hints
from mailctl.cli.common import connection_options, open_client
from mailctl.cli.scale_options import parse_shard
from mailctl.errors import UnsafePlan
from mailctl.text import shown

if TYPE_CHECKING:
    from mailctl.ops.unlock import HeldLock
    from mailctl.plan.shards import Shard


@click.command("unlock")
@connection_options
@click.option("--force", is_flag=True, help="Remove the lock even while its holder still runs on this host.")
@click.option(
    "--shard",
    "shard",
    metavar="K/N",
    default=None,
    callback=parse_shard,
    help="Only the lock of shard K of N (default: every apply lock, organisation and shards).",
)
def unlock(endpoint: str | None, sandbox: str | None, force: bool, shard: Shard | None) -> None:
    """Remove the apply locks left by a crashed apply (organisation and shard locks; with --shard,
    that shard's lock and its probe of the organisation lock).

    Refused while the holder's process still runs on this host, unless --force.

    \b
    Examples:
      mailctl unlock
      mailctl unlock --sandbox sandbox.db
    """
    from mailctl.ops.unlock import held_locks, release

    with open_client(endpoint, sandbox) as client:
        found = held_locks(client, shard)  # the organisation lock, shard locks, a dead shard's probe
        if not found:
            click.echo("No apply lock is held." if shard is None else f"No lock of shard {shard} is held.")
            return
        for held in found:
            if held.holder.running_here() and not force:
                own = held.shard or (str(shard) if shard else None)  # the lock named alone, or with its shard
                raise UnsafePlan(
                    f"{held.what} is held by a process still running on this host: {held.holder}; "
                    f"wait for that apply to finish (removing its lock lets another apply "
                    f"interleave with it), or remove it anyway with "
                    f"`{hints.command('unlock', *(['--shard', own] if own else []), '--force')}` (nothing was removed)"
                    + _others(found, held)
                )
        for held in found:
            if not held.holder.on_this_host() and not force:
                click.secho(
                    f"Note: the holder ran on {shown(held.holder.host or 'an unknown host')}; mailctl cannot tell "
                    f"whether it still runs there.",
                    fg="yellow",
                    err=True,
                )
            release(client, held)
            click.echo(f"Released {held.what} held by: {shown(held.holder)}")


def _others(found: list[HeldLock], running: HeldLock) -> str:
    """The command for each other shard lock found: ``--force`` above would remove only one."""
    others = sorted({h.shard for h in found if h.shard and h.shard != running.shard})
    if not others:
        return ""
    return "; the other locks found: " + ", ".join(f"`{hints.unlock_command(k)}`" for k in others)
