"""A config directory shared with other tools' YAML: mailctl reads a file only when it clearly is
mailctl's, names every file it skips on stderr, and honours `.mailctlignore` (gitignore syntax).
Files named with -f are always read."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

COMPOSE = """
version: "3.8"
services:
  web: {image: nginx, ports: ["80:80"]}
"""
DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
"""
HELM_VALUES = """
replicaCount: 1
pods:
  annotations: {team: mail}
image: {repository: web}
"""
WORKFLOW = """
name: CI
on: [push]
jobs: {x: {run: a: b}}
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def validate(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write(tmp_path, "mailctl.yaml", "version: 1\npods: {a: {inboxes: {x@agentmail.to: {}}}}\n")
    return tmp_path


def test_compose_kubernetes_and_helm_files_are_skipped_with_a_warning_each(repo: Path) -> None:
    write(repo, "docker-compose.yml", COMPOSE)
    write(repo, "k8s/deployment.yaml", DEPLOYMENT)
    write(repo, "chart/values.yaml", HELM_VALUES)
    write(repo, ".github/workflows/ci.yml", WORKFLOW)  # hidden directory: not even looked at
    code, out, err = validate("-f", repo)
    assert (code, out) == (0, "OK: 1 file, 2 resources (1 pod, 1 inbox)\n")
    assert err.splitlines() == [
        f"warning: skipped {repo}/chart/values.yaml: top-level keys `replicaCount`, `image` are not "
        "mailctl's (another tool's file; list it in .mailctlignore to silence this)",
        f"warning: skipped {repo}/docker-compose.yml: top-level key `services` is not mailctl's "
        "(another tool's file; list it in .mailctlignore to silence this)",
        f"warning: skipped {repo}/k8s/deployment.yaml: top-level keys `apiVersion`, `metadata`, `spec` are not "
        "mailctl's (another tool's file; list it in .mailctlignore to silence this)",
    ]


def test_a_foreign_kind_alone_marks_a_file_as_another_tools(repo: Path) -> None:
    write(repo, "thing.yaml", "kind: Deployment\nversion: 2\n")
    code, _, err = validate("-f", repo)
    assert code == 0 and f"skipped {repo}/thing.yaml: `kind: Deployment` is not a mailctl kind" in err


def test_plan_warns_about_skipped_files_too(repo: Path) -> None:
    write(repo, "docker-compose.yml", COMPOSE)
    result = CliRunner().invoke(cli, ["plan", "-f", str(repo), "--sandbox", str(repo / ".sandbox")])
    assert result.exit_code == 0, result.output
    assert f"warning: skipped {repo}/docker-compose.yml" in result.stderr


def test_named_files_are_always_read_and_their_errors_reported(repo: Path) -> None:
    compose = write(repo, "docker-compose.yml", COMPOSE)
    code, _, err = validate("-f", compose)
    assert code == 1 and "warning" not in err
    assert f"{compose}:2:1: services: unknown field `services`" in err


def test_mailctl_files_are_recognised_by_keys_kind_or_modeline(repo: Path) -> None:
    write(
        repo,
        "template.yaml",
        """
        version: 1
        kind: template
        name: shop
        pod: {name: "${tenant}"}
    """,
    )
    write(repo, "tenants.yaml", "version: 1\ntemplate: shop\ntenants: {t1: {}}\n")
    write(
        repo,
        "flow.yaml",
        "# yaml-language-server: $schema=../schemas/mailctl.schema.json\n{version: 1, pods: {b: {}}}\n",
    )
    write(repo, "explicit.yaml", "version: 1\nkind: config\n'domains': {}\n")
    code, out, err = validate("-f", repo)
    assert (code, err) == (0, "")
    assert out == "OK: 5 files, 4 resources (3 pod, 1 inbox)\n"


def test_a_misspelt_top_level_key_in_a_versioned_config_is_an_error_not_a_skip(repo: Path) -> None:
    # Skipping it would make its pods look undeclared, and a plan would delete them.
    typo = write(repo, "b.yaml", "version: 1\npods: {b: {}}\ndomian: {}\n")
    code, out, err = validate("-f", repo)
    assert code == 1 and "skipped" not in err
    assert f"{typo}:3:1: domian: unknown field `domian`; did you mean `domains`?" in err


def test_a_misspelt_top_level_key_without_version_is_skipped_loudly(repo: Path) -> None:
    typo = write(repo, "b.yaml", "pods: {b: {}}\ndomian: {}\n")
    code, out, err = validate("-f", repo)
    assert code == 0 and f"skipped {typo}: top-level key `domian` is not mailctl's" in err
    assert validate("-f", typo)[2].count("unknown field `domian`; did you mean `domains`?") == 1


def test_a_compose_file_with_a_quoted_version_is_still_skipped(repo: Path) -> None:
    compose = write(repo, "docker-compose.yml", 'version: "1"\nservices: {web: {image: x}}\n')
    code, _, err = validate("-f", repo)
    assert code == 0 and f"skipped {compose}" in err


def test_a_directory_holding_only_other_tools_files_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.yml", COMPOSE)
    code, _, err = validate("-f", tmp_path)
    assert code == 1
    assert f"{tmp_path}:1:1: no mailctl config files in this directory (1 other file skipped)" in err


# --- .mailctlignore ----------------------------------------------------------------------------


def test_mailctlignore_excludes_silently_with_gitignore_rules(repo: Path) -> None:
    write(repo, "docker-compose.yml", COMPOSE)
    write(repo, "k8s/deployment.yaml", DEPLOYMENT)
    write(repo, "deep/a/b/values.yaml", HELM_VALUES)
    write(repo, "drafts/one.yaml", "version: 1\npods: {draft-1: {}}\n")
    write(repo, "drafts/keep.yaml", "version: 1\npods: {kept: {}}\n")
    write(repo, "old/x.yaml", "version: 1\npods: {old: {}}\n")
    write(
        repo,
        ".mailctlignore",
        """
        # other tools
        docker-compose.yml
        k8s/
        **/values.yaml
        drafts/*.yaml
        !drafts/keep.yaml
        /old
    """,
    )
    code, out, err = validate("-f", repo)
    assert (code, err) == (0, "")
    assert out == "OK: 2 files, 3 resources (2 pod, 1 inbox)\n"


def test_mailctlignore_does_not_apply_to_files_named_with_f(repo: Path) -> None:
    write(repo, ".mailctlignore", "*.yaml\n")
    code, _, err = validate("-f", repo / "mailctl.yaml")
    assert code == 0 and err == ""


def test_a_skipped_file_is_named_with_its_hidden_characters_escaped(repo: Path) -> None:
    # A neighbour's file name or top-level key could rewrite the warning line on a terminal.
    hostile = write(repo, "evil\u202egnp.yaml", "services\x1b[2K: {}\n\u202ekind: Deployment\n")
    code, _, err = validate("-f", repo)
    assert code == 0 and "skipped" in err
    assert "\x1b" not in err and "\u202e" not in err
    assert f"{repo}/evil\\u202egnp.yaml" in err and str(hostile) not in err


# --- encodings and line ends a config file may be saved with -------------------------------------


def test_a_config_file_starting_with_a_byte_order_mark_is_read_not_skipped(repo: Path) -> None:
    # Skipping it would make its pods look undeclared, and a plan would delete them.
    (repo / "bom.yaml").write_bytes(b"\xef\xbb\xbfversion: 1\npods: {bom-pod: {}}\n")
    (repo / "bom-keys.yaml").write_bytes(b"\xef\xbb\xbfdomains: {bom.example.com: {}}\nversion: 1\n")
    code, out, err = validate("-f", repo)
    assert (code, err) == (0, "")
    assert out == "OK: 3 files, 4 resources (2 pod, 1 domain, 1 inbox)\n"


def test_a_misspelt_top_level_key_in_a_crlf_config_is_an_error_not_a_skip(repo: Path) -> None:
    typo = repo / "b.yaml"
    typo.write_bytes(b"version: 1\r\npods:\r\n  b: {}\r\nsetings: {}\r\n")
    code, out, err = validate("-f", repo)
    assert code == 1 and "skipped" not in err
    assert f"{typo}:4:1: setings: unknown field `setings`; did you mean `settings`?" in err


def test_a_byte_order_mark_in_mailctlignore_leaves_its_first_pattern_working(repo: Path) -> None:
    write(repo, "docker-compose.yml", COMPOSE)
    write(repo, "k8s/deployment.yaml", DEPLOYMENT)
    (repo / ".mailctlignore").write_bytes(b"\xef\xbb\xbfdocker-compose.yml\r\nk8s/\r\n")
    code, out, err = validate("-f", repo)
    assert (code, err) == (0, "")
    assert out == "OK: 1 file, 2 resources (1 pod, 1 inbox)\n"


# --- links and unreadable directories in a walk ----------------------------------------------------


def test_a_linked_subdirectory_is_searched_like_a_real_one(repo: Path, tmp_path_factory) -> None:
    # Left out, its pods would look undeclared and a plan would delete them.
    shared = tmp_path_factory.mktemp("shared")
    write(shared, "tenants.yaml", "version: 1\npods: {linked-pod: {}}\n")
    (repo / "shared").symlink_to(shared, target_is_directory=True)
    code, out, err = validate("-f", repo)
    assert (code, err) == (0, "")
    assert out == "OK: 2 files, 3 resources (2 pod, 1 inbox)\n"


def test_a_link_back_to_a_directory_already_searched_is_named_not_followed(repo: Path) -> None:
    write(repo, "sub/b.yaml", "version: 1\npods: {b: {}}\n")
    (repo / "sub" / "loop").symlink_to(repo, target_is_directory=True)
    (repo / "again").symlink_to(repo / "sub", target_is_directory=True)
    (repo / "sub" / "up").symlink_to(repo.parent, target_is_directory=True)
    code, out, err = validate("-f", repo)
    assert code == 0 and out == "OK: 2 files, 3 resources (2 pod, 1 inbox)\n"
    assert err.splitlines() == [
        f"warning: skipped {repo}/again: a link to {repo.resolve()}/sub, a directory already searched",
        f"warning: skipped {repo}/sub/loop: a link to {repo.resolve()}, a directory already searched",
        f"warning: skipped {repo}/sub/up: a link to {repo.parent.resolve()}, which holds {repo.resolve()}, "
        "a directory already searched",
    ]


def test_a_directory_that_cannot_be_listed_is_named_not_passed_over(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    write(repo, "locked/c.yaml", "version: 1\npods: {c: {}}\n")
    listing = os.scandir

    def scandir(path):  # as for a directory without read permission (tests may run as root)
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = validate("-f", repo)
    assert code == 0 and err == f"warning: skipped {repo}/locked: cannot list this directory: Permission denied\n"
