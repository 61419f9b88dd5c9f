"""Every length and range limit the AgentMail API enforces on a field mailctl writes: one table.

The sandbox checks requests against these (``sandbox/backend``: ``Body.string(..., limit=...)``,
``check_url``, ``merge_metadata``, ``parse_time``) and the generated config schema
(``config/schema_gen.py``) puts the same numbers into ``mailctl validate``, so a value the API
would refuse with a 400 at apply is a located error before any request, and the two cannot drift.
``tests/sandbox/test_contract_limits.py`` checks each one both ways: at the limit both accept,
just past it the sandbox answers 400 and validate reports the field.

A limit that is mailctl's own (a name that must leave room for a marker suffix) says so. This
module imports nothing from mailctl: the sandbox, config and api layers all read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Length:
    """A string's allowed length, in characters: ``min <= len(value) <= max``."""

    min: int
    max: int

    def allows(self, value: str) -> bool:
        return self.min <= len(value) <= self.max


# -- the API's limits --------------------------------------------------------------------------

CLIENT_ID = Length(1, 256)  # every client_id (a pod's is its config key); also A-Z a-z 0-9 - . _ ~
CLIENT_ID_CHARACTERS = "A-Za-z0-9._~-"  # a regex character class body
POD_NAME = Length(1, 256)
DISPLAY_NAME = Length(0, 256)  # an inbox's display name
METADATA_KEY = Length(1, 256)
METADATA_VALUE = Length(0, 256)  # a text value; numbers and booleans are not limited
METADATA_ENTRIES = 256  # keys per inbox
API_KEY_NAME = Length(1, 256)
WEBHOOK_URL = Length(1, 2048)  # the sandbox's choice (spec §11 Q24; the docs give no number)
WEBHOOK_PODS = 10  # pod_ids per webhook (spec §7.5)
WEBHOOK_HEADER_NAME = Length(1, 256)
WEBHOOK_HEADER_VALUE = Length(0, 4096)
# A webhook header value as HTTP carries it (RFC 9110 §5.5 field-value, as h11 checks it before
# sending): visible ASCII, or octets 0x80-0xff (obs-text, a str's characters up to U+00FF), with
# spaces and tabs only between them. Control characters break the framing, and a space or tab at
# either end is dropped by HTTP and refused by h11, so a delivery carrying one could never be sent.
# The sandbox (``webhook_rules.check_headers``) and the webhook kind (``kinds/webhook.py``, when
# config is loaded) both ask ``header_value_fault``.
WEBHOOK_HEADER_VALUE_CHARACTERS = re.compile("[\t\x20-\x7e\x80-\xff]*")


HEADER_VALUE_PADDED = "starts or ends with a space or tab, which a header value cannot (HTTP drops them)"


def header_value_fault(value: str, *, padded_too: bool = True) -> str | None:
    """Why HTTP cannot carry ``value`` as a webhook header value (a phrase that never quotes it:
    values are secrets), else None. ``padded_too``: a space or tab at either end is a fault too
    (not for a message's own headers, which email carries). The length is
    ``WEBHOOK_HEADER_VALUE``'s to check."""
    if not WEBHOOK_HEADER_VALUE_CHARACTERS.fullmatch(value):
        return "holds a character a header cannot carry (a control character or one beyond U+00FF)"
    if padded_too and value != value.strip(" \t"):
        return HEADER_VALUE_PADDED
    return None


# Custom webhook header names the sandbox refuses, compared lower-cased (the sandbox's choice: the
# API asks only for valid HTTP headers, spec §7.5). A custom one beside the sender's own would be a
# second copy a handler may read first, or break the request: the message framing and
# connection-specific fields (RFC 9112 §6, RFC 9110 §7.6.1), the body's own description, and
# the Svix signature headers every delivery carries.
WEBHOOK_RESERVED_HEADERS = (
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "host",
    "keep-alive",
    "proxy-connection",
    "svix-id",
    "svix-signature",
    "svix-timestamp",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
)
LIST_REASON = Length(1, 1024)
LIST_ENTRY = Length(1, 320)  # an address (64 + 1 + 253) or a domain
DOMAIN_NAME = Length(1, 253)
USERNAME = Length(1, 64)  # an inbox address's local part
# A date-time must stay a date-time once converted to UTC: 9999-12-31T23:59:59-23:59 is not one.
TIMESTAMP_MIN = datetime.min.replace(tzinfo=UTC)
TIMESTAMP_MAX = datetime.max.replace(tzinfo=UTC)

# The webhook event types the API accepts (a webhook's ``event_types``): the config schema's enum
# and the sandbox's check read this one list.
EVENT_TYPES = (
    "message.received",
    "message.received.spam",
    "message.received.blocked",
    "message.received.unauthenticated",
    "message.security.completed",
    "message.security.review",
    "message.security.override",
    "message.sent",
    "message.delivered",
    "message.bounced",
    "message.complained",
    "message.rejected",
    "message.opened",
    "domain.verified",
    "calendar.event.created",
    "calendar.event.updated",
    "calendar.event.deleted",
    "calendar.event.responded",
    "calendar.event.starting",
    "calendar.event.ending",
)


# -- mailctl's own -----------------------------------------------------------------------------

# The apply lock is a pod whose client_id starts with this (api/lock.py): a declared pod with
# such a client_id would be hidden from plans (planned "to add" forever) and deleted by unlock.
RESERVED_POD_PREFIX = "mailctl.lock"
# A declared key name leaves room for the longest marker mailctl appends while it works on a key
# ("#mailctl-pending", "#mailctl-replaced"): 128 + 17 is well inside API_KEY_NAME.
DECLARED_KEY_NAME = Length(1, 128)
# A key name config can declare (schema ``keyName``): no '/' or '#' (address syntax), no control
# characters (C0, DEL, C1), no invisible format character of the Basic Multilingual Plane (soft
# hyphen, zero-width space, bidi controls, BOM...: two names differing by one print alike; ZWNJ and
# ZWJ stay, scripts and emoji need them), no space at either end. Written with \x and \u escapes
# only, which Python and the ECMA regexes of editors read alike; the characters past the Basic
# Multilingual Plane (tag characters) and the blank fillers are refused by the API key kind's
# ``refuse`` hook instead (``text.hides``). A key made elsewhere under another name is addressed by
# its id.


def _declarable_key_name(longest: int) -> str:
    outside = (  # never in a name: address syntax, then the characters above
        r"/#\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f"
        r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    )
    return rf"[^\s{outside}](?:[^{outside}]{{0,{longest - 2}}}[^\s{outside}])?"


DECLARABLE_KEY_NAME = _declarable_key_name(DECLARED_KEY_NAME.max)
DECLARED_NAME = Length(1, 64)  # webhook, template and tenant names (a webhook's rides in its client_id)


def in_utc_range(moment: datetime) -> bool:
    """``moment`` (aware or naive, naive meaning UTC) converts to UTC without leaving years 1-9999."""
    if moment.tzinfo is None:
        return True
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True
