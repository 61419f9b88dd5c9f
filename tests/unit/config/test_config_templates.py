"""Templates stamp a pod out per tenant: parameters, `${...}`, `when:` and `for_each:`; `mailctl render`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from config_dir import ConfigDir

from mailctl.cli.main import cli
from mailctl.config import expand, load

REPO = Path(__file__).resolve().parents[3]
SAAS = str(REPO / "examples/saas")

TEMPLATE = """
    version: 1
    kind: template
    name: t
    parameters:
      seats: {type: integer, default: 2}
      nick: {type: string}
      plan: {type: string, enum: [free, pro, max], default: free}
      people: {type: list, default: []}
      vip: {type: boolean, default: false}
    pod:
      client_id: "c-${tenant}"
      inboxes:
        "${tenant}@agentmail.to":
          display_name: "${nick}"
          metadata: {seats: "${seats}", price: "$$5 per ${plan}", when: literal, vip: "${vip}"}
        "${item.user}-${tenant}@agentmail.to":
          for_each: people
          when: {plan: [pro, max]}
          display_name: "${item.name}"
        "paid-${tenant}@agentmail.to": {when: [not vip, {plan: max}]}
        "vip-${tenant}@agentmail.to": {when: vip}
"""


def test_saas_example_stamps_out_each_tenant_by_plan() -> None:
    r = load([SAAS]).resources
    wayne = {a for a in r if a.startswith("pod/tenant-wayne/")}
    assert "pod/tenant-wayne/domain/mail.wayne-enterprises.com" in wayne
    assert "pod/tenant-wayne/inbox/support@mail.wayne-enterprises.com" in wayne
    assert "pod/tenant-wayne/inbox/wayne-sales@agentmail.to" in wayne
    assert "pod/tenant-wayne/api_key/auditor" in wayne
    assert r["pod/tenant-wayne"].prevent_destroy is True and r["pod/tenant-wayne"].attrs == {
        "name": "Wayne Enterprises"
    }
    initech = sorted(a for a in r if a.startswith("pod/tenant-initech/inbox/"))
    assert initech == ["pod/tenant-initech/inbox/initech-support@agentmail.to"]
    assert "pod/tenant-initech/api_key/auditor" not in r and r["pod/tenant-initech"].prevent_destroy is False
    assert r["pod/tenant-globex/webhook/events"].attrs["url"] == "https://globex.example/hooks/agentmail"


def test_resources_from_tenant_values_are_located_in_the_tenant_file() -> None:
    r = load([SAAS]).resources
    pod = r["pod/tenant-globex"]
    assert pod.source is not None and pod.source.file.endswith("tenants/globex.yaml") and pod.source.line == 5


def test_substitution_keeps_types_escapes_dollars_and_omits_unset_values(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", TEMPLATE)
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {seats: 7, plan: pro}\n")
    inbox = cfg.load("t.yaml", "n.yaml").resources["pod/c-a/inbox/a@agentmail.to"]
    assert inbox.attrs == {"metadata": {"seats": 7, "price": "$5 per pro", "when": "literal", "vip": False}}


def test_for_each_and_when_select_entries(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", TEMPLATE)
    cfg.write(
        "n.yaml",
        """
        version: 1
        template: t
        tenants:
          free: {people: [{user: ann, name: Ann}]}
          pro: {plan: pro, people: [{user: ann, name: Ann}, {user: bob, name: Bob}]}
          max: {plan: max, vip: true}
          max2: {plan: max}
    """,
    )
    inboxes = sorted(
        a.split("/inbox/")[1] for a, r in cfg.load("t.yaml", "n.yaml").resources.items() if r.kind == "inbox"
    )
    assert inboxes == [
        "ann-pro@agentmail.to",
        "bob-pro@agentmail.to",
        "free@agentmail.to",
        "max2@agentmail.to",
        "max@agentmail.to",
        "paid-max2@agentmail.to",
        "pro@agentmail.to",
        "vip-max@agentmail.to",
    ]


def test_a_bad_tenant_value_is_reported_at_the_tenant_with_the_template_line(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", TEMPLATE)
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {nick: 5}\n  b: {nick: ok}\n")
    assert cfg.problems("t.yaml", "n.yaml") == [
        "n.yaml:4:13: tenants.a.nick: parameter `nick` expects text, got number `5`"
    ]


def test_a_template_mistake_names_the_tenant_it_was_rendered_for(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", TEMPLATE.replace('display_name: "${nick}"', 'display_name: "${nick} ${nope}"'))
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {nick: A}\n")
    [problem] = cfg.problems("t.yaml", "n.yaml")
    assert problem.startswith("t.yaml:14:21: pod.inboxes.${tenant}@agentmail.to.display_name: unknown parameter `nope`")
    assert problem.endswith("(rendering tenant `a` at n.yaml:4)")


@pytest.mark.parametrize(
    "mistake",
    [
        ("name: t", "name: t\n    description: [not, text]"),  # fails the schema
        ("nick: {type: string}", "nick: {type: string, pattern: '('}"),  # a regex that does not compile
        ("seats: {type: integer", "seats: {type: integr"),  # another parameter fails the schema
    ],
    ids=["body-fails-the-schema", "parameter-fails-to-parse", "other-parameter-fails-the-schema"],
)
def test_a_broken_template_and_its_tenants_mistakes_are_reported_at_once(cfg: ConfigDir, mistake) -> None:
    old, new = mistake
    text = (
        TEMPLATE.replace(old, new)
        if new
        else TEMPLATE.replace("nick: {type: string}", "nick: {type: string, pattern: '('}")
    )
    cfg.write("t.yaml", text)
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {nick: 5}\n  b: {seets: 3}\n")
    problems = cfg.problems("t.yaml", "n.yaml")
    assert [p for p in problems if p.startswith("t.yaml:")], problems  # the template's own mistake
    assert not [p for p in problems if "unknown template" in p], problems  # it was given: it is broken
    assert "n.yaml:4:13: tenants.a.nick: parameter `nick` expects text, got number `5`" in problems
    assert [p for p in problems if p.startswith("n.yaml:5:7: tenants.b.seets: unknown parameter `seets`")], problems


def test_a_parameter_whose_declaration_is_broken_takes_any_value_without_blaming_its_tenants(
    cfg: ConfigDir,
) -> None:
    cfg.write("t.yaml", TEMPLATE.replace("seats: {type: integer", "seats: {type: integr"))
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {nick: A, seats: many}\n")
    problems = cfg.problems("t.yaml", "n.yaml")
    assert len(problems) == 1 and problems[0].startswith("t.yaml:5:"), problems


def test_a_template_with_a_parameter_mistake_still_renders_so_body_mistakes_show_at_once(cfg: ConfigDir) -> None:
    text = TEMPLATE.replace("nick: {type: string}", "nick: {type: string, pattern: '('}")
    cfg.write("t.yaml", text.replace('display_name: "${nick}"', 'display_name: "${nope}"'))
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {nick: A}\n")
    problems = cfg.problems("t.yaml", "n.yaml")
    assert [p for p in problems if "not a valid regular expression" in p], problems
    assert [p for p in problems if "unknown parameter `nope`" in p], problems
    assert not [p for p in problems if "default: default" in p]


def test_a_text_with_an_unset_parameter_asks_for_a_guard(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", TEMPLATE.replace('display_name: "${nick}"', 'display_name: "Hi ${nick}"'))
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {}\n")
    [problem] = cfg.problems("t.yaml", "n.yaml")
    assert "`${nick}` has no value for this tenant: give it one, or guard with `when:`" in problem


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('display_name: "${nick}"', 'display_name: "${nick"'),  # a value
        ('display_name: "${nick}"', 'display_name: "Hi ${nick} of ${plan"'),  # after a closed one
        ('"vip-${tenant}@agentmail.to"', '"vip-${tenant@agentmail.to"'),  # a key
    ],
)
def test_an_unclosed_substitution_is_a_located_error_not_literal_text(cfg: ConfigDir, old: str, new: str) -> None:
    cfg.write("t.yaml", TEMPLATE.replace(old, new))
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {nick: A, vip: true}\n")
    [problem] = cfg.problems("t.yaml", "n.yaml")
    line = 1 + next(i for i, text in enumerate(cfg.root.joinpath("t.yaml").read_text().splitlines()) if new in text)
    assert problem.startswith(f"t.yaml:{line}:")
    assert "`${` is not closed: write `${name}`, or `$${` for a literal `${`" in problem
    assert "rendering tenant `a`" in problem


def test_a_literal_dollar_brace_written_doubled_is_text(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", TEMPLATE.replace('display_name: "${nick}"', 'display_name: "$${nick"'))
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {}\n")
    assert cfg.load("t.yaml", "n.yaml").resources["pod/c-a/inbox/a@agentmail.to"].attrs["display_name"] == "${nick"


def test_two_for_each_items_rendering_one_key_is_an_error(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", TEMPLATE)
    cfg.write(
        "n.yaml",
        "version: 1\ntemplate: t\ntenants:\n  a: {plan: pro, people: [{user: x, name: X}, {user: x, name: Y}]}\n",
    )
    problems = cfg.problems("t.yaml", "n.yaml")
    assert len(problems) == 1 and "`x-a@agentmail.to` is produced twice in this mapping" in problems[0]


AGENTS_TEMPLATE = """\
version: 1
kind: template
name: t
parameters:
  agents: AGENTS
