"""Benchmark the CTR chain against one hand-written DuckDB script computing the same rows.

The project side is `dbt run` of the chain from the raw Parquet files (staging through
``fct_ad_ctr_daily`` and ``fct_ad_ctr_rolling``: ``--select +fct_ad_ctr_daily +fct_ad_ctr_rolling``)
into a fresh DuckDB file; the hand side runs benchmarks/ctr_chain_hand_written.sql over the same
files into another fresh file, in a child process with the profile's DuckDB settings. The two run
in interleaved pairs (alternating which goes first), and the load average is recorded around each
run: on a shared machine only the ratio within a pair means something. After the pairs, the two
results are compared row for row (exact; the prior and smoothed CTR, a method-of-moments fit summed
in another order by numpy than by DuckDB, to 1e-9 relative). The ratio is of wall times, dbt's
start-up included; the results also give the project's seconds inside its nodes (dbt's
run_results) over the hand script's wall, and the rest of the project's wall (dbt importing itself,
loading the manifest, writing its artifacts): a fixed cost per `dbt` invocation that does not grow
with the data. Results go to benchmarks/results/ctr_chain.json (and .md).

    .venv/bin/python benchmarks/bench_ctr_chain.py --scale 2 --pairs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure, write_results  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HAND_SQL = Path(__file__).with_name("ctr_chain_hand_written.sql")
SELECTOR = ["+fct_ad_ctr_daily", "+fct_ad_ctr_rolling"]
# The profile's DuckDB settings (profiles/profiles.yml): both sides run under the same settings.
HAND_SETTINGS = {"preserve_insertion_order": "false", "TimeZone": "UTC", "memory_limit": "16GB"}
# The project's defaults the hand script has pasted in (dbt_project.yml vars).
HAND_PARAMS = {
    "windows": "(7), (28)",
    "min_impressions": "100",
    "placements": "'feed', 'search', 'sidebar', 'stories', 'video'",
    "devices": "'mobile', 'desktop', 'tablet'",
}
FLOAT_COLUMNS = {"prior_alpha", "prior_beta", "smoothed_click_through_rate"}

_HAND_RUNNER = """
import sys, duckdb
database, script, settings = sys.argv[1], sys.argv[2], sys.argv[3:]
connection = duckdb.connect(database)
for setting in settings:
    name, value = setting.split('=', 1)
    connection.execute(f"set {name} = '{value}'")
connection.execute(open(script).read())
connection.close()
"""


def hand_script(raw: Path, work_dir: Path) -> Path:
    """The hand-written SQL with the raw folder, the run's start and the vars filled in."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    text = HAND_SQL.read_text()
    for key, value in {**HAND_PARAMS, "raw": str(raw), "now": f"timestamp '{now}'"}.items():
        text = text.replace("{" + key + "}", value)
    path = work_dir / "hand_written.sql"
    path.write_text(text)
    return path


def run_project(raw: Path, work_dir: Path, threads: int, database: Path):
    database.unlink(missing_ok=True)
    command = [
        str(BIN / "dbt"),
        "run",
        "--quiet",
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
        "--select",
        *SELECTOR,
    ]
    env = {"WAREHOUSE_ML_DUCKDB_PATH": str(database), "WAREHOUSE_ML_THREADS": str(threads)}
    return measure("project chain (dbt run)", command, env=env)


def run_hand(raw: Path, work_dir: Path, threads: int, database: Path):
    database.unlink(missing_ok=True)
    settings = [f"{name}={value}" for name, value in {**HAND_SETTINGS, "threads": threads}.items()]
    script = hand_script(raw, work_dir)
    command = [sys.executable, "-c", _HAND_RUNNER, str(database), str(script), *settings]
    return measure("hand-written query", command)


def node_timings(work_dir: Path) -> dict[str, float]:
    """Execution seconds per node of the last `dbt run` (its run_results.json)."""
    results = json.loads((work_dir / "target" / "run_results.json").read_text())
    return {
        result["unique_id"].split(".")[-1]: round(result["execution_time"], 2)
        for result in results["results"]
    }


