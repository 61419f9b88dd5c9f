"""The sandbox's route table and router: the lines the mutation sweep found no test depending on
(.ci/mutate.py --sweep src/mailctl/sandbox/router.py; routes.py is a plain table the sweep leaves
alone, so its promises are pinned here too: no route shadows another, literals beat parameters).

Behaviour is checked over real HTTP and in-process through the contract ``sandbox`` fixture; the
router's own checks (a bad table, a path of another length) are checked on ``Router`` directly.
"""

from __future__ import annotations

import re

import pytest
from contract_harness import ORG_KEY, Sandbox, auth

from mailctl.sandbox.router import Route, Router
from mailctl.sandbox.routes import ROUTES

PARAM = re.compile(r"\{(\w+)\}")


def _handler(ctx: object) -> object:  # never called: the router only matches
    raise AssertionError("not called")


def _sample(pattern: str) -> tuple[list[str], dict[str, str]]:
    """A concrete path for ``pattern`` (each parameter filled with a value no literal equals)."""
    params = {name: f"x-{name}-1" for name in PARAM.findall(pattern)}
    path = PARAM.sub(lambda m: params[m.group(1)], pattern)
    return path.strip("/").split("/"), params


# -- the table (routes.py) ------------------------------------------------------------------


def test_every_route_in_the_table_is_reached_by_its_own_paths_with_its_parameters():
    """No route is shadowed: a path made from each pattern lands on that very route."""
    router = Router(ROUTES)
    for route in ROUTES:
        parts, params = _sample(route.pattern)
        found, bound = router.match(route.method, parts)
        assert (found.method, found.pattern, bound) == (route.method, route.pattern, params)


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/v0/webhooks/polling", "Polling webhooks are not emulated"),
        ("POST", "/v0/inboxes/{inbox}/webhooks/polling", "Polling webhooks are not emulated"),
        ("GET", "/v0/inboxes/{inbox}/messages/search", "is not emulated by the sandbox"),
        ("POST", "/v0/inboxes/{inbox}/messages/batch-get", "is not emulated by the sandbox"),
        ("GET", "/v0/threads/search", "is not emulated by the sandbox"),
    ],
)
def test_literal_segments_are_answered_as_not_emulated_not_taken_for_ids(
    sandbox: Sandbox, method: str, path: str, message: str
) -> None:
    inbox = sandbox.http.post("/v0/inboxes", headers=auth(ORG_KEY), json={}).json()["inbox_id"]
    response = sandbox.http.request(method, path.format(inbox=inbox), headers=auth(ORG_KEY), json={})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert message in response.json()["message"]


# -- the router (router.py) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v0/pods//inboxes"),
        ("PUT", "/v0/pods//inboxes"),  # a 405 would mean the empty segment fitted {pod_id}
        ("GET", "/v0/lists//email/someone@example.com"),
        ("DELETE", "/v0/inboxes//webhooks/wh_1"),
    ],
)
def test_an_empty_segment_never_fills_a_path_parameter(sandbox: Sandbox, method: str, path: str) -> None:
    response = sandbox.http.request(method, path, headers=auth(ORG_KEY))
    body = response.json()
    assert (response.status_code, body["code"]) == (404, "not_found"), response.text
    assert body["message"] == "No such route: " + path
    assert "allow" not in response.headers


def test_a_route_does_not_bind_a_path_of_another_length():
    route = Route("GET", "/v0/pods/{pod_id}", _handler)
    assert route.bind(["v0", "pods"]) is None
    assert route.bind(["v0", "pods", "p1", "inboxes"]) is None
    assert route.bind(["v0", "pods", "p1"]) == {"pod_id": "p1"}


def test_a_duplicate_route_in_the_table_is_refused():
    with pytest.raises(ValueError, match="duplicate route"):
        Router([Route("GET", "/v0/pods", _handler), Route("GET", "/v0/pods", _handler)])
    Router([Route("GET", "/v0/pods", _handler), Route("POST", "/v0/pods", _handler)])  # same path, other method


def test_a_parameter_among_the_leading_segments_fits_any_of_them_and_literals_still_win():
    """The table has none today, but the router promises it: ``/{tenant}/...`` fits every first
    segment, and a literal route of the same shape is tried before it."""
    literal = Route("GET", "/v0/things", _handler)
    wild = Route("GET", "/{tenant}/things", _handler)
    wild_delete = Route("DELETE", "/{tenant}/things", _handler)
    deeper = Route("DELETE", "/v0/{kind}/{id}", _handler)
    router = Router([wild, literal, deeper, wild_delete])
    assert router.match("GET", ["v0", "things"]) == (literal, {})
    assert router.match("DELETE", ["v0", "things"]) == (wild_delete, {"tenant": "v0"})  # not 405
    assert router.match("GET", ["acme", "things"]) == (wild, {"tenant": "acme"})
    assert router.match("DELETE", ["v0", "things", "t1"]) == (deeper, {"kind": "things", "id": "t1"})
