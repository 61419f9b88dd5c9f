"""A second sandbox organization (POST /_sandbox/organizations): nothing crosses the org
boundary, taken names answer 403 resource_taken (spec §3.1, §11 Q2, Q3, Q5)."""

from __future__ import annotations

import pytest
from agentmail import AgentMail
from agentmail.errors import NotFoundError
from agentmail.inboxes import CreateInboxRequest
from contract_harness import Sandbox, raises_api_error


@pytest.fixture
def other_org(sandbox: Sandbox) -> AgentMail:
    return sandbox.sdk(sandbox.new_organization())


def test_other_orgs_resources_are_invisible(sandbox: Sandbox, other_org: AgentMail) -> None:
    pod = sandbox.client.pods.create(name="ours")
    inbox = sandbox.client.pods.inboxes.create(pod.pod_id, username="ours")
    hook = sandbox.client.webhooks.create(url="https://h.example/o", event_types=["message.received"])
    assert pod.pod_id not in [p.pod_id for p in other_org.pods.list().pods]
    assert other_org.inboxes.list().inboxes == [] and other_org.webhooks.list().webhooks == []
    with raises_api_error(404, "not_found", NotFoundError):
        other_org.pods.get(pod.pod_id)
    with raises_api_error(404, "not_found", NotFoundError):
        other_org.inboxes.get(inbox.inbox_id)
    with raises_api_error(404, "not_found", NotFoundError):
        other_org.webhooks.delete(hook.webhook_id)
    assert other_org.auth.me().organization_id != sandbox.client.auth.me().organization_id


def test_a_domain_of_another_org_is_resource_taken(sandbox: Sandbox, other_org: AgentMail) -> None:
    sandbox.client.domains.create(domain="claimed.example")
    with raises_api_error(403, "resource_taken"):
        other_org.domains.create(domain="claimed.example")


def test_an_address_of_another_org_is_resource_taken(sandbox: Sandbox, other_org: AgentMail) -> None:
    sandbox.client.inboxes.create(request=CreateInboxRequest(username="popular"))
    with raises_api_error(403, "resource_taken"):
        other_org.inboxes.create(request=CreateInboxRequest(username="popular"))


def test_client_ids_are_per_org(sandbox: Sandbox, other_org: AgentMail) -> None:
    ours = sandbox.client.pods.create(name="ours", client_id="tenant-pod")
    theirs = other_org.pods.create(name="theirs", client_id="tenant-pod")
    assert theirs.pod_id != ours.pod_id and theirs.name == "theirs"


def test_two_orgs_hold_the_same_org_list_entry_each_their_own(sandbox: Sandbox, other_org: AgentMail) -> None:
    ours = sandbox.client.lists.create("send", "block", entry="shared@example.com", reason="ours")
    theirs = other_org.lists.create("send", "block", entry="shared@example.com", reason="theirs")
    assert (ours.reason, theirs.reason) == ("ours", "theirs")
    assert ours.organization_id != theirs.organization_id
    other_org.lists.delete("send", "block", "shared@example.com")
    assert sandbox.client.lists.get("send", "block", "shared@example.com").reason == "ours"


def test_a_send_to_an_address_another_org_blocked_is_not_an_error(sandbox: Sandbox, other_org: AgentMail) -> None:
    other_org.lists.create("send", "block", entry="nobody-here@agentmail.to")
    sender = sandbox.client.inboxes.create(request=CreateInboxRequest(username="bouncer"))
    sandbox.client.inboxes.messages.send(sender.inbox_id, to="nobody-here@agentmail.to", text="hi")
    # the bounce suppresses the address in our organisation only
    assert sandbox.client.lists.get("send", "block", "nobody-here@agentmail.to").read_only is True
    assert other_org.lists.get("send", "block", "nobody-here@agentmail.to").read_only is None
