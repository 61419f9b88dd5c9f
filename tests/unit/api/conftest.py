"""Fixture: a Harness that builds mock-transport clients and closes them afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from client_harness import Harness


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    h.close()
