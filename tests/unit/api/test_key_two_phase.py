"""API keys are made in two phases (pending name -> secret recorded -> declared name), so a key
under its declared name always has its secret in the sink; leftovers show in the next plan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mailctl.api.client import AgentMailClient
from mailctl.api.reader import StateReader
from mailctl.api.writer import ApiWriter, IdRegistry
from mailctl.errors import MailctlError
from mailctl.plan.changes import DELETE, REPLACE
from mailctl.plan.planner import SECRET_NEVER_RECORDED, plan
from mailctl.resources import API_KEY, POD, DesiredState, Resource
from mailctl.sandbox import create_app
from mailctl.secrets import SecretSink, pending_name

KEY = "am_two_phase_test_org_key_0123456789"
ORG_KEY = Resource(API_KEY, "api_key/backend", {})


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    app = create_app(api_keys=(KEY,))
    with httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers={"Authorization": f"Bearer {KEY}"}
    ) as client:
        yield client


@pytest.fixture
def client(http: httpx.Client) -> Iterator[AgentMailClient]:
    transport = http._transport  # the same in-process sandbox
    with AgentMailClient("http://sandbox", KEY, transport=transport, sleep=lambda s: None) as api:
        yield api


def _key_names(http: httpx.Client) -> list[str]:
    rows = http.get("/v0/api-keys").json()["api_keys"]
    return sorted(r["name"] for r in rows if r["name"] != "sandbox bootstrap key")


def _arm(http: httpx.Client, method: str, route: str, status: int, when: str, times: int = 1) -> None:
    body = {"method": method, "route": route, "status": status, "code": "injected", "when": when, "times": times}
    assert http.post("/_sandbox/faults", json=body).status_code == 200


class _WatchingSink(SecretSink):
    """Records what the API held at the instant the secret was being recorded."""

    def __init__(self, path: Any, http: httpx.Client):
        super().__init__(path)
        self.http = http
        self.names_while_storing: list[list[str]] = []

    def store(self, address: str, response: dict[str, Any]) -> None:
        self.names_while_storing.append(_key_names(self.http))
        super().store(address, response)


def test_a_key_takes_its_declared_name_only_after_its_secret_is_recorded(client, http, tmp_path):
    sink = _WatchingSink(tmp_path / "s.json", http)
    ApiWriter(client, IdRegistry({}), sink).create(ORG_KEY)
    assert sink.names_while_storing == [[pending_name("backend")]]
    assert _key_names(http) == ["backend"]
    [record] = json.loads((tmp_path / "s.json").read_text())
    assert record["address"] == "api_key/backend" and record["secret"].startswith(record["prefix"])


def test_a_failing_sink_write_deletes_the_created_key_before_reporting(client, http, tmp_path):
    class FullSink(SecretSink):
        def store(self, address: str, response: dict[str, Any]) -> None:
            raise MailctlError(f"--secrets-out {self.path}: could not record the secret of {address}")

    with pytest.raises(MailctlError, match="could not record the secret of api_key/backend"):
        ApiWriter(client, IdRegistry({}), FullSink(tmp_path / "s.json")).create(ORG_KEY)
    assert _key_names(http) == []


def test_a_sink_that_fails_at_the_os_level_also_leaves_no_key(client, http, tmp_path, monkeypatch):
    sink = SecretSink(tmp_path / "s.json")
    monkeypatch.setattr("os.pwrite", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(MailctlError, match="No space left on device"):
        ApiWriter(client, IdRegistry({}), sink).create(ORG_KEY)
    assert _key_names(http) == []


def test_a_create_that_commits_but_answers_500_leaves_exactly_one_key(client, http, tmp_path):
    _arm(http, "POST", "/v0/api-keys", 500, "after")
    ApiWriter(client, IdRegistry({}), SecretSink(tmp_path / "s.json")).create(ORG_KEY)
    assert _key_names(http) == ["backend"]
    assert len(json.loads((tmp_path / "s.json").read_text())) == 1


def test_a_create_that_commits_but_fails_every_attempt_leaves_no_named_key(client, http, tmp_path):
    _arm(http, "POST", "/v0/api-keys", 500, "after", times=3)
    with pytest.raises(MailctlError):
        ApiWriter(client, IdRegistry({}), SecretSink(tmp_path / "s.json")).create(ORG_KEY)
    assert _key_names(http) == []  # each lost attempt's key was deleted


def test_a_rename_that_never_succeeds_deletes_the_key(client, http, tmp_path):
    _arm(http, "PATCH", "/v0/api-keys/{api_key_id}", 503, "before", times=50)
    with pytest.raises(MailctlError, match="could not be given its name"):
        ApiWriter(client, IdRegistry({}), SecretSink(tmp_path / "s.json")).create(ORG_KEY)
    assert _key_names(http) == []


def test_pod_and_inbox_keys_are_renamed_on_their_own_routes(client, http, tmp_path):
    pod_id = http.post("/v0/pods", json={"name": "A", "client_id": "tenant-a"}).json()["pod_id"]
    http.post(f"/v0/pods/{pod_id}/inboxes", json={"username": "bot", "client_id": "bot"})
    ids = IdRegistry({"pod/tenant-a": pod_id})
    writer = ApiWriter(client, ids, SecretSink(tmp_path / "s.json"))
    writer.create(Resource(API_KEY, "pod/tenant-a/api_key/backend", {}, parent="pod/tenant-a"))
    inbox = "pod/tenant-a/inbox/bot@agentmail.to"
    writer.create(Resource(API_KEY, f"{inbox}/api_key/agent", {}, parent=inbox))
    assert _key_names(http) == ["agent", "backend"]


def test_cleanup_after_an_ambiguous_create_spares_pending_keys_of_other_scopes(client, http, tmp_path):
    """A lost create is cleaned up by deleting *its* pending key: a same-named pending key of
    another scope (another run's, in a pod) is not this run's to delete."""
    pod_id = http.post("/v0/pods", json={"name": "A", "client_id": "tenant-a"}).json()["pod_id"]
    other = http.post(f"/v0/pods/{pod_id}/api-keys", json={"name": pending_name("backend")}).json()["api_key_id"]
    _arm(http, "POST", "/v0/api-keys", 500, "after")
    ApiWriter(client, IdRegistry({"pod/tenant-a": pod_id}), SecretSink(tmp_path / "s.json")).create(ORG_KEY)
    rows = http.get("/v0/api-keys").json()["api_keys"]
    assert other in {r["api_key_id"] for r in rows}  # the pod's pending key is still there
    assert sorted(r["name"] for r in rows if r["name"] != "sandbox bootstrap key") == [
        "backend",
        pending_name("backend"),
    ]


# -- what the next plan makes of leftovers -------------------------------------------------------


def _plan(client: AgentMailClient, *keys: Resource) -> dict[str, Any]:
    desired = DesiredState()
    for key in keys:
        desired.add(key)
    result = plan(desired, StateReader(client).read(desired))
    return {c.address: c for c in result.changes}


def _leave_pending(http: httpx.Client, name: str, path: str = "/v0/api-keys") -> str:
    key_id: str = http.post(path, json={"name": pending_name(name)}).json()["api_key_id"]
    return key_id


def test_a_pending_key_is_replaced_because_its_secret_was_never_recorded(client, http):
    key_id = _leave_pending(http, "backend")
    changes = _plan(client, ORG_KEY)
    change = changes["api_key/backend"]
    assert (change.action, change.reason) == (REPLACE, SECRET_NEVER_RECORDED)
    assert change.actual is not None and change.actual.remote_id == key_id
    assert len(changes) == 1


def test_extra_pending_keys_of_one_address_are_deleted(client, http):
    both = {_leave_pending(http, "backend"), _leave_pending(http, "backend")}
    changes = _plan(client, ORG_KEY)
    replaced = changes["api_key/backend"]
    assert replaced.action == REPLACE and replaced.actual is not None
    [other] = both - {replaced.actual.remote_id}
    leftover = changes[f"api_key/backend#{other}"]
    assert (leftover.action, leftover.reason) == (DELETE, SECRET_NEVER_RECORDED)


def test_a_pending_key_next_to_a_real_one_is_deleted_and_the_real_one_kept(client, http):
    http.post("/v0/api-keys", json={"name": "backend"})
    pending = _leave_pending(http, "backend")
    changes = _plan(client, ORG_KEY)
    assert list(changes) == [f"api_key/backend#{pending}"]
    assert changes[f"api_key/backend#{pending}"].action == DELETE


def test_a_pending_key_in_a_managed_pod_is_replaced_too(client, http):
    pod_id = http.post("/v0/pods", json={"name": "A", "client_id": "tenant-a"}).json()["pod_id"]
    _leave_pending(http, "backend", f"/v0/pods/{pod_id}/api-keys")
    pod = Resource(POD, "pod/tenant-a", {"name": "A"})
    key = Resource(API_KEY, "pod/tenant-a/api_key/backend", {}, parent="pod/tenant-a")
    change = _plan(client, pod, key)["pod/tenant-a/api_key/backend"]
    assert (change.action, change.reason) == (REPLACE, SECRET_NEVER_RECORDED)


def test_mid_rotation_the_older_key_is_still_superseded_and_left_alone(client, http):
    http.post("/v0/api-keys", json={"name": "backend"})
    http.post("/v0/api-keys", json={"name": "backend"})
    desired = DesiredState()
    desired.add(ORG_KEY)
    result = plan(desired, StateReader(client).read(desired))
    assert result.changes == []
    assert len([a for a in result.unmanaged if a.startswith("api_key/backend#")]) == 1
