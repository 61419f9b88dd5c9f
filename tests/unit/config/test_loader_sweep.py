"""Lines of ``config/loader.py`` that the mutation sweep found unpinned
(``.ci/mutate.py --worktree --sweep src/mailctl/config/loader.py tests/unit/config/test_config_load.py
tests/unit/config/test_config_bad_corpus.py tests/unit/config/test_yaml_compose_paths.py
tests/unit/config/test_yaml_scalar_traps.py tests/unit/config/test_load_fast_path.py
tests/unit/config/test_names_end_where_they_end.py tests/unit/config/test_webhook_headers_config.py
tests/unit/config/test_config_mixed_repos.py tests/unit/config/test_config_input_hazards.py``, and
again with this file alone for the survivors). Each test names the statement whose deletion (or
``if`` negated) it catches. The survivors left are equivalent: the early and final ``return None``
of ``yaml12_number`` (nothing after them matches); ``path = tuple(path)`` in ``mark``/``note`` (every
caller passes a tuple); the libyaml fast paths of ``_compose`` and the probe that enables one (the
pure-Python composer behind them answers the same); the ``__init__`` calls of the libyaml loaders
(composition uses neither the constructor's state nor path resolvers); ``loader.dispose()``, the
``assert``, the final ``return False``, and two unreachable guards (``RecursionError``: composition
stops at MAX_DEPTH; the ``except`` of ``_spelling``: ``repr`` of a number always constructs).

Then the error-reporting expressions were mutated by hand (a comparison, a bound, a position
offset): the tests after ``# --- by hand`` name the expression each one catches. Config is
written into ``tmp_path`` and loaded as ``mailctl validate`` loads it (``mailctl.config.load``),
or parsed by the loader's own entry points (``parse_text``, ``read_document``) where a user
cannot reach the line without a race."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from config_dir import ConfigDir

from mailctl.config.loader import MAX_FILE_BYTES, Document, parse_text, read_document
from mailctl.resources import Source

BOX = "pod/p/inbox/a@agentmail.to"


def inbox(metadata: str) -> str:
    return f"version: 1\npods:\n  p:\n    inboxes:\n      a@agentmail.to: {{metadata: {metadata}}}\n"


def metadata(cfg: ConfigDir, text: str) -> object:
    cfg.write("m.yaml", inbox(text))
    return cfg.load("m.yaml").resources[BOX].attrs["metadata"]


# --- yaml12_number ---------------------------------------------------------------------------------


def test_a_yaml12_octal_is_reported_as_a_number_to_other_tools(cfg: ConfigDir) -> None:
    """Pins ``return int(text[2:], 8)`` in ``yaml12_number``: `0o17` is text to mailctl (YAML 1.1)
    but 15 to YAML 1.2 editors; without the line it passed as text unreported."""
    cfg.write("m.yaml", inbox("{o: 0o17}"))
    assert cfg.problems("m.yaml") == [
        "m.yaml:5:38: pods.p.inboxes.a@agentmail.to.metadata.o: `0o17` is text in YAML 1.1 but the number 15 "
        "in YAML 1.2: quote it, or write 15"
    ]


def test_a_hex_number_both_yaml_versions_read_alike_is_accepted(cfg: ConfigDir) -> None:
    """Pins ``return int(text[2:], 16)`` in ``yaml12_number``: `0x1F` is 31 to both YAML versions;
    without the line it was refused as "the number 31 in YAML 1.1 but text in YAML 1.2"."""
    assert metadata(cfg, "{h: 0x1F}") == {"h": 31}


# --- Document.mark: the nearest ancestor ----------------------------------------------------------


def test_a_problem_below_what_was_written_is_placed_at_the_nearest_ancestor() -> None:
    """Pins the walk up in ``Document.mark`` (``path = path[:-1]``, and ``if not path`` not
    returning 1:1 early): a problem about a field that is not written (a missing one, or below a
    value) is placed where its nearest written ancestor is, not at 1:1, and keeps its own path."""
    doc, problems = parse_text("version: 1\npods:\n  a: {}\n", "m.yaml")
    assert doc is not None and problems == []
    assert str(doc.problem(("pods", "a", "inboxes", "x"), "boom")) == "m.yaml:3:6: pods.a.inboxes.x: boom"
    assert str(doc.problem(("pods", "a", "inboxes"), "boom", key=True)) == "m.yaml:3:3: pods.a.inboxes: boom"


def test_a_document_with_no_marks_places_problems_at_its_first_line() -> None:
    """Pins ``return Source(self.file, 1, 1)`` in ``Document.mark``: a document built without
    positions (the tenants renderer makes such) places every problem at 1:1 instead of looping."""
    assert Document("t.yaml", {}).mark(("pods", "a")) == Source("t.yaml", 1, 1)


def test_a_field_known_only_by_its_key_is_placed_at_its_key() -> None:
    """Pins ``if path in self.key_marks: return self.key_marks[path]`` after the value lookup in
    ``Document.mark``: a rendered tenant's pod has the position of its key only (the tenant's
    line); a problem about it was placed at its parent (`tenants:`) instead."""
    doc = Document("t.yaml", {}, key_marks={("pods", "t1"): Source("t.yaml", 4, 3)})
    doc.value_marks[("pods",)] = Source("t.yaml", 3, 1)
    assert str(doc.problem(("pods", "t1"), "boom")) == "t.yaml:4:3: pods.t1: boom"


# --- read_document ---------------------------------------------------------------------------------


def test_a_fifo_swapped_in_for_a_config_file_is_reported_not_read(tmp_path: Path) -> None:
    """Pins ``return None, [... not a regular file ...]`` in ``read_document``: a file the
    directory walk listed as regular but which is a FIFO by the time it is read (or one passed
    to the reader directly) is a located problem, not a crash on the bytes never read."""
    os.mkfifo(tmp_path / "m.yaml")
    doc, problems = read_document(str(tmp_path / "m.yaml"))
    assert doc is None
    assert [str(p) for p in problems] == [
        f"{tmp_path}/m.yaml:1:1: not a regular file (a FIFO): pass a config file or a directory"
    ]


def test_a_dangling_link_in_a_config_directory_is_a_located_problem(cfg: ConfigDir) -> None:
    """Pins ``return None, [... cannot read file ...]`` in ``read_document``: a link to nothing
    among the config files is named with why it cannot be read (files.py leaves it to the reader)."""
    cfg.write("mailctl.yaml", "version: 1\npods: {a: {}}\n")
    (cfg.root / "broken.yaml").symlink_to(cfg.root / "gone.yaml")
    assert cfg.problems(".") == ["broken.yaml:1:1: cannot read file: No such file or directory"]


def test_a_file_over_the_size_limit_is_refused_unparsed(cfg: ConfigDir) -> None:
    """Pins ``return None, [... file is larger than ...]`` in ``read_document``: a file of one
    byte more than MAX_FILE_BYTES is refused as a whole (without the line its first
    MAX_FILE_BYTES + 1 bytes were parsed as if they were the file)."""
    head = "version: 1\npods: {a: {}}\n"
    cfg.write("m.yaml", head + "#" * (MAX_FILE_BYTES - len(head)) + "\n")
    assert os.path.getsize(cfg.root / "m.yaml") == MAX_FILE_BYTES + 1
    assert cfg.problems("m.yaml") == [f"m.yaml:1:1: file is larger than {MAX_FILE_BYTES} bytes"]


# --- without libyaml -------------------------------------------------------------------------------


def test_without_libyaml_the_pure_python_parser_reports_the_same(tmp_path: Path) -> None:
    """Pins ``return None`` on ImportError in ``_fast_loader`` and ``_composing_loader``: on a
    Python whose PyYAML has no libyaml, mailctl still loads config (and reports its problems);
    without those lines importing the loader failed with a NameError."""
    config = tmp_path / "m.yaml"
    config.write_text("version: 1\npods:\n  a: {name: x}\n  b: &x {}\n")
    script = "import sys; sys.modules['yaml._yaml'] = None\nfrom mailctl.cli.main import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", script, "validate", "-f", str(config)], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert (
        done.stderr.splitlines()[-1]
        == f"{config}:4:6: pods.b: YAML anchors (`&x`) are not supported: remove the anchor"
    )


# --- the walk --------------------------------------------------------------------------------------


def test_a_list_with_a_custom_tag_is_reported_at_the_list(cfg: ConfigDir) -> None:
    """Pins ``self.report(path, "YAML tag ... is not supported")`` for a sequence in
    ``_Walker.value``: `!foo [1]` was loaded as the list [1] without a word."""
    cfg.write("m.yaml", inbox("{t: !foo [1]}"))
    assert cfg.problems("m.yaml") == [
        "m.yaml:5:38: pods.p.inboxes.a@agentmail.to.metadata.t: YAML tag `!foo` is not supported"
    ]


def test_a_lone_surrogate_value_is_named_by_its_own_code(cfg: ConfigDir) -> None:
    """Pins ``node.value = _escape_surrogates(node.value)`` in ``_Walker.value``: the message
    names the surrogate written (`\\udc00`), not a stand-in `\\ud800`."""
    cfg.write("m.yaml", inbox('"\\udc00"'))
    assert cfg.problems("m.yaml") == [
        "m.yaml:5:34: pods.p.inboxes.a@agentmail.to.metadata: `\\udc00` is a lone UTF-16 surrogate, which cannot "
        "be encoded as UTF-8: write the character itself, or its full code point (like `\\U0001F600`)"
    ]


def test_a_merge_key_is_reported_alone_and_its_value_left_out(cfg: ConfigDir) -> None:
    """Pins ``continue`` after a key ``_Walker.key`` refuses (``if key is None``): the merge key's
    value was kept under a `None` key, and the schema then reported the mapping as a whole."""
    cfg.write("m.yaml", inbox("{<<: {a: 1}, b: 2}"))
    assert cfg.problems("m.yaml") == [
        "m.yaml:5:35: pods.p.inboxes.a@agentmail.to.metadata: YAML merge keys (`<<`) are not supported: "
        "write the fields out"
    ]


def test_a_duplicate_keys_value_is_neither_kept_nor_checked(cfg: ConfigDir) -> None:
    """Pins ``continue`` after the duplicate-key problem in ``_Walker.mapping``: the second value
    overwrote the first and its own problems were reported beside the duplicate."""
    cfg.write("m.yaml", inbox("{k: 1, k: 1e3}"))
    assert cfg.problems("m.yaml") == [
        "m.yaml:5:41: pods.p.inboxes.a@agentmail.to.metadata.k: duplicate key `k` (first at line 5)"
    ]


def test_the_value_of_a_non_text_key_is_still_checked(cfg: ConfigDir) -> None:
    """Pins ``return str(node.value)`` at the end of ``_Walker.key``: a key YAML reads as a number
    is reported and kept (as text), so the problems of its value are reported too."""
    cfg.write("m.yaml", inbox("{1: 1e3}"))
    assert cfg.problems("m.yaml") == [
        "m.yaml:5:35: pods.p.inboxes.a@agentmail.to.metadata.1: key `1` is read by YAML as a number, not text: "
        'quote it ("1")',
        "m.yaml:5:38: pods.p.inboxes.a@agentmail.to.metadata.1: `1e3` is text in YAML 1.1 but the number 1000.0 "
        "in YAML 1.2: quote it, or write 1000.0",
    ]


def test_a_text_value_with_a_custom_tag_is_reported_once_and_left_out(cfg: ConfigDir) -> None:
    """Pins ``self.report(... "YAML tag ... is not supported")`` and the ``return None`` after it
    in ``_Walker.scalar``: without them `!foo x` passed unreported, or was reported twice (the
    second time as "not a valid foo")."""
    cfg.write("m.yaml", inbox("{t: !foo x}"))
    assert cfg.problems("m.yaml") == [
        "m.yaml:5:38: pods.p.inboxes.a@agentmail.to.metadata.t: YAML tag `!foo` is not supported"
    ]


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("!!int x", "`x` is not a valid int"),
        (
            "9" * 5000,
            "`999999999999999999999...` (5000 digits) is larger than any number the API holds (a 64-bit float): "
            "quote it to keep it as text",
        ),
    ],
)
def test_an_integer_python_cannot_read_is_told_apart_from_a_malformed_one(
    cfg: ConfigDir, written: str, message: str
) -> None:
    """Pins the ``if`` on a constructor error in ``_Walker.scalar`` (an integer of more digits
    than int() reads, 4,300, is too large, not malformed): negated, the two messages swapped."""
    cfg.write("m.yaml", inbox(f"{{t: {written}}}"))
    assert cfg.problems("m.yaml") == [f"m.yaml:5:38: pods.p.inboxes.a@agentmail.to.metadata.t: {message}"]


def test_infinity_and_nan_are_reported_once_each(cfg: ConfigDir) -> None:
    """Pins ``self.report(... "is not a finite number")`` and the ``return None`` after it in
    ``_Walker.scalar``: without them `.inf` was accepted (the API cannot hold it), or reported a
    second time as a YAML 1.1 / 1.2 difference."""
    cfg.write("m.yaml", inbox("{t: -.Inf, n: .nan}"))
    assert cfg.problems("m.yaml") == [
        "m.yaml:5:38: pods.p.inboxes.a@agentmail.to.metadata.t: `-.Inf` is not a finite number",
        "m.yaml:5:48: pods.p.inboxes.a@agentmail.to.metadata.n: `.nan` is not a finite number",
    ]


def test_every_refused_value_is_left_out_of_the_document() -> None:
    """Pins ``return None`` after an integer no float holds in ``_Walker.scalar``: like an
    infinity or an unsupported tag, the refused value is not kept in the parsed data (it was
    kept as a 400-digit int), so nothing downstream reads a value already reported."""
    doc, problems = parse_text("a: " + "9" * 400 + "\nb: .inf\nc: !foo x\n", "m.yaml")
    assert doc is not None and doc.data == {"a": None, "b": None, "c": None}
    assert [(p.line, p.path) for p in problems] == [(1, "a"), (2, "b"), (3, "c")]


# --- by hand: bounds of the error-reporting paths ---------------------------------------------------


def test_a_file_of_exactly_the_size_limit_is_read(cfg: ConfigDir) -> None:
    """Pins ``len(raw) > MAX_FILE_BYTES`` in ``read_document`` (not ``>=``): the limit is the
    largest size read, so a file of exactly MAX_FILE_BYTES loads."""
    head = "version: 1\npods: {a: {}}\n"
    cfg.write("m.yaml", head + "#" * (MAX_FILE_BYTES - len(head) - 1) + "\n")
    assert os.path.getsize(cfg.root / "m.yaml") == MAX_FILE_BYTES
    assert list(cfg.load("m.yaml").resources) == ["pod/a"]


def test_exactly_three_anchors_and_aliases_are_each_reported_without_a_summary() -> None:
    """Pins ``len(self.aliases) > _MAX_ALIAS_REPORTS`` in ``summarise_aliases`` (not ``>=``):
    three are reported one by one, and no "0 more" line follows; of five, the two beyond three
    are counted, placed at the fourth."""
    _, problems = parse_text("a: &x 1\nb: *x\nc: *x\n", "m.yaml")
    assert [str(p) for p in problems] == [
        "m.yaml:1:4: a: YAML anchors (`&x`) are not supported: remove the anchor",
        "m.yaml:2:4: b: YAML aliases (`*x`) are not supported: write the value out",
        "m.yaml:3:4: c: YAML aliases (`*x`) are not supported: write the value out",
    ]
    _, problems = parse_text("a: &x 1\nb: *x\nc: *x\nd: *x\ne: *x\n", "m.yaml")
    assert str(problems[-1]) == "m.yaml:4:4: d: 2 more YAML anchors and aliases in this file (none are expanded)"


def test_a_value_is_quoted_whole_up_to_24_characters_and_shortened_beyond(cfg: ConfigDir) -> None:
    """Pins ``len(text) <= _SHORTENED + 3`` in ``_shortened``: a value no longer than its
    shortened form (21 characters and `...`) is quoted whole, a longer one cut to 21."""
    cfg.write("m.yaml", inbox("{t: !!int " + "x" * 24 + ", u: !!int " + "x" * 25 + "}"))
    assert cfg.problems("m.yaml") == [
        f"m.yaml:5:38: pods.p.inboxes.a@agentmail.to.metadata.t: `{'x' * 24}` is not a valid int",
        f"m.yaml:5:73: pods.p.inboxes.a@agentmail.to.metadata.u: `{'x' * 21}...` is not a valid int",
    ]


def test_libyaml_and_the_python_composer_draw_the_depth_limit_at_the_same_level() -> None:
    """Pins ``depth >= MAX_DEPTH`` in ``_nested_too_deep`` (not ``>``): text without `&` is
    composed by libyaml, and a collection at the 40th level must send it to the Python composer,
    which refuses it; with ``>`` the fast path accepted what the slow path (any `&`) refuses."""
    assert parse_text("a: " + "[" * 38 + "1" + "]" * 38 + "\n", "m.yaml")[1] == []
    for text in ("a: " + "[" * 39 + "1" + "]" * 39 + "\n", "a: &x " + "[" * 39 + "1" + "]" * 39 + "\n"):
        doc, problems = parse_text(text, "m.yaml")
        assert doc is None
        assert [str(p) for p in problems] == [f"m.yaml:1:{text.index('1') + 1}: nested more than 40 levels deep"]


# --- by hand: defects, fixed (huge values in messages, tagged empty values, `headers: no`) -----------


def test_a_huge_yaml12_octal_is_a_located_problem_not_a_traceback(cfg: ConfigDir) -> None:
    """Was a traceback (found feeding huge values by hand): ``repr`` of the number, in the message
    and its suggested spelling, which Python refuses past 4,300 digits; octal, unlike decimal, is
    read by int() at any length. Such a number is now "larger than any the API holds"."""
    cfg.write("m.yaml", inbox("{t: 0o" + "7" * 6000 + "}"))
    [problem] = cfg.problems("m.yaml")
    assert problem.startswith("m.yaml:5:38: pods.p.inboxes.a@agentmail.to.metadata.t: `0o7777777777777777777...`")
    assert "quote it" in problem and len(problem) < 400


def test_a_yaml12_octal_no_float_holds_is_not_given_a_spelling(cfg: ConfigDir) -> None:
    """Was a message quoting hundreds of digits and suggesting the user write them (found feeding
    huge values by hand), a number mailctl then refuses as larger than the API holds."""
    cfg.write("m.yaml", inbox("{t: 0o" + "7" * 400 + "}"))
    [problem] = cfg.problems("m.yaml")
    assert "or write" not in problem and len(problem) < 400


def test_a_huge_hex_integer_is_reported_with_its_own_digit_count(cfg: ConfigDir) -> None:
    """Was "(1 digits)" (found feeding huge values by hand): ``_too_large`` counted decimal digit
    characters only; now the digits as written, without sign and base prefix."""
    cfg.write("m.yaml", inbox("{t: 0x" + "f" * 300 + "}"))
    [problem] = cfg.problems("m.yaml")
    assert "(300 digits)" in problem


def test_a_yaml11_boolean_for_a_webhooks_headers_is_a_located_problem(cfg: ConfigDir) -> None:
    """Was a TypeError traceback (found feeding YAML 1.1 booleans by hand): the loader reports
    `no` and keeps it as False; the schema problem at the same position was skipped as reported
    already, and so the document counted as valid and was built. A skipped problem now still
    makes its document invalid (and here, where no reading of `no` is a mapping, the schema's
    problem is the one shown)."""
    cfg.write(
        "m.yaml",
        "version: 1\nwebhooks:\n  w:\n    url: https://x.example/h\n    event_types: [message.received]\n"
        "    headers: no\n",
    )
    [problem] = cfg.problems("m.yaml")
    assert problem == "m.yaml:6:14: webhooks.w.headers: expected a mapping, got a boolean (the value is not shown)"


def test_a_value_right_as_text_but_read_as_a_boolean_is_reported_once_as_the_reader_sees_it(cfg: ConfigDir) -> None:
    """A display name written `no`: the schema's "expected text" at the same position is left out
    (quoting it, as the YAML reader's problem says, makes it right)."""
    cfg.write("m.yaml", inbox("{}").replace("{metadata: {}}", "{display_name: no}"))
    [problem] = cfg.problems("m.yaml")
    assert problem.startswith("m.yaml:5:38: pods.p.inboxes.a@agentmail.to.display_name: `no` is a boolean")


@pytest.mark.parametrize("written", ['!!int ""', "!!int -", '!!float ""', '!!bool ""'])
def test_an_empty_tagged_number_or_boolean_is_a_located_problem(cfg: ConfigDir, written: str) -> None:
    """Was an IndexError or KeyError traceback out of PyYAML's constructors (found mutating the
    ``if`` on a constructor error in ``_Walker.scalar`` by hand)."""
    cfg.write("m.yaml", inbox(f"{{t: {written}}}"))
    [problem] = cfg.problems("m.yaml")
    assert problem.startswith("m.yaml:5:38: pods.p.inboxes.a@agentmail.to.metadata.t: ")
    kind = written.split()[0].removeprefix("!!")
    value = "the empty value" if written.endswith('""') else "`-`"
    assert problem.endswith(f": {value} is not a valid {kind}")  # never "`` is not a valid ..."