pod:
  client_id: "tenant-${tenant}"
  name: "T ${tenant}"
  inboxes:
    "${tenant}-${item}@agentmail.to":
      for_each: agents
"""


def _agents_template(agents: str, *more_inboxes: str) -> str:
    """A template with an inbox per item of its list parameter ``agents`` (declared as given)."""
    return AGENTS_TEMPLATE.replace("AGENTS", agents) + "".join(f"    {inbox}\n" for inbox in more_inboxes)


def test_a_for_each_over_an_unset_list_parameter_renders_nothing_and_is_no_problem(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", _agents_template("{type: list}", '"${tenant}@agentmail.to": {}'))
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  acme: {}\n  wayne: {agents: [bot]}\n")
    inboxes = sorted(a for a in cfg.load("t.yaml", "n.yaml").resources if "/inbox/" in a)
    assert inboxes == [
        "pod/tenant-acme/inbox/acme@agentmail.to",
        "pod/tenant-wayne/inbox/wayne-bot@agentmail.to",
        "pod/tenant-wayne/inbox/wayne@agentmail.to",
    ]


def test_one_for_each_listing_an_item_twice_is_an_error_not_one_inbox(cfg: ConfigDir) -> None:
    """The quick renderer (config/stamp.py) must hand such a tenant to the careful one: rendering
    on, the second item would silently replace the first."""
    cfg.write("t.yaml", _agents_template("{type: list, default: []}"))
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  acme: {agents: [bot, bot]}\n")
    [problem] = cfg.problems("t.yaml", "n.yaml")
    assert "t.yaml:10:" in problem and "`acme-bot@agentmail.to` is produced twice in this mapping" in problem
    assert "rendering tenant `acme` at" in problem


@pytest.mark.parametrize("paths", [[SAAS], [str(REPO / "examples/basic")], [str(REPO / "examples")]])
def test_render_prints_a_config_that_loads_into_the_same_resources(paths: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["render", *sum((["-f", p] for p in paths), [])])
    assert result.exit_code == 0, result.stderr
    assert "&" not in result.stdout and "*id" not in result.stdout  # no YAML anchors or aliases
    (tmp_path / "rendered.yaml").write_text(result.stdout)
    original = load(paths).resources
    again = load([str(tmp_path / "rendered.yaml")]).resources
    assert {a: (r.attrs, r.prevent_destroy) for a, r in again.items()} == {
        a: (r.attrs, r.prevent_destroy) for a, r in original.items()
    }


def test_render_of_an_invalid_config_fails_like_validate() -> None:
    result = CliRunner().invoke(cli, ["render", "-f", str(REPO / "tests/fixtures/bad/template-unknown")])
    assert result.exit_code == 1 and "unknown template `shopp`" in result.stderr and result.stdout == ""


def test_tenants_of_a_template_file_that_could_not_be_read_point_at_that_file(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", TEMPLATE + "  : [unclosed\n")
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {nick: A}\n")
    problems = cfg.problems("t.yaml", "n.yaml")
    [unknown] = [p for p in problems if p.startswith("n.yaml:")]
    assert "1 file(s) could not be read (see above)" in unknown, problems


def test_render_names_each_file_in_a_comment_that_a_file_name_cannot_end(tmp_path: Path) -> None:
    name = "a\nmanage: {pods: {client_id_prefix: tenant-}}\n#\u202e.yaml"
    (tmp_path / name).write_text("version: 1\npods:\n  tenant-x: {name: X}\n")
    result = CliRunner().invoke(cli, ["render", "-f", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "\u202e" not in result.stdout and "\nmanage:" not in result.stdout
    assert "manage" not in yaml.safe_load(result.stdout)


def test_a_misspelt_template_kind_is_one_problem_and_its_tenants_are_not_told_it_is_missing(
    cfg: ConfigDir,
) -> None:
    text = TEMPLATE.replace("kind: template", "kind: templat")
    cfg.write("t.yaml", text.replace("seats: {type: integer, default: 2}", "seats: 5"))  # unchecked: no crash
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {nick: A}\n")
    assert cfg.problems("t.yaml", "n.yaml") == [
        "t.yaml:2:7: kind: `templat` is not a kind mailctl knows (config or template); did you mean `template`?"
    ]


WHEN_TEMPLATE = """
    version: 1
    kind: template
    name: w
    parameters:
      n: {type: number}
      i: {type: integer, default: 0}
      flag: {type: boolean}
      lvl: {type: integer, enum: [0, 1, 2]}
      words: {type: list, default: []}
      note: {type: string, default: ""}
    pod:
      inboxes:
        "n-${tenant}@agentmail.to": {when: n}
        "i-${tenant}@agentmail.to": {when: i}
        "notn-${tenant}@agentmail.to": {when: "not n"}
        "flag1-${tenant}@agentmail.to": {when: {flag: 1}}
        "lvltrue-${tenant}@agentmail.to": {when: {lvl: true}}
        "lvl1-${tenant}@agentmail.to": {when: {lvl: [1, 2]}}
        "flagtrue-${tenant}@agentmail.to": {when: {flag: true}}
        "words-${tenant}@agentmail.to": {when: words}
        "note-${tenant}@agentmail.to": {when: note}