def assert_same_rows(project_db: Path, hand_db: Path) -> dict[str, int]:
    """Raise AssertionError unless both files hold the same CTR rows; return the row counts."""
    import duckdb

    connection = duckdb.connect(str(hand_db), read_only=True)
    connection.execute(f"attach '{project_db}' as project (read_only)")
    counts = {}
    pairs = {
        "fct_ad_ctr_daily": ("hand_ad_ctr_daily", ["ad_id", "placement", "impression_date"]),
        "fct_ad_ctr_rolling": (
            "hand_ad_ctr_rolling",
            ["ad_id", "placement", "as_of_date", "window_days"],
        ),
    }
    for model, (hand_table, keys) in pairs.items():
        project = f"project.marts.{model}"
        columns = [row[0] for row in connection.execute(f"describe {project}").fetchall()]
        hand_columns = [row[0] for row in connection.execute(f"describe {hand_table}").fetchall()]
        assert columns == hand_columns, f"{model}: columns {columns} != hand {hand_columns}"
        exact = [column for column in columns if column not in FLOAT_COLUMNS]
        exact_list = ", ".join(exact)
        for left, right in ((project, hand_table), (hand_table, project)):
            extra = connection.execute(
                f"select count(*) from (select {exact_list} from {left} "
                f"except all select {exact_list} from {right})"
            ).fetchone()[0]
            assert extra == 0, f"{model}: {extra} rows of {left} are not in {right}"
        floats = [column for column in columns if column in FLOAT_COLUMNS]
        if floats:
            on = " and ".join(f"p.{key} = h.{key}" for key in keys)
            differs = " or ".join(
                f"abs(p.{c} - h.{c}) > 1e-9 * greatest(abs(p.{c}), abs(h.{c}), 1e-300)"
                f" or (p.{c} is null) != (h.{c} is null)"
                for c in floats
            )
            bad = connection.execute(
                f"select count(*) from {project} as p inner join {hand_table} as h"
                f" on {on} where {differs}"
            ).fetchone()[0]
            assert bad == 0, f"{model}: {bad} rows differ in {floats} by more than 1e-9 relative"
        counts[model] = connection.execute(f"select count(*) from {project}").fetchone()[0]
    connection.close()
    return counts


