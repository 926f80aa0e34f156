"""Publish time next to build time: `warehouse-ml publish` on a finished build, per scale.

Give it a build folder that a full ``dbt build`` wrote (the build database and its
``run_results.json``); it publishes it ``--repeats`` times into a scratch folder beside it
(``<build dir>/bench_publish/``, pruned to one publication) and records the median publish time,
the rows and Parquet bytes published, the build's wall time (``--build-seconds`` if you measured
it, else the run_results' top-level ``elapsed_time``: dbt's wall clock for the invocation) and
the load average. Results merge into benchmarks/results/publish.{json,md},
one row per scale.

    python benchmarks/bench_publish.py --scale 1 --build-db data/build/warehouse.duckdb \\
        --run-results target/run_results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
from pathlib import Path

import duckdb

from warehouse_ml import publish

RESULTS = Path(__file__).resolve().parent / "results"


def run(args: argparse.Namespace) -> dict:
    scratch = args.build_db.parent / "bench_publish"
    shutil.rmtree(scratch, ignore_errors=True)
    seconds, loads = [], []
    for _ in range(args.repeats):
        loads.append(os.getloadavg()[0])
        done = publish.publish(
            args.build_db, scratch / "warehouse.duckdb", run_results=args.run_results, keep=1
        )
        seconds.append(done.seconds)
    results = json.loads(args.run_results.read_text())
    build_seconds = args.build_seconds or results.get("elapsed_time")
    with duckdb.connect(str(scratch / "warehouse.duckdb"), read_only=True) as connection:
        largest = connection.execute(
            "select schema_name || '.' || relation_name, row_count from main.published_relations "
            "order by row_count desc limit 1"
        ).fetchone()
    row = {
        "scale": args.scale,
        "relations": len(done.relations),
        "rows": sum(entry["rows"] for entry in done.relations),
        "largest": f"{largest[0]} ({largest[1]:,} rows)",
        "parquet_mib": round(sum(entry["bytes"] for entry in done.relations) / 2**20, 1),
        "build_db_mib": round(args.build_db.stat().st_size / 2**20, 1),
        "publish_seconds_median": round(statistics.median(seconds), 2),
        "publish_seconds_all": [round(value, 2) for value in seconds],
        "build_seconds": round(build_seconds, 1) if build_seconds else None,
        "publish_over_build": round(statistics.median(seconds) / build_seconds, 3)
        if build_seconds
        else None,
        "load_1min": [round(value, 1) for value in loads],
    }
    shutil.rmtree(scratch, ignore_errors=True)
    return row


def write(row: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS / "publish.json"
    rows = json.loads(json_path.read_text())["rows"] if json_path.is_file() else []
    rows = sorted([r for r in rows if r["scale"] != row["scale"]] + [row], key=lambda r: r["scale"])
    note = (
        "`warehouse-ml publish` (every table and view of marts and ml to zstd Parquet, a DuckDB "
        f"of views swapped in by os.replace), DuckDB {duckdb.__version__}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}; median of the repeats. The machine was shared (load_1min)."
    )
    json_path.write_text(json.dumps({"note": note, "rows": rows}, indent=2) + "\n")
    columns = list(rows[0])
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join(str(r.get(c)) for c in columns) + " |" for r in rows]
    (RESULTS / "publish.md").write_text(
        "# Publish time\n\n" + note + "\n\n" + "\n".join(table) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, required=True, help="scale of the build's raw data")
    parser.add_argument("--build-db", type=Path, default=publish.BUILD_DB)
    parser.add_argument("--run-results", type=Path, default=publish.RUN_RESULTS)
    parser.add_argument("--build-seconds", type=float, help="the build's wall time, if measured")
    parser.add_argument("--repeats", type=int, default=3)
    row = run(parser.parse_args())
    write(row)
    print(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
