"""A webhook URL that validates is one the API takes: the sandbox's check (urlsplit, and its port)
and the config's schema agree on every URL below, so nothing that validates fails with a 400."""

from __future__ import annotations

import pytest

from mailctl.config import load_texts
from mailctl.errors import ConfigError
from mailctl.sandbox.backend.core import SandboxError
from mailctl.sandbox.backend.webhook_rules import check_url

REFUSED = [
    "https://h.example:99999/x",
    "https://h.example:65536/x",
    "https://h.example:1e3/x",
    "https://[::1]:-1/x",
    "https://h.example:\u0663/x",
    "https://h.example:NaN/x",
    "https://h.example:80:80/x",
    "https://[::1/x",
]
TAKEN = [
    "https://h.example/x",
    "https://h.example:443/x",
    "https://h.example:65535",
    "http://localhost:8080/hook",
    "https://[::1]:8443/x",
    "https://h.example:/x",
    "HTTPS://H.EXAMPLE?x=1",
]


def _config(url: str) -> str:
    return (
        "version: 1\npods:\n  p1:\n    name: P\n    webhooks:\n"
        f"      w1: {{url: {url!r}, event_types: [message.received]}}\n"
    ).replace("'", '"')


def _api_takes(url: str) -> bool:
    try:
        check_url(url)
    except SandboxError:
        return False
    return True


@pytest.mark.parametrize("url", REFUSED)
def test_a_url_the_api_refuses_fails_validate_at_its_line(url: str):
    assert not _api_takes(url)
    with pytest.raises(ConfigError) as caught:
        load_texts({"w.yaml": _config(url)})
    assert "w.yaml:6:" in str(caught.value) and "url" in str(caught.value)


@pytest.mark.parametrize("url", TAKEN)
def test_a_url_the_api_takes_validates(url: str):
    assert _api_takes(url)
    load_texts({"w.yaml": _config(url)})
