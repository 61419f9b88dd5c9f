"""`mailctl sandbox serve`: run the local AgentMail sandbox over HTTP until Ctrl-C / SIGTERM."""

from __future__ import annotations

import os

import click

from mailctl.cli.helptext import FullSummaryGroup
from mailctl.cli.numbers import Number
from mailctl.sandbox.server_defaults import THREADS


@click.group(cls=FullSummaryGroup)
def sandbox() -> None:
    """Run the local AgentMail sandbox (an emulator of the API).

    \b
    Example:
      mailctl sandbox serve --port 8025 --api-key am_dev_key
    """


def _sendable_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """A request's Bearer token is never empty and never starts or ends with whitespace (the
    sandbox strips it): such a key would start a sandbox whose every request is a 401."""
    for key in keys:
        if not key.strip():
            raise click.BadParameter("a key cannot be empty or blank: give the key, e.g. am_my_local_key")
        if key != key.strip():
            raise click.BadParameter(
                "a key cannot start or end with whitespace (no request could send it): drop the spaces"
            )
    return keys


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8025, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--db", default=":memory:", show_default=True, help="SQLite file that keeps state across restarts.")
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    callback=lambda ctx, param, keys: _sendable_keys(keys),
    help="An org-level key (repeatable). Default: $AGENTMAIL_API_KEY, else the dev key.",
)
@click.option("--page-size", default=50, show_default=True, type=click.IntRange(1, 100), help="Default list page size.")
@click.option(
    "--latency-ms", default=0, show_default=True, type=click.IntRange(0, 60_000), help="Added latency per request."
)
@click.option(
    "--latency-jitter-ms",
    default=0,
    show_default=True,
    type=click.IntRange(0, 60_000),
    help="Extra random latency, 0..N ms.",
)
@click.option(
    "--rate-limit",
    type=Number(min=0, min_open=True),
    default=None,
    help="Requests per second, the budget of each organisation (429 above).",
)
@click.option(
    "--rate-limit-scope",
    default="org",
    show_default=True,
    type=click.Choice(["org", "key"]),
    help="Who shares one --rate-limit budget: the organisation (as AgentMail) or each key.",
)
@click.option("--fault-rate", default=0.0, show_default=True, type=Number(0, 1), help="Probability a write fails.")
@click.option(
    "--fault-mode",
    default="both",
    show_default=True,
    type=click.Choice(["before", "after", "both"]),
    help="Fail before the write, after committing it, or either.",
)
@click.option("--seed", type=int, default=None, help="Seed for fault injection and jitter.")
@click.option(
    "--domain-verification",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "manual"]),
    help="auto: verify succeeds; manual: driven by /_sandbox/domains/{id}/dns.",
)
@click.option(
    "--open-tracking",
    default="enabled",
    show_default=True,
    type=click.Choice(["enabled", "disabled"]),
    help="disabled: tracking_enabled: true on a domain is 403 forbidden.",
)
@click.option(
    "--webhook-deliveries",
    default="enabled",
    show_default=True,
    type=click.Choice(["enabled", "disabled"]),
    help="POST webhook events (signed as Svix signs them) to subscribed webhooks.",
)
@click.option(
    "--webhook-retry-ms",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 3_600_000),
    help="Delay before a failed delivery's first retry; each later one doubles (5 attempts).",
)
@click.option(
    "--threads",
    default=THREADS,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Requests served at once (latency sleeps in one).",
)
def serve(
    host: str,
    port: int,
    db: str,
    api_keys: tuple[str, ...],
    page_size: int,
    latency_ms: int,
    latency_jitter_ms: int,
    rate_limit: float | None,
    fault_rate: float,
    fault_mode: str,
    seed: int | None,
    domain_verification: str,
    threads: int,
    rate_limit_scope: str,
    open_tracking: str,
    webhook_deliveries: str,
    webhook_retry_ms: int,
) -> None:
    """Serve the AgentMail API sandbox over HTTP until interrupted.

    Listens on http://HOST:PORT and prints that URL once ready; Ctrl-C or SIGTERM stops it.

    \b
    Examples:
      mailctl sandbox serve
      mailctl sandbox serve --port 0 --db sandbox.db --api-key am_my_local_key
    """
    from mailctl.sandbox.app import DEV_API_KEY, create_app
    from mailctl.sandbox.server import serve as serve_http
    from mailctl.sandbox.store import OPEN_ERRORS, open_failure

    keys = api_keys or tuple(k for k in [os.environ.get("AGENTMAIL_API_KEY", "").strip()] if k)
    if not keys:
        click.echo(f"No --api-key or AGENTMAIL_API_KEY given: using the dev key {DEV_API_KEY}", err=True)
    try:
        app = create_app(
            db=db,
            api_keys=keys,
            page_size=page_size,
            latency_ms=latency_ms,
            latency_jitter_ms=latency_jitter_ms,
            rate_limit=rate_limit,
            fault_rate=fault_rate,
            seed=seed,
            domain_verification=domain_verification,
            fault_mode=fault_mode,
            rate_limit_scope=rate_limit_scope,
            open_tracking=open_tracking,
            webhook_deliveries=webhook_deliveries,
            webhook_retry_ms=webhook_retry_ms,
        )
    except OPEN_ERRORS as exc:  # an unreadable --db file: a message naming it, not a traceback
        raise click.ClickException(open_failure(db, exc)) from None
    except Exception as exc:
        raise click.ClickException(f"cannot start the sandbox: {exc}") from None
    try:
        serve_http(
            app, host, port, on_ready=lambda url: click.echo(f"AgentMail sandbox listening on {url}"), threads=threads
        )
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        app.close()
