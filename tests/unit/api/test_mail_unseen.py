"""Why the run's key may not see all of an inbox's mail (``StateReader.mail_unseen``): its own
permissions read from /v0/auth/me and the key (or the key the plan read already)."""

from __future__ import annotations

from typing import Any

import pytest

from mailctl.api.reader import StateReader
from mailctl.api.responses import ApiObject
from mailctl.errors import Forbidden
from mailctl.resources import ActualState, Resource

EVERY_LABEL = {f"label_{x}_read": True for x in ("trash", "spam", "blocked", "unauthenticated")}


class Client:
    """Answers /v0/auth/me and GET /v0/api-keys/k1 from ``answers`` (an exception is raised)."""

    def __init__(self, answers: dict[str, Any]):
        self.answers, self.asked = answers, []

    def get(self, path: str, params: Any = None) -> ApiObject:
        self.asked.append(path)
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return ApiObject(answer, "GET", path)


def unseen(answers: dict[str, Any], actual: ActualState | None = None) -> tuple[str, list[str]]:
    client = Client({"/v0/auth/me": {"scope_type": "organization", "api_key_id": "k1"}, **answers})
    return StateReader(client).mail_unseen(actual or ActualState()), client.asked  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("permissions", "why"),
    [
        (None, ""),  # unrestricted
        (EVERY_LABEL | {"message_read": True}, ""),
        (
            {"message_read": True},
            "it lacks label_trash_read, label_spam_read, label_blocked_read, label_unauthenticated_read",
        ),
        ({**EVERY_LABEL, "label_spam_read": False}, "it lacks label_spam_read"),
    ],
)
def test_the_flags_the_key_lacks_are_named(permissions: Any, why: str):
    key = {"api_key_id": "k1", "name": "ci", **({"permissions": permissions} if permissions is not None else {})}
    assert unseen({"/v0/api-keys/k1": key})[0] == why


def test_the_key_the_plan_read_is_not_asked_for_again():
    read = Resource("api_key", "ci", attrs={"permissions": {"message_read": True}}, remote_id="k1")
    why, asked = unseen({}, ActualState(resources={read.address: read}))
    assert why.startswith("it lacks label_trash_read") and asked == ["/v0/auth/me"]


def test_a_key_that_cannot_read_itself_is_unknown_not_unrestricted():
    refused = Forbidden(403, "missing_permission", "lacks api_key_read", "GET", "/v0/api-keys/k1")
    why, _ = unseen({"/v0/api-keys/k1": refused})
    assert why.startswith("its own permissions cannot be read (403 missing_permission")


def test_a_credential_without_a_key_id_is_unknown():
    client = Client({"/v0/auth/me": {"scope_type": "organization"}})
    assert "names no api_key_id" in StateReader(client).mail_unseen(ActualState())  # type: ignore[arg-type]
