"""Cross-declaration rules whose lines the mutation sweep of ``config/references.py`` found
unpinned: each test names the line whose deletion it catches (``.ci/mutate.py --worktree --sweep
src/mailctl/config/references.py`` against every file of ``tests/unit/config`` but the
hypothesis-heavy ``test_config_properties.py`` and ``test_fastcheck.py`` and the loader and files
sweeps then being written: 64 mutations, 60 killed, 4 survived, no timeout).

Survivors judged equivalent, not pinned: the closing ``return None`` of ``_inbox_domain`` and of
``_enclosing_domain`` (a function that falls off its end returns ``None`` all the same).

A repeated declaration is reported, and the first one stays the one every later check goes by:
the second never takes its place. Everything is loaded as the commands load it, from files in
``tmp_path``."""

from __future__ import annotations

from config_dir import ConfigDir


def test_a_domain_declared_again_in_another_pod_still_belongs_to_the_first(cfg: ConfigDir) -> None:
    """Pins ``return`` after ``is already declared`` in ``References.domain``: without it the
    repeat took the domain over, and pod a's inbox on its own domain was reported as well, as if
    the domain belonged to pod b."""
    cfg.write(
        "c.yaml",
        """\
        version: 1
        pods:
          a:
            domains:
              mail.example.com: {}
            inboxes:
              x@mail.example.com: {}
          b:
            domains:
              mail.example.com: {}
        """,
    )
    assert cfg.problems("c.yaml") == [
        "c.yaml:10:7: pods.b.domains.mail.example.com: domain mail.example.com is also declared at c.yaml:5"
        " (in pod a): a domain belongs to one pod or to the whole organisation"
    ]


def test_an_inbox_declared_again_in_another_pod_still_belongs_to_the_first(cfg: ConfigDir) -> None:
    """Pins ``return False`` after ``is already declared in pod`` in ``References.inbox``: without
    it the repeat took the address over, and pod a's webhook naming its own inbox was reported as
    naming an inbox of pod b."""
    cfg.write(
        "c.yaml",
        """\
        version: 1
        pods:
          a:
            inboxes:
              x@agentmail.to: {}
            webhooks:
              h: {url: https://h.example/p, event_types: [message.received], inboxes: [x@agentmail.to]}
          b:
            inboxes:
              x@agentmail.to: {}
        """,
    )
    assert cfg.problems("c.yaml") == [
        "c.yaml:10:7: pods.b.inboxes.x@agentmail.to: inbox x@agentmail.to is already declared in pod a at c.yaml:5"
    ]
