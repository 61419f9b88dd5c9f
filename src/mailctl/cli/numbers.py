"""The number type of every option that takes a decimal: click's ``FloatRange``, refusing NaN and
infinities."""

from __future__ import annotations

import math
from typing import Any

import click


class Number(click.FloatRange):
    """A finite decimal within the range. NaN passes every check ``FloatRange`` makes (each
    comparison with it is False), and a wait or a deadline of NaN, or of infinity, never ends."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if isinstance(number, float) and not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number
