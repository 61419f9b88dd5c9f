"""Benchmark: `mailctl validate` of a template fleet against PyYAML's C loader on the rendered
config (issue 19 point 3; goal: at most 0.5x, linear from 2,000 to 10,000 tenants).

    .venv/bin/python bench/load.py                    # 2,000 and 10,000 tenants
    .venv/bin/python bench/load.py --tenants 2000 5000 10000

For each size: one template and a one-line-per-tenant tenants file. Measured in the same run, as
CPU time of this process (no interpreter start-up): loading them as `validate` does
(``mailctl.config.load``), and ``yaml.load(CSafeLoader)`` of what `mailctl render` prints for them.
Also printed: where the load's time goes (parse, schema checks, template expansion, building the
resources), from a profile of the largest size.

Measured on 2 shared cores (CPU time, same run): 0.10-0.12 s for 2,000 tenants (0.052-0.059 s
per 1,000), 0.28-0.31 s for 5,000 and 0.60-0.73 s for 10,000 (0.060-0.073 s per 1,000): linear.
The ratio is 0.64-0.69x at 2,000 and 0.42-0.44x at 10,000 (goal 0.5x; was 2.8x and 1.85x before
issue 19, then 0.84-0.90x and 0.54-0.70x). What made the difference, in order:
- a template is compiled once into closures (``config/stamp.py``) and each tenant stamped out
  without walking the template generically; only the positions of declarations are recorded, the
  rest of a tenant's positions are worked out by the careful renderer when a problem asks for one
  (``expand.RenderedDocument``), so located errors are exactly as before;
- the compiled schema check fuses a text's type, length and pattern, and a mapping's keys, into
  one closure each (2x);
- what the load made is moved to the oldest GC generation unscanned (the first young collection
  after the load walked all of it: ~10%);
- a file without anchors is composed by libyaml instead of PyYAML's Python composer (2x on the
  tenants file).
What is left is plain Python per tenant: building its four resources (~44%), stamping it out
(~23%), the compiled schema check of what it renders (~18%) and parsing its row (~15%). The C
loader's own cost per tenant grows with size (0.08 s per 1,000 at 2,000, 0.14-0.17 s at 10,000),
which is why the ratio is lower at 10,000.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import yaml

from mailctl.config import load
from mailctl.config.dump import to_yaml
from mailctl.config.pipeline import load_config

TEMPLATE = {
    "version": 1,
    "kind": "template",
    "name": "tenant",
    "parameters": {"company": {"type": "string", "required": True}},
    "pod": {
        "client_id": "cs-${tenant}",
        "name": "${company}",
        "inboxes": {
            "${tenant}-support@agentmail.to": {"display_name": "${company} Support"},
            "${tenant}-bot@agentmail.to": {"metadata": {"tenant": "${tenant}"}},
        },
        "api_keys": {"backend": {}},
    },
}
# part -> (module, function): cumulative time of each step of the load
PARTS = {
    "parse": ("loader.py", "read_document"),
    "schema checks": ("schema.py", "validate"),
    "template expansion": ("expand.py", "render_tenants"),
    "building resources": ("build.py", "add"),
}


def write(directory: Path, tenants: int) -> list[str]:
    (directory / "template.yaml").write_text(yaml.safe_dump(TEMPLATE, sort_keys=False))
    rows = "".join(f"  t{i:05d}: {{company: Co {i}}}\n" for i in range(tenants))
    (directory / "tenants.yaml").write_text("version: 1\ntemplate: tenant\ntenants:\n" + rows)
    return [str(directory / "template.yaml"), str(directory / "tenants.yaml")]


def cpu(call: Callable[[], object], runs: int = 2) -> float:
    """The least CPU time of ``runs`` calls."""
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[2000, 10000])
    args = parser.parse_args()
    rows = []
    for tenants in args.tenants:
        with tempfile.TemporaryDirectory(prefix="mailctl-bench-load-") as tmp:
            files = write(Path(tmp), tenants)
            rendered = to_yaml(load_config(files).documents, files)
            loading = cpu(partial(load, files))
            parsing = cpu(partial(yaml.load, rendered, Loader=yaml.CSafeLoader))
            if tenants == max(args.tenants):
                profile = cProfile.Profile()
                profile.runcall(load, files)
        rows.append((tenants, loading, parsing))
    print(f"{'tenants':>8} | {'load s':>7} {'per 1k':>7} | {'CSafeLoader s':>13} | ratio (goal <= 0.5)")
    for tenants, loading, parsing in rows:
        per_1k = loading / tenants * 1000
        print(f"{tenants:>8} | {loading:>7.2f} {per_1k:>7.3f} | {parsing:>13.2f} | {loading / parsing:.2f}")
    stats = pstats.Stats(profile, stream=io.StringIO())
    by_part = dict.fromkeys(PARTS, 0.0)
    for (file, _, function), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        for part, (module, name) in PARTS.items():
            if file.endswith(f"mailctl/config/{module}") and function == name:
                by_part[part] += cumulative
    whole = sum(by_part.values()) or 1.0
    print("under the profiler, the largest size's load by step (cumulative, profiler overhead included):")
    print("  " + ", ".join(f"{part} {seconds / whole:.0%}" for part, seconds in by_part.items()))


if __name__ == "__main__":
    main()
