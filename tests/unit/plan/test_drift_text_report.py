"""`mailctl drift` as text: one section per category, each address with its reason and its
attribute diffs, unmanaged resources listed apart, the headline last."""

from __future__ import annotations

from mailctl.plan.changes import CREATE, DELETE, UPDATE, AttributeChange, Change, Plan
from mailctl.plan.drift import DriftReport, render

INBOX = "pod/t/inbox/bot@agentmail.to"


def _report() -> DriftReport:
    return DriftReport.from_plan(
        Plan(
            changes=[
                Change(UPDATE, INBOX, diff=[AttributeChange("display_name", "By hand", "Bot")]),
                Change(UPDATE, "api_key/reader", reason="secret never recorded"),
                Change(CREATE, "pod/t/inbox/new@agentmail.to"),
                Change(DELETE, "pod/t/inbox/intruder@agentmail.to"),
            ],
            unmanaged=["pod/other"],
        )
    )


def test_text_report_lists_every_category_with_reasons_diffs_and_unmanaged_before_the_headline():
    """Deleting any line of render_text's loop (the section title, the address, the reason, the
    diff lines, the blank line between sections) or the unmanaged list went unnoticed by the
    unit tests: only an e2e run against the sandbox saw the text body at all."""
    assert render(_report(), "text") == (
        "Changed:\n"
        f"  {INBOX}\n"
        '      display_name: "By hand" (actual) != "Bot" (declared)\n'
        "  api_key/reader\n"
        "      # secret never recorded\n"
        "\n"
        "Missing (declared, absent):\n"
        "  pod/t/inbox/new@agentmail.to\n"
        "\n"
        "Undeclared (exists in a managed scope):\n"
        "  pod/t/inbox/intruder@agentmail.to\n"
        "\n"
        "Unmanaged (outside `manage`, left alone):\n"
        "  pod/other\n"
        "\n"
        "Drift: 4 resource(s) differ from the configuration — 2 changed, 1 missing, 1 undeclared (1 unmanaged)."
    )


def test_text_report_without_drift_still_lists_the_unmanaged():
    """A clean run still shows what is outside `manage`: deleting the unmanaged line left only the headline."""
    report = DriftReport.from_plan(Plan(unmanaged=["pod/other", "api_key/ci"]))
    assert render(report, "text") == (
        "Unmanaged (outside `manage`, left alone):\n"
        "  pod/other\n"
        "  api_key/ci\n"
        "\n"
        "No drift: the actual state matches the configuration (2 unmanaged)."
    )
