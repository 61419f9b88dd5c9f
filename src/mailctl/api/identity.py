"""Who the run's API key is (``GET /v0/auth/me``), asked once per client.

mailctl reads an organisation whole (plan, drift, apply, export): a key scoped to a pod or an
inbox is listed only what it can see (agentmail-api.md §3.1), so everything else would read as
absent: drift would report existing tenants missing, plan would create them again. Such a key is
refused before anything is read, naming its scope. The same answer names the key itself, whose
permissions the data-loss rail reads (``StateReader.mail_unseen``).
"""

from __future__ import annotations

import threading
from weakref import WeakKeyDictionary

from mailctl.api.client import AgentMailClient
from mailctl.api.responses import ApiObject
from mailctl.errors import ApiError, UsageError

ORGANISATION = "organization"  # scope_type, as the API spells it
_NO_SUCH_ROUTE = (404, 405, 501)
_asked: WeakKeyDictionary[AgentMailClient, ApiObject | None] = WeakKeyDictionary()
_lock = threading.Lock()


def identity(client: AgentMailClient) -> ApiObject | None:
    """The key's identity (scope_type, scope_id, api_key_id...); None from a server without the
    route (404, 405, 501), whose scope is then taken on trust."""
    with _lock:
        if client in _asked:
            return _asked[client]
    try:
        found: ApiObject | None = client.get("/v0/auth/me")
    except ApiError as exc:
        if exc.status not in _NO_SUCH_ROUTE:
            raise
        found = None  # a server without the route (an older API, a stand-in): the scope is unknown
    with _lock:
        _asked[client] = found
    return found


def require_organisation_key(client: AgentMailClient) -> None:
    """Refuse (UsageError) a key scoped below the organisation."""
    me = identity(client)
    if me is None or me.get("scope_type") in (None, ORGANISATION):
        return
    scope, where = me.get("scope_type"), me.get("scope_id")
    raise UsageError(
        f"the API key is scoped to {scope} {where or ''}".rstrip()
        + ": mailctl reads the organisation whole (what a narrower key cannot see would read as "
        "missing), so use an organisation-level key (its permissions may still be narrowed)"
    )