"""


def test_when_counts_zero_as_set_and_never_takes_true_for_one(cfg: ConfigDir) -> None:
    """README: `when: name` holds when the value is set, not false/empty (0 is set); and as
    everywhere in mailctl, true is not 1 in `when: {name: value}`."""
    cfg.write("t.yaml", WHEN_TEMPLATE)
    cfg.write("n.yaml", "version: 1\ntemplate: w\ntenants:\n  a: {n: 0, flag: true, lvl: 1}\n")
    inboxes = sorted(
        a.split("/inbox/")[1].removesuffix("-a@agentmail.to")
        for a, r in cfg.load("t.yaml", "n.yaml").resources.items()
        if r.kind == "inbox"
    )
    assert inboxes == ["flagtrue", "i", "lvl1", "n"]


COLLIDING_TEMPLATE = """
    version: 1
    kind: template
    name: t
    parameters:
      company: {type: string, required: true}
    pod:
      client_id: "tenant-${company}"
      name: "${company}"
      inboxes:
        "${tenant}-support@agentmail.to": {}
"""


@pytest.mark.parametrize("order", [("alpha", "beta"), ("beta", "alpha")])
def test_two_tenants_of_one_file_rendering_one_client_id_are_a_located_error(cfg: ConfigDir, order) -> None:
    """Merging them would drop one tenant's inboxes from the desired state (and a plan would delete them)."""
    first, second = order
    cfg.write("t.yaml", COLLIDING_TEMPLATE)
    tenants = f"version: 1\ntemplate: t\ntenants:\n  {first}: {{company: acme}}\n  {second}: {{company: acme}}\n"
    cfg.write("n.yaml", tenants)
    assert cfg.problems("t.yaml", "n.yaml") == [
        "n.yaml:5:3: pods.tenant-acme: pod/tenant-acme is declared twice: also declared at n.yaml:4"
        f" (rendering tenant `{second}` at n.yaml:5)"
    ]


