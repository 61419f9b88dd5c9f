"""YAML-level traps the loader reports at the offending node: anchors, explicit tags, YAML 1.1's
`=`, numbers no float can hold, the spelling a suggestion gives, and webhook header values, which
no message ever quotes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from config_dir import ConfigDir

from mailctl.cli.main import cli

SECRET = "08123456789"


def inbox(metadata: str) -> str:
    return f"version: 1\npods:\n  p:\n    inboxes:\n      a@agentmail.to: {{metadata: {metadata}}}\n"


def webhook(value: str) -> str:
    return (
        "version: 1\nwebhooks:\n  w:\n    url: https://x.example/h\n    event_types: [message.received]\n"
        f"    headers: {{X-Token: {value}}}\n"
    )


# --- numbers ---------------------------------------------------------------------------------------


def test_an_integer_no_float_can_hold_is_refused_at_load(cfg: ConfigDir) -> None:
    # README: nothing that validates fails with a 400 at apply ("a number no float can hold").
    cfg.write("m.yaml", inbox("{big: " + "9" * 400 + ", neg: -" + "9" * 309 + "}"))
    assert cfg.problems("m.yaml") == [
        "m.yaml:5:40: pods.p.inboxes.a@agentmail.to.metadata.big: `999999999999999999999...` (400 digits) is "
        "larger than any number the API holds (a 64-bit float): quote it to keep it as text",
        "m.yaml:5:447: pods.p.inboxes.a@agentmail.to.metadata.neg: `-99999999999999999999...` (309 digits) is "
        "larger than any number the API holds (a 64-bit float): quote it to keep it as text",
    ]


def test_the_largest_integer_a_float_holds_is_accepted(cfg: ConfigDir) -> None:
    largest = int(1.7976931348623157e308)
    cfg.write("m.yaml", inbox(f"{{big: {largest}}}"))
    resource = cfg.load("m.yaml").resources["pod/p/inbox/a@agentmail.to"]
    assert resource.attrs["metadata"] == {"big": largest}


@pytest.mark.parametrize(
    ("written", "suggested"),
    [("1e-320", "1.0e-320"), ("1e300", "1.0e+300"), ("-2E5", "-200000.0"), ("1.5e3", "1500.0")],
)
def test_a_number_yaml_versions_read_apart_is_given_a_spelling_both_read_alike(
    cfg: ConfigDir, written: str, suggested: str
) -> None:
    cfg.write("m.yaml", inbox(f"{{h: {written}}}"))
    [problem] = cfg.problems("m.yaml")
    assert problem.endswith(f"quote it, or write {suggested}")
    cfg.write("m.yaml", inbox(f"{{h: {suggested}}}"))
    assert cfg.load("m.yaml").resources["pod/p/inbox/a@agentmail.to"].attrs["metadata"] == {"h": float(written)}


def test_a_yaml11_float_is_given_a_spelling_with_a_dot_and_a_signed_exponent(cfg: ConfigDir) -> None:
    cfg.write("m.yaml", inbox("{h: 1_0.0e+20}"))  # 1e+21 in YAML 1.1, text in 1.2
    [problem] = cfg.problems("m.yaml")
    assert problem.endswith("is the number 1e+21 in YAML 1.1 but text in YAML 1.2: write 1.0e+21, or quote it")


@pytest.mark.parametrize(("written", "reading"), [("1e309", "infinity"), ("-1.5e400", "minus infinity")])
def test_text_yaml12_reads_as_infinity_is_refused_like_any_other_number(
    cfg: ConfigDir, written: str, reading: str
) -> None:
    cfg.write("m.yaml", f"version: 1\npods:\n  tenant-a:\n    name: {written}\n")
    assert cfg.problems("m.yaml") == [
        f"m.yaml:4:11: pods.tenant-a.name: `{written}` is text in YAML 1.1 but {reading} in YAML 1.2: quote it"
    ]


def test_render_quotes_text_yaml12_reads_as_infinity(cfg: ConfigDir) -> None:
    cfg.write("m.yaml", 'version: 1\npods:\n  tenant-a:\n    name: "1e309"\n')
    run = CliRunner().invoke(cli, ["render", "-f", str(cfg.root / "m.yaml")])
    assert run.exit_code == 0, run.output
    assert "    name: '1e309'\n" in run.output
    cfg.write("again.yaml", run.output)
    assert cfg.load("again.yaml").resources["pod/tenant-a"].attrs["name"] == "1e309"


# --- tags, anchors and `=` -------------------------------------------------------------------------


def test_explicitly_tagged_text_is_text(cfg: ConfigDir) -> None:
    cfg.write("m.yaml", inbox("{a: !!str 123, b: !!str 1e3, c: !!str 017, !!str 5: x}"))
    metadata = cfg.load("m.yaml").resources["pod/p/inbox/a@agentmail.to"].attrs["metadata"]
    assert metadata == {"a": "123", "b": "1e3", "c": "017", "5": "x"}


def test_plain_text_yaml12_reads_as_a_number_is_still_reported(cfg: ConfigDir) -> None:
    cfg.write("m.yaml", inbox("{b: 1e3}"))
    [problem] = cfg.problems("m.yaml")
    assert "`1e3` is text in YAML 1.1 but the number 1000.0 in YAML 1.2" in problem


def test_an_anchor_without_an_alias_is_a_located_error(cfg: ConfigDir) -> None:
    cfg.write("m.yaml", "version: 1\npods: &p\n  a: {name: A}\n  b: !!map &q {name: B}\n")
    assert cfg.problems("m.yaml") == [
        "m.yaml:2:7: pods: YAML anchors (`&p`) are not supported: remove the anchor",
        "m.yaml:4:6: pods.b: YAML anchors (`&q`) are not supported: remove the anchor",
    ]


def test_an_anchored_key_is_a_located_error(cfg: ConfigDir) -> None:
    cfg.write("m.yaml", "version: 1\npods:\n  &k a: {name: A}\n")
    assert cfg.problems("m.yaml") == ["m.yaml:3:3: pods.a: YAML anchors (`&k`) are not supported: remove the anchor"]


def test_many_anchors_and_aliases_are_summarised_after_the_first_few(cfg: ConfigDir) -> None:
    cfg.write("m.yaml", "version: 1\npods:\n" + "".join(f"  p{i}: &a{i} {{name: N}}\n" for i in range(6)))
    problems = cfg.problems("m.yaml")
    assert len(problems) == 4
    assert problems[3] == "m.yaml:6:7: pods.p3: 3 more YAML anchors and aliases in this file (none are expanded)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            inbox("{h: =}"),
            "m.yaml:5:38: pods.p.inboxes.a@agentmail.to.metadata.h: `=` is YAML 1.1's value key "
            '(`!!value`), not text: quote it ("=")',
        ),
        (
            inbox("{=: h}"),
            "m.yaml:5:35: pods.p.inboxes.a@agentmail.to.metadata.=: key `=` is YAML 1.1's value key "
            '(`!!value`), not text: quote it ("=")',
        ),
    ],
    ids=["value", "key"],
)
def test_an_unquoted_equals_sign_is_asked_to_be_quoted(cfg: ConfigDir, text: str, expected: str) -> None:
    cfg.write("m.yaml", text)
    assert cfg.problems("m.yaml") == [expected]


# --- webhook header values are never quoted ----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [SECRET, "yes", "8123456789e1", "1_0.0e+20", "!!float 08123456789", "!!int x08123456789", "9" * 400 + SECRET],
)
def test_a_webhook_header_value_never_appears_in_a_message(cfg: ConfigDir, value: str) -> None:
    cfg.write("m.yaml", webhook(value))
    problems = cfg.problems("m.yaml")
    assert problems and all(p.startswith("m.yaml:6:24: webhooks.w.headers.X-Token: ") for p in problems)
    assert not any(SECRET in p or "8123456789" in p for p in problems), problems
    assert any("value is not shown)" in p for p in problems)


@pytest.mark.parametrize("where", ["pod", "inbox", "template"])
def test_header_values_are_hidden_at_every_scope(cfg: ConfigDir, where: str) -> None:
    hook = f"{{w: {{url: https://x.example/h, event_types: [message.received], headers: {{X-Token: {SECRET}}}}}}}"
    text = {
        "pod": f"version: 1\npods:\n  p:\n    webhooks: {hook}\n",
        "inbox": f"version: 1\npods:\n  p:\n    inboxes:\n      a@agentmail.to: {{webhooks: {hook}}}\n",
        "template": f"version: 1\nkind: template\nname: t\npod:\n  webhooks: {hook}\n",
    }[where]
    cfg.write("m.yaml", text)
    problems = cfg.problems("m.yaml")
    assert problems and not any(SECRET in p for p in problems), problems


def test_validate_for_github_annotates_without_the_header_value(cfg: ConfigDir) -> None:
    cfg.write("m.yaml", webhook(SECRET))
    result = CliRunner().invoke(cli, ["validate", "-f", str(cfg.root / "m.yaml"), "--format", "github"])
    assert result.exit_code == 1
    assert "::error file=" in result.stdout and "X-Token" in result.stdout
    assert SECRET not in result.stdout + result.stderr


# --- a value YAML 1.1 and 1.2 read differently, where the schema wants neither reading ----------


@pytest.mark.parametrize("written", ["no", "Off", "1e3", "017", "1_000"])
def test_a_value_wrong_in_both_yaml_readings_is_the_schemas_problem_as_written(cfg: ConfigDir, written: str) -> None:
    """``inboxes: no`` is a boolean to YAML 1.1 and text to 1.2, and a mapping to neither: "quote
    it" or "write true/false" would only lead to the next error, so the problem is the schema's,
    quoting what was written (not ``false``)."""
    cfg.write("c.yaml", f"version: 1\npods:\n  p:\n    inboxes: {written}\n")
    assert cfg.problems("c.yaml") == [f"c.yaml:4:14: pods.p.inboxes: expected a mapping, got `{written}`"]


def test_a_value_right_in_one_yaml_reading_keeps_the_advice_to_spell_it_for_both(cfg: ConfigDir) -> None:
    cfg.write("c.yaml", "version: 1\npods:\n  p:\n    name: no\n")
    assert cfg.problems("c.yaml") == [
        "c.yaml:4:11: pods.p.name: `no` is a boolean in YAML 1.1 but text in YAML 1.2: write true/false, or quote it"
    ]
    cfg.write("c.yaml", "version: 1\nsettings:\n  safety:\n    min_existing: 1e3\n")  # an integer: 1000.0 is one
    assert cfg.problems("c.yaml") == [
        "c.yaml:4:19: settings.safety.min_existing: `1e3` is text in YAML 1.1 but the number 1000.0 in YAML 1.2: "
        "quote it, or write 1000.0"
    ]


def test_a_header_mapping_written_as_a_yaml11_boolean_says_a_mapping_is_wanted_without_the_value(
    cfg: ConfigDir,
) -> None:
    cfg.write("c.yaml", webhook("x").replace("headers: {X-Token: x}", "headers: no"))
    assert cfg.problems("c.yaml") == [
        "c.yaml:6:14: webhooks.w.headers: expected a mapping, got a boolean (the value is not shown)"
    ]
