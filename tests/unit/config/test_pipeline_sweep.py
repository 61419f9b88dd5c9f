"""The load pipeline's lines that the mutation sweep of ``config/pipeline.py`` found unpinned: each
test names the line whose deletion (or negated ``if``) it catches (``.ci/mutate.py --worktree
--sweep src/mailctl/config/pipeline.py`` against every file of ``tests/unit/config`` but the
hypothesis-heavy ``test_config_properties.py`` and ``test_fastcheck.py`` and the loader and files
sweeps then being written: 109 mutations, 97 killed, 12 survived, no timeout; run on the file as
it was before ``and checked.valid`` was added to ``_Run.validate`` and ``_valid_documents``).

Survivors judged equivalent, not pinned: the ``_trim()`` in ``_Run.add`` and its ``if`` (trimming
as problems arrive only bounds memory: ``raise_if_any`` trims the same way at the end, so what is
kept and counted is the same); ``gc.disable()`` and ``gc.freeze()`` in ``_collector_paused`` (the
collector paused and the load's objects moved to the oldest generation only save time);
``run.complete = False`` for a tenant of a broken template (the template's own problems were added
already, which set it). Everything is loaded as the commands load it, from files in ``tmp_path``."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from config_dir import ConfigDir

from mailctl.config import load
from mailctl.errors import ConfigError

TEMPLATE = """\
version: 1
kind: template
name: t
parameters:
  nick: {type: string}
pod:
  client_id: "c-${tenant}"
  inboxes:
    "${tenant}@agentmail.to": {display_name: "${nick}"}
"""
TENANT_WITH_A_LONG_NICK = f"version: 1\ntemplate: t\ntenants:\n  a: {{nick: {'x' * 300}}}\n"
TOO_LONG = (
    "n.yaml:4:13: pods.c-a.inboxes.a@agentmail.to.display_name: must be at most 256 characters long"
    " (via template `t` at a.yaml:9)"
)


def test_a_load_leaves_the_cycle_collector_on_and_nothing_frozen(cfg: ConfigDir) -> None:
    """Pins ``if enabled:``, ``gc.unfreeze()`` and ``gc.enable()`` in ``_collector_paused``:
    without them a program that loads a config (a signup handler using the Python API) went on
    with Python's cycle collector switched off, or with every object of the load frozen for good."""
    cfg.write("c.yaml", "version: 1\npods:\n  p: {}\n")
    was_enabled = gc.isenabled()
    gc.enable()
    frozen = gc.get_freeze_count()
    try:
        assert set(cfg.load("c.yaml").resources) == {"pod/p"}
        assert gc.isenabled()
        assert gc.get_freeze_count() == frozen
    finally:
        if gc.get_freeze_count() > frozen:
            gc.unfreeze()
        if not was_enabled:
            gc.disable()


def test_a_load_leaves_a_switched_off_collector_off(cfg: ConfigDir) -> None:
    """Pins ``if enabled:`` in ``_collector_paused`` the other way: a caller that switched the
    collector off itself does not find it switched on by a load."""
    cfg.write("c.yaml", "version: 1\npods:\n  p: {}\n")
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        assert set(cfg.load("c.yaml").resources) == {"pod/p"}
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()


def test_a_caller_gets_the_hundred_shown_problems_and_a_count_of_the_rest(tmp_path: Path) -> None:
    """Pins ``self._trim()`` in ``_Run.raise_if_any``: with 75 problems in each of two files (150,
    too few to be trimmed as they arrive) ``ConfigError.problems`` held all 150, not the hundred
    shown, for a caller of the Python API, which reads them one by one."""
    files = []
    for name in ("a.yaml", "b.yaml"):
        files.append(tmp_path / name)
        files[-1].write_text("version: 1\npods:\n" + "".join(f"  {name[0]}{i}: {{nmae: x}}\n" for i in range(75)))
    with pytest.raises(ConfigError) as caught:
        load([str(f) for f in files])
    problems = [str(p).replace(f"{tmp_path}/", "") for p in caught.value.problems]
    assert len(problems) == 100
    assert problems[0] == "a.yaml:3:8: pods.a0.nmae: unknown field `nmae`; did you mean `name`?"
    assert problems[-1] == "b.yaml:27:9: pods.b24.nmae: unknown field `nmae`; did you mean `name`?"
    assert str(caught.value).splitlines()[0] == "150 problems in the configuration:"
    assert str(caught.value).splitlines()[-1] == "... and 50 more problems"


def test_a_kind_close_to_config_is_not_taken_for_a_misspelt_template(cfg: ConfigDir) -> None:
    """Pins ``return None`` when the closest known kind is not ``template`` in ``_misspelt_kind``:
    without it ``kind: confg`` was reported as a misspelt template."""
    cfg.write("c.yaml", "version: 1\nkind: confg\npods:\n  p: {}\n")
    assert cfg.problems("c.yaml") == ["c.yaml:2:7: kind: must be `config`"]


def test_a_template_defined_twice_is_reported_once_and_the_first_one_renders(cfg: ConfigDir) -> None:
    """Pins ``return`` after ``is already defined`` in ``_add_template``: without it the second
    definition's own mistakes (a reserved parameter) were reported too, and its tenants were
    rendered through the second definition rather than the first."""
    cfg.write("a.yaml", TEMPLATE)
    cfg.write(
        "c.yaml", TEMPLATE.replace("  nick: {type: string}\n", "  nick: {type: string}\n  tenant: {type: string}\n")
    )
    cfg.write("n.yaml", TENANT_WITH_A_LONG_NICK)
    assert cfg.problems("a.yaml", "c.yaml", "n.yaml") == [
        "c.yaml:3:7: name: template `t` is already defined at a.yaml:3",
        TOO_LONG,
    ]


def test_a_broken_copy_of_a_template_does_not_hide_the_sound_ones_tenants(cfg: ConfigDir) -> None:
    """Pins ``return`` when the name is already known in ``_add_broken_template``: without it a
    schema-invalid template named like a sound one replaced it, its tenants were no longer
    rendered, and their too long display name went unreported."""
    cfg.write("a.yaml", TEMPLATE)
    cfg.write("b.yaml", TEMPLATE.replace("kind: template\n", "kind: template\ndescripton: x\n"))
    cfg.write("n.yaml", TENANT_WITH_A_LONG_NICK)
    assert cfg.problems("a.yaml", "b.yaml", "n.yaml") == [
        "b.yaml:3:1: descripton: unknown field `descripton`; did you mean `description`?",
        TOO_LONG,
    ]
