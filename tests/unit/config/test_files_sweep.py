"""Lines of ``config/files.py`` (which ``-f`` paths become config files) that the mutation sweep
found unpinned (``.ci/mutate.py --worktree --sweep src/mailctl/config/files.py
tests/unit/config/test_config_mixed_repos.py tests/unit/config/test_config_load.py
tests/unit/config/test_config_validate_cmd.py tests/unit/config/test_load_fast_path.py
tests/unit/config/test_config_input_hazards.py``, and again with this file alone for the
survivors). Each test names the statement whose deletion (or ``if`` negated) it catches; the
tests after ``# --- by hand`` name an expression mutated by hand. One survivor is equivalent:
``if not keys: return ...`` in ``foreign_reason`` (``_only_metadata`` gives the same answer).

Directories are built in ``tmp_path``; what a user sees is what ``expand_paths`` returns: the
files read, each file skipped with its warning (``str(Skipped)``, as printed on stderr), and the
located problems; or, where the file is read, the load's own problems."""

from __future__ import annotations

import os
from pathlib import Path

from config_dir import ConfigDir

from mailctl.config.files import expand_paths, foreign_reason

CONFIG = "version: 1\npods: {a: {}}\n"


def expanded(*paths: Path) -> tuple[list[str], list[str], list[str]]:
    """(files read, warnings, problems), with the directory holding the first path left out."""
    found = expand_paths([str(p) for p in paths])
    root = f"{paths[0].parent}/"
    return (
        [f.replace(root, "") for f in found.files],
        [str(s).replace(root, "") for s in found.skipped],
        [str(p).replace(root, "") for p in found.problems],
    )


def test_a_dangling_link_alone_in_a_directory_is_handed_to_the_reader(cfg: ConfigDir) -> None:
    """Pins ``found.append(file)`` and ``continue`` for a file ``os.stat`` cannot follow in
    ``_yaml_files_under``, and ``except OSError: return None`` in ``foreign_reason``: a link to
    nothing is not dropped silently (nor does the walk crash on it), the reader names it."""
    (cfg.root / "conf").mkdir()
    (cfg.root / "conf" / "broken.yaml").symlink_to(cfg.root / "gone.yaml")
    assert cfg.problems("conf") == ["conf/broken.yaml:1:1: cannot read file: No such file or directory"]


def test_two_links_to_one_directory_read_it_once_and_name_the_second(tmp_path: Path) -> None:
    """Pins ``searched.append(target)`` in ``_follows``: a linked directory, once followed, is
    searched; a second link to it, or a link inside it back to itself, is skipped with a warning
    (without the line both were followed, silently, and the self-link looped)."""
    conf, shared = tmp_path / "conf", tmp_path / "shared"
    conf.mkdir(), shared.mkdir()
    (conf / "mailctl.yaml").write_text(CONFIG)
    (shared / "s.yaml").write_text("version: 1\npods: {b: {}}\n")
    (conf / "one").symlink_to(shared)
    (conf / "two").symlink_to(shared)
    (shared / "self").symlink_to(shared)
    files, warnings, problems = expanded(conf)
    assert files == ["conf/mailctl.yaml", "conf/one/s.yaml"]
    assert warnings == [
        "warning: skipped conf/two: a link to shared, a directory already searched",
        "warning: skipped conf/one/self: a link to shared, a directory already searched",
    ]
    assert problems == []


def test_a_fifo_swapped_in_after_the_listing_is_skipped_unopened(tmp_path: Path) -> None:
    """Pins ``return f"{exc.kind}, not a regular file (never opened)"`` in ``foreign_reason``:
    a file the walk listed as regular but that is a FIFO when it is sniffed is reported as one
    (read non-blocking, so never waited on), not a crash on text never read."""
    os.mkfifo(tmp_path / "x.yaml")
    assert foreign_reason(str(tmp_path / "x.yaml")) == "a FIFO, not a regular file (never opened)"


def test_a_file_of_mailctl_keys_without_version_or_kind_is_read(tmp_path: Path) -> None:
    """Pins ``if "kind" not in keys: return None`` in ``_foreign_kind``: a file whose every
    top-level key is mailctl's, with no ``kind:`` (and no ``version:``), is read, so the loader
    reports what it lacks; without the line sniffing it crashed on the missing `kind`."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "mailctl.yaml").write_text(CONFIG)
    (conf / "b.yaml").write_text("pods: {b: {}}\n")
    assert expanded(conf) == (["conf/b.yaml", "conf/mailctl.yaml"], [], [])


def test_a_file_of_only_name_and_description_is_skipped_with_a_warning(tmp_path: Path) -> None:
    """Pins the message ``_only_metadata`` returns: `name:` and `description:` are mailctl keys,
    but other tools' files have them too; a file with nothing else is another tool's."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "mailctl.yaml").write_text(CONFIG)
    (conf / "meta.yaml").write_text("name: thing\ndescription: another tool's\n")
    assert expanded(conf) == (
        ["conf/mailctl.yaml"],
        ["warning: skipped conf/meta.yaml: no mailctl top-level key (not a mailctl file)"],
        [],
    )


# --- by hand ---------------------------------------------------------------------------------------


def test_a_link_to_a_sibling_whose_name_extends_a_searched_ones_is_followed(tmp_path: Path) -> None:
    """Pins ``+ os.sep`` in ``_within``: `shared-more` is not inside `shared`; compared as a bare
    prefix, the link to it was skipped as "already searched" and its pods looked undeclared."""
    conf = tmp_path / "conf"
    for name in ("conf", "shared", "shared-more"):
        (tmp_path / name).mkdir()
    (conf / "mailctl.yaml").write_text(CONFIG)
    (tmp_path / "shared" / "s.yaml").write_text("version: 1\npods: {b: {}}\n")
    (tmp_path / "shared-more" / "t.yaml").write_text("version: 1\npods: {c: {}}\n")
    (conf / "one").symlink_to(tmp_path / "shared")
    (conf / "two").symlink_to(tmp_path / "shared-more")
    assert expanded(conf) == (["conf/mailctl.yaml", "conf/one/s.yaml", "conf/two/t.yaml"], [], [])


