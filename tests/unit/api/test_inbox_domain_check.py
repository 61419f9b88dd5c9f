"""An inbox on a custom domain is created without first reading the domain's status when the API
accepts it (a GET per domain saved); when the API refuses it as unverified, the writer reads the
status and defers the inbox as before."""

from __future__ import annotations

import httpx
import pytest

from mailctl.api.client import AgentMailClient
from mailctl.api.writer import ApiWriter, IdRegistry
from mailctl.errors import Deferred
from mailctl.resources import DOMAIN, INBOX, POD, Resource, domain_address, inbox_address, pod_address
from mailctl.sandbox import create_app

KEY = "am_test_key_for_inbox_domain_check"


class _Recording(httpx.WSGITransport):
    def __init__(self, app):
        super().__init__(app=app)
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        return super().handle_request(request)


def _writer(**knobs) -> tuple[ApiWriter, _Recording]:
    transport = _Recording(create_app(api_keys=(KEY,), **knobs))
    writer = ApiWriter(AgentMailClient("http://sandbox", KEY, transport=transport), IdRegistry({}))
    pod = Resource(POD, pod_address("t"), {"name": "T"})
    writer.create(pod)
    writer.create(Resource(DOMAIN, domain_address("mail.t.example", pod="t"), {}, parent=pod.address))
    transport.sent.clear()
    return writer, transport


INBOX_ON_DOMAIN = Resource(INBOX, inbox_address("t", "a@mail.t.example"), {}, parent=pod_address("t"))


def test_an_inbox_on_a_verified_domain_costs_one_request():
    writer, transport = _writer()  # auto verification: verified once verification has started
    writer.create(INBOX_ON_DOMAIN)
    assert transport.sent == ["POST /v0/pods/" + writer.ids[pod_address("t")] + "/inboxes"]


def test_an_inbox_on_an_unverified_domain_is_still_deferred():
    writer, transport = _writer(domain_verification="manual")
    with pytest.raises(Deferred, match="mail.t.example is not verified"):
        writer.create(INBOX_ON_DOMAIN)
    assert any(line.startswith("GET ") for line in transport.sent)  # the status was read to say why
