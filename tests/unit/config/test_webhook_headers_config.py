"""Webhook `headers` in config (issue 20 point 1): names are attributes, values are write-only.

A value is a literal or `{env: NAME}` read when the config loads; only the names reach
``Resource.attrs`` (lower-cased: header names are case-insensitive), the values sit in
``Resource.write_only``, which no repr, diff or problem shows.
"""

from __future__ import annotations

import pytest
from config_dir import ConfigDir

from mailctl.api.writer import ApiWriter, IdRegistry
from mailctl.errors import MailctlError
from mailctl.kinds import spec_of
from mailctl.resources import WEBHOOK, Resource, WriteOnly

VALUE = "hdr-value-7f3a9c"  # must never appear in a problem or a repr
WEBHOOK_AT = "pod/t/webhook/events"


def _config(headers: str) -> str:
    return f"""
        version: 1
        pods:
          t:
            webhooks:
              events:
                url: https://example.com/hook
                event_types: [message.sent]
                headers:
{headers}
        """


def test_names_are_attributes_and_values_are_write_only(cfg: ConfigDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_TOKEN", VALUE)
    cfg.write(
        "c.yaml", _config(f"                  X-Token: {{env: HOOK_TOKEN}}\n                  X-Tenant: {VALUE}-lit")
    )
    hook = cfg.load("c.yaml").resources[WEBHOOK_AT]
    assert hook.attrs["headers"] == ["x-tenant", "x-token"]
    assert hook.write_only == {
        "headers": {"X-Token": WriteOnly(VALUE, env="HOOK_TOKEN"), "X-Tenant": WriteOnly(f"{VALUE}-lit")}
    }
    assert VALUE not in repr(hook) and VALUE not in str(hook.write_only["headers"]["X-Token"])


def test_a_missing_environment_variable_is_a_located_problem_naming_it(
    cfg: ConfigDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_TOKEN_UNSET", raising=False)
    cfg.write("c.yaml", _config("                  X-Token: {env: HOOK_TOKEN_UNSET}"))
    assert cfg.problems("c.yaml") == [
        "c.yaml:9:26: pods.t.webhooks.events.headers.X-Token.env: environment variable `HOOK_TOKEN_UNSET` is not "
        "set (header `X-Token` takes its value from it)"
    ]


def test_an_invalid_header_name_is_located_at_the_name(cfg: ConfigDir) -> None:
    cfg.write("c.yaml", _config(f'                  "X Token": {VALUE}'))
    [problem] = cfg.problems("c.yaml")
    assert problem.startswith("c.yaml:9:11: pods.t.webhooks.events.headers.X Token: `X Token` is not a valid HTTP")
    assert VALUE not in problem


def test_a_name_declared_twice_in_another_case_is_refused(cfg: ConfigDir) -> None:
    cfg.write("c.yaml", _config(f"                  X-Token: {VALUE}\n                  x-token: {VALUE}"))
    [problem] = cfg.problems("c.yaml")
    assert "headers.x-token: header `x-token` is declared twice (also as `X-Token`" in problem


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("12345678", "must be text or {env: VARIABLE}"),
        ('"' + VALUE + '\\u0007"', "holds a character a header cannot carry"),
        ('"' + VALUE + '\\u20ac"', "holds a character a header cannot carry"),
        ('"' + "v" * 4097 + '"', "must be at most 4096 characters long"),  # the schema's word
    ],
)
def test_a_bad_value_is_refused_without_showing_it(cfg: ConfigDir, value: str, says: str) -> None:
    cfg.write("c.yaml", _config(f"                  X-Token: {value}"))
    [problem] = cfg.problems("c.yaml")
    assert "headers.X-Token" in problem and says in problem
    assert VALUE not in problem and "12345678" not in problem and "vvvv" not in problem


