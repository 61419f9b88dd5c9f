"""`mailctl rotate`: give a declared API key a new secret without an outage, or push a declared
webhook's header values (write-only: no plan sees them change).

The workflows (under the apply lock) are ``mailctl.ops.rotate``; this parses flags and prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mailctl.cli import hints
from mailctl.cli.common import (
    config_option,
    connection_options,
    load_desired,
    lock_timeout_option,
    non_empty_path,
    open_client,
)
from mailctl.cli.wait_progress import LockWaitReporter
from mailctl.errors import UsageError
from mailctl.text import shown

if TYPE_CHECKING:
    from mailctl.ops.apply import ApplyHooks
    from mailctl.ops.rotate import RotateResult
    from mailctl.resources import DesiredState


@click.command("rotate")
@click.argument("address")
@config_option
@connection_options
@click.option(
    "--secrets-out", metavar="FILE", callback=non_empty_path, help="Where the new secret goes (required to create)."
)
@click.option("--delete-old", is_flag=True, help="Delete the old key right after creating the new one.")
@click.option("--retire-old", is_flag=True, help="Create nothing: delete the older keys of this name.")
@lock_timeout_option
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
    """Give the API key at ADDRESS a new secret without an outage, or send the webhook at ADDRESS
    the current values of its headers (from the config and the environment).

    \b
    Examples:
      mailctl rotate pod/tenant-acme/api_key/acme-backend --secrets-out new.json
      mailctl rotate pod/tenant-acme/api_key/acme-backend --retire-old
      mailctl rotate pod/tenant-acme/webhook/events
    """
    from mailctl.kinds import canonical_pattern, spec_of
    from mailctl.ops.apply import ApplyHooks, open_sink
    from mailctl.ops.rotate import RotationIncomplete, declared_rotatable, rotate_key

    address = canonical_pattern(address)  # an inbox's address in any case, as --target reads it
    desired = load_desired(files)
    declared = declared_rotatable(desired, address)
    hooks = ApplyHooks(on_lock_wait=LockWaitReporter(lock_timeout), unlock_hint=hints.unlock_command)
    if not spec_of(declared.kind).shows_secret_once:  # a webhook: its header values are pushed
        if secrets_out or delete_old or retire_old:
            raise UsageError(f"--secrets-out, --delete-old and --retire-old are for API keys; {address} is a webhook")
        _push(address, desired, endpoint, sandbox, hooks, lock_timeout)
        return
    if retire_old and secrets_out:
        raise UsageError("--retire-old creates no key, so --secrets-out would store nothing: drop one of them")
    sink = None if retire_old else open_sink(secrets_out)
    retire = hints.command("rotate", address, "--retire-old", *hints.config_flags(files))
    incomplete = None
    with open_client(endpoint, sandbox) as client:
        try:
            result = rotate_key(
                client, desired, address, sink, delete_old, retire_old, hooks, lock_timeout, retire_hint=retire
            )
        except RotationIncomplete as exc:  # what was done is printed first: the new key exists
            incomplete, result = exc, exc.result
    _report(address, result, secrets_out, retire_old, retire)
    if incomplete is not None:
        raise incomplete
    if result.lock_left is not None:  # after the report: what was done still stands
        raise result.lock_left


def _report(address: str, result: RotateResult, secrets_out: str | None, retire_old: bool, retire: str) -> None:
    if result.created:
        click.echo(f"{shown(address)}: new key created; its secret is in {shown(secrets_out or '')}")
    if result.kept:
        click.echo(f"{result.kept} older key(s) kept; delete them once consumers switched: {retire}")
    for old in result.deleted:
        click.echo(f"{shown(address)}: deleted older key {shown(old)}")
    if retire_old and not result.deleted:
        click.echo(f"{shown(address)}: no older key to retire (the key that carries the name is the only one)")


def _push(
    address: str,
    desired: DesiredState,
    endpoint: str | None,
    sandbox: str | None,
    hooks: ApplyHooks,
    lock_timeout: float,
) -> None:
    from mailctl.ops.rotate import push_webhook_headers

    with open_client(endpoint, sandbox) as client:
        result = push_webhook_headers(client, desired, address, hooks, lock_timeout)
    for attr, names in result.pushed.items():
        click.echo(f"{shown(address)}: sent the current values of {attr} {', '.join(shown(n) for n in names)}")
    if result.lock_left is not None:
        raise result.lock_left
