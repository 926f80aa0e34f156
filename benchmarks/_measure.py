"""Run one command in a child process and report its wall time and peak memory.

Each stage runs under a fresh Python "referee" process whose only child is the stage,
so ``RUSAGE_CHILDREN`` gives that stage's own peak resident set size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

_REFEREE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[1:])
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"returncode": code, "wall_seconds": wall, "peak_rss_mib": usage.ru_maxrss / 1024,
                  "cpu_seconds": usage.ru_utime + usage.ru_stime}))
"""


@dataclass(frozen=True)
class StageResult:
    """Wall time, peak resident memory and CPU time (user + system) of one benchmark stage."""

    stage: str
    wall_seconds: float
    peak_rss_mib: float
    returncode: int
    cpu_seconds: float = float("nan")


def measure(stage: str, command: list[str], env: dict[str, str] | None = None) -> StageResult:
    """Run ``command`` and return its wall time and peak RSS; its output goes to stderr."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", _REFEREE, *command],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    # The stage's own stdout is forwarded by the referee to our captured stdout;
    # the figures are the last line.
    lines = completed.stdout.strip().splitlines()
    sys.stderr.write("\n".join(lines[:-1]) + "\n")
    figures = json.loads(lines[-1]) if lines else {}
    return StageResult(
        stage=stage,
        wall_seconds=round(figures.get("wall_seconds", time.perf_counter() - started), 2),
        peak_rss_mib=round(figures.get("peak_rss_mib", float("nan")), 1),
        returncode=figures.get("returncode", completed.returncode),
        cpu_seconds=round(figures.get("cpu_seconds", float("nan")), 2),
    )


def write_results(name: str, rows: list[dict], note: str = "") -> str:
    """Write ``rows`` to benchmarks/results/<name>.json and a markdown table beside it."""
    out_dir = os.path.join(os.path.dirname(__file__), "results")
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, f"{name}.json")
    with open(json_path, "w") as handle:
        json.dump({"note": note, "rows": rows}, handle, indent=2)
    columns = list(rows[0]) if rows else []
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    with open(os.path.join(out_dir, f"{name}.md"), "w") as handle:
        handle.write((note + "\n\n" if note else "") + "\n".join(table) + "\n")
    return json_path


__all__ = ["StageResult", "asdict", "measure", "write_results"]
