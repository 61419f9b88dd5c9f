"""settings.safety at the edges the schema allows: min_existing 0 (thresholds apply from the first
resource on) must plan and apply a fresh organisation, where nothing exists yet to count against."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("zero", ["0", "0.0", "-0.0"])
def test_min_existing_zero_plans_and_applies_a_fresh_organisation(mailctl, write_config, zero):
    config = write_config(
        {
            "version": 1,
            "settings": {"safety": {"min_existing": zero}},
            "pods": {"p1": {"name": "P"}},
        }
    )
    text = config.read_text().replace(f"'{zero}'", zero)  # a number, not the string
    config.write_text(text)
    assert mailctl("validate", "-f", config).exit_code == 0
    plan = mailctl("plan", "-f", config, "--detailed-exitcode")
    assert plan.exit_code == 2 and "Traceback" not in plan.output, plan.output
    mailctl.apply(config)
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