def ensure_raw(scale: float, seed: int, raw: Path) -> None:
    manifest = raw / "_manifest.json"
    if manifest.exists():
        written = json.loads(manifest.read_text())
        if written.get("scale") == scale and written.get("seed") == seed:
            return
    code = measure(
        "generate",
        [str(BIN / "warehouse-ml"), "generate", "--scale", str(scale), "--seed", str(seed)]
        + ["--out", str(raw), "--force"],
    ).returncode
    if code != 0:
        raise SystemExit(f"generating raw data at scale {scale} failed ({code})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/warehouse_ml_bench_ctr"))
    parser.add_argument(
        "--raw", type=Path, help="raw data folder to reuse (default: <work-dir>/raw)"
    )
    parser.add_argument("--keep", action="store_true", help="keep raw data and databases")
    args = parser.parse_args()

    os.chdir(PROJECT)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    raw = (args.raw or args.work_dir / "raw").resolve()
    ensure_raw(args.scale, args.seed, raw)
    project_db, hand_db = args.work_dir / "project.duckdb", args.work_dir / "hand.duckdb"

    # Warm-up, not timed: dbt's partial-parse cache and the OS file cache, for both sides alike.
    run_project(raw, args.work_dir, args.threads, project_db)
    run_hand(raw, args.work_dir, args.threads, hand_db)

    rows, ratios, node_ratios = [], [], []
    for pair in range(1, args.pairs + 1):
        sides = ["project", "hand"] if pair % 2 else ["hand", "project"]
        timings = {}
        for side in sides:
            load_before = os.getloadavg()[0]
            if side == "project":
                stage = run_project(raw, args.work_dir, args.threads, project_db)
            else:
                stage = run_hand(raw, args.work_dir, args.threads, hand_db)
            if stage.returncode != 0:
                raise SystemExit(f"{stage.stage} failed ({stage.returncode}) in pair {pair}")
            timings[side] = stage
            # The project side's seconds inside its nodes (dbt's run_results): the rest of its
            # wall time is dbt's own start-up (imports, manifest) and artifact writing.
            in_nodes = sum(node_timings(args.work_dir).values()) if side == "project" else None
            rows.append(
                {
                    "pair": pair,
                    "side": stage.stage,
                    "wall_seconds": stage.wall_seconds,
                    "node_seconds": round(in_nodes, 2) if in_nodes is not None else "",
                    "cpu_seconds": stage.cpu_seconds,
                    "peak_rss_mib": stage.peak_rss_mib,
                    "load_1min_before": round(load_before, 2),
                    "load_1min_after": round(os.getloadavg()[0], 2),
                }
            )
            if side == "project":
                project_nodes = in_nodes
        ratio = timings["project"].wall_seconds / timings["hand"].wall_seconds
        ratios.append(ratio)
        node_ratios.append(project_nodes / timings["hand"].wall_seconds)
        rows[-1]["pair_ratio"] = rows[-2]["pair_ratio"] = round(ratio, 2)
        print(f"pair {pair}: ratio {ratio:.2f} (in nodes {node_ratios[-1]:.2f})", file=sys.stderr)

    counts = assert_same_rows(project_db, hand_db)
    median_ratio = statistics.median(ratios)
    cpu_ratio = statistics.median(
        rows[i + 1]["cpu_seconds"] / rows[i]["cpu_seconds"]
        if rows[i]["side"].startswith("hand")
        else rows[i]["cpu_seconds"] / rows[i + 1]["cpu_seconds"]
        for i in range(0, len(rows), 2)
    )
    dbt_own = statistics.median(
        row["wall_seconds"] - row["node_seconds"] for row in rows if row["node_seconds"] != ""
    )
    note = (
        f"CTR chain benchmark on {platform.node()} ({os.cpu_count()} cores), scale {args.scale:g}, "
        f"seed {args.seed}, threads={args.threads}, {args.pairs} interleaved pairs. "
        f"Project: `dbt run --select {' '.join(SELECTOR)}` into a fresh DuckDB file; hand: "
        f"benchmarks/{HAND_SQL.name} into a fresh file. Median wall ratio project/hand: "
        f"{median_ratio:.2f} (CPU ratio {cpu_ratio:.2f}); the project's seconds inside its nodes "
        f"over the hand script's wall: {statistics.median(node_ratios):.2f} (the rest, median "
        f"{dbt_own:.1f} s a run, is dbt's start-up and artifact writing); same rows asserted "
        f"({counts['fct_ad_ctr_daily']} daily, {counts['fct_ad_ctr_rolling']} rolling). "
        f"Node seconds of the last project run: {json.dumps(node_timings(args.work_dir))}."
    )
    for row in rows:
        row.setdefault("pair_ratio", "")
    path = write_results("ctr_chain", rows, note)
    summary = json.loads(Path(path).read_text())
    summary.update(
        {
            "median_wall_ratio": round(median_ratio, 3),
            "median_cpu_ratio": round(cpu_ratio, 3),
            "pair_ratios": [round(ratio, 3) for ratio in ratios],
            "median_in_node_ratio": round(statistics.median(node_ratios), 3),
            "median_dbt_own_seconds": round(dbt_own, 2),
            "row_counts": counts,
            "node_seconds_last_project_run": node_timings(args.work_dir),
            "scale": args.scale,
            "seed": args.seed,
            "threads": args.threads,
        }
    )
    Path(path).write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {path}: median ratio {median_ratio:.2f}")
    if not args.keep:
        shutil.rmtree(args.work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
