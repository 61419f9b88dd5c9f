"""The Python API's arguments, checked as the CLI checks its options: a value the CLI would refuse
is a ``UsageError`` naming the argument, raised before any request.

Numbers must be numbers (an ``int`` or a ``float``, not text, not ``True``): finite and in the
CLI's range, since a wait of NaN never ends and polls the API without a pause. Flags that lift a
rail (``force``, ``allow_data_loss``) must be ``True`` or ``False``: the text ``"false"``, read from
an environment variable, would otherwise lift it. Patterns are text; ``files`` is one path or a
list of paths.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

from mailctl.errors import UsageError
from mailctl.plan.shards import Shard

MAX_PARALLELISM = 256  # as --parallelism (cli/scale_options.PARALLELISM_CAP; a test keeps them equal)
MAX_TIMEOUT = 86_400.0  # as --timeout


def seconds(name: str, value: object, *, positive: bool = False, maximum: float | None = None) -> float:
    """A finite number of seconds, from 0 (above 0 when ``positive``) up to ``maximum``."""
    bound = "above 0" if positive else "from 0"
    wanted = f"a number of seconds {bound}" + (f" up to {maximum:g}" if maximum is not None else "")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{name} must be {wanted}, not {shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int no float holds
        raise UsageError(f"{name} must be {wanted}, not {shown(value)}") from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0) or (maximum and number > maximum):
        raise UsageError(f"{name} must be {wanted}, not {shown(value)}")
    return number


def whole(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{name} must be a whole number from {low} to {high}, not {shown(value)}")
    return value


def flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{name} must be True or False, not {shown(value)}")
    return value


def patterns(name: str, value: object) -> list[str]:
    """One pattern (text) or a list of them: ``target="pod/tenant-a"``, ``exclude=["pod/x-*"]``."""
    if isinstance(value, str):
        return [value]
    if (
        isinstance(value, Sequence)
        and not isinstance(value, bytes | bytearray)
        and all(isinstance(item, str) for item in value)
    ):
        return list(value)
    raise UsageError(
        f"{name} must be an address or glob (text), or a list of them, not {shown(value)} "
        "(leave it out to plan the whole config)"
    )


def shard(value: object) -> Shard | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"shard must be text K/N, such as '2/4', not {shown(value)}")
    try:
        return Shard.parse(value)
    except UsageError as exc:
        raise UsageError(str(exc).replace("--shard", "shard=", 1)) from None


def files(value: object) -> list[str]:
    """One path (text or ``os.PathLike``) or a list of them."""
    found = [value] if isinstance(value, str | os.PathLike) else value
    if isinstance(found, Sequence) and not isinstance(found, bytes | bytearray):
        paths = [os.fspath(item) if isinstance(item, str | os.PathLike) else None for item in found]
        if all(isinstance(path, str) for path in paths):
            if not paths:  # the CLI's "no -f" means ./mailctl.yaml: never a service's working directory's
                raise UsageError("files is empty: name at least one config file or directory")
            if "" in paths:
                raise UsageError("files holds an empty path ('')")
            return [str(path) for path in paths]
    raise UsageError(f"files must be a path (text or a pathlib.Path) or a list of paths, not {shown(value)}")


def shown(value: object) -> str:
    """A short description of a wrong argument (never a long repr)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"  # repr may fail
    if value is None or isinstance(value, bool | int | float | str):
        text = repr(value)
        return text if len(text) <= 40 else f"{text[:37]}..."
    return f"a {type(value).__name__}"