def test_up_to_five_foreign_keys_are_named_and_more_are_cut_with_an_ellipsis(tmp_path: Path) -> None:
    """Pins ``foreign[:5]`` and ``len(foreign) > 5`` in ``_foreign_keys``: five keys are all
    named, without `...`; of six, the first five are named, then `...`."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "mailctl.yaml").write_text(CONFIG)
    (conf / "five.yaml").write_text("a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n")
    (conf / "six.yaml").write_text("a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nf: 6\n")
    tail = "are not mailctl's (another tool's file; list it in .mailctlignore to silence this)"
    assert expanded(conf)[1] == [
        f"warning: skipped conf/five.yaml: top-level keys `a`, `b`, `c`, `d`, `e` {tail}",
        f"warning: skipped conf/six.yaml: top-level keys `a`, `b`, `c`, `d`, `e`, ... {tail}",
    ]


def test_a_directory_of_other_tools_files_counts_its_own_skips_only(tmp_path: Path) -> None:
    """Pins ``len(out.skipped) - skipped_before`` in ``_expand_directory``: with two directories
    given, the second's "no mailctl config files" counts the files skipped in it, not also those
    skipped in the first."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    (first / "mailctl.yaml").write_text(CONFIG)
    (first / "compose.yaml").write_text("services: {}\n")
    (second / "ci.yml").write_text("jobs: {}\n")
    files, warnings, problems = expanded(first, second)
    assert files == ["first/mailctl.yaml"] and len(warnings) == 2
    assert problems == ["second:1:1: no mailctl config files in this directory (1 other file skipped)"]


def test_version_and_kind_are_read_as_written_with_comments_and_quotes(tmp_path: Path) -> None:
    """Pins, in sniffing a file, ``.split("#")[0]`` and ``any(key in sections ...)`` in
    ``_declares_mailctl_version`` and the quotes ``_KIND_VALUE`` strips: `version: 1 # note`
    beside a mailctl section declares a config (its misspelt key is then the loader's error, not
    a skip); `version: 1` beside no mailctl section does not; `kind: "template"` is mailctl's."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "mailctl.yaml").write_text(CONFIG)
    (conf / "commented.yaml").write_text("version: 1 # mailctl\npods: {}\ndomian: {}\n")
    (conf / "compose.yaml").write_text("version: 1\nservices: {web: {}}\n")
    (conf / "quoted.yaml").write_text('kind: "template"\nname: x\n')
    (conf / "deploy.yaml").write_text("kind: 'Deployment'\n")
    files, warnings, problems = expanded(conf)
    assert files == ["conf/commented.yaml", "conf/mailctl.yaml", "conf/quoted.yaml"]
    assert warnings == [
        "warning: skipped conf/compose.yaml: top-level key `services` is not mailctl's (another tool's file; "
        "list it in .mailctlignore to silence this)",
        "warning: skipped conf/deploy.yaml: `kind: Deployment` is not a mailctl kind (another tool's file)",
    ]
    assert problems == []


def test_an_ignored_directory_is_not_entered_so_a_negation_below_it_reads_nothing(tmp_path: Path) -> None:
    """Pins the trailing ``/`` in ``ignored(f"{prefix}{d}/")``: a directory pattern (`vendor/`)
    excludes the directory itself, and, as in git, `!vendor/keep.yaml` cannot re-include a file in
    it; tested without the slash the walk entered `vendor` and read the file."""
    conf = tmp_path / "conf"
    (conf / "vendor").mkdir(parents=True)
    (conf / "mailctl.yaml").write_text(CONFIG)
    (conf / "vendor" / "keep.yaml").write_text("version: 1\npods: {z: {}}\n")
    (conf / ".mailctlignore").write_text("vendor/\n!vendor/keep.yaml\n")
    assert expanded(conf) == (["conf/mailctl.yaml"], [], [])


def test_a_link_loop_named_with_f_is_a_located_problem_naming_the_loop(tmp_path: Path) -> None:
    """Pins ``f"cannot read: {exc.strerror or exc}"`` in ``expand_paths``: a path ``os.stat``
    refuses for another reason than its absence says why."""
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    assert expanded(tmp_path / "loop1") == ([], [], ["loop1:1:1: cannot read: Too many levels of symbolic links"])


def test_the_schema_modeline_is_recognised_below_a_first_comment_line(tmp_path: Path) -> None:
    """Pins ``re.M`` in ``_MODELINE``: the modeline marks a file as mailctl's on any line (here
    below a header comment, over a flow mapping that has no key at column 0); matched at the
    start of the text only, the file was skipped as having no mailctl key."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "flow.yaml").write_text(
        "# header\n# yaml-language-server: $schema=../mailctl.schema.json\n{version: 1, pods: {b: {}}}\n"
    )
    assert expanded(conf) == (["conf/flow.yaml"], [], [])


def test_a_link_to_a_config_file_beside_it_is_read_once(tmp_path: Path) -> None:
    """Pins ``os.path.realpath`` in ``_unique``: the same file under two names (a link beside
    it) is read once; told apart by name, both were read and every pod declared twice."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "mailctl.yaml").write_text(CONFIG)
    (conf / "alias.yaml").symlink_to(conf / "mailctl.yaml")
    assert expanded(conf) == (["conf/alias.yaml"], [], [])
