"""The ``secrets`` callback of ``Project.apply``: a key is kept only once the callback has stored
its secret. An async callback, a callback that returns an awaitable, one that raises (even
KeyboardInterrupt) all leave no key behind; calls never overlap; why a call failed is findable and
never carries the secret into a message."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from mailctl import Project, SecretRecord
from mailctl.errors import UsageError

KEY = "pod/cb/api_key/backend"


def _project(tmp_path: Path, keys: int = 1) -> Project:
    names = ["backend"] + [f"worker-{i}" for i in range(keys - 1)]
    config = {"version": 1, "pods": {"cb": {"name": "Cb", "api_keys": {name: {} for name in names}}}}
    return Project(config=config, sandbox=tmp_path / "sb.db")


def _left(project: Project) -> list[tuple[str, str]]:
    """What the next plan does: a key never kept is created again, and nothing else is left over
    (a pending key left behind would be deleted as a repair)."""
    return [(c.action, c.address) for c in project.plan().changes]


def test_an_async_callback_is_refused_before_anything_changes(tmp_path):
    project = _project(tmp_path)
    plan = project.plan()

    async def store(record: SecretRecord) -> None:
        await asyncio.sleep(0)

    class Vault:
        async def __call__(self, record: SecretRecord) -> None:
            await asyncio.sleep(0)

    for callback in (store, Vault()):
        with pytest.raises(UsageError, match="async"):
            project.apply(plan, secrets=callback)
    assert _left(project) == [("create", "pod/cb"), ("create", KEY)]


def test_a_generator_function_callback_is_refused_before_anything_changes(tmp_path):
    """Calling it runs none of its body: every key was kept and named as recorded while no secret
    was stored anywhere."""
    project = _project(tmp_path)
    vault: dict[str, str] = {}

    def store(record: SecretRecord) -> Any:
        vault[record.address] = record.secret
        yield

    with pytest.raises(UsageError, match="generator"):
        project.apply(project.plan(), secrets=store)
    assert vault == {} and _left(project) == [("create", "pod/cb"), ("create", KEY)]


def test_a_callback_that_returns_a_generator_fails_the_key_and_keeps_nothing(tmp_path):
    project = _project(tmp_path)
    vault: dict[str, str] = {}

    def later(record: SecretRecord) -> Any:
        vault[record.address] = record.secret
        yield

    report = project.apply(project.plan(), secrets=lambda record: later(record))
    assert not report.ok and [r.address for r in report.failed] == [KEY]
    assert "generator" in report.failed[0].message and report.secrets_recorded == [] and vault == {}
    assert _left(project) == [("create", KEY)]


def test_a_callback_that_returns_an_awaitable_fails_the_key_and_keeps_nothing(tmp_path):
    project = _project(tmp_path)

    async def later(record: SecretRecord) -> None:
        await asyncio.sleep(0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited" would be a warning
        report = project.apply(project.plan(), secrets=lambda record: later(record))
    assert not report.ok and [r.address for r in report.failed] == [KEY]
    assert "awaitable" in report.failed[0].message and report.secrets_recorded == []
    assert _left(project) == [("create", KEY)]


def test_callback_calls_never_overlap(tmp_path):
    project = _project(tmp_path, keys=8)
    inside, most = [0], [0]
    guard = threading.Lock()

    def slow_store(record: SecretRecord) -> None:
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        with guard:
            inside[0] -= 1

    report = project.apply(project.plan(), secrets=slow_store, parallelism=8)
    assert report.ok and len(report.secrets_recorded) == 8
    assert most[0] == 1


def test_why_a_callback_failed_is_on_the_report_never_in_a_message(tmp_path):
    project = _project(tmp_path)
    seen: list[str] = []

    def leaky_store(record: SecretRecord) -> None:
        seen.append(record.secret)
        raise sqlite3.ProgrammingError(f"cannot store {record.secret}")

    report = project.apply(project.plan(), secrets=leaky_store)
    [failed] = report.failed
    assert "sqlite3.ProgrammingError" in failed.message and seen[0] not in failed.message
    error = report.callback_errors[KEY]
    assert isinstance(error, sqlite3.ProgrammingError) and seen[0] in str(error)
    assert seen[0] not in repr(report)
    assert _left(project) == [("create", KEY)]


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_raised_by_the_callback_deletes_the_key_and_propagates(tmp_path, interrupt):
    project = _project(tmp_path)

    def store(record: SecretRecord) -> Any:
        raise interrupt("boom")

    with pytest.raises(interrupt):
        project.apply(project.plan(), secrets=store)
    assert _left(project) == [("create", KEY)]
    assert project.apply(project.plan(), secrets=lambda record: None).ok  # the lock was released
