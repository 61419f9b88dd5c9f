"""Every path the official SDK calls is answered by the sandbox: by a handler of its own, or by
the 404 that says the route "is not emulated by the sandbox" (README "What it does not emulate").
Never "No such route ... Check the path against the API reference" (nor a 405) for a path the SDK
really calls: that sent an SDK user looking for a typo in a feature the sandbox lacks (GET
.../messages/{message_id}/raw, attachments, metrics...).

The paths are read from the SDK's own raw clients, so an SDK upgrade that adds one is caught here.
"""

from __future__ import annotations

import re
from pathlib import Path

import agentmail
import pytest
from contract_harness import ORG_KEY, Sandbox, auth

README = Path(__file__).resolve().parents[2] / "README.md"
_REQUEST = re.compile(r'request\(\s*f?"(v0/[^"]*)",\s*(?:base_url=[^\n]*\s*)?method="([A-Z]+)"')
_PARAM = re.compile(r"\{[^{}]*\(([a-z_]+)\)\}")  # {jsonable_encoder(inbox_id)}


def _sdk_routes() -> list[tuple[str, str]]:
    """(method, path) of every request the SDK's raw clients make, parameters filled in."""
    found: set[tuple[str, str]] = set()
    for source in Path(agentmail.__file__).parent.rglob("raw_client.py"):
        for path, method in _REQUEST.findall(source.read_text(encoding="utf-8")):
            found.add((method, "/" + _PARAM.sub(lambda m: f"x-{m.group(1)}-1", path)))
    return sorted(found, key=lambda route: (route[1], route[0]))


SDK_ROUTES = _sdk_routes()


def test_the_sdk_routes_were_found() -> None:
    assert len(SDK_ROUTES) > 150 and ("GET", "/v0/inboxes/x-inbox_id-1/messages/x-message_id-1/raw") in SDK_ROUTES


def test_every_sdk_route_is_served_or_said_to_be_not_emulated(sandbox: Sandbox) -> None:
    wrong: list[str] = []
    for method, path in SDK_ROUTES:
        response = sandbox.http.request(method, path, headers=auth(ORG_KEY), json={})
        body = response.json() if response.content else {}
        message = body.get("message", "") if isinstance(body, dict) else ""
        if response.status_code == 405 or message.startswith("No such route"):
            wrong.append(f"{method} {path}: {response.status_code} {message}")
        elif "not emulated" in message and (response.status_code, body.get("code")) != (404, "not_found"):
            wrong.append(f"{method} {path}: not emulated, but {response.status_code} {body.get('code')}")
    assert wrong == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v0/inboxes/{inbox}/messages/{message}/raw"),
        ("GET", "/v0/inboxes/{inbox}/messages/{message}/attachments/a-1"),
        ("GET", "/v0/inboxes/{inbox}/threads/{thread}/attachments/a-1"),
        ("GET", "/v0/threads/{thread}/attachments/a-1"),
        ("POST", "/v0/inboxes/{inbox}/messages/{message}/agent-armor/release"),
        ("GET", "/v0/inboxes/{inbox}/messages/search"),
        ("POST", "/v0/inboxes/{inbox}/messages/batch-update"),
        ("GET", "/v0/metrics/usage"),
    ],
)
def test_an_unemulated_route_says_so_even_for_a_real_message(sandbox: Sandbox, method: str, path: str) -> None:
    """The message exists: the 404 is about the route, not a missing message."""
    inbox = sandbox.http.post("/v0/inboxes", json={}, headers=auth(ORG_KEY)).json()["inbox_id"]
    sent = sandbox.http.post(
        f"/v0/inboxes/{inbox}/messages/send", json={"to": ["x@example.net"], "text": "t"}, headers=auth(ORG_KEY)
    ).json()
    filled = path.format(inbox=inbox, message=sent["message_id"], thread=sent["thread_id"])
    response = sandbox.http.request(method, filled, headers=auth(ORG_KEY), json={})
    body = response.json()
    assert (response.status_code, body["code"]) == (404, "not_found"), body
    assert "is not emulated by the sandbox" in body["message"], body


def test_readme_lists_the_unemulated_mail_routes() -> None:
    section = re.search(r"### What it does not emulate\n(.*?)\n## ", README.read_text(encoding="utf-8"), re.S)
    assert section is not None
    for words in ("search", "batch-get", "batch-update", "/raw", "attachments", "agent-armor", "metrics"):
        assert words in section.group(1), f"README 'What it does not emulate' does not mention {words!r}"
