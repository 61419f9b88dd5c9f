"""JSON read as JSON is written: Python's ``json`` also reads NaN, Infinity and numbers beyond a
float (1e400 becomes inf, a 400-digit integer stays exact), which no API takes and no strict
parser reads back (the SDK's models hold numbers as floats). Plan files, API answers and the
sandbox's request bodies refuse them."""

from __future__ import annotations

import json
import math
from typing import Any


class NotFinite(ValueError):
    """The text held a number that is not finite; ``str()`` is how it was written."""


class TooDeep(ValueError):
    """The text nests arrays or objects deeper than Python's recursion limit lets ``json`` read."""


def loads(text: str | bytes) -> Any:
    try:
        return json.loads(text, parse_float=_finite, parse_int=_within_a_float, parse_constant=_refused)
    except RecursionError:  # valid JSON all the same: [[[...]]] 100,000 deep
        raise TooDeep("nested too deeply to read") from None


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NotFinite(text)
    return number


def _within_a_float(text: str) -> int:
    number = int(text)
    if len(text) > 300:  # shorter ones always fit: the largest float has 309 digits
        try:
            float(number)
        except OverflowError:
            raise NotFinite(text[:40] + "...") from None
    return number


def _refused(name: str) -> Any:
    raise NotFinite(name)
