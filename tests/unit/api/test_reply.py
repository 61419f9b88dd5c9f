"""A whole answer (api/reply.py): status and body at hand, httpx's response built only when asked."""

from __future__ import annotations

import httpx

from mailctl.api.reply import Reply

HEADERS = [(b"Content-Type", b"application/json; charset=utf-8"), (b"Retry-After", b"3")]


def test_a_success_is_read_without_building_httpxs_response():
    reply = Reply(201, HEADERS, b'{"pod_id": "p"}')
    assert reply.is_success and reply.status_code == 201 and reply.content == b'{"pod_id": "p"}'
    assert "response" not in vars(reply)


def test_what_else_is_asked_comes_from_httpxs_response_of_the_same_answer():
    reply = Reply(429, HEADERS, '{"message": "slow down ✓"}'.encode())
    assert not reply.is_success
    assert reply.headers["retry-after"] == "3" and reply.reason_phrase == "Too Many Requests"
    assert reply.json() == {"message": "slow down ✓"} and reply.text == '{"message": "slow down ✓"}'
    assert reply.response.status_code == 429 and reply.response.content == reply.content


def test_a_response_handed_over_read_is_kept_as_it_is():
    response = httpx.Response(404, json={"name": "NotFoundError"})
    reply = Reply.of(response)
    assert reply.response is response and reply.status_code == 404 and reply.content == response.content
