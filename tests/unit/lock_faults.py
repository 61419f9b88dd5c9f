"""Faults of the apply lock for tests of the workflows that hold it (apply, rotate)."""

from __future__ import annotations

import pytest

from mailctl.api.client import AgentMailClient
from mailctl.errors import ApiError


def release_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every release of a lock pod fails (after its retry): the lock may still be held."""

    def release(client: AgentMailClient, pod_id: str) -> None:
        raise ApiError(500, "boom", "release refused by the test", "DELETE", f"/v0/pods/{pod_id}")

    monkeypatch.setattr("mailctl.api.lock._release_surely", release)
