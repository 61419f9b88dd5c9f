"""Knobs and the control API: fault injection, rate limiting, latency, config, reset, stats."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import pytest

from mailctl.sandbox.app import DEV_API_KEY, SandboxApp, create_app
from mailctl.sandbox.knobs import RateLimiter

KEY = "am_unit_test_key_0123456789"


def _client(app: SandboxApp, key: str = KEY) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers={"Authorization": f"Bearer {key}"}
    )


def _pod_names(client: httpx.Client) -> set[str]:
    return {p["name"] for p in client.get("/v0/pods").json()["pods"]}


def test_after_fault_commits_the_write_then_fails_the_response() -> None:
    client = _client(create_app(api_keys=(KEY,), fault_rate=1.0, fault_mode="after"))
    response = client.post("/v0/pods", json={"name": "ghost", "client_id": "ghost"})
    assert (response.status_code, response.json()["code"]) == (500, "internal_error")
    assert "ghost" in _pod_names(client)  # reads are never faulted
    # the retry a client would make is answered from client_id: the original, not a duplicate
    client.patch("/_sandbox/config", json={"fault_rate": 0})
    assert client.post("/v0/pods", json={"name": "ghost", "client_id": "ghost"}).status_code == 200
    assert sum(p["name"] == "ghost" for p in client.get("/v0/pods").json()["pods"]) == 1


def test_before_fault_fails_without_writing() -> None:
    client = _client(create_app(api_keys=(KEY,), fault_rate=1.0, fault_mode="before"))
    response = client.post("/v0/pods", json={"name": "never"})
    assert (response.status_code, response.json()["code"]) == (503, "service_unavailable")
    assert "never" not in _pod_names(client)


def test_fault_sequence_is_reproducible_for_a_seed() -> None:
    def statuses(seed: int) -> list[int]:
        client = _client(create_app(api_keys=(KEY,), fault_rate=0.5, seed=seed))
        return [client.post("/v0/pods", json={}).status_code for _ in range(30)]

    first = statuses(7)
    assert first == statuses(7)
    assert {200, 500, 503} <= set(first)  # "both" mode: both kinds of fault, and successes


def test_stats_count_requests_by_route_pattern_and_faults() -> None:
    app = create_app(api_keys=(KEY,), fault_rate=1.0, fault_mode="before")
    client = _client(app)
    client.get("/v0/pods")
    client.post("/v0/pods", json={})
    client.get("/v0/inboxes/someone@agentmail.to")
    stats = client.get("/_sandbox/stats").json()
    assert stats["by_route"]["GET /v0/pods"] == 1
    assert stats["by_route"]["GET /v0/inboxes/{inbox_id}"] == 1
    assert stats["faults"]["before"] == 1 and stats["by_status"]["503"] == 1
    assert stats["total"] == 3 and stats["by_method"] == {"GET": 2, "POST": 1}


def test_rate_limit_answers_429_with_integer_retry_after() -> None:
    client = _client(create_app(api_keys=(KEY,), rate_limit=1))
    first, second = client.get("/v0/pods"), client.get("/v0/pods")
    assert first.status_code == 200
    assert (second.status_code, second.json()["code"]) == (429, "rate_limit_exceeded")
    assert int(second.headers["retry-after"]) >= 1
    assert client.get("/_sandbox/config").status_code == 200  # the control API is never throttled


def test_token_bucket_refills_over_time() -> None:
    limiter = RateLimiter()
    assert limiter.acquire("k", 50) is None
    drained = [limiter.acquire("k", 50) for _ in range(100)]
    assert any(d is not None for d in drained)
    time.sleep(0.1)
    assert limiter.acquire("k", 50) is None
    assert limiter.acquire("other", 50) is None  # buckets are per key


def test_latency_is_added_per_api_request() -> None:
    client = _client(create_app(api_keys=(KEY,), latency_ms=120))
    started = time.monotonic()
    client.get("/v0/pods")
    assert time.monotonic() - started >= 0.12


def test_config_patch_validates_and_applies() -> None:
    client = _client(create_app(api_keys=(KEY,)))
    assert client.patch("/_sandbox/config", json={"page_size": 2}).json()["page_size"] == 2
    for _ in range(3):
        client.post("/v0/pods", json={})
    assert client.get("/v0/pods").json()["count"] == 2
    for bad in ({"page_size": 0}, {"fault_rate": 2}, {"fault_mode": "sometimes"}, {"nope": 1}, {"latency_ms": True}):
        assert client.patch("/_sandbox/config", json=bad).status_code == 400


def test_reset_wipes_resources_but_keeps_bootstrap_keys() -> None:
    client = _client(create_app(api_keys=(KEY,)))
    client.post("/v0/pods", json={"name": "temp"})
    client.post("/v0/inboxes", json={"username": "temp"})
    assert client.post("/_sandbox/reset").status_code == 200
    assert _pod_names(client) == {"Default Pod"}
    assert client.get("/v0/inboxes").json()["count"] == 0


def _status(app: SandboxApp, key: str) -> int:
    return _client(app, key).get("/v0/pods").status_code


def test_a_restart_with_other_keys_revokes_the_earlier_bootstrap_keys(tmp_path: Path) -> None:
    """A --db once served without --api-key kept accepting the well-known dev key after a restart
    with a private key, and /_sandbox/reset kept it: only this start's keys are bootstrap keys."""
    db = str(tmp_path / "sandbox.db")
    first = create_app(db)
    assert _status(first, DEV_API_KEY) == 200
    made = _client(first, DEV_API_KEY).post("/v0/api-keys", json={"name": "mine"}).json()["api_key"]
    other_org = _client(first, DEV_API_KEY).post("/_sandbox/organizations").json()["api_key"]
    first.close()
    second = create_app(db, api_keys=(KEY,))
    assert (_status(second, DEV_API_KEY), _status(second, KEY)) == (401, 200)
    assert _status(second, made) == 200  # a key made through the API is the user's: kept
    assert _status(second, other_org) == 200  # another organisation's bootstrap key is its own
    assert _client(second).post("/_sandbox/reset").status_code == 200
    assert (_status(second, DEV_API_KEY), _status(second, KEY), _status(second, made)) == (401, 200, 401)
    second.close()
    third = create_app(db, api_keys=(KEY, DEV_API_KEY))
    assert (_status(third, DEV_API_KEY), _status(third, KEY)) == (200, 200)


