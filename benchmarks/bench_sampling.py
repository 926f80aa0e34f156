"""Benchmark the sampling macros against DuckDB's seeded Bernoulli TABLESAMPLE.

Each macro is compiled by dbt (in a throw-away project over the repository's macros), then run on
DuckDB as `create temp table ... as <sample>` over the same table, in the same process,
alternating with the baseline `using sample bernoulli (p percent) repeatable (seed)`. The figure
reported for each macro is its best time as a ratio to the baseline's best time.

Goals (issue "Sampling"): hash, cluster and proportional stratified samples within 1.5x of the
baseline; exact-size stratified within 4x.

    python benchmarks/bench_sampling.py --db data/warehouse.duckdb   # the warehouse's impressions
    python benchmarks/bench_sampling.py --rows 2000000               # a synthetic table

Results go to benchmarks/results/bench_sampling_<label>.json and .md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "bernoulli_tablesample"
SRC = "'src'"
SEED = 42


@dataclass(frozen=True)
class Case:
    """One sampling macro call, with the ratio goal it is held to (None: reported only)."""

    name: str
    macro_call: str
    goal_ratio: float | None


def cases(fraction: float, min_per_stratum: int, negative_rate: float) -> list[Case]:
    """The macro calls to time; `src` stands for the table under test (see compile_cases)."""
    strata = "['product_category', 'placement']"
    return [
        Case(BASELINE, f"random_sample('src', fraction={fraction}, seed={SEED})", None),
        Case(
            "system_tablesample",
            f"random_sample('src', fraction={fraction}, method='system', seed={SEED})",
            None,
        ),
        Case("hash_sample", f"hash_sample('src', 'impression_id', {fraction}, {SEED})", 1.5),
        Case(
            "hash_sample_portable",
            f"hash_sample('src', 'impression_id', {fraction}, {SEED}, mode='portable')",
            None,
        ),
        Case("cluster_sample", f"cluster_sample('src', 'user_id', {fraction}, {SEED})", 1.5),
        Case(
            "stratified_proportional",
            f"stratified_sample('src', {strata}, 'impression_id', {SEED}, fraction={fraction})",
            1.5,
        ),
        Case(
            "stratified_proportional_min",
            f"stratified_sample('src', {strata}, 'impression_id', {SEED}, fraction={fraction}, "
            f"min_per_stratum={min_per_stratum})",
            1.5,
        ),
        Case(
            "stratified_exact",
            f"stratified_sample('src', {strata}, 'impression_id', {SEED}, fraction={fraction}, "
            f"min_per_stratum={min_per_stratum}, exact=true)",
            4.0,
        ),
        Case(
            "negative_downsample",
            f"negative_downsample('src', 'is_clicked', {negative_rate}, 'impression_id', {SEED})",
            None,
        ),
    ]


def compile_cases(all_cases: list[Case], table: str) -> dict[str, str]:
    """Compile every case with dbt; return name -> SQL reading `table`.

    The table name is passed to the macro itself, as a model passes a ref: wrapping it in a CTE
    would make DuckDB materialise a full copy for the macros that read their input more than once.
    """
    from dbt.cli.main import dbtRunner

    with tempfile.TemporaryDirectory(prefix="bench_sampling_") as tmp:
        project = Path(tmp)
        (project / "dbt_project.yml").write_text(
            "name: warehouse_ml\nversion: '0.1.0'\nconfig-version: 2\nprofile: warehouse_ml\n"
            "macro-paths: ['macros']\nmodel-paths: ['models']\n"
        )
        (project / "models").mkdir()
        (project / "macros").symlink_to(ROOT / "macros")
        messages: list[str] = []
        runner = dbtRunner(callbacks=[lambda event: messages.append(event.info.msg)])
        os.environ["WAREHOUSE_ML_DUCKDB_PATH"] = str(project / "compile.duckdb")
        cwd = Path.cwd()
        os.chdir(project)
        compiled = {}
        try:
            for case in all_cases:
                messages.clear()
                with contextlib.redirect_stdout(io.StringIO()):
                    result = runner.invoke(
                        [
                            "compile",
                            "--quiet",
                            "--profiles-dir",
                            str(ROOT / "profiles"),
                            "--target-path",
                            str(project / "target"),
                            "--log-path",
                            str(project / "logs"),
                            "--inline",
                            "select * from "
                            f"({{{{ {case.macro_call.replace(SRC, repr(table))} }}}}) as sampled",
                        ]
                    )
                if not result.success:
                    raise RuntimeError(f"{case.name}: compile failed\n" + "\n".join(messages))
                compiled[case.name] = result.result.results[0].node.compiled_code
        finally:
            os.chdir(cwd)
    return compiled


def make_synthetic(con: duckdb.DuckDBPyConnection, rows: int) -> str:
    """A table shaped like fct_impression_features (keys, strata, label and 12 features)."""
    features = ",\n".join(
        f"cast((id * {7919 + 2 * k}) % 1000 as double) / 1000 as feature_{k}" for k in range(12)
    )
    con.execute(
        f"""
        create or replace table bench_impressions as
        select
            id as impression_id,
            id // 20 as user_id,
            ['apparel', 'books', 'electronics', 'home', 'toys', 'wearables'][1 + id % 6]
                as product_category,
            ['feed', 'search', 'sidebar', 'stories', 'video'][1 + (id // 6) % 5] as placement,
            (hash(id) % 50 = 0) as is_clicked,
            {features}
        from range({rows}) as ids(id)
        """
    )
    return "bench_impressions"


def time_query(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, int]:
    """Seconds to materialise `sql` as a temp table, and its row count."""
    start = time.perf_counter()
    con.execute(f"create or replace temp table bench_output as {sql}")
    elapsed = time.perf_counter() - start
    count = con.sql("select count(*) from bench_output").fetchall()[0][0]
    return elapsed, count


def run(args: argparse.Namespace) -> dict:
    con = duckdb.connect(args.db or ":memory:", read_only=False)
    con.execute(f"set threads = {args.threads}")
    con.execute(f"set memory_limit = '{args.memory_limit}'")
    table = args.table if args.db else make_synthetic(con, args.rows)
    population = con.sql(f"select count(*) from {table}").fetchall()[0][0]
    all_cases = cases(args.fraction, args.min_per_stratum, args.negative_rate)
    compiled = compile_cases(all_cases, table)
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    time_query(con, compiled[BASELINE])  # warm-up: the first scan of the table is not timed
    for _ in range(args.repeats):
        for case in all_cases:
            elapsed, count = time_query(con, compiled[case.name])
            best[case.name] = min(elapsed, best.get(case.name, float("inf")))
            counts[case.name] = count
    baseline = best[BASELINE]
    results = [
        {
            **asdict(case),
            "seconds": round(best[case.name], 4),
            "ratio_to_bernoulli": round(best[case.name] / baseline, 3),
            "rows_out": counts[case.name],
            "meets_goal": None
            if case.goal_ratio is None
            else best[case.name] / baseline <= case.goal_ratio,
        }
        for case in all_cases
    ]
    return {
        "label": args.label,
        "table": table,
        "population_rows": population,
        "threads": args.threads,
        "repeats": args.repeats,
        "fraction": args.fraction,
        "duckdb": duckdb.__version__,
        "machine": platform.machine(),
        "results": results,
    }


def write(report: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"bench_sampling_{report['label']}.json"
    md_path = out_dir / f"bench_sampling_{report['label']}.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# Sampling macros vs seeded Bernoulli TABLESAMPLE ({report['label']})",
        "",
        f"Table `{report['table']}`, {report['population_rows']:,} rows, fraction "
        f"{report['fraction']}, DuckDB {report['duckdb']}, {report['threads']} threads, "
        f"best of {report['repeats']}.",
        "",
        "| macro | seconds | ratio | goal | rows out |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in report["results"]:
        goal = "" if row["goal_ratio"] is None else f"<= {row['goal_ratio']}x"
        if row["meets_goal"] is not None:
            goal += " ok" if row["meets_goal"] else " MISSED"
        lines.append(
            f"| {row['name']} | {row['seconds']:.3f} | {row['ratio_to_bernoulli']:.2f} | "
            f"{goal} | {row['rows_out']:,} |"
        )
    md_path.write_text("\n".join(lines) + "\n")
    return json_path, md_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="DuckDB warehouse file (default: a synthetic in-memory table)")
    parser.add_argument("--table", default="marts.fct_impression_features")
    parser.add_argument("--rows", type=int, default=2_000_000, help="synthetic table rows")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--memory-limit", default="6GB", help="DuckDB memory_limit (it spills beyond)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--min-per-stratum", type=int, default=1000)
    parser.add_argument("--negative-rate", type=float, default=0.05)
    parser.add_argument("--label", default="local")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    report = run(args)
    json_path, md_path = write(report, args.out)
    print(md_path.read_text())
    print(f"wrote {json_path} and {md_path}")


if __name__ == "__main__":
    main()
