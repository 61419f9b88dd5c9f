"""A pattern's ``$`` in Python also matches before a final newline: names such as ``"t-a\\n"``
validated, then broke the account (the API stores what it is sent). Names end where they end."""

from __future__ import annotations

import httpx
import pytest

from mailctl.config.pipeline import load_texts
from mailctl.errors import ConfigError
from mailctl.sandbox.app import create_app


@pytest.mark.parametrize(
    "config",
    [
        'pods:\n  "t-a\\n": {name: a}\n',
        'api_keys:\n  "ok\\n": {}\n',
        'api_keys:\n  "\\e[2Jx": {}\n',
        'api_keys:\n  "y\\a": {}\n',
        'domains:\n  "mail.example.com\\n": {}\n',
        'pods:\n  t-a:\n    name: a\n    inboxes: {"support@agentmail.to\\n": {}}\n',
    ],
    ids=["pod-newline", "key-newline", "key-escape-first", "key-bell-last", "domain-newline", "inbox-newline"],
)
def test_a_name_with_a_trailing_newline_or_control_character_is_refused(config: str):
    with pytest.raises(ConfigError):
        load_texts({"c.yaml": "version: 1\n" + config})


KEY = "am_unit_names_end_key_0123456789"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v0/pods", {"name": "p", "client_id": "t-a\n"}),
        ("/v0/inboxes", {"username": "support\n"}),
    ],
)
def test_the_sandbox_refuses_a_trailing_newline_as_the_api_does(path: str, body: dict[str, str]):
    client = httpx.Client(
        transport=httpx.WSGITransport(app=create_app(api_keys=(KEY,))),
        base_url="http://sandbox",
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert client.post(path, json=body).status_code == 400


def test_the_sandbox_takes_a_domain_under_an_internationalised_top_level_domain():
    """Config validates example.xn--p1ai; the sandbox refused it (400 at apply)."""
    load_texts({"c.yaml": "version: 1\ndomains:\n  mail.example.xn--p1ai: {}\n"})
    client = httpx.Client(
        transport=httpx.WSGITransport(app=create_app(api_keys=(KEY,))),
        base_url="http://sandbox",
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert client.post("/v0/domains", json={"domain": "mail.example.xn--p1ai"}).status_code == 200


@pytest.mark.parametrize(
    "name",
    ["a\\x85b", "a\\x9bb", "co\\u00adop", "a\\u200bb", "a\\u2061b", "x\\u180ey", "a\\ufeffb", "a\\u202eb"],
    ids=[
        "c1-nel",
        "c1-csi",
        "soft-hyphen",
        "zero-width-space",
        "invisible-operator",
        "mongolian-separator",
        "bom",
        "bidi-override",
    ],
)
def test_a_key_name_with_a_c1_control_or_an_invisible_format_character_is_refused(name: str):
    """README: key names have no control characters; an invisible one would make two names that
    print alike declare two keys."""
    with pytest.raises(ConfigError) as caught:
        load_texts({"c.yaml": f'version: 1\napi_keys:\n  "{name}": {{}}\n'})
    assert [p.path for p in caught.value.problems] == [f"api_keys.{name.encode().decode('unicode_escape')}"]


@pytest.mark.parametrize("name", ["می\u200cخواهم", "👩\u200d💻 agent", "Backend key (prod)", "Zoë's key"])
def test_a_key_name_with_the_joiners_scripts_need_is_declarable(name: str):
    load_texts({"c.yaml": f'version: 1\napi_keys:\n  "{name}": {{}}\n'})
