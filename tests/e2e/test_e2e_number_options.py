"""Number options refuse what is no finite number: NaN passes every range check click makes (each
comparison with NaN is False), so `--wait-for-domains nan` or `--lock-timeout nan` would be taken
as given and then wait forever or not at all; `--lock-timeout inf` waited "up to infs". Each is a
usage error naming the option, before the first request; the sandbox refuses `--rate-limit nan`
and `--fault-rate nan` before it serves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from e2e_harness import tenants_config

APPLY_OPTIONS = ["--wait-for-domains", "--wait-for-shards", "--lock-timeout", "--rate-limit", "--timeout"]


@pytest.mark.parametrize("option", APPLY_OPTIONS)
@pytest.mark.parametrize("value", ["nan", "NaN", "-nan", "inf", "1e309"])
def test_apply_refuses_a_number_option_that_is_nan_and_changes_nothing(mailctl, write_config, option, value):
    config = write_config(tenants_config(1, prefix="nan-"))
    run = mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", "secrets.json", option, value)
    assert run.exit_code == 1, run.output
    assert option in run.output and "Traceback" not in run.output
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 2  # nothing was created


@pytest.mark.parametrize("option", ["--rate-limit", "--fault-rate", "--latency-ms"])
def test_the_sandbox_refuses_nan_before_it_serves(tmp_path: Path, option: str):
    exe = Path(sys.executable).with_name("mailctl")
    done = subprocess.run(
        [str(exe), "sandbox", "serve", "--port", "0", "--db", str(tmp_path / "s.db"), option, "nan"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode != 0
    assert option in done.stderr and "listening" not in done.stdout
