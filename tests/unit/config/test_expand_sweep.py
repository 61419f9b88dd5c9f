"""Template rendering's lines that the mutation sweep of ``config/expand.py`` (the careful
renderer) found unpinned: each test names the line whose deletion it catches
(``.ci/mutate.py --worktree --sweep src/mailctl/config/expand.py
tests/unit/config/test_config_templates.py tests/unit/config/test_stamp.py
tests/unit/config/test_load_fast_path.py tests/unit/config/test_expand_sweep.py`` plus the
``template-*`` cases of ``test_config_bad_corpus.py``).

Survivors judged equivalent, not pinned: the marks of ``()``, ``version`` and ``pods`` the
rendered document starts with (nothing locates a problem there: a rendered document's version
is always 1 and every pod carries its own key and value marks); ``_settle_all`` before a
careful render and ``pending.clear()`` after it (a careful render writes only below its own
pod, and working a stamped tenant out again is idempotent); the pod's value mark of a
carefully rendered tenant (every check locates a pod problem at its key or at a field below);
``return text, None`` for a text without ``$`` (a fast path: the general split returns the
same); ``return False`` after a bad ``when`` is reported (the ``None`` that follows is as
falsy). Everything is loaded as the commands load it, from files in ``tmp_path``."""

from __future__ import annotations

from config_dir import ConfigDir

TENANT_A = "version: 1\ntemplate: t\ntenants:\n  a: {}\n"


def template(pod: str, parameters: str = "") -> str:
    return "version: 1\nkind: template\nname: t\n" + (f"parameters:\n{parameters}" if parameters else "") + pod


def test_a_template_constant_of_the_wrong_type_is_reported_at_the_value_not_the_key(cfg: ConfigDir) -> None:
    """Pins ``self.place(...)`` in ``_Renderer.node`` for a mapping, a list and a scalar that is
    not text: without it a bad value written in the template was reported at its key's column
    (``10:7``), not at the value (``10:21``)."""
    cfg.write(
        "t.yaml",
        template(
            """\
pod:
  client_id: "c-${tenant}"
  inboxes:
    "${tenant}@agentmail.to":
      display_name: 5
    "b-${tenant}@agentmail.to":
      display_name: [x]
    "c-${tenant}@agentmail.to":
      display_name: {a: 1}
""",
            "  nick: {type: string}\n",
        ),
    )
    cfg.write("n.yaml", TENANT_A)
    note = "(rendering tenant `a` at n.yaml:4)"
    assert cfg.problems("t.yaml", "n.yaml") == [
        f"t.yaml:10:21: pods.c-a.inboxes.a@agentmail.to.display_name: expected text, got number `5` {note}",
        f"t.yaml:12:21: pods.c-a.inboxes.b-a@agentmail.to.display_name: expected text, got a list {note}",
        f"t.yaml:14:21: pods.c-a.inboxes.c-a@agentmail.to.display_name: expected text, got a mapping {note}",
    ]


def test_a_tenant_whose_pod_collides_does_not_hide_the_first_tenants_problems(cfg: ConfigDir) -> None:
    """Pins ``return self.problems`` after ``is declared twice`` in ``_Renderer.render``: without
    it the second tenant's pod was rendered over the first one's, and the first tenant's too
    long display name was never reported."""
    cfg.write(
        "t.yaml",
        template(
            """\
pod:
  client_id: "${group}"
  inboxes:
    "${tenant}@agentmail.to": {display_name: "${nick}"}
""",
            "  group: {type: string, required: true}\n  nick: {type: string}\n",
        ),
    )
    cfg.write(
        "n.yaml",
        f"version: 1\ntemplate: t\ntenants:\n  a: {{group: shared, nick: {'x' * 300}}}\n"
        "  b: {group: shared, nick: B}\n",
    )
    assert cfg.problems("t.yaml", "n.yaml") == [
        "n.yaml:4:28: pods.shared.inboxes.a@agentmail.to.display_name: must be at most 256 characters long"
        " (via template `t` at t.yaml:10)",
        "n.yaml:5:3: pods.shared: pod/shared is declared twice: also declared at n.yaml:4"
        " (rendering tenant `b` at n.yaml:5)",
    ]


