"""Rate limiting, when switched on (spec §2.5, §11 Q23): 429 rate_limit_exceeded with an
integer Retry-After, per key."""

from __future__ import annotations

from agentmail import CreateBearerApiKeyRequest

from contract_harness import NO_RETRY, Sandbox, raises_api_error


def test_over_the_limit_is_429_with_retry_after(sandbox: Sandbox) -> None:
    fast = sandbox.sdk(sandbox.client.api_keys.create(request=CreateBearerApiKeyRequest(name="fast")).api_key)
    sandbox.configure(rate_limit=0.5)
    fast.pods.list(request_options=NO_RETRY)
    with raises_api_error(429, "rate_limit_exceeded") as info:
        fast.pods.list(request_options=NO_RETRY)
    retry_after = (info.value.headers or {}).get("retry-after", "")
    assert retry_after.isdigit() and int(retry_after) >= 1
    assert sandbox.client.pods.list(request_options=NO_RETRY).count == 1  # another key is not throttled
