"""The loader turns valid YAML into exactly the declared resources, located and normalised."""

from __future__ import annotations

from config_dir import ConfigDir

from mailctl.resources import Source

FULL = """
    version: 1
    manage:
      pods: {client_id_prefix: [tenant-, legacy-]}
    settings:
      safety: {max_change_fraction: 0.5, min_existing: 4}
    domains:
      Agents.Example.COM: {feedback_enabled: true, prevent_destroy: true}
    api_keys:
      ci-reader:
        permissions: {inbox_read: true, message_read: true, message_send: false}
        expires_at: 2030-01-01T12:00:00+02:00
    webhooks:
      audit:
        url: https://hooks.example.com/audit
        event_types: [message.sent, message.received, message.sent]
        pods: [tenant-b, tenant-a]
        inboxes: [Support@Mail.Acme.com]
    lists:
      receive:
        block: {spam.example: {reason: spammy}, bad@evil.example: null}
      send:
        allow: [partner.example]
    pods:
      tenant-a:
        name: Acme Corp
        domains:
          mail.acme.com: {inbound_enabled: false}
        inboxes:
          Support@Mail.Acme.com:
            display_name: Acme Support
            metadata: {tier: gold, seats: 3, vip: true}
            status: paused
            api_keys:
              agent: {permissions: {message_send: true}}
            webhooks:
              mine: {url: "http://localhost:8080/x", event_types: [message.received], enabled: false}
            lists:
              reply:
                allow: {customer.example: {prevent_destroy: true}}
          bot@agents.example.com: {}
        api_keys:
          backend:
        webhooks:
          pod-events: {url: https://h.example/p, event_types: [domain.verified], inboxes: [bot@agents.example.com]}
      tenant-b: {prevent_destroy: true}
"""


def test_full_example_yields_every_declared_resource_and_nothing_else(cfg: ConfigDir) -> None:
    cfg.write("mailctl.yaml", FULL)
    state = cfg.load("mailctl.yaml")
    assert sorted(state.resources) == sorted(
        [
            "domain/agents.example.com",
            "api_key/ci-reader",
            "webhook/audit",
            "list/receive/block/spam.example",
            "list/receive/block/bad@evil.example",
            "list/send/allow/partner.example",
            "pod/tenant-a",
            "pod/tenant-a/domain/mail.acme.com",
            "pod/tenant-a/inbox/support@mail.acme.com",
            "pod/tenant-a/inbox/support@mail.acme.com/api_key/agent",
            "pod/tenant-a/inbox/support@mail.acme.com/webhook/mine",
            "pod/tenant-a/inbox/support@mail.acme.com/list/reply/allow/customer.example",
            "pod/tenant-a/inbox/bot@agents.example.com",
            "pod/tenant-a/api_key/backend",
            "pod/tenant-a/webhook/pod-events",
            "pod/tenant-b",
        ]
    )


def test_attrs_hold_only_declared_attributes_normalised(cfg: ConfigDir) -> None:
    cfg.write("mailctl.yaml", FULL)
    r = cfg.load("mailctl.yaml").resources
    assert r["pod/tenant-a"].attrs == {"name": "Acme Corp"}
    assert r["pod/tenant-b"].attrs == {}
    assert r["domain/agents.example.com"].attrs == {"feedback_enabled": True}
    assert r["pod/tenant-a/domain/mail.acme.com"].attrs == {"inbound_enabled": False}
    assert r["pod/tenant-a/inbox/support@mail.acme.com"].attrs == {
        "display_name": "Acme Support",
        "metadata": {"tier": "gold", "seats": 3, "vip": True},
        "status": "paused",
    }
    assert r["pod/tenant-a/inbox/bot@agents.example.com"].attrs == {}
    assert r["api_key/ci-reader"].attrs == {
        "permissions": {"inbox_read": True, "message_read": True},
        "expires_at": "2030-01-01T10:00:00Z",
    }
    assert r["webhook/audit"].attrs == {
        "url": "https://hooks.example.com/audit",
        "event_types": ["message.received", "message.sent"],
        "pods": ["tenant-a", "tenant-b"],
        "inboxes": ["support@mail.acme.com"],
    }
    assert r["pod/tenant-a/inbox/support@mail.acme.com/webhook/mine"].attrs["enabled"] is False
    assert r["list/receive/block/spam.example"].attrs == {"reason": "spammy"}
    assert r["list/receive/block/bad@evil.example"].attrs == {}


def test_api_keys_always_carry_permissions_none_meaning_unrestricted(cfg: ConfigDir) -> None:
    cfg.write("mailctl.yaml", FULL)
    r = cfg.load("mailctl.yaml").resources
    assert r["pod/tenant-a/api_key/backend"].attrs == {"permissions": None}