def test_control_api_needs_an_org_level_key() -> None:
    client = _client(create_app(api_keys=(KEY,)))
    pod = client.post("/v0/pods", json={}).json()["pod_id"]
    pod_key = client.post(f"/v0/pods/{pod}/api-keys", json={}).json()["api_key"]
    response = client.post("/_sandbox/reset", headers={"Authorization": f"Bearer {pod_key}"})
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_create_app_rejects_bad_knobs() -> None:
    with pytest.raises(ValueError):
        create_app(fault_rate=3)


def test_armed_fault_fires_the_given_times_then_disarms() -> None:
    client = _client(create_app(api_keys=(KEY,)))
    inbox = client.post("/v0/inboxes", json={"username": "racy"}).json()["inbox_id"]
    armed = client.post(
        "/_sandbox/faults",
        json={
            "method": "PATCH",
            "route": "/v0/inboxes/{inbox_id}",
            "status": 409,
            "code": "race_condition",
            "times": 2,
        },
    )
    assert armed.status_code == 200
    patch = lambda: client.patch(f"/v0/inboxes/{inbox}", json={"display_name": "x"})  # noqa: E731
    first, second, third = patch(), patch(), patch()
    assert [r.status_code for r in (first, second, third)] == [409, 409, 200]
    assert first.json()["code"] == "race_condition"


