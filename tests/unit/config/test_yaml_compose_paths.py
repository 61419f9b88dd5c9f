"""A file without anchors is composed by libyaml (``loader._ComposingLoader``); it must read
exactly as the Python composer reads it: the same data, positions and problems, nesting limit
included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mailctl.config import loader

REPO = Path(__file__).resolve().parents[3]
CORPUS = sorted(
    [*REPO.glob("tests/fixtures/**/*.yaml"), *REPO.glob("examples/**/*.yaml"), *REPO.glob("examples/**/*.yml")]
)

pytestmark = pytest.mark.skipif(loader._ComposingLoader is None, reason="libyaml is not installed")


def _read(text: str, monkeypatch: pytest.MonkeyPatch, *, libyaml: bool) -> Any:
    with monkeypatch.context() as patch:
        if not libyaml:
            patch.setattr(loader, "_ComposingLoader", None)
        doc, problems = loader.parse_text(text, "f.yaml")
    return (None if doc is None else (doc.data, doc.key_marks, doc.value_marks), [str(p) for p in problems])


def test_the_corpus_reads_the_same_composed_by_libyaml_or_python(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(CORPUS) > 50
    for path in CORPUS:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        assert _read(text, monkeypatch, libyaml=True) == _read(text, monkeypatch, libyaml=False), path


def test_an_anchor_free_file_is_composed_by_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[Any] = []
    compose = loader._compose_with
    monkeypatch.setattr(loader, "_compose_with", lambda kind, text: used.append(kind) or compose(kind, text))
    loader.parse_text("version: 1\npods:\n  a: {name: A}\n", "f.yaml")
    assert used == [loader._ComposingLoader]
    used.clear()
    loader.parse_text("version: 1\npods:\n  a: &x {name: A}\n  b: *x\n", "f.yaml")
    assert loader._ComposingLoader not in used  # an anchor: the composer that reports aliases


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\npods:\n  a:\n    metadata: " + "[" * 45 + "]" * 45 + "\n",
        "version: 1\nx:\n" + "".join(" " * (2 * i + 2) + f"k{i}:\n" for i in range(45)) + " " * 92 + "v\n",
        "version: 1\nx: " + "[" * 36 + "]" * 36 + "\n",  # just under the limit: read, not refused
    ],
)
def test_nesting_past_the_limit_is_refused_as_before(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _read(text, monkeypatch, libyaml=True)
    assert fast == _read(text, monkeypatch, libyaml=False)
    deep = "[" * 45 in text or "k44" in text
    assert any("nested more than 40 levels deep" in p for p in fast[1]) == deep
