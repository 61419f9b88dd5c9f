"""SDK routes the sandbox does not emulate (README "What it does not emulate").

Each is in the route table all the same, answered by a 404 that says "... is not emulated by the
sandbox" and what to do instead: a path the SDK really calls is never "No such route ... Check the
path against the API reference", which sent people looking for a typo. Literal segments in the
table also keep ``{message_id}`` / ``{thread_id}`` from capturing ``search`` or ``batch-get``.
``tests/sandbox/test_contract_sdk_routes.py`` reads every path from the SDK's raw clients.
"""

from __future__ import annotations

from mailctl.sandbox.backend.core import Ctx, Handler, Reply, SandboxError

ELSEWHERE = "Test this feature against the AgentMail API itself."


def not_emulated(feature: str, fix: str = ELSEWHERE) -> Handler:
    """A handler answering 404 ``not_found``: ``{method} {route}`` is not emulated (``feature``)."""

    def handler(ctx: Ctx) -> Reply:
        raise SandboxError(
            404, "not_found", f"{ctx.method} {ctx.route} is not emulated by the sandbox ({feature})", fix=fix
        )

    return handler


SEARCH = not_emulated("search and batch routes", "List the messages or threads and filter them client-side.")
RAW = not_emulated("raw MIME", "Read the parsed message: GET /v0/inboxes/{inbox_id}/messages/{message_id}.")
ATTACHMENTS = not_emulated("attachments", "Sandbox messages, threads and drafts carry no attachments.")
AGENT_ARMOR = not_emulated("AgentArmor feedback and release", "The sandbox holds no message for AgentArmor review.")
AGENT_ID = not_emulated(
    "AgentID sign-up and sign-in",
    "Make organizations with POST /_sandbox/organizations and keys with POST /v0/api-keys.",
)
METRICS = not_emulated("metrics")
CALENDARS = not_emulated("calendars")
FILES = not_emulated("files")
APPS = not_emulated("apps and accounts")
INBOX_EVENTS = not_emulated("inbox event history", "Receive events with a webhook (see README: Webhook deliveries).")
LABS = not_emulated("organization labs")
