"""mailctl reads the organisation whole (plan, drift, apply): a key scoped to a pod or an inbox is
listed only what it can see (agentmail-api.md §3.1), so everything else read as absent: drift
reported existing tenants missing (exit 2), plan planned to create them. Such a key is refused,
naming its scope, before anything is read or changed."""

from __future__ import annotations

from typing import Any

import pytest
from agentmail.api_keys import CreateBearerApiKeyRequest

from mailctl import Project
from mailctl.errors import UsageError

CONFIG = {
    "version": 1,
    "manage": {"pods": {"client_id_prefix": "tenant-"}},
    "pods": {
        "tenant-a": {"name": "A", "inboxes": {"a1@agentmail.to": {}}},
        "tenant-b": {"name": "B", "inboxes": {"b1@agentmail.to": {}}},
    },
}


@pytest.fixture
def scoped_keys(mailctl: Any, sandbox: Any, write_config: Any) -> dict[str, str]:
    mailctl.apply(write_config(CONFIG))
    sdk = sandbox.sdk()
    pod = next(p.pod_id for p in sdk.pods.list().pods if p.client_id == "tenant-a")
    request = CreateBearerApiKeyRequest(name="monitor")
    return {
        "pod": str(sdk.pods.api_keys.create(pod, request=request).api_key),
        "inbox": str(sdk.inboxes.api_keys.create("a1@agentmail.to", request=request).api_key),
    }


@pytest.mark.parametrize("scope", ["pod", "inbox"])
@pytest.mark.parametrize("command", ["plan", "drift", "apply"])
def test_a_key_scoped_below_the_organisation_is_refused_naming_its_scope(
    mailctl: Any, write_config: Any, scoped_keys: dict[str, str], scope: str, command: str
):
    extra = ["--auto-approve"] if command == "apply" else []
    run = mailctl(command, "-f", write_config(CONFIG), *extra, key=scoped_keys[scope])
    assert run.exit_code == 1, run.output
    assert f"the API key is scoped to {scope}" in run.stderr
    assert "organisation" in run.stderr and "missing" not in run.stdout.lower()


def test_the_python_api_refuses_it_too(sandbox: Any, scoped_keys: dict[str, str]):
    project = Project(config=CONFIG, endpoint=sandbox.url, api_key=scoped_keys["pod"])
    with pytest.raises(UsageError, match="the API key is scoped to pod"):
        project.drift()
