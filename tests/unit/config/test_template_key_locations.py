"""README (Templates): a problem a tenant's value causes is placed at that value, and a mistake in
the template at the template line. A template *key* that mixes a literal part with a tenant's value
(`"sup port@${dom}"`, `"${tenant}/key"`) may hold either mistake: its problem is placed at the
tenant's value and names the template line it was rendered from, as a rendered value's does."""

from __future__ import annotations

from config_dir import ConfigDir

TEMPLATE = """
    version: 1
    kind: template
    name: t
    parameters:
      dom: {type: string, required: true}
      s: {type: string}
    pod:
      client_id: "tenant-${tenant}"
      domains:
        "${dom}": {}
      inboxes:
        "sup port@${dom}": {}
      api_keys:
        "${tenant}/key": {}
"""


def test_a_bad_template_key_made_with_a_tenant_value_names_the_template_line(cfg: ConfigDir) -> None:
    cfg.write("template.yaml", TEMPLATE)
    cfg.write("tenants.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {dom: a.example.com}\n  b: {dom: b.test}\n")
    problems = cfg.problems(".")
    inbox = [p for p in problems if "sup port@" in p]
    key = [p for p in problems if "/key" in p]
    assert [p.split(": ", 1)[0] for p in inbox] == ["tenants.yaml:4:12", "tenants.yaml:5:12"]
    assert [p.split(": ", 1)[0] for p in key] == ["tenants.yaml:4:3", "tenants.yaml:5:3"]
    for tenant, line in (("a", 4), ("b", 5)):
        rendering = f"rendering tenant `{tenant}` at tenants.yaml:{line})"
        assert f"(via template `t` at template.yaml:12, {rendering}" in inbox[line - 4]
        assert f"(via template `t` at template.yaml:14, {rendering}" in key[line - 4]


def test_a_good_key_made_with_a_tenant_value_is_still_placed_at_the_value(cfg: ConfigDir) -> None:
    cfg.write("template.yaml", TEMPLATE.replace("sup port", "support").replace("${tenant}/key", "${tenant}-key"))
    cfg.write("tenants.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {dom: a.example.com}\n")
    resources = cfg.load(".").resources
    assert resources["pod/tenant-a/inbox/support@a.example.com"].source == (f"{cfg.root}/tenants.yaml", 4, 12)
    assert resources["pod/tenant-a/api_key/a-key"].source == (f"{cfg.root}/tenants.yaml", 4, 3)


ONE_PARAMETER = """
    version: 1
    kind: template
    name: t
    parameters:
      s: {type: string}
    pod:
"""
FOR_EACH = (
    ONE_PARAMETER
    + """\
      client_id: "tenant-${tenant}"
      inboxes:
        "${tenant}-${item}@agentmail.to": {for_each: [ITEMS]}
"""
)


def test_inline_for_each_items_are_substituted(cfg: ConfigDir) -> None:
    cfg.write("template.yaml", FOR_EACH.replace("ITEMS", '"${s}", ops, "x-${tenant}"'))
    cfg.write("tenants.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {s: sales}\n  b: {}\n")
    inboxes = sorted(a for a in cfg.load(".").resources if "/inbox/" in a)
    assert inboxes == [
        "pod/tenant-a/inbox/a-ops@agentmail.to",
        "pod/tenant-a/inbox/a-sales@agentmail.to",
        "pod/tenant-a/inbox/a-x-a@agentmail.to",
        "pod/tenant-b/inbox/b-ops@agentmail.to",  # `${s}` unset: that item is left out
        "pod/tenant-b/inbox/b-x-b@agentmail.to",
    ]


def test_an_inline_for_each_item_that_cannot_render_is_located_at_the_item(cfg: ConfigDir) -> None:
    cfg.write("template.yaml", FOR_EACH.replace("ITEMS", 'ops, "x-${s}"'))
    cfg.write("tenants.yaml", "version: 1\ntemplate: t\ntenants:\n  b: {}\n")
    assert cfg.problems(".") == [
        "template.yaml:9:56: pod.inboxes.${tenant}-${item}@agentmail.to.for_each[1]: `${s}` has no value for "
        "this tenant: give it one, or guard with `when:` (rendering tenant `b` at tenants.yaml:4)"
    ]


WHEN = (
    ONE_PARAMETER
    + """\
      inboxes:
        "${tenant}@agentmail.to": {when: WHEN, display_name: "${S}"}
"""
)


def test_a_substitution_written_as_a_when_condition_is_told_to_name_the_parameter(cfg: ConfigDir) -> None:
    cfg.write("template.yaml", WHEN.replace("WHEN", '"not ${s}"').replace("${S}", "${s}"))
    cfg.write("tenants.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {s: x}\n  b: {S: x}\n")
    assert cfg.problems(".") == [
        "template.yaml:8:38: pod.inboxes.${tenant}@agentmail.to.when: `when` takes a parameter's name, not `${s}`: "
        "write `when: not s` (rendering tenant `a` at tenants.yaml:4)",
        "tenants.yaml:5:7: tenants.b.S: unknown parameter `S` for template `t`; did you mean `s`?",
    ]


def test_a_parameter_in_the_wrong_case_is_given_its_spelling(cfg: ConfigDir) -> None:
    cfg.write("template.yaml", WHEN.replace("WHEN", "s"))
    cfg.write("tenants.yaml", "version: 1\ntemplate: t\ntenants:\n  a: {s: x}\n")
    [problem] = cfg.problems(".")
    assert "unknown parameter `S` in `${S}`; did you mean `s`? (known: s, tenant)" in problem
