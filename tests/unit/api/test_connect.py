"""connect(): sandbox, endpoint and key resolution, and the clear error when there is no key."""

from __future__ import annotations

import pytest

from mailctl.api.client import API_BASE_DEFAULT, quote_segment
from mailctl.api.connect import NO_KEY_MESSAGE, connect
from mailctl.errors import NotFound, UsageError

ENV = {"AGENTMAIL_BASE_URL": "http://env-host:8025/am", "AGENTMAIL_API_KEY": "am_env_key_0000"}


def test_no_key_and_no_sandbox_is_a_usage_error_not_a_fallback():
    with pytest.raises(UsageError) as caught:
        connect(None, None, None, env={})
    assert str(caught.value) == NO_KEY_MESSAGE
    assert "AGENTMAIL_API_KEY" in str(caught.value) and "--sandbox PATH" in str(caught.value)


def test_blank_key_counts_as_no_key():
    with pytest.raises(UsageError, match="no API key"):
        connect(None, None, "  ", env={})


def test_default_endpoint_with_key_from_env():
    with connect(None, None, None, env={"AGENTMAIL_API_KEY": "am_k"}) as client:
        assert client.base_url == API_BASE_DEFAULT


def test_env_endpoint_and_key_are_used():
    with connect(None, None, None, env=ENV) as client:
        assert client.base_url == ENV["AGENTMAIL_BASE_URL"]
        assert client._headers["Authorization"] == "Bearer am_env_key_0000"


def test_arguments_override_the_environment():
    with connect("http://arg-host", None, "am_arg_key", env=ENV, max_retries=0) as client:
        assert client.base_url == "http://arg-host"
        assert client._headers["Authorization"] == "Bearer am_arg_key"


def test_bad_endpoint_is_reported():
    with pytest.raises(UsageError, match="invalid AgentMail endpoint 'localhost:8025'"):
        connect("localhost:8025", None, "am_k", env={})


def test_endpoint_and_sandbox_together_are_refused(tmp_path):
    with pytest.raises(UsageError, match="not both"):
        connect("http://h", str(tmp_path / "s.db"), None, env={})


def test_sandbox_without_a_path_is_refused():
    with pytest.raises(UsageError, match="database path"):
        connect(None, " ", None, env={})


@pytest.fixture
def sandbox_available():
    pytest.importorskip("mailctl.sandbox.app", reason="the sandbox app is not built yet")


@pytest.mark.usefixtures("sandbox_available")
def test_sandbox_runs_in_process_and_persists_to_its_file(tmp_path):
    db = str(tmp_path / "sandbox.db")
    with connect(None, db, None, env=ENV) as client:  # env key/endpoint are not used
        pod = client.post("/v0/pods", json={"name": "p1", "client_id": "c-p1"}, idempotent=True)
        assert client.get(f"/v0/pods/{quote_segment(pod['pod_id'])}")["name"] == "p1"
    with connect(None, db, None, env={}) as client:
        assert [p["name"] for p in client.list_all("/v0/pods", "pods")].count("p1") == 1
        with pytest.raises(NotFound):
            client.get("/v0/pods/does-not-exist")


@pytest.mark.usefixtures("sandbox_available")
def test_unopenable_sandbox_database_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="cannot open sandbox database"):
        connect(None, str(tmp_path / "missing-dir" / "s.db"), None, env={})


@pytest.mark.parametrize(
    "endpoint", ["https://api.example.test/v0", "https://api.example.test/v0/", "http://h:8025/V0"]
)
def test_an_endpoint_ending_in_v0_is_refused_with_the_root_to_use(endpoint):
    with pytest.raises(UsageError) as caught:
        connect(endpoint, None, "am_k", env={})
    message = str(caught.value)
    assert message.startswith(f"--endpoint {endpoint}: the endpoint is the API root without /v0")
    assert message.endswith("use " + endpoint.rstrip("/")[:-3])


def test_the_v0_hint_names_the_environment_variable_when_the_endpoint_came_from_there():
    with pytest.raises(UsageError, match="^AGENTMAIL_BASE_URL http://h/v0: the endpoint is the API root"):
        connect(None, None, "am_k", env={"AGENTMAIL_BASE_URL": "http://h/v0"})


def test_a_prefix_that_merely_contains_v0_is_fine():
    with connect("http://h/v0proxy", None, "am_k", env={}) as client:
        assert client.base_url == "http://h/v0proxy"


def test_the_timeout_reaches_the_client(tmp_path):
    with connect("http://h", None, "am_k", env={}, timeout=7) as client:
        assert client.timeout == 7.0
    with connect(None, str(tmp_path / "s.db"), None, env={}, timeout=3) as client:
        assert client.timeout == 3.0
