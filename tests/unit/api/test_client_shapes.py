"""A success that does not look like the API is an UnexpectedResponse naming method and path."""

from __future__ import annotations

import httpx
import pytest
from client_harness import replies

from mailctl.api.responses import ApiObject, expect_fields
from mailctl.errors import ApiError, UnexpectedResponse

HTML = "<html><head><title>Welcome to nginx!</title></head><body>It works</body></html>"


@pytest.mark.parametrize(
    "answer, detail",
    [
        (
            httpx.Response(200, text=HTML, headers={"Content-Type": "text/html"}),
            "HTTP 200 with an HTML page ('Welcome to nginx!', 79 bytes) where JSON was expected",
        ),
        (httpx.Response(200), "HTTP 200 with an empty body where a JSON object was expected"),
        (httpx.Response(200, json=[1, 2]), "the answer is a JSON array of 2 item(s), not a JSON object"),
        (httpx.Response(200, json="ok"), "the answer is a JSON string, not a JSON object"),
    ],
)
def test_get_wants_a_json_object(harness, answer, detail):
    client = harness.client(replies(answer))
    with pytest.raises(UnexpectedResponse) as caught:
        client.get("/v0/pods/p1")
    assert str(caught.value) == f"unexpected response from the API: {detail} (GET /v0/pods/p1)"
    assert isinstance(caught.value, ApiError) and caught.value.code == "invalid_response"


def test_a_non_json_success_body_is_described_not_echoed(harness):
    # A success body may carry a secret (a key create): only its type and size are shown.
    client = harness.client(
        replies(httpx.Response(200, text="secret=hunter2hunter2", headers={"Content-Type": "text/plain"}))
    )
    with pytest.raises(UnexpectedResponse) as caught:
        client.post("/v0/api-keys", {"name": "k"})
    assert "hunter2" not in str(caught.value) and "a text/plain body (21 bytes)" in str(caught.value)


def test_a_write_answered_with_an_array_is_unexpected(harness):
    client = harness.client(replies(httpx.Response(200, json=[])))
    with pytest.raises(UnexpectedResponse, match=r"JSON array .* \(PATCH /v0/pods/p1\)"):
        client.patch("/v0/pods/p1", {"name": "x"})


def test_a_missing_field_is_an_unexpected_response_not_a_key_error(harness):
    client = harness.client(replies(httpx.Response(200, json={"name": "x"})))
    created = client.post("/v0/pods", {"name": "x"}, idempotent=True)
    assert created.get("pod_id") is None  # .get stays a plain dict lookup
    with pytest.raises(UnexpectedResponse) as caught:
        created["pod_id"]
    assert str(caught.value) == "unexpected response from the API: the answer has no 'pod_id' (POST /v0/pods)"


def test_a_null_required_field_is_unexpected_too(harness):
    client = harness.client(replies(httpx.Response(200, json={"inboxes": [{"inbox_id": None, "pod_id": "p"}]})))
    (row,) = client.list_all("/v0/inboxes", "inboxes")
    assert row.get("inbox_id") is None and row["pod_id"] == "p"
    with pytest.raises(UnexpectedResponse, match=r"an item of 'inboxes' has a null 'inbox_id' \(GET /v0/inboxes\)"):
        row["inbox_id"]


def test_require_names_the_missing_field(harness):
    client = harness.client(replies(httpx.Response(200, json={"pod_id": None, "name": "x"})))
    with pytest.raises(UnexpectedResponse, match=r"the answer has no 'pod_id' \(POST /v0/pods\)"):
        client.post("/v0/pods", {"name": "x"}, require=("pod_id", "name"))


def test_an_empty_write_answer_is_an_empty_object_that_reports_what_is_missing(harness):
    client = harness.client(replies(httpx.Response(204), httpx.Response(200)))
    verified = client.post("/v0/domains/d/verify", idempotent=True)
    assert verified == {} and verified.get("status") is None
    with pytest.raises(UnexpectedResponse, match=r"the answer \(HTTP 200, empty\) has no 'pod_id'"):
        client.post("/v0/pods", {"name": "x"})["pod_id"]


def test_list_items_must_be_objects_and_report_missing_fields(harness):
    client = harness.client(
        replies(
            httpx.Response(200, json={"pods": [{"name": "a"}]}),
            httpx.Response(200, json={"pods": ["a"]}),
            httpx.Response(200, json={"pods": {"a": 1}}),
        )
    )
    (row,) = client.list_all("/v0/pods", "pods")
    with pytest.raises(UnexpectedResponse, match=r"an item of 'pods' has no 'pod_id' \(GET /v0/pods\)"):
        row["pod_id"]
    with pytest.raises(UnexpectedResponse, match=r"an item of 'pods' is a JSON string, not a JSON object"):
        client.list_all("/v0/pods", "pods")
    with pytest.raises(UnexpectedResponse, match=r"the answer has a JSON object as its 'pods' array"):
        client.list_all("/v0/pods", "pods")


def test_expect_fields_accepts_plain_dicts():
    assert expect_fields({"pod_id": "p"}, ["pod_id"], "GET", "/v0/pods/p") == {"pod_id": "p"}
    with pytest.raises(UnexpectedResponse, match="null, not a JSON object"):
        expect_fields(None, ["pod_id"], "GET", "/v0/pods/p")


def test_api_objects_behave_as_dicts():
    obj = ApiObject({"a": 1}, "GET", "/v0/x")
    assert obj == {"a": 1} and dict(obj) == {"a": 1} and "a" in obj and obj.get("b", 2) == 2


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_number_json_has_no_value_for_is_an_unexpected_response(harness, number):
    """Python's json reads NaN, Infinity and 1e400 (as inf): taken in from a broken server they
    would reach plan JSON and plan files as no JSON at all, and never compare equal (NaN)."""
    body = f'{{"pod_id": "p1", "name": "n", "metadata": {{"n": {number}}}}}'
    client = harness.client(replies(httpx.Response(200, text=body, headers={"Content-Type": "application/json"})))
    with pytest.raises(UnexpectedResponse) as caught:
        client.get("/v0/pods/p1")
    assert "finite" in str(caught.value) and "(GET /v0/pods/p1)" in str(caught.value)
