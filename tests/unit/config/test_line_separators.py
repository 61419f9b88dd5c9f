"""U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR and U+0085 NEXT LINE are line breaks to YAML
1.1 (mailctl's reader) and not to YAML 1.2, editors, `wc -l`, git or GitHub annotations. Left to
the reader, one put every later problem a line too low, turned the rest of a comment into YAML (a
syntax error at a line the file does not have) and made a NEL in a quoted value a space. Each one
is refused where it stands, counted in editor lines, and the rest of the file is still checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from config_dir import ConfigDir

from mailctl.cli.main import cli

SEPARATORS = {"LS": "\u2028", "PS": "\u2029", "NEL": "\u0085"}
NAMES = {"\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR", "\u0085": "NEXT LINE"}


def refusal(where: str, char: str) -> str:
    code = f"{ord(char):04x}"
    return (
        f"{where}: the character U+{code.upper()} ({NAMES[char]}) is a line break to YAML 1.1 but not to "
        f"YAML 1.2 or editors, so lines would be counted apart: delete it, or write `\\u{code}` "
        "in a double-quoted value"
    )


@pytest.mark.parametrize("char", SEPARATORS.values(), ids=SEPARATORS.keys())
def test_a_separator_in_a_quoted_value_is_refused_and_later_lines_stay_in_place(cfg: ConfigDir, char: str) -> None:
    cfg.write("c.yaml", f'version: 1\npods:\n  tenant-a:\n    name: "Acme{char}Corp"\n    bogus: 1\n')
    refused, bogus = cfg.problems("c.yaml")
    assert refused == refusal("c.yaml:4:16", char)
    assert bogus.startswith("c.yaml:5:5: pods.tenant-a.bogus: unknown field `bogus`")


@pytest.mark.parametrize("char", SEPARATORS.values(), ids=SEPARATORS.keys())
def test_a_separator_in_a_comment_is_refused_at_its_line_not_a_syntax_error(cfg: ConfigDir, char: str) -> None:
    cfg.write("c.yaml", f"version: 1\npods:\n  tenant-a:\n    name: Acme  # a note{char}more: [of the note\n")
    assert cfg.problems("c.yaml") == [refusal("c.yaml:4:25", char)]


def test_every_separator_is_located_in_editor_lines_and_columns(cfg: ConfigDir) -> None:
    cfg.write(
        "c.yaml",
        "version: 1\u2028\npods:\n  tenant-a:\u2029\n    name: \u0085Acme\n"
        "    inboxes:\n      x@agentmail.to: {bad: 1}\n",
    )
    problems = cfg.problems("c.yaml")
    assert [p.split(": ", 1)[0] for p in problems] == ["c.yaml:1:11", "c.yaml:3:12", "c.yaml:4:11", "c.yaml:6:24"]
    assert problems[-1].startswith("c.yaml:6:24: pods.tenant-a.inboxes.x@agentmail.to.bad: unknown field `bad`")


def test_a_double_quoted_escape_of_a_separator_is_kept(cfg: ConfigDir) -> None:
    cfg.write("c.yaml", 'version: 1\npods:\n  tenant-a:\n    name: "Acme\\u2028Corp\\u0085"\n')
    assert cfg.load("c.yaml").resources["pod/tenant-a"].attrs["name"] == "Acme\u2028Corp\u0085"


def test_validate_names_the_character_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("version: 1\npods:\n  tenant-a:\n    name: Acme  # a\u2028note\n", encoding="utf-8")
    run = CliRunner().invoke(cli, ["validate", "-f", str(path)])
    assert run.exit_code == 1
    assert f"{path}:4:20: the character U+2028 (LINE SEPARATOR)" in run.output
    assert "syntax error" not in run.output and f"{path}:5:" not in run.output
