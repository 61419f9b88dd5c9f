"""`mailctl export -o DIR` writes every file or none, never over config that is already there,
and one file per pod whatever the pod's client_id (the organisation's file keeps its name)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import yaml
from agentmail import CreateBearerApiKeyRequest
from agentmail.inboxes import CreateInboxRequest


def _account(sdk) -> None:
    sdk.pods.create(name="Tenant", client_id="tenant-a")
    sdk.inboxes.create(request=CreateInboxRequest(username="org-bot"))  # lands in the default pod
    sdk.api_keys.create(request=CreateBearerApiKeyRequest(name="org-reader"))  # _organization.yaml


def _tree(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): p.read_text() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_path_that_is_a_file_is_refused_without_a_traceback(mailctl, sandbox, tmp_path: Path):
    _account(sandbox.sdk())
    taken = tmp_path / "mailctl"
    taken.write_text("not a directory\n")
    run = mailctl("export", "-o", taken)
    assert run.exit_code == 1
    assert "not a directory" in run.stderr.lower() and str(taken) in run.stderr
    assert taken.read_text() == "not a directory\n"

    below = mailctl("export", "-o", taken / "sub")  # a parent that is a file: mkdir would fail
    assert below.exit_code == 1
    assert "not a directory" in below.stderr.lower() and "Traceback" not in below.output
    assert taken.read_text() == "not a directory\n"


def test_a_directory_that_already_holds_config_is_refused_and_left_as_it_was(mailctl, sandbox, tmp_path: Path):
    _account(sandbox.sdk())
    out = tmp_path / "mailctl"
    assert mailctl("export", "-o", out).exit_code == 0
    (out / "old-tenant.yaml").write_text("version: 1\npods:\n  old-tenant: {}\n")
    before = _tree(out)

    again = mailctl("export", "-o", out)
    assert again.exit_code == 1
    assert "already holds" in again.stderr and "old-tenant.yaml" in again.stderr
    assert _tree(out) == before  # nothing overwritten, nothing added

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "README.md").write_text("notes\n")  # not config: an existing directory is fine
    run = mailctl("export", "-o", fresh)
    assert run.exit_code == 0, run.output
    assert {"README.md", "tenant-a.yaml"} < set(_tree(fresh)) and (fresh / "README.md").read_text() == "notes\n"
    assert mailctl("plan", "-f", fresh, "--detailed-exitcode").exit_code == 0


def test_a_pod_named_like_the_organisation_file_gets_a_file_of_its_own(mailctl, sandbox, tmp_path: Path):
    sdk = sandbox.sdk()
    _account(sdk)
    sdk.pods.create(name="Clash", client_id="_organization")
    sdk.pods.create(name="Dots", client_id="..")
    sdk.pods.create(name="Long", client_id="l" * 256)  # longer than a file name may be
    sdk.pods.create(name="Tilde", client_id="~a")  # made-up file name: a-<hash of ~a>.yaml ...
    twin = "a-" + hashlib.sha256(b"~a").hexdigest()[:8]
    sdk.pods.create(name="Twin", client_id=twin)  # ... which is this pod's own, plain name
    out = tmp_path / "mailctl"
    run = mailctl("export", "-o", out)
    assert run.exit_code == 0, run.output

    declared: dict[str, object] = {}
    for path in out.iterdir():
        assert path.name.endswith(".yaml") and not path.name.startswith(".")
        config = yaml.safe_load(path.read_text())
        for section, body in config.items():
            if section == "pods":
                assert not set(body) & set(declared.get("pods", {}))  # type: ignore[arg-type]
                declared.setdefault("pods", {}).update(body)  # type: ignore[union-attr]
            elif section != "version":
                declared[section] = body
    assert {"tenant-a", "_organization", "..", "l" * 256, "~a", twin} < set(declared["pods"])  # type: ignore[arg-type]
    assert "org-reader" in declared["api_keys"]  # type: ignore[operator]
    replan = mailctl("plan", "-f", out, "--detailed-exitcode")
    assert replan.exit_code == 0, replan.output


def test_a_failed_write_leaves_no_file_behind(mailctl, sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _account(sandbox.sdk())
    real_replace = os.replace
    moved: list[str] = []

    def full_disk_on_the_second_file(source: str, target: str) -> None:
        if moved:
            raise OSError(28, "No space left on device")
        moved.append(target)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", full_disk_on_the_second_file)
    out = tmp_path / "mailctl"
    run = mailctl("export", "-o", out)
    assert run.exit_code == 1
    assert "No space left on device" in run.stderr and "Traceback" not in run.output
    assert moved  # the first file did land before the failure...
    assert not out.exists() or _tree(out) == {}  # ...and was taken back: all or nothing
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # no staging file left either


def test_a_name_the_export_needs_that_is_taken_by_a_non_config_entry_is_refused_by_name(
    mailctl, sandbox, tmp_path: Path
):
    _account(sandbox.sdk())
    out = tmp_path / "mailctl"
    (out / "tenant-a.yaml").mkdir(parents=True)  # not a config file, but the name export needs
    run = mailctl("export", "-o", out)
    assert run.exit_code == 1
    assert "already holds tenant-a.yaml" in run.stderr and "meanwhile" not in run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["tenant-a.yaml"]


def test_an_empty_output_directory_is_an_error_not_stdout(mailctl, sandbox):
    _account(sandbox.sdk())
    run = mailctl("export", "-o", "")
    assert run.exit_code == 1 and "-o needs a directory" in run.stderr and run.stdout == ""


def test_a_directory_with_an_ignore_file_is_refused(mailctl, sandbox, tmp_path: Path):
    """`.mailctlignore` in -o DIR hid files the export wrote: with `manage.pods` carried over, the
    suggested `plan -f DIR` then destroyed the pod whose file it hid."""
    _account(sandbox.sdk())
    out = tmp_path / "mailctl"
    out.mkdir()
    (out / ".mailctlignore").write_text("tenant-a.yaml\n")
    run = mailctl("export", "-o", out)
    assert run.exit_code == 1
    assert ".mailctlignore" in run.stderr and "could hide" in run.stderr
    assert _tree(out) == {".mailctlignore": "tenant-a.yaml\n"}


def test_a_pod_glob_that_matches_nothing_is_an_error_beside_one_that_matches(mailctl, sandbox):
    _account(sandbox.sdk())
    run = mailctl("export", "--pod", "tenant-a", "--pod", "typo-pod")
    assert run.exit_code == 1
    assert "--pod typo-pod matches no pod" in run.stderr and run.stdout == ""
