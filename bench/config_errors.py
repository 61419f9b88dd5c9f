"""How long `mailctl validate` takes on a file with very many problems, against a valid file of the
same size: a config with 100,000 mistakes should cost about what checking a valid one does.

    python bench/config_errors.py --entries 100000

Prints wall time and peak memory (each run in its own process) and the last line of the report.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAIN = "from mailctl.cli.main import main; main()"


def write(path: Path, entries: int, field: str) -> Path:
    with path.open("w") as out:
        out.write("version: 1\npods:\n")
        out.writelines(f"  p{i}: {{{field}: x}}\n" for i in range(entries))
    return path


def measure(file: Path) -> tuple[float, float, str]:
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", MAIN, "validate", "-f", str(file)], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    last = (run.stderr or run.stdout).strip().splitlines()[-1]
    return elapsed, peak_mb, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        valid = write(Path(tmp) / "valid.yaml", args.entries, "name")
        broken = write(Path(tmp) / "broken.yaml", args.entries, "nmae")
        for label, file in (("valid", valid), ("broken", broken)):
            elapsed, peak, last = measure(file)
            print(f"{label:>6}: {elapsed:6.1f} s, peak RSS so far {peak:6.0f} MB  | {last}")


if __name__ == "__main__":
    main()
