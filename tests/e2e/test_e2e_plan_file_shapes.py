"""What apply PLANFILE reads must be a plan this mailctl wrote and nobody edited (found by QA):
a FIFO hung apply for ever, a 300 MB file was read whole and applied, and a plan file whose
recorded desired state was edited (manage.protect emptied) destroyed a protected pod although
the file's own refusals said apply would refuse."""

from __future__ import annotations

import json
import os
import threading

from mailctl.plan import planfile

PROTECTED = {
    "version": 1,
    "manage": {"pods": {"client_id_prefix": "t-"}, "protect": ["pod/t-vip"]},
    "pods": {"t-vip": {"name": "VIP"}, "t-other": {"name": "Other"}},
}


def _pods(sandbox) -> list[str]:
    return sorted(p.client_id or "" for p in sandbox.sdk().pods.list(limit=100).pods)


def test_a_fifo_as_plan_file_is_refused_without_waiting_for_a_writer(mailctl, sandbox):
    fifo = mailctl.workdir / "fifo.plan"
    os.mkfifo(fifo)

    def writer() -> None:  # should apply wait for a writer (as it did), this one lets the test end
        try:
            with open(fifo, "w") as handle:
                handle.write("{}")
        except BrokenPipeError:  # apply opened it without blocking and closed it unread: as it should
            pass

    threading.Thread(target=writer, daemon=True).start()
    run = mailctl("apply", fifo)
    assert run.exit_code == 1 and "not a regular file" in run.stderr and "FIFO" in run.stderr, run.output


def test_a_plan_file_larger_than_any_plan_is_refused_before_it_is_read_whole(
    mailctl, sandbox, write_config, monkeypatch
):
    monkeypatch.setattr(planfile, "MAX_PLANFILE_BYTES", 200_000)  # the fixture runs mailctl in this process
    config = write_config({"version": 1, "pods": {"big-a": {"name": "A"}}})
    saved = mailctl.workdir / "big.plan"
    assert mailctl("plan", "-f", config, "--out", saved).exit_code == 0
    document = json.loads(saved.read_text())
    document["pad"] = "x" * (planfile.MAX_PLANFILE_BYTES + 1)
    saved.write_text(json.dumps(document))
    run = mailctl("apply", saved)
    assert run.exit_code == 1 and "larger than" in run.stderr, run.output
    assert "big-a" not in _pods(sandbox)


def test_an_edited_plan_file_whose_rails_differ_from_its_recorded_refusals_is_refused(mailctl, sandbox, write_config):
    mailctl.apply(write_config(PROTECTED))
    removed = {**PROTECTED, "pods": {"t-other": {"name": "Other"}}}
    saved = mailctl.workdir / "vip.plan"
    planned = mailctl("plan", "-f", write_config(removed), "--out", saved)
    assert planned.exit_code == 0 and "protected" in planned.output
    document = json.loads(saved.read_text())
    document["desired"]["manage"]["protect"] = []  # the rail gone, the recorded refusal kept
    saved.write_text(json.dumps(document))
    run = mailctl("apply", saved)
    assert run.exit_code == 1 and "refusal" in run.stderr, run.output
    assert "t-vip" in _pods(sandbox)  # nothing was destroyed
