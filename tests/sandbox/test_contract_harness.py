"""The contract harness itself: what one test leaves behind on the shared sandbox server."""

from __future__ import annotations

from agentmail.inboxes.types import CreateInboxRequest
from contract_harness import Sandbox


def test_restore_wipes_the_organizations_a_test_created(sandbox: Sandbox) -> None:
    """Addresses are unique across organizations, and the HTTP server lives for the session: an
    inbox another organization kept would make a later test's create of that address 403."""
    other = sandbox.sdk(sandbox.new_organization())
    other.inboxes.create(request=CreateInboxRequest(username="left-behind"))
    sandbox.restore()
    sandbox.reset()
    created = sandbox.client.inboxes.create(request=CreateInboxRequest(username="left-behind"))
    assert created.inbox_id == "left-behind@agentmail.to"