def test_parents_sources_and_prevent_destroy_are_recorded(cfg: ConfigDir) -> None:
    path = cfg.write("mailctl.yaml", FULL)
    r = cfg.load("mailctl.yaml").resources
    inbox = r["pod/tenant-a/inbox/support@mail.acme.com"]
    assert inbox.parent == "pod/tenant-a"
    assert inbox.source == Source(path, 29, 7)
    assert r["pod/tenant-a/inbox/support@mail.acme.com/api_key/agent"].parent == inbox.address
    assert r["domain/agents.example.com"].parent is None
    assert r["domain/agents.example.com"].prevent_destroy is True
    assert r["pod/tenant-b"].prevent_destroy is True
    assert r["pod/tenant-a/inbox/support@mail.acme.com/list/reply/allow/customer.example"].prevent_destroy
    assert not r["pod/tenant-a"].prevent_destroy


def test_manage_policy_and_settings_are_read(cfg: ConfigDir) -> None:
    cfg.write("mailctl.yaml", FULL)
    state = cfg.load("mailctl.yaml")
    assert state.manage.pod_client_id_prefixes == ("tenant-", "legacy-")
    assert state.settings == {"safety": {"max_change_fraction": 0.5, "min_existing": 4}}


def test_without_manage_no_undeclared_pod_is_managed(cfg: ConfigDir) -> None:
    cfg.write("mailctl.yaml", "version: 1\n")
    state = cfg.load("mailctl.yaml")
    assert state.resources == {} and not state.manage.manages_pod("tenant-x")


def test_single_prefix_string_is_accepted(cfg: ConfigDir) -> None:
    cfg.write("mailctl.yaml", "version: 1\nmanage: {pods: {client_id_prefix: t-}}\n")
    assert cfg.load("mailctl.yaml").manage.pod_client_id_prefixes == ("t-",)


def test_files_merge_and_a_directory_means_its_yaml_files_sorted(cfg: ConfigDir) -> None:
    cfg.write("conf/10-org.yaml", "version: 1\ndomains: {shared.example: {}}\n")
    cfg.write("conf/20-pods/a.yml", "version: 1\npods: {a: {inboxes: {x@shared.example: {}}}}\n")
    cfg.write("conf/notes.txt", "not yaml: [")
    cfg.write("conf/.hidden/x.yaml", "not: valid: yaml: [")
    state = cfg.load("conf")
    assert set(state.resources) == {"domain/shared.example", "pod/a", "pod/a/inbox/x@shared.example"}


def test_same_file_named_twice_is_read_once(cfg: ConfigDir) -> None:
    cfg.write("conf/a.yaml", "version: 1\npods: {a: {}}\n")
    assert set(cfg.load("conf", "conf/a.yaml").resources) == {"pod/a"}


def test_subdomain_inbox_needs_subdomains_enabled_on_the_parent(cfg: ConfigDir) -> None:
    cfg.write(
        "ok.yaml",
        """
        version: 1
        domains: {acme.com: {subdomains_enabled: true}}
        pods: {a: {inboxes: {x@eu.acme.com: {}}}}
    """,
    )
    assert "pod/a/inbox/x@eu.acme.com" in cfg.load("ok.yaml").resources
    cfg.write(
        "bad.yaml",
        """
        version: 1
        pods: {a: {domains: {acme.com: {}}, inboxes: {x@eu.acme.com: {}}}}
    """,
    )
    assert cfg.problems("bad.yaml") == [
        "bad.yaml:2:47: pods.a.inboxes.x@eu.acme.com: eu.acme.com is a subdomain of acme.com "
        "(declared at bad.yaml:2), which needs `subdomains_enabled: true`"
    ]


def test_manage_prefixes_add_up_and_settings_merge_over_files(cfg: ConfigDir) -> None:
    cfg.write("a.yaml", "version: 1\nmanage: {pods: {client_id_prefix: a-}}\nsettings: {safety: {min_existing: 3}}\n")
    cfg.write(
        "b.yaml",
        "version: 1\nmanage: {pods: {client_id_prefix: [b-, a-]}}\n"
        "settings: {safety: {min_existing: 3, max_change_fraction: 0.5}}\n",
    )
    state = cfg.load("a.yaml", "b.yaml")
    assert state.manage.pod_client_id_prefixes == ("a-", "b-")
    assert state.settings == {"safety": {"min_existing": 3, "max_change_fraction": 0.5}}


def test_other_tools_yaml_in_a_directory_is_skipped_but_named_files_are_read(cfg: ConfigDir) -> None:
    cfg.write("conf/mailctl.yaml", "version: 1\npods: {a: {}}\n")
    cfg.write("conf/ci/workflow.yml", "name: CI\non: [push]\njobs: {x: {run: a: b}}\n")
    assert set(cfg.load("conf").resources) == {"pod/a"}
    assert cfg.problems("conf/ci/workflow.yml")[0].startswith("conf/ci/workflow.yml:3:18: YAML syntax error")
