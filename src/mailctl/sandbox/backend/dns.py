"""The DNS side of custom domains: required records (spec §7.3), the zone file, and the
sandbox's DNS fixture that decides how verification turns out (§11 Q8).

A domain row keeps two maps keyed ``"TYPE name"``:
- ``dns``: what is "published" in the fixture (``VALID`` / ``INVALID``; absent = ``MISSING``).
  In ``auto`` mode ``verify`` publishes every required record; in ``manual`` mode only the
  control API (``POST /_sandbox/domains/{id}/dns``) changes it.
- ``checked``: the per-record status shown in ``records``, refreshed when a verification resolves.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

MX_HOST = "inbound-smtp.us-east-1.amazonaws.com"
MX_PRIORITY = 10
SPF_VALUE = "v=spf1 include:spf.agentmail.to ~all"
DMARC_VALUE = "v=DMARC1; p=reject"
TRACKING_TARGET = "track.agentmail.to"
DKIM_SELECTOR = "agentmail"
RECORD_STATUSES = ("MISSING", "INVALID", "VALID")


def _dkim_value(domain: str) -> str:
    """A deterministic, plausible-looking DKIM public key for ``domain`` (placeholder only)."""
    digest = b"".join(hashlib.sha256(f"{domain}:{i}".encode()).digest() for i in range(5))
    return f"v=DKIM1; k=rsa; p={base64.b64encode(digest).decode()}"


def required_records(domain: str, flags: dict[str, Any]) -> list[dict[str, Any]]:
    """The records a domain needs for its current flags, fully qualified names, no status yet."""
    records: list[dict[str, Any]] = [
        {"type": "TXT", "name": domain, "value": SPF_VALUE},
        {"type": "TXT", "name": f"{DKIM_SELECTOR}._domainkey.{domain}", "value": _dkim_value(domain)},
        {"type": "TXT", "name": f"_dmarc.{domain}", "value": DMARC_VALUE},
    ]
    if flags.get("inbound_enabled", True):
        records.append({"type": "MX", "name": domain, "value": MX_HOST, "priority": MX_PRIORITY})
    if flags.get("subdomains_enabled"):
        records.append({"type": "MX", "name": f"*.{domain}", "value": MX_HOST, "priority": MX_PRIORITY})
    if flags.get("tracking_enabled"):
        records.append({"type": "CNAME", "name": f"link.{domain}", "value": TRACKING_TARGET})
    return records


def record_key(record: dict[str, Any]) -> str:
    return f"{record['type']} {record['name']}"


def records_with_status(domain: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    checked = body.get("checked", {})
    out = []
    for record in required_records(domain, body):
        status = checked.get(record_key(record), "MISSING")
        shown = {**record, "status": status}
        if status == "INVALID":
            shown["reason"] = "value_mismatch"
        out.append(shown)
    return out


def publish_all(domain: str, body: dict[str, Any], status: str = "VALID") -> None:
    """Put every currently required record into the fixture with ``status``."""
    body["dns"] = {record_key(r): status for r in required_records(domain, body)}


def evaluate(domain: str, body: dict[str, Any]) -> tuple[str, str | None]:
    """Resolve a pending verification against the fixture: (status, reason). Updates ``checked``."""
    published = body.get("dns", {})
    keys = [record_key(r) for r in required_records(domain, body)]
    body["checked"] = {k: published.get(k, "MISSING") for k in keys}
    statuses = set(body["checked"].values())
    if statuses == {"VALID"}:
        return "VERIFIED", None
    if "INVALID" in statuses:
        return "INVALID", "dns_records_invalid"
    return "PENDING", "dns_records_missing"


def zone_file(domain: str, body: dict[str, Any]) -> str:
    """The required records as a BIND zone file fragment."""
    lines = [f"$ORIGIN {domain}.", "$TTL 3600", f"; AgentMail records for {domain} (sandbox placeholder values)"]
    for r in required_records(domain, body):
        name = f"{r['name']}."
        if r["type"] == "MX":
            lines.append(f"{name}\tIN\tMX\t{r['priority']} {r['value']}.")
        elif r["type"] == "CNAME":
            lines.append(f"{name}\tIN\tCNAME\t{r['value']}.")
        else:
            lines.append(f'{name}\tIN\tTXT\t"{r["value"]}"')
    return "\n".join(lines) + "\n"
