"""``moved:`` checks whose lines the mutation sweep of ``config/moved.py`` found unpinned: the
test names the line whose deletion it catches (``.ci/mutate.py --worktree --sweep
src/mailctl/config/moved.py tests/unit/config/test_moved.py tests/unit/config/test_config_bad_corpus.py
tests/unit/config/test_config_load.py`` and the planner tests that use ``moved:``
(``tests/unit/plan/test_fleet_rules.py``, ``test_planfile_sweep.py``, ``test_changed.py``,
``test_planner_sweep.py``, ``test_safety_sweep.py``, ``test_ignored_and_rotation_rails.py``,
``tests/unit/kinds/test_canonical_pattern.py``): 43 mutations, 40 killed, 3 survived, no timeout).

Survivors judged equivalent, not pinned: the closing ``return None`` of ``_refusal`` and of
``_clash`` (a function that falls off its end returns ``None`` all the same). Everything is
loaded from text, as ``load_texts`` loads it."""

from __future__ import annotations

import pytest

from mailctl.config import load_texts
from mailctl.errors import ConfigError


def test_a_refused_block_does_not_make_a_later_block_from_the_same_address_a_clash() -> None:
    """Pins ``continue`` after a refused block in ``check_moves``: without it the refused block
    was recorded as a move from its address, and the next, sound block from that address was
    reported as a second move from it, pointing at the block already refused."""
    text = (
        "version: 1\napi_keys:\n  new: {}\nmoved:\n"
        "  - {from: api_key/old, to: api_key/old}\n"
        "  - {from: api_key/old, to: api_key/new}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_texts({"m.yaml": text})
    assert str(caught.value).splitlines()[1:] == ["m.yaml:5:5: moved[0]: `api_key/old` is moved to itself"]
