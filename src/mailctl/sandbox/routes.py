"""THE route table of the sandbox: (method, path pattern, handler). Nothing is routed elsewhere.

How a resource plugs in
-----------------------
1. Write ``backend/<family>.py`` with handlers ``def handler(ctx: Ctx) -> Reply``
   (import everything from ``mailctl.sandbox.backend.core``):
   - ``ctx.params`` holds the path parameters (already percent-decoded; ``@`` and ``+`` literal),
     ``ctx.query`` a ``Query`` (``.string/.integer/.boolean/.strings``), ``ctx.body`` a ``Body``
     (``.string/.boolean/.integer/.mapping/.strings/.client_id``, an absent body is ``{}``),
     ``ctx.tx`` the open store transaction, ``ctx.caller`` the authenticated ``Caller``.
   - Return ``ok(dict)`` (200 JSON), ``no_content()`` (204) or a ``Reply`` for other types.
   - Errors: ``raise bad_request(msg, "field")`` (400), ``not_found("Webhook")`` (404),
     ``forbidden(code, msg)`` / ``ctx.caller.require("webhook_read")`` (403),
     ``unprocessable(msg)`` (422). The body shapes of spec §2.1 are produced for you, and the
     transaction is rolled back, so a failed request never leaves a partial write.
   - Scope: ``load_pod(ctx, pod_id)`` / ``load_inbox(ctx, inbox_id, pod)`` give 403/404 exactly as
     spec §3.1 says; ``scope_filters(ctx.caller)`` restricts a listing to the caller's scope.
   - Lists: ``return ok(paginate(ctx, "webhook", "webhooks", render, org=ctx.org, pod=...))``.
   - Idempotent creates: ``replay_client_id(ctx, kind, client_id, visible=...)``.
   - Cascades: ``@on_delete("inbox")`` registers ``fn(tx, inbox_row)`` run before an inbox
     (or "pod") row is deleted, in the same transaction.
2. Add its routes below. Literal segments always win over ``{param}`` segments
   (``/v0/inboxes/search`` before ``/v0/inboxes/{inbox_id}``), whatever the order here.
"""

from __future__ import annotations

from mailctl.sandbox import control
from mailctl.sandbox.backend import org, pods
from mailctl.sandbox.router import Route

R = Route

ROUTES: list[Route] = [
    # --- identity -------------------------------------------------------------------------
    R("GET", "/v0/auth/me", org.auth_me),
    R("GET", "/v0/organizations", org.get_organization),
    # --- pods (§7.1) ----------------------------------------------------------------------
    R("GET", "/v0/pods", pods.list_pods),
    R("POST", "/v0/pods", pods.create_pod),
    R("GET", "/v0/pods/{pod_id}", pods.get_pod),
    R("DELETE", "/v0/pods/{pod_id}", pods.delete_pod),
    # --- sandbox control API (org-level key) ----------------------------------------------
    R("POST", "/_sandbox/reset", control.reset),
    R("GET", "/_sandbox/stats", control.stats),
    R("GET", "/_sandbox/config", control.get_config),
    R("PATCH", "/_sandbox/config", control.patch_config),
    R("POST", "/_sandbox/organizations", control.create_organization),
    # >>> S2 routes: webhooks, allow/block lists, threads/messages/drafts (append below) >>>
    # <<< S2 routes <<<
]
