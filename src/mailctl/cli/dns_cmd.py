"""`mailctl dns`: the DNS records each declared domain needs, for people or DNS tooling.

Text and zone output pass every name, value and status through ``shown`` (the API's text may hold
terminal controls; a zone file keeps its line breaks and tabs); JSON stays exact.
"""

from __future__ import annotations

from typing import Any

import click

from mailctl.cli.common import config_option, connection_options, load_desired, open_client
from mailctl.text import json_text, shown


@click.command("dns")
@config_option
@connection_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "zone", "json"]),
    default="text",
    show_default=True,
    help="text for people, zone for a BIND zone file, json for DNS tooling.",
)
@click.argument("domains", nargs=-1, metavar="[DOMAIN]...")
def dns(files: tuple[str, ...], endpoint: str | None, sandbox: str | None, fmt: str, domains: tuple[str, ...]) -> None:
    """Show the DNS records declared domains need to verify, and their status.

    With DOMAIN arguments, only those domains.

    \b
    Examples:
      mailctl dns -f mailctl/
      mailctl dns -f mailctl/ --format zone mail.acme.com > acme.zone
    """
    from mailctl.ops.dns import declared_domains, dns_report

    desired = load_desired(files)
    declared = declared_domains(desired, domains)
    with open_client(endpoint, sandbox) as client:
        report = dns_report(client, desired, declared, zone_files=fmt == "zone")
    click.echo({"text": _text, "zone": _zone, "json": _json}[fmt](report))


def _json(report: list[dict[str, Any]]) -> str:
    return json_text([{k: v for k, v in d.items() if k != "zone"} for d in report], indent=2)


def _elsewhere(d: dict[str, Any]) -> str:
    return (
        f"exists as {shown(d['exists_as'])}, not where it is declared: apply moves it only from a scope "
        "mailctl manages, else plan refuses (see `mailctl plan`)"
    )


def _zone(report: list[dict[str, Any]]) -> str:
    parts = []
    for d in report:
        if d["status"] == "NOT_CREATED":
            parts.append(f"; {shown(d['domain'])}: not created yet: run `mailctl apply` first")
        elif d.get("exists_as"):
            parts.append(f"; {shown(d['domain'])}: {_elsewhere(d)}")
        else:
            zone = shown(str(d["zone"]).rstrip(), keep="\n\t")
            parts.append(f"; {shown(d['domain'])} ({_status(d, ': ')})\n{zone}")
    return "\n\n".join(parts)


def _status(d: dict[str, Any], before: str, after: str = "") -> str:
    """The domain's status, with the API's reason where it failed (``FAILED (ses_dkim_failed)``)."""
    failed = d["status"] in FAILED_STATUSES and d.get("reason")
    return shown(d["status"]) + (f"{before}{shown(d['reason'])}{after}" if failed else "")


FAILED_STATUSES = ("FAILED", "INVALID")  # a pending domain's reason only says it is pending


def _text(report: list[dict[str, Any]]) -> str:
    lines = []
    for d in report:
        lines.append(f"{shown(d['domain'])} ({shown(d['address'])}): {_status(d, ' (', ')')}")
        if d["status"] == "NOT_CREATED":
            lines.append("  not created yet: run `mailctl apply`, then records are known")
        elif d.get("exists_as"):
            lines.append(f"  {_elsewhere(d)}")
        for r in d["records"]:
            priority = f"{r['priority']}" if r.get("priority") is not None else ""
            status, kind, name, value = (shown(r.get(k) or "") for k in ("status", "type", "name", "value"))
            lines.append(f"  {status:8} {kind:5} {name}  {priority} {value}".rstrip())
        lines.append("")
    return "\n".join(lines).rstrip()
