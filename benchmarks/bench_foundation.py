"""Benchmark the foundation: raw data generation and `dbt build` on DuckDB, per scale.

Records wall time and peak resident memory of each stage into
benchmarks/results/foundation.json (and .md). Compare figures within one run only:
absolute times on shared machines drift.

    .venv/bin/python benchmarks/bench_foundation.py --scales 1 20 --work-dir /tmp/wml-bench
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure, write_results  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run_scale(scale: float, seed: int, work_dir: Path, threads: int) -> list[dict]:
    """Generate raw data at ``scale`` and build the warehouse from it; return one row per stage."""
    raw = work_dir / f"raw_s{scale:g}"
    database = work_dir / f"warehouse_s{scale:g}.duckdb"
    database.unlink(missing_ok=True)
    stages = [
        measure(
            "generate",
            [
                str(BIN / "warehouse-ml"),
                "generate",
                "--scale",
                str(scale),
                "--seed",
                str(seed),
                "--out",
                str(raw),
                "--force",
            ],
        ),
        measure(
            "dbt build",
            [
                str(BIN / "dbt"),
                "build",
                "--profiles-dir",
                "profiles",
                "--project-dir",
                str(PROJECT),
                "--target-path",
                str(work_dir / "target"),
                "--log-path",
                str(work_dir / "logs"),
                "--vars",
                f"{{raw_data_path: {raw}}}",
            ],
            env={"WAREHOUSE_ML_DUCKDB_PATH": str(database), "WAREHOUSE_ML_THREADS": str(threads)},
        ),
    ]
    rows = []
    for stage in stages:
        if stage.returncode != 0:
            raise SystemExit(f"stage {stage.stage!r} at scale {scale} failed ({stage.returncode})")
        rows.append(
            {
                "scale": scale,
                "stage": stage.stage,
                "wall_seconds": stage.wall_seconds,
                "peak_rss_mib": stage.peak_rss_mib,
            }
        )
    rows.append(
        {
            "scale": scale,
            "stage": "database size (MiB)",
            "wall_seconds": "",
            "peak_rss_mib": round(database.stat().st_size / 2**20, 1),
        }
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 20.0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/warehouse_ml_bench"))
    parser.add_argument("--keep", action="store_true", help="keep raw data and databases")
    args = parser.parse_args()

    os.chdir(PROJECT)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    rows = [
        row
        for scale in args.scales
        for row in run_scale(scale, args.seed, args.work_dir, args.threads)
    ]
    note = (
        f"Foundation benchmark on {platform.node()} ({os.cpu_count()} cores), "
        f"threads={args.threads}, seed={args.seed}. Wall seconds and peak RSS per stage."
    )
    path = write_results("foundation", rows, note)
    print(f"wrote {path}")
    if not args.keep:
        shutil.rmtree(args.work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
