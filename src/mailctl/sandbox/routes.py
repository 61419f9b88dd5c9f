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
   - Idempotent creates: ``replay_client_id(ctx, kind, client_id, visible=...)``; sends honour
     ``Idempotency-Key`` by wrapping the handler in ``idempotent(...)`` here.
   - Cascades: ``@on_delete("inbox")`` registers ``fn(tx, inbox_row)`` run before an inbox
     (or "pod") row is deleted, in the same transaction.
2. Add its routes below. Literal segments always win over ``{param}`` segments
   (``/v0/inboxes/search`` before ``/v0/inboxes/{inbox_id}``), whatever the order here.
"""

from __future__ import annotations

from mailctl.sandbox import control
from mailctl.sandbox.backend import (
    api_keys,
    domains,
    drafts,
    inboxes,
    lists,
    messages,
    org,
    pods,
    threads,
    unemulated,
    webhooks,
)
from mailctl.sandbox.backend.idempotency import idempotent
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
    # --- inboxes (§7.2) -------------------------------------------------------------------
    R("GET", "/v0/inboxes", inboxes.list_inboxes),
    R("POST", "/v0/inboxes", inboxes.create_inbox),
    R("GET", "/v0/inboxes/search", inboxes.search_inboxes),
    R("GET", "/v0/inboxes/{inbox_id}", inboxes.get_inbox),
    R("PATCH", "/v0/inboxes/{inbox_id}", inboxes.update_inbox),
    R("DELETE", "/v0/inboxes/{inbox_id}", inboxes.delete_inbox),
    R("GET", "/v0/pods/{pod_id}/inboxes", inboxes.list_pod_inboxes),
    R("POST", "/v0/pods/{pod_id}/inboxes", inboxes.create_pod_inbox),
    R("GET", "/v0/pods/{pod_id}/inboxes/search", inboxes.search_pod_inboxes),
    R("GET", "/v0/pods/{pod_id}/inboxes/{inbox_id}", inboxes.get_inbox),
    R("PATCH", "/v0/pods/{pod_id}/inboxes/{inbox_id}", inboxes.update_inbox),
    R("DELETE", "/v0/pods/{pod_id}/inboxes/{inbox_id}", inboxes.delete_inbox),
    # --- domains (§7.3) -------------------------------------------------------------------
    R("GET", "/v0/domains", domains.list_domains),
    R("POST", "/v0/domains", domains.create_domain),
    R("GET", "/v0/domains/{domain_id}", domains.get_domain),
    R("PATCH", "/v0/domains/{domain_id}", domains.update_domain),
    R("DELETE", "/v0/domains/{domain_id}", domains.delete_domain),
    R("POST", "/v0/domains/{domain_id}/verify", domains.verify_domain),
    R("GET", "/v0/domains/{domain_id}/zone-file", domains.zone_file),
    R("GET", "/v0/domains/{domain_id}/setup-link", domains.setup_link),
    R("GET", "/v0/pods/{pod_id}/domains", domains.list_domains),
    R("POST", "/v0/pods/{pod_id}/domains", domains.create_domain),
    R("GET", "/v0/pods/{pod_id}/domains/{domain_id}", domains.get_domain),
    R("PATCH", "/v0/pods/{pod_id}/domains/{domain_id}", domains.update_domain),
    R("DELETE", "/v0/pods/{pod_id}/domains/{domain_id}", domains.delete_domain),
    R("POST", "/v0/pods/{pod_id}/domains/{domain_id}/verify", domains.verify_domain),
    R("GET", "/v0/pods/{pod_id}/domains/{domain_id}/zone-file", domains.zone_file),
    # --- API keys (§7.4) ------------------------------------------------------------------
    R("GET", "/v0/api-keys", api_keys.list_keys),
    R("POST", "/v0/api-keys", api_keys.create_key),
    R("GET", "/v0/api-keys/{api_key_id}", api_keys.get_key),
    R("PATCH", "/v0/api-keys/{api_key_id}", api_keys.update_key),
    R("DELETE", "/v0/api-keys/{api_key_id}", api_keys.delete_key),
    R("GET", "/v0/pods/{pod_id}/api-keys", api_keys.list_pod_keys),
    R("POST", "/v0/pods/{pod_id}/api-keys", api_keys.create_pod_key),
    R("PATCH", "/v0/pods/{pod_id}/api-keys/{api_key_id}", api_keys.update_pod_key),
    R("DELETE", "/v0/pods/{pod_id}/api-keys/{api_key_id}", api_keys.delete_pod_key),
    R("GET", "/v0/inboxes/{inbox_id}/api-keys", api_keys.list_inbox_keys),
    R("POST", "/v0/inboxes/{inbox_id}/api-keys", api_keys.create_inbox_key),
    R("PATCH", "/v0/inboxes/{inbox_id}/api-keys/{api_key_id}", api_keys.update_inbox_key),
    R("DELETE", "/v0/inboxes/{inbox_id}/api-keys/{api_key_id}", api_keys.delete_inbox_key),
    # --- sandbox control API (org-level key) ----------------------------------------------
    R("POST", "/_sandbox/reset", control.reset),
    R("GET", "/_sandbox/stats", control.stats),
    R("GET", "/_sandbox/config", control.get_config),
    R("PATCH", "/_sandbox/config", control.patch_config),
    R("POST", "/_sandbox/organizations", control.create_organization),
    R("POST", "/_sandbox/domains/{domain_id}/dns", domains.control_dns),
    R("POST", "/_sandbox/faults", control.arm_fault),
    R("DELETE", "/_sandbox/faults", control.disarm_faults),
    R("GET", "/_sandbox/deliveries", control.deliveries),
    # >>> S2 routes: webhooks, allow/block lists, threads/messages/drafts (append below) >>>
    # --- webhooks (§7.5) ------------------------------------------------------------------
    R("GET", "/v0/webhooks", webhooks.list_webhooks),
    R("POST", "/v0/webhooks", webhooks.create_webhook),
    R("GET", "/v0/webhooks/{webhook_id}", webhooks.get_webhook),
    R("PATCH", "/v0/webhooks/{webhook_id}", webhooks.update_webhook),
    R("DELETE", "/v0/webhooks/{webhook_id}", webhooks.delete_webhook),
    R("GET", "/v0/webhooks/{webhook_id}/headers", webhooks.get_headers),
    R("PATCH", "/v0/webhooks/{webhook_id}/headers", webhooks.update_headers),
    R("GET", "/v0/pods/{pod_id}/webhooks", webhooks.list_webhooks),
    R("POST", "/v0/pods/{pod_id}/webhooks", webhooks.create_webhook),
    R("GET", "/v0/pods/{pod_id}/webhooks/{webhook_id}", webhooks.get_webhook),
    R("PATCH", "/v0/pods/{pod_id}/webhooks/{webhook_id}", webhooks.update_webhook),
    R("DELETE", "/v0/pods/{pod_id}/webhooks/{webhook_id}", webhooks.delete_webhook),
    R("GET", "/v0/pods/{pod_id}/webhooks/{webhook_id}/headers", webhooks.get_headers),
    R("PATCH", "/v0/pods/{pod_id}/webhooks/{webhook_id}/headers", webhooks.update_headers),
    R("GET", "/v0/inboxes/{inbox_id}/webhooks", webhooks.list_webhooks),
    R("POST", "/v0/inboxes/{inbox_id}/webhooks", webhooks.create_webhook),
    R("GET", "/v0/inboxes/{inbox_id}/webhooks/{webhook_id}", webhooks.get_webhook),
    R("PATCH", "/v0/inboxes/{inbox_id}/webhooks/{webhook_id}", webhooks.update_webhook),
    R("DELETE", "/v0/inboxes/{inbox_id}/webhooks/{webhook_id}", webhooks.delete_webhook),
    R("GET", "/v0/inboxes/{inbox_id}/webhooks/{webhook_id}/headers", webhooks.get_headers),
    R("PATCH", "/v0/inboxes/{inbox_id}/webhooks/{webhook_id}/headers", webhooks.update_headers),
    # polling subscriptions share the prefix: literals, so {webhook_id} never captures them
    R("GET", "/v0/webhooks/polling", webhooks.polling_not_emulated),
    R("POST", "/v0/webhooks/polling", webhooks.polling_not_emulated),
    R("GET", "/v0/webhooks/polling/{polling_id}", webhooks.polling_not_emulated),
    R("DELETE", "/v0/webhooks/polling/{polling_id}", webhooks.polling_not_emulated),
    R("GET", "/v0/pods/{pod_id}/webhooks/polling", webhooks.polling_not_emulated),
    R("POST", "/v0/pods/{pod_id}/webhooks/polling", webhooks.polling_not_emulated),
    R("GET", "/v0/pods/{pod_id}/webhooks/polling/{polling_id}", webhooks.polling_not_emulated),
    R("DELETE", "/v0/pods/{pod_id}/webhooks/polling/{polling_id}", webhooks.polling_not_emulated),
    R("GET", "/v0/inboxes/{inbox_id}/webhooks/polling", webhooks.polling_not_emulated),
    R("POST", "/v0/inboxes/{inbox_id}/webhooks/polling", webhooks.polling_not_emulated),
    R("GET", "/v0/inboxes/{inbox_id}/webhooks/polling/{polling_id}", webhooks.polling_not_emulated),
    R("DELETE", "/v0/inboxes/{inbox_id}/webhooks/polling/{polling_id}", webhooks.polling_not_emulated),
    # --- allow / block lists (§7.6) ---------------------------------------------------------
    R("GET", "/v0/lists/{direction}/{type}", lists.list_entries),
    R("POST", "/v0/lists/{direction}/{type}", lists.create_entry),
    R("GET", "/v0/lists/{direction}/{type}/{entry}", lists.get_entry),
    R("DELETE", "/v0/lists/{direction}/{type}/{entry}", lists.delete_entry),
    R("GET", "/v0/pods/{pod_id}/lists/{direction}/{type}", lists.list_entries),
    R("POST", "/v0/pods/{pod_id}/lists/{direction}/{type}", lists.create_entry),
    R("GET", "/v0/pods/{pod_id}/lists/{direction}/{type}/{entry}", lists.get_entry),
    R("DELETE", "/v0/pods/{pod_id}/lists/{direction}/{type}/{entry}", lists.delete_entry),
    R("GET", "/v0/inboxes/{inbox_id}/lists/{direction}/{type}", lists.list_entries),
    R("POST", "/v0/inboxes/{inbox_id}/lists/{direction}/{type}", lists.create_entry),
    R("GET", "/v0/inboxes/{inbox_id}/lists/{direction}/{type}/{entry}", lists.get_entry),
    R("DELETE", "/v0/inboxes/{inbox_id}/lists/{direction}/{type}/{entry}", lists.delete_entry),
    # --- messages (inbox) -------------------------------------------------------------------
    R("GET", "/v0/inboxes/{inbox_id}/messages", messages.list_messages),
    R("POST", "/v0/inboxes/{inbox_id}/messages/send", idempotent(messages.send_message)),
    R("GET", "/v0/inboxes/{inbox_id}/messages/{message_id}", messages.get_message),
    R("PATCH", "/v0/inboxes/{inbox_id}/messages/{message_id}", messages.update_message),
    R("DELETE", "/v0/inboxes/{inbox_id}/messages/{message_id}", messages.delete_message),
    R("POST", "/v0/inboxes/{inbox_id}/messages/{message_id}/reply", idempotent(messages.reply_message)),
    R("POST", "/v0/inboxes/{inbox_id}/messages/{message_id}/reply-all", idempotent(messages.reply_all_message)),
    R("POST", "/v0/inboxes/{inbox_id}/messages/{message_id}/forward", idempotent(messages.forward_message)),
    # --- threads (inbox, pod, org) ------------------------------------------------------------
    R("GET", "/v0/inboxes/{inbox_id}/threads", threads.list_threads),
    R("GET", "/v0/inboxes/{inbox_id}/threads/{thread_id}", threads.get_thread),
    R("PATCH", "/v0/inboxes/{inbox_id}/threads/{thread_id}", threads.update_thread),
    R("DELETE", "/v0/inboxes/{inbox_id}/threads/{thread_id}", threads.delete_thread),
    R("GET", "/v0/pods/{pod_id}/threads", threads.list_threads),
    R("GET", "/v0/pods/{pod_id}/threads/{thread_id}", threads.get_thread),
    R("PATCH", "/v0/pods/{pod_id}/threads/{thread_id}", threads.update_thread),
    R("DELETE", "/v0/pods/{pod_id}/threads/{thread_id}", threads.delete_thread),
    R("GET", "/v0/threads", threads.list_threads),
    R("GET", "/v0/threads/{thread_id}", threads.get_thread),
    R("PATCH", "/v0/threads/{thread_id}", threads.update_thread),
    R("DELETE", "/v0/threads/{thread_id}", threads.delete_thread),
    # --- drafts (inbox; list/get also at pod and org) -------------------------------------------
    R("GET", "/v0/inboxes/{inbox_id}/drafts", drafts.list_drafts),
    R("POST", "/v0/inboxes/{inbox_id}/drafts", drafts.create_draft),
    R("GET", "/v0/inboxes/{inbox_id}/drafts/{draft_id}", drafts.get_draft),
    R("PATCH", "/v0/inboxes/{inbox_id}/drafts/{draft_id}", drafts.update_draft),
    R("DELETE", "/v0/inboxes/{inbox_id}/drafts/{draft_id}", drafts.delete_draft),
    R("POST", "/v0/inboxes/{inbox_id}/drafts/{draft_id}/send", idempotent(drafts.send_draft)),
    R("GET", "/v0/pods/{pod_id}/drafts", drafts.list_drafts),
    R("GET", "/v0/pods/{pod_id}/drafts/{draft_id}", drafts.get_draft),
    R("GET", "/v0/drafts", drafts.list_drafts),
    R("GET", "/v0/drafts/{draft_id}", drafts.get_draft),
    # --- SDK routes not emulated (README "What it does not emulate"): a 404 that says so -------
    # literals, so {message_id}/{thread_id} never capture search or batch-get
    R("GET", "/v0/inboxes/{inbox_id}/messages/search", unemulated.SEARCH),
    R("POST", "/v0/inboxes/{inbox_id}/messages/batch-get", unemulated.SEARCH),
    R("POST", "/v0/inboxes/{inbox_id}/messages/batch-update", unemulated.SEARCH),
    R("GET", "/v0/inboxes/{inbox_id}/threads/search", unemulated.SEARCH),
    R("GET", "/v0/pods/{pod_id}/threads/search", unemulated.SEARCH),
    R("GET", "/v0/threads/search", unemulated.SEARCH),
    R("GET", "/v0/inboxes/{inbox_id}/messages/{message_id}/raw", unemulated.RAW),
    R("GET", "/v0/inboxes/{inbox_id}/messages/{message_id}/attachments/{attachment_id}", unemulated.ATTACHMENTS),
    R("GET", "/v0/inboxes/{inbox_id}/threads/{thread_id}/attachments/{attachment_id}", unemulated.ATTACHMENTS),
    R("GET", "/v0/pods/{pod_id}/threads/{thread_id}/attachments/{attachment_id}", unemulated.ATTACHMENTS),
    R("GET", "/v0/threads/{thread_id}/attachments/{attachment_id}", unemulated.ATTACHMENTS),
    R("GET", "/v0/inboxes/{inbox_id}/drafts/{draft_id}/attachments/{attachment_id}", unemulated.ATTACHMENTS),
    R("GET", "/v0/pods/{pod_id}/drafts/{draft_id}/attachments/{attachment_id}", unemulated.ATTACHMENTS),
    R("GET", "/v0/drafts/{draft_id}/attachments/{attachment_id}", unemulated.ATTACHMENTS),
    R("POST", "/v0/inboxes/{inbox_id}/messages/{message_id}/agent-armor/feedback", unemulated.AGENT_ARMOR),
    R("POST", "/v0/inboxes/{inbox_id}/messages/{message_id}/agent-armor/release", unemulated.AGENT_ARMOR),
    R("POST", "/v0/agent/sign-up", unemulated.AGENT_ID),
    R("POST", "/v0/agent/human", unemulated.AGENT_ID),
    R("POST", "/v0/agent/verify", unemulated.AGENT_ID),
    R("POST", "/v0/inboxes/{inbox_id}/authorize", unemulated.AGENT_ID),
    R("GET", "/v0/inboxes/{inbox_id}/events", unemulated.INBOX_EVENTS),
    R("GET", "/v0/organizations/labs", unemulated.LABS),
    R("POST", "/v0/organizations/labs", unemulated.LABS),
    *(
        R("GET", f"{scope}/metrics/{name}", unemulated.METRICS)
        for scope in ("/v0", "/v0/pods/{pod_id}", "/v0/inboxes/{inbox_id}")
        for name in ("events", "rates", "usage")
    ),
    R("GET", "/v0/inboxes/{inbox_id}/calendar", unemulated.CALENDARS),
    R("PATCH", "/v0/inboxes/{inbox_id}/calendar", unemulated.CALENDARS),
    R("GET", "/v0/inboxes/{inbox_id}/calendar/agenda", unemulated.CALENDARS),
    R("GET", "/v0/inboxes/{inbox_id}/calendar/events", unemulated.CALENDARS),
    R("POST", "/v0/inboxes/{inbox_id}/calendar/events", unemulated.CALENDARS),
    R("GET", "/v0/inboxes/{inbox_id}/calendar/events/{event_id}", unemulated.CALENDARS),
    R("PATCH", "/v0/inboxes/{inbox_id}/calendar/events/{event_id}", unemulated.CALENDARS),
    R("DELETE", "/v0/inboxes/{inbox_id}/calendar/events/{event_id}", unemulated.CALENDARS),
    R("GET", "/v0/inboxes/{inbox_id}/calendar/events/{event_id}/instances", unemulated.CALENDARS),
    R("POST", "/v0/inboxes/{inbox_id}/calendar/events/{event_id}/respond", unemulated.CALENDARS),
    R("GET", "/v0/inboxes/{inbox_id}/files", unemulated.FILES),
    R("POST", "/v0/inboxes/{inbox_id}/files", unemulated.FILES),
    R("GET", "/v0/inboxes/{inbox_id}/files/{file_id}", unemulated.FILES),
    R("DELETE", "/v0/inboxes/{inbox_id}/files/{file_id}", unemulated.FILES),
    R("POST", "/v0/inboxes/{inbox_id}/files/{file_id}/complete", unemulated.FILES),
    R("GET", "/v0/apps", unemulated.APPS),
    R("GET", "/v0/apps/search", unemulated.APPS),
    R("GET", "/v0/apps/{app_id}", unemulated.APPS),
    R("GET", "/v0/apps/{app_id}/accounts", unemulated.APPS),
    R("POST", "/v0/apps/{app_id}/connect", unemulated.APPS),
    R("GET", "/v0/accounts", unemulated.APPS),
    R("GET", "/v0/accounts/{account_id}", unemulated.APPS),
    R("PATCH", "/v0/accounts/{account_id}/update", unemulated.APPS),
    R("GET", "/v0/pods/{pod_id}/accounts", unemulated.APPS),
    R("GET", "/v0/pods/{pod_id}/accounts/{account_id}", unemulated.APPS),
    R("GET", "/v0/inboxes/{inbox_id}/accounts", unemulated.APPS),
    R("GET", "/v0/inboxes/{inbox_id}/accounts/{account_id}", unemulated.APPS),
    # <<< S2 routes <<<
]
