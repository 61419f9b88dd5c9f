"""`mailctl rotate`: give a declared API key a new secret without an outage.

Rotation creates a second key with the same scope, name, permissions and expiry, and writes its
secret to the sink. While both exist the newest carries the name; the older one is left alone
(plans list it as unmanaged) until ``--retire-old`` deletes it, once consumers have switched.
"""

from __future__ import annotations

import click

from mailctl.api.paths import item_path
from mailctl.api.reader import StateReader
from mailctl.api.writer import ApiWriter, IdRegistry
from mailctl.cli import hints
from mailctl.cli.common import config_option, connection_options, load_desired, open_client
from mailctl.errors import NotFound, UsageError
from mailctl.resources import API_KEY, Resource
from mailctl.secrets import SecretSink
from mailctl.text import shown


@click.command("rotate")
@click.argument("address")
@config_option
@connection_options
@click.option("--secrets-out", metavar="FILE", help="Where the new secret goes (required to create).")
@click.option("--delete-old", is_flag=True, help="Delete the old key right after creating the new one.")
@click.option("--retire-old", is_flag=True, help="Create nothing: delete the older keys of this name.")
def rotate(
    address: str,
    files: tuple[str, ...],
    endpoint: str | None,
    sandbox: str | None,
    secrets_out: str | None,
    delete_old: bool,
    retire_old: bool,
) -> None:
    """Give the API key at ADDRESS a new secret without an outage.

    \b
    Examples:
      mailctl rotate pod/tenant-acme/api_key/acme-backend --secrets-out new.json
      mailctl rotate pod/tenant-acme/api_key/acme-backend --retire-old
    """
    desired = load_desired(files)
    declared = desired.resources.get(address)
    if declared is None or declared.kind != API_KEY:
        raise UsageError(f"{address} is not an API key declared in the config")
    if retire_old and delete_old:
        raise UsageError("--retire-old and --delete-old exclude each other")
    sink = None
    if not retire_old:
        if not secrets_out:
            raise UsageError("rotation creates a key whose secret is shown once: pass --secrets-out FILE")
        sink = SecretSink(secrets_out)
        sink.check_writable()
    with open_client(endpoint, sandbox) as client:
        actual = StateReader(client).read(desired)
        ids = IdRegistry({a: r.remote_id for a, r in actual.resources.items() if r.remote_id})
        current = actual.resources.get(address)
        older = [r for a, r in actual.resources.items() if a.startswith(address + "#")]
        if current is None:
            raise UsageError(f"{address} does not exist yet: `mailctl apply` creates it")
        if not retire_old:
            new_key = Resource(API_KEY, address, dict(current.attrs), parent=current.parent)
            ApiWriter(client, ids, sink).create(new_key)
            click.echo(f"{shown(address)}: new key created; its secret is in {shown(secrets_out)}")
            older.append(current)
        if not (retire_old or delete_old):
            click.echo(
                f"{len(older)} older key(s) kept; delete them once consumers switched: "
                f"{hints.command('rotate', address, '--retire-old', *hints.config_flags(files))}"
            )
            return
        for old in older:
            try:
                client.delete(item_path(old, ids, old.remote_id))
            except NotFound:
                pass
            click.echo(f"{shown(address)}: deleted older key {shown(old.observed.prefix or old.remote_id)}")
