"""The quick template renderer's lines that the mutation sweep of ``config/stamp.py`` found
unpinned: each test names the line whose deletion it catches
(``.ci/mutate.py --worktree --sweep src/mailctl/config/stamp.py
tests/unit/config/test_config_templates.py tests/unit/config/test_stamp.py
tests/unit/config/test_load_fast_path.py tests/unit/config/test_stamp_sweep.py`` plus the
``template-*`` cases of ``test_config_bad_corpus.py``).

Survivors judged equivalent, not pinned: the fast paths with the general path behind them giving
the same answer (``return self._plain_mapping(...)``; ``leaf = _text(child)`` and
``leaf = _constant(child)``, and ``_constant``'s lambda, each falling back to the rendered node;
the ``lambda`` for a text without ``$`` in ``_text`` and ``_with_origin``, whose general split
returns the same text), and the list item position recorded for an item that is not text
(``tenant.item_marks[dst] = where``: asked for, the careful renderer gives the same position, and
declarations in a list are always text). Everything is loaded as the commands load it, from
files in ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

from config_dir import ConfigDir

from mailctl.config.expand import RenderedDocument
from mailctl.config.pipeline import load_config

TENANTS = "version: 1\ntemplate: t\ntenants:\n  a: {}\n  b: {plan: max, n: 9}\n"
PARAMETERS = "parameters:\n  n: {type: integer, default: 5}\n  plan: {type: string, default: pro}\n"


def template(pod: str) -> str:
    return "version: 1\nkind: template\nname: t\n" + PARAMETERS + pod


def test_values_under_a_key_made_of_parameters_are_substituted(cfg: ConfigDir) -> None:
    """Pins ``text = _text(value)`` and ``return lambda ...: text(scope)`` for a text in
    ``Stamp._node``: the value of an entry whose key holds ``${...}`` was left as written
    (``"${plan}"``) or crashed the load."""
    cfg.write(
        "t.yaml",
        template(
            """\
pod:
  client_id: "c-${tenant}"
  inboxes:
    "${tenant}@agentmail.to":
      metadata: {"plan-${tenant}": "${plan}", "seats-${tenant}": "${n}", "x-${tenant}": "${plan} $$"}
"""
        ),
    )
    cfg.write("n.yaml", TENANTS)
    resources = cfg.load("t.yaml", "n.yaml").resources
    assert resources["pod/c-a/inbox/a@agentmail.to"].attrs == {
        "metadata": {"plan-a": "pro", "seats-a": 5, "x-a": "pro $"}
    }
    assert resources["pod/c-b/inbox/b@agentmail.to"].attrs == {
        "metadata": {"plan-b": "max", "seats-b": 9, "x-b": "max $"}
    }


def test_a_list_item_that_is_exactly_one_parameter_keeps_its_type(cfg: ConfigDir) -> None:
    """Pins ``if whole_any: return (OMIT if value is None else value), origin`` in
    ``_with_origin``: without it a list item ``"${n}"`` became the text ``"5"``, so a number
    where text goes was reported as an unknown attribute instead of as a number."""
    cfg.write(
        "t.yaml",
        template(
            """\
pod:
  client_id: "c-${tenant}"
  webhooks:
    events: {url: "https://h.example/${tenant}", event_types: [message.sent], ignore_changes: ["${n}"]}
"""
        ),
    )
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {}\n")
    assert cfg.problems("t.yaml", "n.yaml") == [
        "t.yaml:10:96: pods.c-a.webhooks.events.ignore_changes[0]: expected text, got number `5`"
        " (rendering tenant `a` at n.yaml:4)"
    ]


def test_a_fleet_without_problems_loads_without_rendering_any_tenant_twice(tmp_path: Path) -> None:
    """Pins ``tenant.key_marks[path] = key_mark`` in ``Stamp._plain_mapping``: without it the
    builder, asking where a key written out in the template (``api_keys: {backend: ...}``) is
    declared, made every tenant be rendered a second time, carefully (the answer is the same;
    the quick renderer exists to spare that)."""
    (tmp_path / "t.yaml").write_text(
        template(
            """\
pod:
  client_id: "c-${tenant}"
  api_keys:
    backend: {permissions: {inbox_read: true}}
"""
        )
    )
    (tmp_path / "n.yaml").write_text(TENANTS)
    loaded = load_config([str(tmp_path / "t.yaml"), str(tmp_path / "n.yaml")])
    [doc] = [d for d in loaded.documents if isinstance(d, RenderedDocument)]
    assert set(doc.pending) == {"c-a", "c-b"}  # neither tenant had to be worked out
    key = loaded.state.resources["pod/c-b/api_key/backend"].source
    assert key is not None and (Path(key.file).name, key.line, key.column) == ("t.yaml", 10, 5)