def test_arming_an_unknown_route_is_400() -> None:
    client = _client(create_app(api_keys=(KEY,)))
    response = client.post("/_sandbox/faults", json={"method": "GET", "route": "/v0/nope", "status": 500, "code": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("knob", ["rate_limit", "fault_rate"])
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_knob_that_is_no_finite_number_is_400_and_changes_nothing(knob: str, value: str) -> None:
    """Python's json reads NaN and Infinity, and every range check passes NaN (each comparison is
    False): a rate limit of NaN would answer every request 429. The body is refused as no JSON."""
    client = _client(create_app(api_keys=(KEY,)))
    before = client.get("/_sandbox/config").json()
    body = f'{{"{knob}": {value}}}'.encode()
    response = client.patch("/_sandbox/config", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert client.get("/_sandbox/config").json() == before
    assert client.get("/v0/pods").status_code == 200


@pytest.mark.parametrize("knob", ["rate_limit", "fault_rate"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_create_app_rejects_knobs_that_are_no_finite_number(knob: str, value: float) -> None:
    with pytest.raises(ValueError, match=knob):
        create_app(**{knob: value})


def test_a_rate_limit_too_large_for_a_float_is_400_and_the_api_keeps_answering() -> None:
    client = _client(create_app(api_keys=(KEY,)))
    body = b'{"rate_limit": 1' + b"0" * 400 + b"}"
    response = client.patch("/_sandbox/config", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "no float can hold" in response.json()["message"]
    assert client.get("/v0/pods").status_code == 200


def test_a_number_json_overflows_to_infinity_is_refused_not_stored() -> None:
    """1e400 is valid JSON text that Python reads as inf; stored, every later list would answer
    `Infinity`, which is no JSON."""
    client = _client(create_app(api_keys=(KEY,)))
    body = b'{"username": "big1", "domain": "agentmail.to", "metadata": {"n": 1e400}}'
    response = client.post("/v0/inboxes", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert client.get("/v0/inboxes").json()["count"] == 0


@pytest.mark.parametrize("seq", ["1e400", "-1e400", "1" + "0" * 29, "-1" + "0" * 29])
def test_a_forged_page_token_with_a_huge_number_is_400_not_500(seq: str) -> None:
    client = _client(create_app(api_keys=(KEY,)))
    for _ in range(3):
        client.post("/v0/pods", json={})
    token = client.get("/v0/pods", params={"limit": 1}).json()["next_page_token"]
    fields = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    forged_text = json.dumps({**fields, "s": 0}).replace('"s": 0', f'"s": {seq}')
    forged = base64.urlsafe_b64encode(forged_text.encode()).decode().rstrip("=")
    response = client.get("/v0/pods", params={"limit": 1, "page_token": forged})
    assert response.status_code == 400 and "page_token" in response.text


@pytest.mark.parametrize("whose", ["pod key", "restricted org key", "another organisation's key"])
def test_a_start_whose_key_is_the_secret_of_a_key_made_since_is_refused_naming_that_key(
    tmp_path: Path, whose: str
) -> None:
    """--api-key given the secret of a key the database already holds made that key the bootstrap
    key: a pod-scoped or restricted one (the control API then refused it, and a reset kept a pod
    key whose pod it deleted), or another organisation's (the sandbox then served that one)."""
    db = str(tmp_path / "sandbox.db")
    first = create_app(db, api_keys=(KEY,))
    client = _client(first)
    if whose == "pod key":
        pod = client.post("/v0/pods", json={"name": "P"}).json()["pod_id"]
        secret = client.post(f"/v0/pods/{pod}/api-keys", json={"name": "p-key"}).json()["api_key"]
    elif whose == "restricted org key":
        body = {"name": "reader", "permissions": {"pod_read": True}}
        secret = client.post("/v0/api-keys", json=body).json()["api_key"]
    else:
        secret = client.post("/_sandbox/organizations").json()["api_key"]
    first.close()
    with pytest.raises(ValueError) as refused:
        create_app(db, api_keys=(secret,))
    message = str(refused.value)
    assert "already the secret of" in message and secret not in message
    again = create_app(db, api_keys=(KEY,))  # nothing was changed: the database serves as before
    assert _status(again, KEY) == 200 and _status(again, secret) == 200