def test_validate_refuses_two_tenants_rendering_one_client_id(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", COLLIDING_TEMPLATE)
    cfg.write("n.yaml", "version: 1\ntemplate: t\ntenants:\n  alpha: {company: acme}\n  beta: {company: acme}\n")
    result = CliRunner().invoke(cli, ["validate", "-f", str(cfg.root)])
    assert result.exit_code == 1 and result.stdout == ""
    assert "n.yaml:5:3: pods.tenant-acme: pod/tenant-acme is declared twice" in result.stderr


HEADERS_TEMPLATE = """
    version: 1
    kind: template
    name: h
    parameters:
      token: {type: string, default: t0k}
      flag: {type: boolean, default: false}
    pod:
      webhooks:
        hook:
          url: https://hooks.example/${tenant}
          event_types: [message.received]
          headers: {when: "${token}", for_each: literal, X-Tenant: "${tenant}"}
      inboxes:
        "${tenant}@agentmail.to":
          webhooks:
            w: {url: https://hooks.example/i, event_types: [message.received], headers: {when: flag}}
      api_keys:
        metadata: {when: flag}
"""


@pytest.mark.parametrize("careful", [False, True], ids=["stamped", "careful"])
def test_webhook_headers_named_when_or_for_each_are_headers_not_directives(
    cfg: ConfigDir, monkeypatch: pytest.MonkeyPatch, careful: bool
) -> None:
    """Headers are data, like metadata: a `when` or `for_each` there is a header's name. Only those
    maps are data: an API key named `metadata` still takes `when`."""
    if careful:
        monkeypatch.setattr(expand, "_stamped", lambda *args: False)
    cfg.write("t.yaml", HEADERS_TEMPLATE)
    cfg.write("n.yaml", "version: 1\ntemplate: h\ntenants:\n  a: {}\n")
    resources = cfg.load("t.yaml", "n.yaml").resources
    hook = resources["pod/a/webhook/hook"]
    assert {name: value.value for name, value in hook.write_only["headers"].items()} == {
        "when": "t0k",
        "for_each": "literal",
        "X-Tenant": "a",
    }
    inbox_hook = resources["pod/a/inbox/a@agentmail.to/webhook/w"]
    assert {name: value.value for name, value in inbox_hook.write_only["headers"].items()} == {"when": "flag"}
    assert "pod/a/api_key/metadata" not in resources


ENUMS = """
    version: 1
    kind: template
    name: t
    parameters:
      flag: {type: boolean, enum: [true]}
      tags: {type: list, enum: [[a], [b, null]]}
      sizes: {type: map, enum: [{s: 1.5}]}
    pod: {}
"""


def test_enum_problems_show_values_as_yaml_not_python(cfg: ConfigDir) -> None:
    cfg.write("t.yaml", ENUMS)
    cfg.write("tenants.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {flag: false, tags: [c], sizes: {s: 2}}\n")
    assert cfg.problems(".") == [
        "tenants.yaml:4:13: tenants.a.flag: `false` is not one of: true",
        "tenants.yaml:4:26: tenants.a.tags: `[c]` is not one of: [a], [b, null]",
        "tenants.yaml:4:38: tenants.a.sizes: `{s: 2}` is not one of: {s: 1.5}",
    ]


def test_a_tenant_in_two_tenants_files_names_the_first_files_row_for_each_child(cfg: ConfigDir) -> None:
    pod = '  client_id: "tenant-${tenant}"\n  api_keys:\n    k1: {}\n'
    cfg.write("template.yaml", f"version: 1\nkind: template\nname: t\npod:\n{pod}")
    cfg.write("one.yaml", "version: 1\ntemplate: t\ntenants:\n  b: {}\n")
    cfg.write("two.yaml", "version: 1\ntemplate: t\ntenants:\n  b: {}\n")
    assert cfg.problems(".") == [
        "template.yaml:7:5: pods.tenant-b.api_keys.k1: pod/tenant-b/api_key/k1 is declared twice: also declared at "
        "one.yaml:4 (rendering tenant `b` at two.yaml:4)",
        "two.yaml:4:3: pods.tenant-b: pod/tenant-b is declared twice: also declared at "
        "one.yaml:4 (rendering tenant `b` at two.yaml:4)",
    ]
