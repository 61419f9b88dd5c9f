"""Building the desired state: lines that the mutation sweep of ``config/build.py`` found unpinned;
each test names the line whose deletion (or negated ``if``) it catches (``.ci/mutate.py
--worktree --sweep src/mailctl/config/build.py`` against every file of ``tests/unit/config`` but
the hypothesis-heavy ``test_config_properties.py`` and ``test_fastcheck.py`` and the loader and
files sweeps then being written: 81 mutations, 76 killed, 5 survived, no timeout).

Survivor judged equivalent, not pinned: ``continue`` for a section written empty (``domains:``)
in ``Builder._scope`` (a fast path: ``KindSpec.declared`` reads an empty section as no
declarations, the ``lists`` one too). Everything is loaded as the commands load it, from files in
``tmp_path``."""

from __future__ import annotations

from config_dir import ConfigDir


def test_the_organisations_domain_is_read_before_a_pods_whatever_the_order_written(cfg: ConfigDir) -> None:
    """Pins ``present.sort()`` (and its ``if``) in ``Builder._scope``: a scope's sections are read
    in config order (``domains`` before ``pods``), not in the order the file lists them, so the
    organisation's declaration of a domain is the one kept and the pod's is the one reported."""
    cfg.write(
        "c.yaml",
        """\
        version: 1
        pods:
          p:
            domains:
              mail.example.com: {}
        domains:
          mail.example.com: {}
        """,
    )
    assert cfg.problems("c.yaml") == [
        "c.yaml:5:7: pods.p.domains.mail.example.com: domain mail.example.com is also declared at c.yaml:7"
        " (organisation-wide): a domain belongs to one pod or to the whole organisation"
    ]


def test_a_refused_declaration_is_not_declared(cfg: ConfigDir) -> None:
    """Pins ``return`` after a refused name in ``Builder._declare``: without it the refused
    ``agentmail.to`` was declared all the same, and declaring it in a pod too was reported a
    third time, as a domain declared twice."""
    cfg.write(
        "c.yaml",
        """\
        version: 1
        domains:
          agentmail.to: {}
        pods:
          p:
            domains:
              agentmail.to: {}
        """,
    )
    shared = "agentmail.to is AgentMail's shared domain: inboxes may use it without declaring it"
    assert cfg.problems("c.yaml") == [
        f"c.yaml:3:3: domains.agentmail.to: {shared}",
        f"c.yaml:7:7: pods.p.domains.agentmail.to: {shared}",
    ]


def test_ignore_changes_reaches_the_declared_resource(cfg: ConfigDir) -> None:
    """Pins ``resource.ignore_changes = frozenset(ignored)`` in ``Builder._add``: without it the
    attributes a declaration says to leave alone were not carried to the desired state, and a
    plan would overwrite them (``tests/unit/plan/test_changed.py`` catches it too, through a plan;
    this pins it where the config is loaded)."""
    cfg.write(
        "c.yaml",
        """\
        version: 1
        pods:
          p:
            inboxes:
              x@agentmail.to: {display_name: X, ignore_changes: [display_name]}
        """,
    )
    state = cfg.load("c.yaml")
    assert state.resources["pod/p/inbox/x@agentmail.to"].ignore_changes == frozenset({"display_name"})
    assert state.resources["pod/p"].ignore_changes == frozenset()
