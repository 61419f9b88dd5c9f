"""``rotate`` and ``dns`` read exactly the addresses they act on (``ops.planning.read_addresses``):
each is a target matched as written, never as a glob (a key named ``ci*`` is not every ``ci`` key)."""

from __future__ import annotations

from typing import Any

from mailctl.ops import planning
from mailctl.resources import DesiredState, address_matches


def test_the_addresses_acted_on_are_targets_that_match_themselves_only(monkeypatch) -> None:
    asked: list[tuple[str, ...]] = []

    class Reader:
        def __init__(self, client: Any, pods: Any = None) -> None:
            pass

        def read(self, desired: DesiredState, narrowed: Any) -> str:
            return "state"

    def narrowed_read(desired: DesiredState, targets: tuple[str, ...], shard: Any) -> None:
        asked.append(targets)

    monkeypatch.setattr(planning, "StateReader", Reader)
    monkeypatch.setattr(planning, "narrowed_read", narrowed_read)
    key, hook = "pod/a/api_key/ci*[1]?", "pod/a/webhook/h"
    assert planning.read_addresses(object(), DesiredState(), [key, hook]) == "state"  # type: ignore[arg-type]
    [targets] = asked
    assert len(targets) == 2 and address_matches(key, targets[0]) and address_matches(hook, targets[1])
    assert not address_matches("pod/a/api_key/ci-bot1x", targets[0])  # read as a glob, it would match
