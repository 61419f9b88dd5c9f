"""The quick template renderer (``config/stamp.py``) renders exactly what the careful one does:
the same data and, once asked for, the same position and note for every key and value. Problems
are always worded and located by the careful renderer."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from mailctl.config import expand
from mailctl.config.expand import RenderedDocument
from mailctl.config.pipeline import load_config
from mailctl.errors import ConfigError, Problem

TEMPLATE = """
    version: 1
    kind: template
    name: t
    parameters:
      company: {type: string, required: true}
      seats: {type: integer, default: 2}
      nick: {type: string}
      plan: {type: string, enum: [free, pro, max], default: free}
      people: {type: list, default: []}
      vip: {type: boolean, default: false}
      tags: {type: map, default: {team: core}}
    pod:
      client_id: "c-${tenant}"
      name: "${company}"
      inboxes:
        "${tenant}@agentmail.to":
          display_name: "${nick}"
          metadata: {seats: "${seats}", price: "$$5 per ${plan}", when: literal, vip: "${vip}", team: "${tags.team}"}
        "${item.user}-${tenant}@agentmail.to":
          for_each: people
          when: {plan: [pro, max]}
          display_name: "${item.name} at ${company}"
        "paid-${tenant}@agentmail.to": {when: [not vip, {plan: max}]}
        "vip-${tenant}@agentmail.to": {when: vip, display_name: "VIP ${company} (${seats} seats)"}
        "${tenant}-lists@agentmail.to":
          lists: {send: {allow: ["${tenant}.example", partner.example]}}
      api_keys:
        backend: {}
        "${tenant}-reader": {permissions: {inbox_read: true}}
"""
TENANTS = """
    version: 1
    template: t
    tenants:
      acme: {company: Acme, nick: Ac, plan: max, people: [{user: ann, name: Ann}, {user: bob, name: Bob}]}
      globex: {company: Globex, vip: true, seats: 10, tags: {team: ops}}
      initech: {company: Initech, plan: pro, people: [{user: cy, name: Cy}]}
      umbrella: {company: Umbrella}
"""


def _write(root: Path, name: str, text: str) -> str:
    path = root / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return str(path)


def _rendered(files: list[str]) -> RenderedDocument:
    doc = next(d for d in load_config(files).documents if isinstance(d, RenderedDocument))
    for path in list(doc.key_marks):  # every tenant's positions worked out
        doc.mark(path)
    return doc


def _careful_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expand, "_stamped", lambda *args: False)


def _problems_both_ways(files: list[str], monkeypatch: pytest.MonkeyPatch) -> list[Problem]:
    """The problems of loading ``files``, once the careful renderer alone words and locates the
    same ones."""
    with pytest.raises(ConfigError) as stamped:
        load_config(files)
    _careful_only(monkeypatch)
    with pytest.raises(ConfigError) as careful:
        load_config(files)
    assert [str(p) for p in stamped.value.problems] == [str(p) for p in careful.value.problems]
    return stamped.value.problems


def _positions(doc: RenderedDocument) -> tuple[Any, ...]:
    return (doc.data, doc.key_marks, doc.value_marks, doc.notes, doc.value_notes)


def test_stamped_tenants_render_like_careful_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [_write(tmp_path, "t.yaml", TEMPLATE), _write(tmp_path, "tenants.yaml", TENANTS)]
    stamped = _rendered(files)
    assert not stamped.pending
    _careful_only(monkeypatch)
    careful = _rendered(files)
    assert _positions(stamped) == _positions(careful)
    assert stamped.data["pods"]["c-acme"]["inboxes"]["bob-acme@agentmail.to"] == {"display_name": "Bob at Acme"}
    vip = stamped.data["pods"]["c-globex"]["inboxes"]["vip-globex@agentmail.to"]
    assert vip == {"display_name": "VIP Globex (10 seats)"}  # text after the last ${...} kept


def test_a_stamped_tenant_works_out_its_value_positions_only_when_asked(tmp_path: Path) -> None:
    files = [_write(tmp_path, "t.yaml", TEMPLATE), _write(tmp_path, "tenants.yaml", TENANTS)]
    doc = next(d for d in load_config(files).documents if isinstance(d, RenderedDocument))
    assert set(doc.pending) == {"c-acme", "c-globex", "c-initech", "c-umbrella"}
    name = doc.mark(("pods", "c-globex", "name"))
    assert (Path(name.file).name, name.line) == ("tenants.yaml", 5)  # the tenant's value, not the template
    assert set(doc.pending) == {"c-acme", "c-initech", "c-umbrella"}


@pytest.mark.parametrize(
    "row",
    [
        "bad: {company: [not, text]}",  # a list where text goes: the careful renderer's problem
        "bad: {company: Bad, nick: null, tags: {}}",  # `${tags.team}` names no field
        "acme: {company: Again}",  # a repeated tenant key is YAML's problem, reported once
    ],
)
def test_problems_are_located_as_the_careful_renderer_locates_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row: str
) -> None:
    files = [_write(tmp_path, "t.yaml", TEMPLATE), _write(tmp_path, "tenants.yaml", TENANTS + f"      {row}\n")]
    assert _problems_both_ways(files, monkeypatch)


def test_a_problem_found_after_rendering_points_into_a_stamped_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The builder's problems (here: one inbox declared by two tenants) ask the stamped tenant's
    positions, which are worked out then."""
    template = TEMPLATE.replace('"${tenant}@agentmail.to":', '"${nick}@agentmail.to":')
    tenants = TENANTS.replace("globex: {company: Globex,", "globex: {company: Globex, nick: Ac,")
    files = [_write(tmp_path, "t.yaml", template), _write(tmp_path, "tenants.yaml", tenants)]
    (problem,) = [p for p in _problems_both_ways(files, monkeypatch) if "already declared" in p.message]
    assert (Path(problem.file).name, problem.line) == ("tenants.yaml", 5)
    assert "ac@agentmail.to" in problem.message and "rendering tenant `globex`" in problem.message


def test_a_list_item_that_is_not_text_where_text_goes_is_located_as_carefully(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """List items that are not text (a number, a boolean) are stamped as written, so the problem
    (event types are text) is found after rendering and located like the careful renderer's."""
    template = TEMPLATE + (
        "      webhooks:\n"
        "        events: {url: 'https://h.example/${tenant}', event_types: [message.received, 42, true]}\n"
    )
    files = [_write(tmp_path, "t.yaml", template), _write(tmp_path, "tenants.yaml", TENANTS)]
    problems = _problems_both_ways(files, monkeypatch)
    assert any("`42` is not one of" in p.message and p.file.endswith("t.yaml") for p in problems)
