"""What the writer needs from a planned update, as a Protocol: the API layer never imports the plan.

``mailctl.plan.changes.Change`` satisfies it structurally; so does any object a test builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mailctl.resources import Resource


class AttributePath(Protocol):
    """One attribute-level difference; the writer needs only its dotted path."""

    @property
    def path(self) -> str: ...


class PlannedUpdate(Protocol):
    """An in-place update: what the config declares, what the API has, which paths differ, and
    (a ``moved`` rename) the address it is renamed from."""

    @property
    def kind(self) -> str: ...

    @property
    def desired(self) -> Resource | None: ...

    @property
    def actual(self) -> Resource | None: ...

    @property
    def diff(self) -> Sequence[AttributePath]: ...

    @property
    def moved_from(self) -> str | None: ...
