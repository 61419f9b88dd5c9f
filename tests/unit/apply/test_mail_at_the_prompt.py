"""Mail that arrives while apply waits for a person's answer: the plan they approved showed what
each destroyed inbox held then, so apply reads it again after the answer and, if it grew, refuses
before any change (the data-loss gate is not lifted by an answer to a plan that did not show the
mail). Run through the apply workflow against an embedded sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailctl.api.client import AgentMailClient
from mailctl.api.connect import connect
from mailctl.config import load
from mailctl.errors import UnsafePlan
from mailctl.ops.apply import ApplyHooks, ApplyOptions, run_apply
from mailctl.ops.planning import Planned
from mailctl.secrets import SecretSink

KEEP, DOOMED = "keep@agentmail.to", "doomed@agentmail.to"


def config(path: Path, *inboxes: str) -> Path:
    data: dict[str, Any] = {
        "version": 1,
        "manage": {"pods": {"client_id_prefix": "t-"}},
        "pods": {"t-a": {"name": "A", "inboxes": dict.fromkeys(inboxes, {})}},
    }
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


@pytest.fixture
def client(tmp_path: Path) -> Iterator[AgentMailClient]:
    api = connect(None, str(tmp_path / "sandbox.db"), "am_unused")
    try:
        yield api
    finally:
        api.close()


def send(client: AgentMailClient, count: int) -> None:
    for n in range(count):
        client.post(f"/v0/inboxes/{KEEP}/messages/send", {"to": [DOOMED], "subject": f"s{n}", "text": "hello"})


def inboxes(client: AgentMailClient) -> list[str]:
    return sorted(i["inbox_id"] for i in client.list_all("/v0/inboxes", "inboxes"))


def apply_answering(client: AgentMailClient, path: Path, tmp_path: Path, arrive: int, **options: Any) -> list[Any]:
    """Apply ``path``; mail arrives at DOOMED while the person reads the plan, then they say yes."""
    asked: list[Any] = []

    def confirm(planned: Planned, at_risk: int | None) -> None:
        asked.append(at_risk)
        send(client, arrive)

    sink = SecretSink(str(tmp_path / "keys.json"))
    run_apply(client, load([str(path)]), ApplyOptions(**options), ApplyHooks(confirm=confirm), sink)
    return asked


@pytest.fixture
def applied(client: AgentMailClient, tmp_path: Path) -> Path:
    run_apply(
        client, load([str(config(tmp_path / "a.yaml", KEEP, DOOMED))]), ApplyOptions(auto_approve=True), ApplyHooks()
    )
    return config(tmp_path / "b.yaml", KEEP)


def test_mail_arriving_at_a_plain_prompt_is_not_destroyed(client: AgentMailClient, applied: Path, tmp_path: Path):
    with pytest.raises(UnsafePlan) as refused:
        apply_answering(client, applied, tmp_path, arrive=2)
    assert "nothing was changed" in str(refused.value)
    assert f"pod/t-a/inbox/{DOOMED} now holds 2 threads, 2 messages, 0 drafts" in str(refused.value)
    assert inboxes(client) == [DOOMED, KEEP]


def test_mail_arriving_after_the_count_was_typed_is_not_destroyed_either(
    client: AgentMailClient, applied: Path, tmp_path: Path
):
    send(client, 1)
    with pytest.raises(UnsafePlan):
        apply_answering(client, applied, tmp_path, arrive=1, allow_data_loss=True)
    assert inboxes(client) == [DOOMED, KEEP]


def test_nothing_arriving_applies_as_approved(client: AgentMailClient, applied: Path, tmp_path: Path):
    assert apply_answering(client, applied, tmp_path, arrive=0) == [None]
    assert inboxes(client) == [KEEP]
