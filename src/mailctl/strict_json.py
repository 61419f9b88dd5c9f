"""JSON read as JSON is written: Python's ``json`` also reads NaN, Infinity and numbers beyond a
float (1e400 becomes inf), which no API takes and no strict parser reads back. Plan files, API
answers and the sandbox's request bodies refuse them."""

from __future__ import annotations

import json
import math
from typing import Any


class NotFinite(ValueError):
    """The text held a number that is not finite; ``str()`` is how it was written."""


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=_finite, parse_constant=_refused)


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NotFinite(text)
    return number


def _refused(name: str) -> Any:
    raise NotFinite(name)
