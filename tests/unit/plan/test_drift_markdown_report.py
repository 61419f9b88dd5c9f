"""`mailctl drift --format markdown`: a heading, the headline in bold, one table row per drifted
(or replaced-with-pod) resource under a header row, and the unmanaged ones folded away."""

from __future__ import annotations

from mailctl.plan.changes import CREATE, UPDATE, AttributeChange, Change, Plan
from mailctl.plan.drift import DriftReport, render


def test_markdown_report_is_a_table_with_a_header_and_unmanaged_folded_away():
    """Deleting the table's header line left rows GitHub renders as plain text; deleting the
    `<details>` lines dropped the unmanaged resources from the report."""
    report = DriftReport.from_plan(
        Plan(
            changes=[
                Change(UPDATE, "pod/t", diff=[AttributeChange("name", "T", "Tee")]),
                Change(CREATE, "pod/t/inbox/new@agentmail.to"),
            ],
            unmanaged=["pod/other"],
        )
    )
    assert render(report, "markdown") == (
        "### mailctl drift report\n"
        "\n"
        "**Drift: 2 resource(s) differ from the configuration — 1 changed, 1 missing, 0 undeclared (1 unmanaged).**\n"
        "\n"
        "| Resource | Drift | Details (actual → declared) |\n"
        "|---|---|---|\n"
        '| `pod/t` | changed | `name`: `"T"` → `"Tee"` |\n'
        "| `pod/t/inbox/new@agentmail.to` | missing | — |\n"
        "\n"
        "<details><summary>Unmanaged resources (left alone)</summary>\n"
        "\n"
        "- `pod/other`\n"
        "\n"
        "</details>"
    )


def test_markdown_report_without_drift_has_no_table():
    assert render(DriftReport.from_plan(Plan()), "markdown") == (
        "### mailctl drift report\n\n**No drift: the actual state matches the configuration (0 unmanaged).**\n"
    )


def test_a_reason_from_the_api_is_text_in_the_markdown_report():
    """A drift reason quoting a name the API holds printed it as live HTML and Markdown."""
    forged = "api_key/<img src=x onerror=alert(1)> **Drift: none** | cell"
    report = DriftReport.from_plan(Plan(changes=[Change(UPDATE, "pod/t", reason=f"moved from {forged}")]))
    [row] = [line for line in render(report, "markdown").splitlines() if line.startswith("| `pod/t`")]
    assert "<img" not in row and "**Drift" not in row and "&lt;img" in row
    assert row.count(" | ") == 2  # the name's "|" cannot open a fourth cell
