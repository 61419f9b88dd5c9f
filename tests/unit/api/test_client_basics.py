"""URL joining, path quoting, headers, bodies, pooled use from many threads."""

from __future__ import annotations

import gzip
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from client_harness import CANARY_KEY, replies

from mailctl import __version__
from mailctl.api.client import API_BASE_DEFAULT, AgentMailClient, RequestStats, quote_segment
from mailctl.errors import UsageError


def echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"url": str(request.url), "raw_path": request.url.raw_path.decode()})


def test_default_base_is_the_production_api():
    assert API_BASE_DEFAULT == "https://api.agentmail.to"


@pytest.mark.parametrize("base", ["http://h:8025/am", "http://h:8025/am/"])
def test_base_url_prefix_is_kept_with_or_without_trailing_slash(harness, base):
    client = harness.client(echo, base_url=base)
    assert client.get("/v0/pods")["url"] == "http://h:8025/am/v0/pods"


@pytest.mark.parametrize("base", ["https://api.agentmail.to", "https://api.agentmail.to/"])
def test_bare_host_joins_without_double_slash(harness, base):
    client = harness.client(echo, base_url=base)
    assert client.get("/v0/pods")["url"] == "https://api.agentmail.to/v0/pods"


def test_quote_segment_keeps_at_and_plus_literal():
    assert quote_segment("a+b@x.com") == "a+b@x.com"
    assert quote_segment("a/b c?#%") == "a%2Fb%20c%3F%23%25"
    assert quote_segment("ünï") == "%C3%BCn%C3%AF"


def test_quoted_inbox_id_reaches_the_server_raw(harness):
    client = harness.client(echo)
    path = f"/v0/inboxes/{quote_segment('a+b@x.com')}/api-keys"
    assert client.get(path)["raw_path"] == "/v0/inboxes/a+b@x.com/api-keys"


def test_auth_user_agent_and_json_body_are_sent(harness):
    client = harness.client(replies(httpx.Response(200, json={"pod_id": "p"})))
    client.post("/v0/pods", json={"name": "n", "client_id": "c"}, idempotent=True)
    sent = harness.requests[0]
    assert sent.headers["Authorization"] == f"Bearer {CANARY_KEY}"
    assert sent.headers["User-Agent"] == f"mailctl/{__version__}"
    assert sent.method == "POST" and json.loads(sent.content) == {"name": "n", "client_id": "c"}


def test_post_without_body_sends_no_content(harness):
    client = harness.client(replies(httpx.Response(204)))
    client.post("/v0/domains/d.com/verify")
    assert harness.requests[0].content == b""


def test_patch_and_delete_use_their_methods(harness):
    client = harness.client(replies(httpx.Response(200, json={}), httpx.Response(204)))
    client.patch("/v0/domains/d.com", {"tracking_enabled": True})
    client.delete("/v0/domains/d.com")
    assert [r.method for r in harness.requests] == ["PATCH", "DELETE"]
    assert client.stats.by_method == {"PATCH": 1, "DELETE": 1}


@pytest.mark.parametrize("base", ["", "api.agentmail.to", "ftp://h", "http://", "http://exa mple.com"])
def test_bad_endpoint_is_a_usage_error(base):
    with pytest.raises(UsageError, match="invalid AgentMail endpoint"):
        AgentMailClient(base, CANARY_KEY)


@pytest.mark.parametrize("key", ["", "   ", "am_has space", "am_new\nline", "am_ünï"])
def test_bad_api_key_is_a_usage_error_that_does_not_echo_it(key):
    with pytest.raises(UsageError) as caught:
        AgentMailClient("http://h", key)
    assert key.strip() == "" or key not in str(caught.value)


def test_context_manager_closes_the_pool(harness):
    with AgentMailClient("http://h", CANARY_KEY, transport=httpx.MockTransport(echo)) as client:
        client.get("/v0/pods")
    with pytest.raises(RuntimeError):
        client.get("/v0/pods")  # httpx refuses to use a closed client


def test_stats_count_exactly_from_many_threads(harness):
    client = harness.client(echo, pool_size=8)
    calls = [("GET", "/v0/pods"), ("DELETE", "/v0/pods/p"), ("PATCH", "/v0/pods/p")] * 100
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda call: client.request(*call), calls))
    assert client.stats.total == 300
    assert client.stats.by_method == {"GET": 100, "DELETE": 100, "PATCH": 100}


def test_request_stats_counters_are_atomic():
    stats = RequestStats()
    barrier = threading.Barrier(20)

    def hammer() -> None:
        barrier.wait()
        for _ in range(2000):
            stats.record_request("GET")
            stats.record_retry()

    threads = [threading.Thread(target=hammer) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stats.snapshot() == {"total": 40000, "retries": 40000, "by_method": {"GET": 40000}}


def test_query_parameters_join_the_path_and_its_prefix(harness):
    client = harness.client(echo, base_url="http://h:8025/am")
    answer = client.get("/v0/pods", params={"limit": 100, "page_token": "a b&c"})
    assert answer["url"] == "http://h:8025/am/v0/pods?limit=100&page_token=a+b%26c"


def test_every_request_carries_accept_headers_and_the_clients_deadline(harness):
    client = harness.client(replies(httpx.Response(200, json={})), timeout=30)
    client.get("/v0/pods")
    sent = harness.requests[0]
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Accept-Encoding"] == "gzip, deflate"  # both decoded by httpx itself
    assert sent.extensions["timeout"] == {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}


def test_a_cookie_the_server_sets_is_never_sent_back(harness):
    cookie = httpx.Response(200, json={}, headers={"Set-Cookie": "session=tracked; Path=/"})
    client = harness.client(replies(cookie, httpx.Response(200, json={})))
    client.get("/v0/pods")
    client.get("/v0/pods")
    assert "cookie" not in harness.requests[1].headers


def test_gzip_answers_are_decoded(harness):
    body = gzip.compress(json.dumps({"pod_id": "p"}).encode())
    client = harness.client(replies(httpx.Response(200, content=body, headers={"Content-Encoding": "gzip"})))
    assert client.get("/v0/pods/p")["pod_id"] == "p"


def test_the_first_in_line_twin_is_closed_with_its_client():
    client = AgentMailClient("http://h", CANARY_KEY, transport=httpx.MockTransport(echo))
    twin = client.first_in_line()
    client.close()
    with pytest.raises(RuntimeError):
        twin.get("/v0/pods")