def test_an_entry_produced_twice_keeps_the_first_and_reports_only_that(cfg: ConfigDir) -> None:
    """Pins ``continue`` after ``is produced twice in this mapping`` in ``_Renderer.mapping``:
    without it the repeated entry was rendered as well (over the first), and its own mistake
    reported on top of the repetition."""
    cfg.write(
        "t.yaml",
        template(
            """\
pod:
  client_id: "c-${tenant}"
  inboxes:
    "${item.n}-${tenant}@agentmail.to":
      for_each: [{n: a, d: First}, {n: a}]
      display_name: "${item.d}"
"""
        ),
    )
    cfg.write("n.yaml", TENANT_A)
    assert cfg.problems("t.yaml", "n.yaml") == [
        "t.yaml:7:5: pod.inboxes.${item.n}-${tenant}@agentmail.to: `a-a@agentmail.to` is produced twice"
        " in this mapping (rendering tenant `a` at n.yaml:4)"
    ]


def test_an_unknown_parameter_with_a_field_is_reported_not_a_crash(cfg: ConfigDir) -> None:
    """Pins ``return None`` after ``unknown parameter`` in ``_Renderer.lookup``: without it
    ``${nope.field}`` went on to read a field of nothing and the load crashed."""
    cfg.write(
        "t.yaml",
        template(
            """\
pod:
  client_id: "c-${tenant}"
  inboxes:
    "x-${tenant}@agentmail.to": {display_name: "${nope.field}"}
"""
        ),
    )
    cfg.write("n.yaml", TENANT_A)
    assert cfg.problems("t.yaml", "n.yaml") == [
        "t.yaml:7:48: pod.inboxes.x-${tenant}@agentmail.to.display_name: unknown parameter `nope` in"
        " `${nope.field}` (known: tenant) (rendering tenant `a` at n.yaml:4)"
    ]


def test_for_each_over_a_number_or_a_mapping_is_one_problem_and_no_entry(cfg: ConfigDir) -> None:
    """Pins ``return []`` after ``for_each needs a list`` in ``_Renderer.items``: without it a
    number crashed the load and a mapping was iterated by its keys."""
    cfg.write(
        "t.yaml",
        template(
            """\
pod:
  client_id: "c-${tenant}"
  inboxes:
    "${tenant}-${item}@agentmail.to": {for_each: seats}
    "m-${item}-${tenant}@agentmail.to": {for_each: tags, display_name: "${item.x}"}
""",
            "  seats: {type: integer, default: 2}\n  tags: {type: map, default: {team: core}}\n",
        ),
    )
    cfg.write("n.yaml", TENANT_A)
    note = "(rendering tenant `a` at n.yaml:4)"
    assert cfg.problems("t.yaml", "n.yaml") == [
        "t.yaml:10:50: pod.inboxes.${tenant}-${item}@agentmail.to.for_each: `for_each` needs a list,"
        f" but `seats` is number `2` {note}",
        "t.yaml:11:52: pod.inboxes.m-${item}-${tenant}@agentmail.to.for_each: `for_each` needs a list,"
        f" but `tags` is a mapping {note}",
    ]


def test_for_each_over_an_inline_list_and_when_true_or_false(cfg: ConfigDir) -> None:
    """Pins ``return [Bound(...) for ... in enumerate(spec)]`` in ``_Renderer.items`` (an inline
    ``for_each`` list, as the README documents) and ``return spec`` for a ``when:`` that is true
    or false in ``_Renderer.condition``: without them each was refused as a mistake."""
    cfg.write(
        "t.yaml",
        template(
            """\
pod:
  client_id: "c-${tenant}"
  inboxes:
    "${item}-${tenant}@agentmail.to": {for_each: [sales, help]}
    "on-${tenant}@agentmail.to": {when: true}
    "off-${tenant}@agentmail.to": {when: false}
"""
        ),
    )
    cfg.write("n.yaml", TENANT_A)
    assert sorted(cfg.load("t.yaml", "n.yaml").resources) == [
        "pod/c-a",
        "pod/c-a/inbox/help-a@agentmail.to",
        "pod/c-a/inbox/on-a@agentmail.to",
        "pod/c-a/inbox/sales-a@agentmail.to",
    ]
