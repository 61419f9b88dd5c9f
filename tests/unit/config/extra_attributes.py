"""The inbox kind given more attributes for one test: what a kind's author adding an attribute
would see (its schema generated, validated, built), shared by the schema tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mailctl import kinds
from mailctl.config import build, files, schema
from mailctl.kinds import Attribute
from mailctl.kinds.inbox import INBOX_SPEC


@contextmanager
def inbox_with(*attributes: Attribute) -> Iterator[None]:
    """While entered, the inbox kind has ``attributes`` too, and the schema is made anew for it."""
    spec = dataclasses.replace(INBOX_SPEC, attributes=(*INBOX_SPEC.attributes, *attributes))
    order = tuple(spec if s.kind == spec.kind else s for s in kinds.CONFIG_ORDER)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kinds, "CONFIG_ORDER", order)
        patch.setattr(build, "CONFIG_ORDER", order)
        _clear_caches()
        try:
            yield
        finally:
            patch.undo()
            _clear_caches()


def _clear_caches() -> None:
    schema.schema.cache_clear()
    schema._validator.cache_clear()
    files.top_level_keys.cache_clear()
