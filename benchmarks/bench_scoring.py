"""Benchmark scoring a large DuckDB table with the linear model, three ways.

``--serving-db`` scores the serving CTR model of a built warehouse (its registry row, copied as
is) on that warehouse's ``fct_impression_features`` rows repeated to ``--rows``; without it, a
synthetic linear model on a synthetic population.

* ``naive``: ``.df()`` of the whole table, one ``predict_proba``, write the scores back
  (the way the issue measured at ~0.78M rows/s and ~5 GB peak for 10M rows).
* ``streaming``: :func:`warehouse_ml.scoring.score_reader` over a DuckDB Arrow reader, the
  returned ``RecordBatchReader`` written back with ``create table as select`` (what a dbt
  Python model does). ``streaming_sklearn`` is the same with ``predict_proba`` per batch
  (the path tree models take) for comparison.
* ``sql``: the SQL compiled at training time (:mod:`warehouse_ml.sql_compile`), run by
  DuckDB as ``create table as select``: no Python in the loop.

Each path runs in its own process (under the referee in ``_measure.py``) so its peak RSS is
its own; the model is loaded from a registry table with the sha256 check, as in dbt.
Figures go to benchmarks/results/scoring.json and scoring.md. Compare within one run only.

    .venv/bin/python benchmarks/bench_scoring.py --rows 1000000 --work-dir /tmp/wml-bench
    .venv/bin/python benchmarks/bench_scoring.py --rows 10000000 20000000 --work-dir /data/bench
    .venv/bin/python benchmarks/bench_scoring.py --rows 10000000 \
        --serving-db data/build/warehouse.duckdb
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure, write_results  # noqa: E402

PATHS = ("naive", "streaming", "streaming_sklearn", "sql")
NUMERIC = ("ad_ctr_7d", "ad_ctr_28d", "placement_ctr_28d", "ad_impressions_28d")
CATEGORICAL = ("ad_id", "placement", "device", "impression_hour")
TRAIN_ROWS = 200_000


def population_sql(rows: int) -> str:
    """A CTR-like population generated in SQL (no Python memory), with a logistic label."""
    return f"""
        create or replace table population as
        with base as (
            select
                range as impression_id,
                cast(floor(random() * 400) as bigint) as ad_id,
                ['feed', 'search', 'sidebar', 'stories', 'video'][
                    cast(floor(random() * 5) as integer) + 1] as placement,
                ['mobile', 'desktop', 'tablet'][cast(floor(random() * 3) as integer) + 1] as device,
                cast(floor(random() * 24) as integer) as impression_hour,
                0.01 + random() * 0.05 as ad_ctr_7d,
                case when random() < 0.02 then null else 0.01 + random() * 0.04 end as ad_ctr_28d,
                0.02 + random() * 0.02 as placement_ctr_28d,
                cast(floor(random() * 50000) as bigint) as ad_impressions_28d,
                random() as noise
            from range({rows})
        )
        select
            * exclude (noise),
            noise < 1 / (1 + exp(-(-4.0 + 30 * ad_ctr_7d
                + case when placement = 'search' then 0.8 else 0.0 end
                - case when device = 'tablet' then 0.2 else 0.0 end
                + (ad_id % 7) * 0.05))) as is_clicked
        from base
    """


def setup_serving(database: Path, rows: int, threads: int, serving_db: Path) -> str:
    """The serving CTR model of a built warehouse and ``rows`` of its impression features.

    The registry row of the version ``ml_model_aliases`` serves (the champion, or a pin) is copied
    unchanged (scoring verifies its hashes as in dbt); the population repeats the rows of
    ``fct_impression_features`` (its key and the model's feature columns) until ``rows`` are
    reached, with fresh ``impression_id`` values. Returns a description of the model.
    """
    import duckdb

    con = duckdb.connect(str(database))
    con.execute(f"set threads = {threads}")
    con.execute(f"attach '{serving_db}' as serving (read_only)")
    ((version,),) = con.sql(
        "select model_version from serving.ml.ml_model_aliases "
        "where model_name = 'ctr' and alias = 'champion'"
    ).fetchall()
    con.execute(
        "create or replace table ml_registry as select * from serving.ml.ml_ctr_model "
        f"where model_version = '{version}'"
    )
    if "artifact" not in {row[0] for row in con.sql("describe ml_registry").fetchall()}:
        raise SystemExit(
            f"{serving_db}: its ml_ctr_model has no artifact column; a publication for BI leaves "
            "the model artifacts out, so pass the build's database (data/build/warehouse.duckdb)"
        )
    ((features_json,),) = con.sql("select features from ml_registry").fetchall()
    features = [f["name"] for f in json.loads(features_json)]
    ((count,),) = con.sql("select count(*) from serving.marts.fct_impression_features").fetchall()
    copies = -(-rows // count)
    con.execute(
        f"""
        create or replace table population as
        select
            cast(row_number() over () as bigint) as impression_id,
            {", ".join(f"features.{name}" for name in features)}
        from serving.marts.fct_impression_features as features
        cross join range({copies}) as copies
        limit {rows}
        """
    )
    con.close()
    numeric = sum(1 for f in json.loads(features_json) if f["type"] == "numeric")
    return (
        f"the serving CTR model {version} of {serving_db.name} ({numeric} numeric + "
        f"{len(features) - numeric} categorical features), population: fct_impression_features "
        f"rows repeated {copies}x"
    )


def setup(database: Path, rows: int, threads: int) -> None:
    """Create the population table, fit the linear model on a sample, register it."""
    import duckdb

    from warehouse_ml import registry, sql_compile, training

    con = duckdb.connect(str(database))
    con.execute(f"set threads = {threads}")
    con.execute("select setseed(0.42)")
    con.execute(population_sql(rows))
    sample = con.sql(f"select * from population limit {min(rows, TRAIN_ROWS)}").df()
    trained = training.fit(
        sample,
        features=training.FeatureSpec(numeric=NUMERIC, categorical=CATEGORICAL),
        label="is_clicked",
        algorithm="logistic_regression",
        random_state=0,
        training_set="bench_population_sample",
    )
    row = registry.registry_row(
        trained,
        model_name="bench_ctr",
        training_set="bench_population_sample",
        scoring_sql=sql_compile.registry_sql(
            trained.pipeline,
            ["impression_id"],
            integer_categoricals=trained.integer_categoricals,
        ),
    )
    con.register("registry_rows", registry.registry_table([row]))
    con.execute("create or replace table ml_registry as select * from registry_rows")
    con.close()


def run_path(
    path: str,
    database: Path,
    threads: int,
    batch_size: int,
    result_file: Path,
    memory_limit: str,
) -> None:
    """Score the population one way and write timing to ``result_file`` (child process)."""
    import duckdb
    import pandas as pd

    from warehouse_ml import engine, registry, scoring, sql_compile, training

    con = duckdb.connect(str(database))
    con.execute(f"set threads = {threads}")
    # DuckDB's buffer pool keeps the pages of the table it writes until it needs the room (its
    # default cap is 80% of RAM), so without a cap the scores table itself shows up as process
    # memory that grows with the rows: 694 -> 975 MiB from 10M to 20M rows in one run here;
    # capped at 256MB, 586 and 589 MiB.
    con.execute(f"set memory_limit = '{memory_limit}'")
    con.execute("drop table if exists scores")
    registered = con.sql("select * from ml_registry")
    ((name, version),) = con.sql("select model_name, model_version from ml_registry").fetchall()
    model = registry.load_model(registered, name, version)
    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    keys = "impression_id"
    started = time.perf_counter()
    if path == "naive":
        frame = con.sql("select * from population").df()
        probability = model.pipeline.predict_proba(
            training.prepare_features(frame, model.features)
        )[:, 1]
        scores = pd.DataFrame({keys: frame[keys], "probability": probability})
        del frame
        con.register("scores_frame", scores)
        con.execute("create table scores as select * from scores_frame")
    elif path in ("streaming", "streaming_sklearn"):
        reader = scoring.score_reader(
            engine.duckdb_reader(con, "select * from population", batch_size),
            model,
            key_columns=[keys],
            method="auto" if path == "streaming" else "sklearn",
        )
        con.register("scores_reader", reader)
        con.execute("create table scores as select * from scores_reader")
    elif path == "sql":
        query = sql_compile.render(model.row["scoring_sql_duckdb"], "population")
        con.execute(f"create table scores as {query}")
    else:
        raise SystemExit(f"unknown path {path!r}")
    seconds = time.perf_counter() - started
    scored = con.sql("select count(*), avg(probability) from scores").fetchall()[0]
    con.execute("drop table scores")
    con.close()
    result_file.write_text(
        json.dumps(
            {
                "score_seconds": seconds,
                "rows_scored": scored[0],
                "mean_probability": scored[1],
                "rss_before_scoring_mib": baseline_kib / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/wml-bench-scoring"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=122_880)
    parser.add_argument(
        "--memory-limit",
        default="256MB",
        help="DuckDB memory_limit in every path (the buffer pool; pandas memory is outside it)",
    )
    parser.add_argument("--results-name", default="scoring")
    parser.add_argument(
        "--serving-db",
        type=Path,
        help="a built warehouse: score its serving CTR model on its impression features "
        "(repeated to --rows) instead of the synthetic linear model",
    )
    parser.add_argument("--child", choices=PATHS, help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        run_path(
            args.child,
            args.database,
            args.threads,
            args.batch_size,
            args.result_file,
            args.memory_limit,
        )
        return

    args.work_dir.mkdir(parents=True, exist_ok=True)
    rows_out: list[dict] = []
    for rows in args.rows:
        database = args.work_dir / f"scoring_{rows}.duckdb"
        database.unlink(missing_ok=True)
        print(f"setting up {rows:,} rows ...", file=sys.stderr)
        if args.serving_db:
            described = setup_serving(database, rows, args.threads, args.serving_db)
        else:
            setup(database, rows, args.threads)
            described = (
                f"linear model, {len(NUMERIC)} numeric + {len(CATEGORICAL)} categorical "
                "features, ~440 one-hot columns"
            )
        for path in args.paths:
            result_file = args.work_dir / f"result_{rows}_{path}.json"
            result_file.unlink(missing_ok=True)
            stage = measure(
                path,
                [sys.executable, __file__, "--child", path, "--database", str(database),
                 "--result-file", str(result_file), "--threads", str(args.threads),
                 "--batch-size", str(args.batch_size), "--memory-limit", args.memory_limit],
                env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
            )  # fmt: skip
            if stage.returncode != 0 or not result_file.exists():
                raise SystemExit(f"path {path!r} at {rows:,} rows failed ({stage.returncode})")
            child = json.loads(result_file.read_text())
            row = {
                "rows": rows,
                "path": path,
                "score_seconds": round(child["score_seconds"], 2),
                "rows_per_second": round(rows / child["score_seconds"]),
                "peak_rss_mib": stage.peak_rss_mib,
                "rss_before_scoring_mib": round(child["rss_before_scoring_mib"], 1),
                "process_wall_seconds": stage.wall_seconds,
                "mean_probability": round(child["mean_probability"], 6),
            }
            print(json.dumps(row), file=sys.stderr)
            rows_out.append(row)
        database.unlink(missing_ok=True)
    naive = {r["rows"]: r["rows_per_second"] for r in rows_out if r["path"] == "naive"}
    for row in rows_out:
        if row["rows"] in naive:
            row["speedup_vs_naive"] = round(row["rows_per_second"] / naive[row["rows"]], 2)
    note = (
        f"Scoring benchmark ({described}); load {os.getloadavg()[0]:.1f} at the end; "
        f"DuckDB threads={args.threads}, "
        f"memory_limit={args.memory_limit}, "
        f"batch size {args.batch_size}, {os.cpu_count()} CPUs, {platform.platform()}. "
        "score_seconds covers read, score and write back; peak_rss_mib is the whole process."
    )
    path = write_results(args.results_name, rows_out, note)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
