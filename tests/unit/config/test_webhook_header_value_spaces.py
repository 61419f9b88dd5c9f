"""A webhook header value with a space or tab at either end: HTTP cannot carry it (h11 refuses to
send it, RFC 9110 §5.5), so the sandbox accepted it and then failed every delivery, quoting the
value in the delivery log. ``mailctl validate`` refuses it, located, without showing the value;
an ``{env: NAME}`` value is checked when it is read, naming the variable and the header."""

from __future__ import annotations

import pytest
from config_dir import ConfigDir

VALUE = "padded-secret-value-4b1d"  # must never appear in a problem


def _config(value: str) -> str:
    hook = f"    url: https://example.com/hook\n    event_types: [message.sent]\n    headers: {{X-Tok: {value}}}\n"
    return "version: 1\nwebhooks:\n  w:\n" + hook


@pytest.mark.parametrize("value", [f'" {VALUE} "', f'"{VALUE} "', f'"\\t{VALUE}"', '" "'])
def test_a_literal_value_with_a_space_or_tab_at_either_end_is_a_located_problem(cfg: ConfigDir, value: str) -> None:
    cfg.write("c.yaml", _config(value))
    assert cfg.problems("c.yaml") == [
        "c.yaml:6:22: webhooks.w.headers.X-Tok: the value of header `X-Tok` starts or ends with a "
        "space or tab, which a header value cannot (HTTP drops them); the value is not shown"
    ]


def test_an_environment_value_with_a_trailing_space_names_the_variable_and_header(
    cfg: ConfigDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", VALUE + " ")
    cfg.write("c.yaml", _config("{env: HOOK_TOKEN}"))
    [problem] = cfg.problems("c.yaml")
    assert problem == (
        "c.yaml:6:28: webhooks.w.headers.X-Tok.env: `HOOK_TOKEN`, the value of header `X-Tok`, starts "
        "or ends with a space or tab, which a header value cannot (HTTP drops them); the value is not shown"
    )


@pytest.mark.parametrize("value", ['""', f'"{VALUE} inner\\tgaps"', f'"{VALUE}\\u00e9"'])
def test_a_value_http_can_carry_is_accepted(cfg: ConfigDir, value: str) -> None:
    cfg.write("c.yaml", _config(value))
    assert cfg.load("c.yaml").resources["webhook/w"].attrs["headers"] == ["x-tok"]
