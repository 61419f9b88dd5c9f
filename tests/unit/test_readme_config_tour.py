"""The README's tour of the config shows examples/basic/mailctl.yaml: the same text, so that what a
newcomer reads is what the quick start applies."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_shows_examples_basic_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    marker = "[`examples/basic/mailctl.yaml`](examples/basic/mailctl.yaml):\n\n```yaml\n"
    start = readme.index(marker) + len(marker)
    shown = readme[start : readme.index("```\n", start)]
    assert shown == (ROOT / "examples" / "basic" / "mailctl.yaml").read_text(encoding="utf-8")