@pytest.mark.parametrize(
    ("value", "says"), [(VALUE + "\n", "holds a character"), (VALUE + "v" * 4096, "is longer than 4096 characters")]
)
def test_a_bad_environment_value_names_the_variable_not_the_value(
    cfg: ConfigDir, monkeypatch: pytest.MonkeyPatch, value: str, says: str
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", value)
    cfg.write("c.yaml", _config("                  X-Token: {env: HOOK_TOKEN}"))
    [problem] = cfg.problems("c.yaml")
    assert f"headers.X-Token.env: `HOOK_TOKEN`, the value of header `X-Token`, {says}" in problem
    assert VALUE not in problem


@pytest.mark.parametrize("written", ["1" + VALUE, '""', '"' + VALUE + '-x"'])
def test_a_bad_environment_variable_name_says_what_is_wrong_without_showing_it(cfg: ConfigDir, written: str) -> None:
    """``{env: ...}`` holds a name, but one mistyped may be the secret itself: never shown, yet the
    problem says what a name must be instead of "is not valid here"."""
    cfg.write("c.yaml", _config(f"                  X-Token: {{env: {written}}}"))
    [problem] = cfg.problems("c.yaml")
    assert problem.endswith("headers.X-Token.env: is not an environment variable name (the value is not shown)"), (
        problem
    )
    assert VALUE not in problem


def test_an_empty_mapping_manages_no_headers_and_sends_none(cfg: ConfigDir) -> None:
    cfg.write("c.yaml", _config("                  {}"))
    hook = cfg.load("c.yaml").resources[WEBHOOK_AT]
    assert hook.attrs["headers"] == []
    assert "headers" not in spec_of(WEBHOOK).create_body(hook, lambda kind, name: name)


# -- what the writer sends (pure: the kind's description) ----------------------------------------


def _hook(names: list[str], values: dict[str, WriteOnly] | None = None, **attrs: object) -> Resource:
    hook = Resource(WEBHOOK, WEBHOOK_AT, {"url": "https://x.test", "headers": names, **attrs}, parent="pod/t")
    hook.write_only = {"headers": values} if values is not None else {}
    return hook


def test_a_create_sends_every_value_by_its_declared_name() -> None:
    hook = _hook(["x-a", "x-b"], {"X-A": WriteOnly("1"), "X-B": WriteOnly("2", env="B")})
    body = spec_of(WEBHOOK).create_body(hook, lambda kind, name: name)
    assert body["headers"] == {"X-A": "1", "X-B": "2"}


def test_an_update_sends_the_added_names_values_and_removes_the_others_at_the_headers_route() -> None:
    spec = spec_of(WEBHOOK)
    want = _hook(["x-a", "x-c"], {"X-A": WriteOnly("1"), "X-C": WriteOnly("3")})
    have = _hook(["x-a", "x-b"], enabled=True)
    assert spec.sub_updates({"headers"}, want, have) == [
        ("headers", {"headers": {"X-C": "3"}, "remove_headers": ["x-b"]})
    ]
    assert spec.update_body({"headers"}, want.attrs, have.attrs, lambda kind, name: name) == {}  # not on the item


def test_export_never_declares_header_names_without_values() -> None:
    assert "headers" not in spec_of(WEBHOOK).declaration(_hook(["x-a"]))


class _NoRequests:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"a request was made ({name})")


def test_the_writer_never_sends_a_value_it_does_not_know() -> None:
    writer = ApiWriter(_NoRequests(), IdRegistry({"pod/t": "pod-1"}))  # type: ignore[arg-type]
    with pytest.raises(MailctlError, match=r"headers\.X-Lit is not known here; nothing was sent"):
        writer.create(_hook(["x-lit"], {"X-Lit": WriteOnly()}))  # a literal read back from a plan file


@pytest.mark.parametrize(
    ("written", "says"),
    [
        (f"Bearer-{VALUE}", "expected a mapping, got text (the value is not shown)"),
        (f'"Authorization: Bearer {VALUE}"', "expected a mapping, got text (the value is not shown)"),
        ("0o12345670", "expected a mapping, got text (the value is not shown)"),  # no YAML reads a mapping
        ("12345678", "expected a mapping, got a number (the value is not shown)"),
        ("no", "expected a mapping, got a boolean (the value is not shown)"),
    ],
)
def test_a_value_written_where_the_headers_mapping_goes_is_not_shown(cfg: ConfigDir, written: str, says: str) -> None:
    """``headers: Bearer-...`` (a header's value where the mapping of them goes) is a secret
    all the same: the problem names the field and what is wrong, never the value."""
    cfg.write(
        "c.yaml",
        "version: 1\nwebhooks:\n  w:\n    url: https://x.example/h\n    event_types: [message.received]\n"
        f"    headers: {written}\n",
    )
    [problem] = cfg.problems("c.yaml")
    assert problem.startswith("c.yaml:6:14: webhooks.w.headers: ") and says in problem, problem
    assert VALUE not in problem and "12345" not in problem and "`no`" not in problem
