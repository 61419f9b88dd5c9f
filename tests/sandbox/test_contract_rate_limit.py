"""Rate limiting, when switched on (spec §2.5, §11 Q23): 429 rate_limit_exceeded with an
integer Retry-After. As AgentMail documents it, the budget is the organisation's: every key of
an organisation shares it (issue 10; it used to be per key). `rate_limit_scope: key` keeps the
per-key model as an option. 429s are counted in the organisation's stats."""

from __future__ import annotations

from agentmail import AgentMail, CreateBearerApiKeyRequest
from contract_harness import NO_RETRY, Sandbox, raises_api_error


def _second_key(sandbox: Sandbox) -> AgentMail:
    return sandbox.sdk(sandbox.client.api_keys.create(request=CreateBearerApiKeyRequest(name="fast")).api_key)


def _assert_throttled(client: AgentMail) -> None:
    with raises_api_error(429, "rate_limit_exceeded") as info:
        client.pods.list(request_options=NO_RETRY)
    retry_after = (info.value.headers or {}).get("retry-after", "")
    assert retry_after.isdigit() and int(retry_after) >= 1
    assert "Retry-After" in info.value.body["message"]  # the message says where the delay is (issue 17)


def test_every_key_of_an_organisation_shares_one_budget(sandbox: Sandbox) -> None:
    fast = _second_key(sandbox)
    sandbox.configure(rate_limit=0.5)
    fast.pods.list(request_options=NO_RETRY)
    _assert_throttled(fast)
    _assert_throttled(sandbox.client)  # another key of the same organisation: same budget
    assert sandbox.control("GET", "stats").json()["by_status"]["429"] == 2


def test_another_organisation_is_not_throttled_by_this_ones_load(sandbox: Sandbox) -> None:
    other = sandbox.sdk(sandbox.new_organization())
    sandbox.configure(rate_limit=0.5)
    sandbox.client.pods.list(request_options=NO_RETRY)
    _assert_throttled(sandbox.client)
    assert other.pods.list(request_options=NO_RETRY).count == 1


def test_key_scope_gives_each_key_its_own_budget(sandbox: Sandbox) -> None:
    fast = _second_key(sandbox)
    sandbox.configure(rate_limit=0.5, rate_limit_scope="key")
    fast.pods.list(request_options=NO_RETRY)
    _assert_throttled(fast)
    assert sandbox.client.pods.list(request_options=NO_RETRY).count == 1


def test_a_deleted_key_is_401_spends_no_budget_and_is_counted_nowhere(sandbox: Sandbox) -> None:
    created = sandbox.client.api_keys.create(request=CreateBearerApiKeyRequest(name="gone"))
    gone = sandbox.sdk(created.api_key)
    gone.pods.list(request_options=NO_RETRY)  # known to the sandbox before it is deleted
    sandbox.client.api_keys.delete(created.api_key_id)
    sandbox.reset()  # zero the stats and the budget (the deleted key stays deleted)
    sandbox.configure(rate_limit=0.5)
    for _ in range(3):
        with raises_api_error(401, "unknown_api_key"):
            gone.pods.list(request_options=NO_RETRY)
    assert sandbox.client.pods.list(request_options=NO_RETRY).count == 1  # the budget is untouched
    stats = sandbox.control("GET", "stats").json()
    assert "401" not in stats["by_status"] and "429" not in stats["by_status"]
    assert not [route for route in stats["by_route"] if route.startswith("GET /v0/pods")][1:]
