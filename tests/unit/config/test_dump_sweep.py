"""What config/dump.py promises, pinned where a mutation sweep found no test depending on it:
`mailctl render` merges files into one config that loads the same, and `dump_yaml` (render,
export, import) writes YAML people can review and mailctl reads back."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from mailctl.cli.main import cli
from mailctl.config import load
from mailctl.config.dump import dump_yaml


def _render(tmp_path: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["render", *(a for name in files for a in ("-f", str(tmp_path / name)))])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_render_merges_prefixes_and_globs_given_in_several_files(tmp_path: Path) -> None:
    out = _render(
        tmp_path,
        {
            "a.yaml": "version: 1\nmanage:\n  pods: {client_id_prefix: a-}\n  ignore: [pod/x-*]\npods:\n  a-1: {}\n",
            "b.yaml": "version: 1\nmanage:\n  pods: {client_id_prefix: [b-, a-]}\n  ignore: [pod/y-*]\n",
        },
    )
    body = out.split("\n", 3)[3]  # after the title and the two `# from` lines
    assert body == (
        "version: 1\n"
        "manage:\n"
        "  pods:\n"
        "    client_id_prefix:\n"
        "    - a-\n"
        "    - b-\n"
        "  ignore:\n"
        "  - pod/x-*\n"
        "  - pod/y-*\n"
        "pods:\n"
        "  a-1: {}\n"
    )


def test_render_writes_a_setting_given_alike_in_two_files_once(tmp_path: Path) -> None:
    out = _render(
        tmp_path,
        {
            "a.yaml": "version: 1\nsettings:\n  safety: {min_existing: 5}\n",
            "b.yaml": "version: 1\nsettings:\n  safety: {min_existing: 5, max_change_fraction: 0.5}\n",
        },
    )
    assert yaml.safe_load(out) == {
        "version": 1,
        "settings": {"safety": {"min_existing": 5, "max_change_fraction": 0.5}},
    }


def test_render_keeps_the_moved_blocks_of_every_file_in_order(tmp_path: Path) -> None:
    out = _render(
        tmp_path,
        {
            "a.yaml": "version: 1\nmoved:\n- {from: api_key/a0, to: api_key/a1}\napi_keys: {a1: {}}\n",
            "b.yaml": "version: 1\nmoved:\n- {from: api_key/b0, to: api_key/b1}\napi_keys: {b1: {}}\n",
        },
    )
    assert yaml.safe_load(out)["moved"] == [
        {"from": "api_key/a0", "to": "api_key/a1"},
        {"from": "api_key/b0", "to": "api_key/b1"},
    ]


def test_render_merges_list_entries_written_as_a_list_and_as_a_mapping(tmp_path: Path) -> None:
    out = _render(
        tmp_path,
        {
            "a.yaml": "version: 1\nlists:\n  send: {block: [x.example, y.example]}\n",
            "b.yaml": "version: 1\nlists:\n  send: {block: {w.example: {reason: r}, z.example: }}\n",
        },
    )
    block = yaml.safe_load(out)["lists"]["send"]["block"]
    assert block == {"x.example": None, "y.example": None, "w.example": {"reason": "r"}, "z.example": None}


def test_render_names_every_file_it_merged_and_loads_the_same(tmp_path: Path) -> None:
    files = {
        "a.yaml": "version: 1\npods:\n  t-1: {name: One}\n",
        "b.yaml": "version: 1\npods:\n  t-2: {name: Two}\n",
    }
    out = _render(tmp_path, files)
    assert out.splitlines()[:3] == [
        "# Rendered by `mailctl render`: templates expanded, files merged.",
        f"# from {tmp_path / 'a.yaml'}",
        f"# from {tmp_path / 'b.yaml'}",
    ]
    (tmp_path / "rendered.yaml").write_text(out, encoding="utf-8")
    again = load([str(tmp_path / "rendered.yaml")]).resources
    assert {a: r.attrs for a, r in again.items()} == {
        a: r.attrs for a, r in load([str(tmp_path / n) for n in files]).resources.items()
    }


def test_a_value_shared_by_two_places_is_written_twice_never_as_an_alias() -> None:
    shared = {"name": "Same"}
    text = dump_yaml({"version": 1, "pods": {"p-1": shared, "p-2": shared}})
    assert "&" not in text and "*" not in text
    assert text == "version: 1\npods:\n  p-1:\n    name: Same\n  p-2:\n    name: Same\n"


def test_text_after_an_escaped_string_is_still_written_readable() -> None:
    # A hidden character is written escaped; the non-ASCII text after it stays as written.
    text = dump_yaml({"pods": {"p\u202e": {"name": "caf\u00e9"}, "q": {"name": "caf\u00e9"}}})
    assert text == 'pods:\n  "p\\u202E":\n    name: café\n  q:\n    name: café\n'


def test_a_noncharacter_is_written_escaped_and_reads_back_the_same() -> None:
    # U+FFFF prints as nothing: the string is double-quoted with its non-ASCII escaped, as for
    # every hidden character, and YAML reads back what was written.
    text = dump_yaml({"name": "caf\u00e9\uffff"})
    assert text == 'name: "caf\\xE9\\uFFFF"\n'
    assert yaml.safe_load(text) == {"name": "caf\u00e9\uffff"}
