"""Sampling validity: does a well-chosen sample train as well as all the data (and a wrong one not)?

On a built warehouse, over several sampling seeds, with the project's own pipelines:

* **churn learning curve**: customer cluster samples (``cluster_sample``) of the labelled churn
  rows before the out-of-time date, at :data:`CHURN_FRACTIONS`; each fitted as the churn spec
  declares and evaluated on the holdout customers (the spec's split, applied to every customer)
  and on the out-of-time set (``ml_churn_evaluation_out_of_time``);
* **transaction vs customer sampling** at the same volume: the churn features computed by the
  ``churn_features`` macro from a ``hash_sample`` of the transactions, labels from the warehouse,
  against the customer sample of the same fraction;
* **CTR negative rates**: ``negative_downsample`` of the CTR training window
  (``ctr_training_window``, the serving spec's random share) at :data:`CTR_NEGATIVE_RATES`, each
  recalibrated as the spec declares, evaluated on the evaluation day;
* **stratified vs random** at the same size: ``stratified_sample`` with the design of
  ``trn_ctr__stratified_sample`` on the CTR training window against a simple random sample of
  exactly as many rows (ordered by ``seeded_uniform``), evaluated on the evaluation day, overall
  and on the new category;
* **churn ceiling**: the generator's own churn probability
  (:func:`warehouse_ml.experiment.oracle.churn_probability`) on the same evaluation rows.

Features, label, estimator, parameters, weights and calibration come from ``ml_model_specs``
(:mod:`warehouse_ml.specs`); fitting is :func:`warehouse_ml.training.fit` and the metrics are
:func:`warehouse_ml.lifecycle.evaluate`, so a changed spec or model flows in unchanged. Arms that
do not depend on the seed (a 100% sample) are fitted once.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from warehouse_ml import engine, lifecycle, metrics, specs, training
from warehouse_ml.experiment import oracle, render
from warehouse_ml.experiment.render import ExperimentInputError
from warehouse_ml.specs import EvaluationSetSpec, ModelSpec

CHURN_FRACTIONS = (0.01, 0.02, 0.05, 0.10, 0.25, 0.50, 1.0)
CTR_NEGATIVE_RATES = (1.0, 0.10, 0.025, 0.01)
TRANSACTION_FRACTION = 0.10
SEED_STEP = 1000
"""Seeds are ``sampling_seed + k * SEED_STEP``: far from the split seed (``sampling_seed + 1``)."""

REPORTED_METRICS = ("roc_auc", "pr_auc", "normalized_entropy", "calibration")
NEW_CATEGORY_COLUMN = "is_new_category"
"""The CTR mart's flag of the launched category (fct_impression_features)."""
NEW_CATEGORY_SET = "evaluation_day_new_category"
STRATIFIED_MODEL = "model.warehouse_ml.trn_ctr__stratified_sample"
ATTACHED = "build"

REQUIRED_TABLES = (
    "ml_model_specs",
    "fct_customer_churn_features",
    "int_churn_observation_dates",
    "stg_shop__transactions",
    "stg_shop__customers",
    "stg_shop__products",
    "fct_impression_features",
)


# The CTR tables' metric columns, per evaluation set: (results key, column title).
CTR_TABLE_METRICS = (
    ("roc_auc", "ROC AUC"),
    ("normalized_entropy", "NE"),
    ("calibration", "calibration"),
)


def check_fraction(value: float, name: str) -> float:
    """``value`` if it is in (0, 1], else an :class:`ExperimentInputError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value <= 1.0:
        raise ExperimentInputError(
            f"{name} must be a fraction in (0, 1] (e.g. 0.1 for 10%), got {value!r}"
        )
    return float(value)


@dataclasses.dataclass
class Warehouse:
    """A built warehouse attached read-only to an in-memory DuckDB (temporary tables go there)."""

    path: Path
    connection: duckdb.DuckDBPyConnection
    tables: dict[str, str]

    def name(self, table: str) -> str:
        """The qualified name of a warehouse table."""
        return f'{ATTACHED}."{self.tables[table]}"."{table}"'

    def frame(self, sql: str, max_rows: int) -> pd.DataFrame:
        """The rows of ``sql``, bounded like every training read (:func:`engine.collect`)."""
        return engine.collect(self.connection.sql(sql), max_rows).to_pandas()


def open_warehouse(db: Path, needed: Iterable[str]) -> Warehouse:
    """Attach ``db`` read-only and find the schema of each needed table.

    Raises
    ------
    ExperimentInputError
        If the file does not exist, is not a DuckDB database, or lacks a table.
    """
    db = Path(db)
    if not db.is_file():
        raise ExperimentInputError(
            f"no built warehouse at {db}; run `make demo` first (or pass --db <a dbt build's "
            "DuckDB file>)"
        )
    connection = duckdb.connect(":memory:")
    limit = os.environ.get("WAREHOUSE_ML_DUCKDB_MEMORY_LIMIT")
    if limit:
        connection.execute(f"set memory_limit = '{limit}'")
    connection.execute("set preserve_insertion_order = false")
    try:
        connection.execute(f"attach '{db}' as {ATTACHED} (read_only)")
    except duckdb.Error as error:
        raise ExperimentInputError(
            f"{db} is not a DuckDB warehouse this process can open ({error}); pass the build "
            "database of `make demo` (data/build/warehouse.duckdb)"
        ) from None
    rows = connection.execute(
        "select table_name, table_schema from information_schema.tables "
        f"where table_catalog = '{ATTACHED}'"
    ).fetchall()
    tables = {name: schema for name, schema in rows}
    missing = [name for name in needed if name not in tables]
    if missing:
        raise ExperimentInputError(
            f"{db} lacks the table(s) {missing}: it is not a fully built warehouse; run "
            "`make demo` (a `dbt build` of the whole project) first"
        )
    return Warehouse(path=db, connection=connection, tables=tables)


def _metric_values(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """``{dataset: {metric: value}}`` of the reported scalar metrics of long-format rows."""
    out: dict[str, dict[str, float]] = {}
    for row in rows:
        if row["bin"] is None and row["metric"] in REPORTED_METRICS:
            out.setdefault(row["dataset"], {})[row["metric"]] = float(row["value"])
    return out


def _training_set(spec: ModelSpec, frame: pd.DataFrame, weight: str | None) -> pd.DataFrame:
    if weight is not None and len(frame):
        # Weights rescaled to mean 1: raw 1/p weights switch off the estimator's regularisation.
        frame = frame.assign(**{weight: frame[weight] / frame[weight].mean()})
    return lifecycle.canonical_order(spec, frame)


def fit_and_evaluate(
    spec: ModelSpec,
    rows: pd.DataFrame,
    evaluations: Mapping[str, pd.DataFrame],
    *,
    weight: str | None = None,
    normalise_weight: bool = False,
) -> dict[str, Any]:
    """Fit the spec's pipeline on ``rows`` and evaluate it on ``evaluations`` (the spec's sets).

    Returns ``training_rows``, ``train_seconds`` (the fit alone), ``metrics``, ``scores`` and
    ``model`` (the last two are dropped before the results are written).
    """
    weight = spec.weight_column if weight is None else weight
    frame = _training_set(spec, rows, weight if normalise_weight else None)
    started = time.perf_counter()
    trained = training.fit(
        frame,
        features=spec.features,
        label=spec.label,
        algorithm=spec.algorithm,
        random_state=spec.random_state,
        weight=weight,
        params=spec.params,
        training_set=f"experiment sample of {spec.training_set}",
    )
    seconds = time.perf_counter() - started
    return {
        "training_rows": int(len(frame)),
        "train_seconds": round(seconds, 4),
        "metrics": _metric_values(lifecycle.evaluate(spec, trained, "experiment", evaluations)),
        "model": trained,
    }


def summarise(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean, standard deviation (over seeds), min and max of every metric and of the timings."""
    values: dict[str, list[float]] = {}
    for record in records:
        values.setdefault("train_seconds", []).append(record["train_seconds"])
        values.setdefault("training_rows", []).append(record["training_rows"])
        for dataset, figures in record["metrics"].items():
            for metric, value in figures.items():
                values.setdefault(f"{dataset}.{metric}", []).append(value)
    out: dict[str, Any] = {"seeds": len(records)}
    for key, series in values.items():
        finite = [v for v in series if not math.isnan(v)]
        out[key] = {
            "mean": statistics.fmean(finite) if finite else float("nan"),
            "std": statistics.stdev(finite) if len(finite) > 1 else 0.0,
            "min": min(finite) if finite else float("nan"),
            "max": max(finite) if finite else float("nan"),
        }
    return out


class _Progress:
    """A tqdm bar over the planned fits (stderr), the arm being fitted as its postfix."""

    def __init__(self, total: int, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total, desc="experiment", unit="fit", file=sys.stderr, disable=not enabled
        )

    def step(self, what: str) -> None:
        self.bar.set_postfix_str(what)

    def done(self) -> None:
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def _evaluation_frames(
    warehouse: Warehouse,
    spec: ModelSpec,
    own_holdout: Callable[[EvaluationSetSpec], pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """The spec's evaluation sets: a set on the training set itself comes from ``own_holdout``."""
    frames = {}
    for evaluation in spec.evaluation_sets:
        if evaluation.relation == spec.training_set and own_holdout is not None:
            frames[evaluation.name] = own_holdout(evaluation)
            continue
        if evaluation.relation not in warehouse.tables:
            raise ExperimentInputError(
                f"{warehouse.path} lacks {evaluation.relation}, evaluation set "
                f"'{evaluation.name}' of model '{spec.model_name}'; run `make demo` first"
            )
        where = f" where split = '{evaluation.split}'" if evaluation.split else ""
        frame = warehouse.frame(
            f"select * from {warehouse.name(evaluation.relation)}{where}", spec.max_training_rows
        )
        frames[evaluation.name] = lifecycle.canonical_order(spec, frame)
    return frames


def run(
    db: Path,
    *,
    seeds: int = 3,
    out: Path | None = Path("benchmarks/results"),
    raw: Path | None = Path("data/raw"),
    dbt_vars: str | None = None,
    churn_fractions: Sequence[float] = CHURN_FRACTIONS,
    negative_rates: Sequence[float] = CTR_NEGATIVE_RATES,
    transaction_fraction: float = TRANSACTION_FRACTION,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the experiment on the warehouse ``db`` and write ``sampling_validity.{json,md}``.

    Parameters
    ----------
    db : Path
        A built warehouse (``make demo``'s ``data/build/warehouse.duckdb``); opened read-only.
    seeds : int
        Sampling seeds per arm (``sampling_seed + k * SEED_STEP``, ``k < seeds``).
    out : Path or None
        Folder of the results files (None: write nothing).
    raw : Path or None
        The raw data the warehouse was built from (its manifest gives the generator's seed and
        scale for the churn ceiling); None or no manifest: no ceiling.
    dbt_vars : str, optional
        The build's ``--vars`` (the churn feature windows must render as built).
    churn_fractions, negative_rates, transaction_fraction : fractions in (0, 1]
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    dict
        The results (what the JSON file holds).
    """
    started = time.perf_counter()
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ExperimentInputError(f"--seeds must be a whole number >= 1, got {seeds!r}")
    churn_fractions = sorted({check_fraction(f, "churn fraction") for f in churn_fractions})
    negative_rates = sorted(
        {check_fraction(r, "CTR negative rate") for r in negative_rates}, reverse=True
    )
    transaction_fraction = check_fraction(transaction_fraction, "--transaction-fraction")
    load_before = os.getloadavg()
    warehouse = open_warehouse(db, REQUIRED_TABLES)
    spec_table = warehouse.connection.sql(f"select * from {warehouse.name('ml_model_specs')}")
    churn_spec = specs.from_table(spec_table, "churn")
    ctr_spec = specs.from_table(spec_table, "ctr")
    churn_sampling = churn_spec.sampling_spec
    ctr_sampling = ctr_spec.sampling_spec
    base_seed = int(churn_sampling["seed"])
    seed_list = [base_seed + k * SEED_STEP for k in range(seeds)]
    for spec in (churn_spec, ctr_spec):
        missing = [e.relation for e in spec.evaluation_sets if e.relation not in warehouse.tables]
        if missing:
            raise ExperimentInputError(
                f"{db} lacks {missing} (evaluation sets of model '{spec.model_name}'); "
                "run `make demo` first"
            )

    sql = _render_samples(
        warehouse,
        churn_spec,
        ctr_spec,
        seed_list,
        churn_fractions,
        negative_rates,
        transaction_fraction,
        dbt_vars,
    )
    churn_fits = sum(1 if f == 1.0 else len(seed_list) for f in churn_fractions)
    ctr_fraction = float(ctr_sampling.get("fraction", 1.0))
    ctr_fits = sum(
        1 if (r == 1.0 and ctr_fraction == 1.0) else len(seed_list) for r in negative_rates
    )
    bar = _Progress(churn_fits + len(seed_list) + ctr_fits + 2 * len(seed_list) + 2, progress)
    try:
        churn_results = _churn(
            warehouse, churn_spec, sql, seed_list, churn_fractions, transaction_fraction, bar
        )
        ctr_results = _ctr(warehouse, ctr_spec, sql, seed_list, negative_rates, bar)
        bar.step("churn ceiling")
        churn_results["ceiling"] = _ceiling(warehouse, churn_results.pop("_evaluation"), raw)
        bar.done()
        bar.step("CTR ceiling")
        ctr_results["ceiling"] = _ctr_ceiling(
            warehouse, sql, ctr_results.pop("_evaluation"), raw, bar
        )
        bar.done()
    finally:
        bar.close()
    results = {
        "experiment": "sampling_validity",
        "database": str(db),
        "seeds": seed_list,
        "sampling_macros": sorted(sql["_macros"].split(",")),
        "churn": churn_results,
        "ctr": ctr_results,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in os.getloadavg()],
        },
        "total_seconds": round(time.perf_counter() - started, 1),
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    results["acceptance"] = acceptance(results)
    if out is not None:
        write_results(results, Path(out))
    return results


def _render_samples(
    warehouse: Warehouse,
    churn_spec: ModelSpec,
    ctr_spec: ModelSpec,
    seed_list: Sequence[int],
    churn_fractions: Sequence[float],
    negative_rates: Sequence[float],
    transaction_fraction: float,
    dbt_vars: str | None,
) -> dict[str, str]:
    """Every sample's SQL, rendered from the project's macros in one dbt call."""
    churn = churn_spec.sampling_spec
    split = churn.get("split") or {}
    if churn.get("design") != "cluster" or not split:
        raise ExperimentInputError(
            f"the churn training set's sampling spec is {churn!r}; the experiment needs the "
            "cluster design with a holdout split (trn_churn__cluster_sample)"
        )
    ctr = ctr_spec.sampling_spec
    features = warehouse.name("fct_customer_churn_features")
    impressions = warehouse.name("fct_impression_features")
    mode = churn.get("mode", "native")
    ctr_mode = ctr.get("mode", "native")
    strata = render.Raw(f"graph.nodes['{STRATIFIED_MODEL}'].config.meta.sampling")
    snippets = {
        "churn_out_of_time_date": render.call("churn_out_of_time_date", features),
        "churn_split": render.call("seeded_uniform", split["key"], int(split["seed"]), mode=mode),
        "ctr_window": render.call(
            "ctr_training_window",
            impressions,
            render.Raw(f"fromjson({json.dumps(json.dumps(ctr))})"),
        ),
        "ctr_evaluation_date": render.call("ctr_evaluation_date", impressions),
        "stratified_spec": "{{ " + strata.text + " | tojson }}",
    }
    for seed in seed_list:
        for fraction in churn_fractions:
            snippets[f"churn_{seed}_{fraction}"] = render.call(
                "cluster_sample", "labelled_rows", churn["cluster_key"], fraction, seed, mode=mode
            )
        snippets[f"churn_transactions_{seed}"] = render.call(
            "hash_sample",
            warehouse.name("stg_shop__transactions"),
            "transaction_id",
            transaction_fraction,
            seed,
            mode=mode,
        )
        for rate in negative_rates:
            snippets[f"ctr_{seed}_{rate}"] = render.call(
                "negative_downsample",
                "ctr_window",
                ctr["label_column"],
                rate,
                list(ctr["key_columns"]),
                seed,
                mode=ctr_mode,
                fraction=float(ctr.get("fraction", 1.0)),
            )
        design = {
            key: render.Raw(f"{strata.text}.{key}")
            for key in ("fraction", "allocation", "min_per_stratum", "exact", "mode")
        }
        snippets[f"stratified_{seed}"] = render.call(
            "stratified_sample",
            "ctr_history",
            render.Raw(f"{strata.text}.strata"),
            render.Raw(f"{strata.text}.key_columns"),
            seed,
            **design,
        )
        snippets[f"random_order_{seed}"] = render.call(
            "seeded_uniform",
            render.Raw(f"{strata.text}.key_columns"),
            seed,
            mode=render.Raw(f"{strata.text}.mode"),
        )
    snippets["churn_features_sampled"] = render.call(
        "churn_features",
        "sampled_transactions",
        warehouse.name("int_churn_observation_dates"),
        warehouse.name("stg_shop__customers"),
        warehouse.name("stg_shop__products"),
    )
    rendered = render.render(snippets, dbt_vars)
    rendered["_macros"] = (
        "cluster_sample,hash_sample,negative_downsample,stratified_sample,seeded_uniform,"
        "ctr_training_window,churn_out_of_time_date,churn_features"
    )
    return rendered


def _churn(
    warehouse: Warehouse,
    spec: ModelSpec,
    sql: Mapping[str, str],
    seed_list: Sequence[int],
    fractions: Sequence[float],
    transaction_fraction: float,
    bar: _Progress,
) -> dict[str, Any]:
    """The churn learning curve and the transaction-sample arm."""
    features = warehouse.name("fct_customer_churn_features")
    split = spec.sampling_spec["split"]
    holdout_fraction = float(split["holdout_fraction"])
    labelled = (
        f"labelled_rows as (select * from {features} where is_label_complete "
        f"and observation_date < {sql['churn_out_of_time_date']})"
    )
    is_holdout = f"({sql['churn_split']}) < {holdout_fraction}"
    weight = spec.weight_column

    def holdout(evaluation: EvaluationSetSpec) -> pd.DataFrame:
        extra = (
            f", cast(1 as double) as {evaluation.weight_column}" if evaluation.weight_column else ""
        )
        frame = warehouse.frame(
            f"with {labelled} select *{extra} from labelled_rows where {is_holdout}",
            spec.max_training_rows,
        )
        return lifecycle.canonical_order(spec, frame)

    evaluations = _evaluation_frames(warehouse, spec, holdout)
    curve: dict[float, list[dict[str, Any]]] = {}
    serving: dict[str, Any] | None = None
    spec_fraction = float(spec.sampling_spec["fraction"])
    for fraction in fractions:
        for seed in seed_list[:1] if fraction == 1.0 else seed_list:
            bar.step(f"churn {fraction:.0%} seed {seed}")
            rows = warehouse.frame(
                f"with {labelled}, customer_sample as ({sql[f'churn_{seed}_{fraction}']}) "
                f"select * from customer_sample where not {is_holdout}",
                spec.max_training_rows,
            )
            record = fit_and_evaluate(spec, rows, evaluations)
            record["seed"] = seed
            if fraction == spec_fraction and seed == int(spec.sampling_spec["seed"]):
                serving = record
            curve.setdefault(fraction, []).append(record)
            bar.done()
    transaction_records = []
    for seed in seed_list:
        bar.step(f"churn transactions {transaction_fraction:.0%} seed {seed}")
        label_columns = ("is_label_complete", spec.label)
        rows = warehouse.frame(
            f"with {labelled}, sampled_transactions as ({sql[f'churn_transactions_{seed}']}), "
            f"sampled_features as ({sql['churn_features_sampled']}) "
            "select sampled_features.*, "
            + ", ".join(f"labelled_rows.{c}" for c in label_columns)
            + (f", cast(1 as double) as {weight}" if weight else "")
            + " from sampled_features inner join labelled_rows"
            " on sampled_features.customer_id = labelled_rows.customer_id"
            " and sampled_features.observation_date = labelled_rows.observation_date"
            f" where not ({sql['churn_split'].replace('customer_id', 'labelled_rows.customer_id')})"
            f" < {holdout_fraction}",
            spec.max_training_rows,
        )
        record = fit_and_evaluate(spec, rows, evaluations)
        record["seed"] = seed
        transaction_records.append(record)
        bar.done()
    out: dict[str, Any] = {
        "model": spec.model_name,
        "algorithm": spec.algorithm,
        "population": "fct_customer_churn_features: labelled rows before the out-of-time date",
        "holdout": f"every customer whose split seeded_uniform is < {holdout_fraction}",
        "evaluation_sets": {name: int(len(frame)) for name, frame in evaluations.items()},
        "learning_curve": [
            {"fraction": f, "runs": [_public(r) for r in records], "summary": summarise(records)}
            for f, records in sorted(curve.items())
        ],
        "transaction_sample": {
            "fraction": transaction_fraction,
            "runs": [_public(r) for r in transaction_records],
            "summary": summarise(transaction_records),
        },
    }
    if transaction_fraction in curve:
        out["customer_sample"] = {
            "fraction": transaction_fraction,
            "summary": summarise(curve[transaction_fraction]),
        }
    if serving is not None:
        out["serving_design"] = {
            "fraction": spec_fraction,
            "seed": int(spec.sampling_spec["seed"]),
            "metrics": serving["metrics"],
            "registered": _registered_metrics(warehouse, spec),
        }
    reference = serving or curve[max(curve)][0]
    out["_evaluation"] = {
        "frames": evaluations,
        "model": reference["model"],
        "model_label": "serving design" if serving is not None else f"{max(curve):.0%} sample",
        "spec": spec,
    }
    return out


def _registered_metrics(warehouse: Warehouse, spec: ModelSpec) -> dict[str, dict[str, float]]:
    """The champion's metrics of ``ml_model_metrics`` (the serving model's), if built."""
    if not {"ml_model_metrics", "ml_model_aliases"} <= set(warehouse.tables):
        return {}
    rows = (
        warehouse.connection.sql(
            f"select metrics.* from {warehouse.name('ml_model_metrics')} as metrics "
            f"inner join {warehouse.name('ml_model_aliases')} as aliases "
            "on metrics.model_name = aliases.model_name "
            "and metrics.model_version = aliases.model_version "
            f"where metrics.model_name = '{spec.model_name}' and metrics.bin is null"
        )
        .df()
        .to_dict("records")
    )
    return _metric_values([{**r, "bin": None} for r in rows])


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("model", "scores")}


def _ctr(
    warehouse: Warehouse,
    spec: ModelSpec,
    sql: Mapping[str, str],
    seed_list: Sequence[int],
    negative_rates: Sequence[float],
    bar: _Progress,
) -> dict[str, Any]:
    """CTR over negative rates, and stratified vs random at the same size."""
    connection = warehouse.connection
    connection.execute(f"create or replace temp table ctr_window as {sql['ctr_window']}")
    window_rows = connection.execute("select count(*) from ctr_window").fetchall()[0][0]
    frames = _evaluation_frames(warehouse, spec)
    evaluation = spec.evaluation_sets[0]
    day = frames[evaluation.name]
    new_set = dataclasses.replace(evaluation, name=NEW_CATEGORY_SET)
    if NEW_CATEGORY_COLUMN in day.columns:
        frames[NEW_CATEGORY_SET] = day[day[NEW_CATEGORY_COLUMN].fillna(False).astype(bool)]
        frames[NEW_CATEGORY_SET] = frames[NEW_CATEGORY_SET].reset_index(drop=True)
    with_new = dataclasses.replace(
        spec,
        evaluation_sets=(*spec.evaluation_sets, new_set)
        if len(frames) > 1
        else spec.evaluation_sets,
    )
    fraction = float(spec.sampling_spec.get("fraction", 1.0))
    rates: dict[float, list[dict[str, Any]]] = {}
    serving: dict[str, Any] | None = None
    for rate in negative_rates:
        seeds = seed_list[:1] if rate == 1.0 and fraction == 1.0 else seed_list
        arm_spec = with_new
        if spec.calibration == "negative_downsampling":
            arm_spec = dataclasses.replace(with_new, negative_downsampling_rate=rate)
        for seed in seeds:
            bar.step(f"ctr negatives {rate:.1%} seed {seed}")
            rows = warehouse.frame(sql[f"ctr_{seed}_{rate}"], spec.max_training_rows)
            record = fit_and_evaluate(arm_spec, rows, frames)
            record["seed"] = seed
            rates.setdefault(rate, []).append(record)
            if rate == float(spec.sampling_spec.get("negative_rate", -1)) and seed == int(
                spec.sampling_spec["seed"]
            ):
                serving = record
            bar.done()
    plain = dataclasses.replace(with_new, calibration="none", negative_downsampling_rate=None)
    designs: dict[str, list[dict[str, Any]]] = {"stratified": [], "random": []}
    strata = json.loads(sql["stratified_spec"])
    # The stratified design's population (fct_impression_features) before the evaluation day.
    connection.execute(
        "create or replace temp table ctr_history as select * from "
        f"{warehouse.name('fct_impression_features')} "
        f"where impression_date < {sql['ctr_evaluation_date']}"
    )
    history_rows = connection.execute("select count(*) from ctr_history").fetchall()[0][0]
    for seed in seed_list:
        bar.step(f"ctr stratified seed {seed}")
        rows = warehouse.frame(sql[f"stratified_{seed}"], spec.max_training_rows)
        size = len(rows)
        record = fit_and_evaluate(
            plain, rows, frames, weight="sample_weight", normalise_weight=True
        )
        record["seed"] = seed
        record["new_category_rows"] = int(rows[NEW_CATEGORY_COLUMN].fillna(False).sum())
        designs["stratified"].append(record)
        bar.done()
        bar.step(f"ctr random seed {seed}")
        rows = warehouse.frame(
            "select *, cast(1 as double) as sample_weight from ctr_history "
            f"order by {sql[f'random_order_{seed}']} limit {size}",
            spec.max_training_rows,
        )
        record = fit_and_evaluate(
            plain, rows, frames, weight="sample_weight", normalise_weight=True
        )
        record["seed"] = seed
        record["new_category_rows"] = int(rows[NEW_CATEGORY_COLUMN].fillna(False).sum())
        designs["random"].append(record)
        bar.done()
    connection.execute("drop table ctr_window")
    connection.execute("drop table ctr_history")
    out: dict[str, Any] = {
        "model": spec.model_name,
        "algorithm": spec.algorithm,
        "calibration": spec.calibration,
        "weight_column": spec.weight_column,
        "training_window_rows": int(window_rows),
        "random_share": fraction,
        "evaluation_sets": {name: int(len(frame)) for name, frame in frames.items()},
        "negative_rates": [
            {
                "negative_rate": r,
                "runs": [_public(x) for x in records],
                "summary": summarise(records),
            }
            for r, records in sorted(rates.items(), reverse=True)
        ],
        "stratified_vs_random": {
            "design": strata,
            "population": "fct_impression_features before the evaluation day",
            "population_rows": int(history_rows),
            "fit": "weights sample_weight rescaled to mean 1, no recalibration",
            **{
                name: {"runs": [_public(x) for x in records], "summary": summarise(records)}
                for name, records in designs.items()
            },
        },
    }
    if serving is not None:
        out["serving_design"] = {
            "negative_rate": float(spec.sampling_spec["negative_rate"]),
            "seed": int(spec.sampling_spec["seed"]),
            "metrics": serving["metrics"],
            "registered": _registered_metrics(warehouse, spec),
        }
    reference = serving or rates[max(rates)][0]
    out["_evaluation"] = {
        "frames": {name: frame for name, frame in frames.items() if len(frame)},
        "model": reference["model"],
        "model_label": "serving design"
        if serving is not None
        else f"{max(rates):.0%} negatives, seed {reference['seed']}",
        "spec": spec,
    }
    return out


def _ceiling(
    warehouse: Warehouse, evaluation: Mapping[str, Any], raw: Path | None
) -> dict[str, Any]:
    """The generator's churn probability against the reference churn model, on the same rows."""
    manifest = oracle.read_raw_manifest(raw) if raw is not None else None
    if manifest is None:
        return {"skipped": f"no raw data manifest at {raw} (pass --raw <the build's raw data>)"}
    if oracle.generator_mismatch(manifest):
        return {"skipped": oracle.generator_mismatch(manifest)}
    horizon = warehouse.connection.execute(
        "select max(date_diff('day', observation_date, label_horizon_end_date)) "
        f"from {warehouse.name('int_churn_observation_dates')}"
    ).fetchall()[0][0]
    spec: ModelSpec = evaluation["spec"]
    model = evaluation["model"]
    out: dict[str, Any] = {
        "definition": "P(no valid transaction in the horizon) from the generator's latents "
        "(warehouse_ml.experiment.oracle)",
        "raw_seed": manifest["seed"],
        "raw_scale": manifest["scale"],
        "generator_version": manifest.get("generator_version"),
        "horizon_days": int(horizon),
        "model": evaluation["model_label"],
        "datasets": {},
    }
    for name, frame in evaluation["frames"].items():
        if not len(frame):
            continue
        y = frame[spec.label].astype("int64").to_numpy()
        p_oracle = oracle.churn_probability(
            frame,
            seed=int(manifest["seed"]),
            scale=float(manifest["scale"]),
            horizon_days=int(horizon),
        )
        ceiling = metrics.scalar_metrics(y, p_oracle)
        served = metrics.scalar_metrics(y, model.predict_proba(frame))
        out["datasets"][name] = {
            "oracle": {m: ceiling[m] for m in REPORTED_METRICS},
            "model": {m: served[m] for m in REPORTED_METRICS},
            "gap": {m: ceiling[m] - served[m] for m in REPORTED_METRICS},
        }
    return out


CTR_CEILING_DAYS = 7
"""Days before the CTR evaluation day whose calibration the CTR ceiling also lists (the day-to-day
scatter of observed clicks around the generator's expected clicks)."""


def _ceiling_figures(
    y: np.ndarray, p_oracle: np.ndarray, p_model: np.ndarray, p_point_in_time: Any = None
) -> dict[str, Any]:
    """Oracle and model metrics of one set of impressions, with the calibration's noise, and the
    point-in-time posterior's (:func:`oracle.point_in_time_click_probability`) if given: an array,
    or the reason it was skipped."""
    oracle_metrics = metrics.scalar_metrics(y, p_oracle)
    model_metrics = metrics.scalar_metrics(y, p_model)
    figures: dict[str, Any] = {}
    if isinstance(p_point_in_time, str):
        figures["point_in_time_skipped"] = p_point_in_time
    elif p_point_in_time is not None:
        point_in_time = metrics.scalar_metrics(y, p_point_in_time)
        figures["point_in_time"] = {m: point_in_time[m] for m in REPORTED_METRICS}
        figures["point_in_time_over_oracle"] = float(p_point_in_time.sum() / p_oracle.sum())
    return figures | {
        "impressions": int(len(y)),
        "clicks": int(y.sum()),
        "oracle_expected_clicks": float(p_oracle.sum()),
        "model_expected_clicks": float(p_model.sum()),
        # The model's expected clicks over the generator's: its bias without the clicks' noise.
        "model_over_oracle": float(p_model.sum() / p_oracle.sum()),
        "calibration_standard_error": metrics.calibration_standard_error(p_oracle),
        "oracle": {m: oracle_metrics[m] for m in REPORTED_METRICS},
        "model": {m: model_metrics[m] for m in REPORTED_METRICS},
        "gap": {m: oracle_metrics[m] - model_metrics[m] for m in REPORTED_METRICS},
    }


MAX_POSTERIOR_HISTORY_ROWS = 10_000_000
"""The most past impressions of the evaluation rows' viewers the point-in-time posterior reads."""


def _viewer_histories(warehouse: Warehouse, spec: ModelSpec) -> pd.DataFrame | str:
    """The impressions of the first evaluation set's viewers before its last one, with their
    label; or why they were not read (too many)."""
    relation = warehouse.name(spec.evaluation_sets[0].relation)
    try:
        return warehouse.frame(
            f"select user_id, ad_id, placement, device, impressed_at, {spec.label} "
            f"from {warehouse.name('fct_impression_features')} "
            f"where user_id in (select user_id from {relation}) "
            f"and impressed_at < (select max(impressed_at) from {relation})",
            MAX_POSTERIOR_HISTORY_ROWS,
        )
    except ValueError as error:
        return f"skipped: the viewers' history is too large ({error})"


def _point_in_time(
    frame: pd.DataFrame,
    history: pd.DataFrame | str,
    label: str,
    manifest: Mapping[str, Any],
    knobs: Mapping[str, Any],
) -> np.ndarray | str:
    """:func:`oracle.point_in_time_click_probability` of ``frame``, or why it was skipped."""
    if isinstance(history, str):
        return history
    if len(frame) > oracle.MAX_POSTERIOR_ROWS:
        return f"skipped: {len(frame):,} rows, over oracle.MAX_POSTERIOR_ROWS"
    return oracle.point_in_time_click_probability(
        frame,
        history,
        label=label,
        seed=int(manifest["seed"]),
        scale=float(manifest["scale"]),
        **knobs,
    )


def _ctr_ceiling(
    warehouse: Warehouse,
    sql: Mapping[str, str],
    evaluation: Mapping[str, Any],
    raw: Path | None,
    bar: _Progress | None = None,
) -> dict[str, Any]:
    """The generator's click probability against the reference CTR model, on the same rows,
    and the best a point-in-time model could do (:func:`oracle.point_in_time_click_probability`).

    The evaluation sets (the evaluation day, its new-category rows) and, day by day, the
    :data:`CTR_CEILING_DAYS` days before it: how far one day's observed clicks stray from the
    generator's expected clicks, i.e. whether a calibration within +-2% is measurable on a day.
    """
    manifest = oracle.read_raw_manifest(raw) if raw is not None else None
    if manifest is None:
        return {"skipped": f"no raw data manifest at {raw} (pass --raw <the build's raw data>)"}
    if oracle.generator_mismatch(manifest):
        return {"skipped": oracle.generator_mismatch(manifest)}
    knobs = oracle.launch_knobs(manifest)
    spec: ModelSpec = evaluation["spec"]
    model = evaluation["model"]

    def probability(frame: pd.DataFrame) -> np.ndarray:
        return oracle.click_probability(
            frame, seed=int(manifest["seed"]), scale=float(manifest["scale"]), **knobs
        )

    out: dict[str, Any] = {
        "definition": "the click probability the generator drew each click with "
        "(warehouse_ml.experiment.oracle.click_probability)",
        "raw_seed": manifest["seed"],
        "raw_scale": manifest["scale"],
        "generator_version": manifest.get("generator_version"),
        "launch": knobs,
        "model": evaluation["model_label"],
        "datasets": {},
        "days": [],
    }
    history = _viewer_histories(warehouse, spec)
    for name, frame in evaluation["frames"].items():
        y = frame[spec.label].astype("int64").to_numpy()
        if bar is not None:
            bar.step(f"CTR ceiling: point-in-time posterior of {len(frame):,} impressions")
        out["datasets"][name] = _ceiling_figures(
            y,
            probability(frame),
            model.predict_proba(frame),
            _point_in_time(frame, history, spec.label, manifest, knobs),
        )
    days = warehouse.frame(
        f"select * from {warehouse.name('fct_impression_features')} where impression_date >= "
        f"{sql['ctr_evaluation_date']} - interval {CTR_CEILING_DAYS} day "
        f"and impression_date <= {sql['ctr_evaluation_date']}",
        spec.max_training_rows,
    )
    days["__oracle"] = probability(days)
    days["__model"] = model.predict_proba(days)
    for day, frame in days.groupby("impression_date", sort=True):
        y = frame[spec.label].astype("int64").to_numpy()
        p_oracle, p_model = frame["__oracle"].to_numpy(), frame["__model"].to_numpy()
        out["days"].append(
            {
                "impression_date": str(pd.Timestamp(day).date()),
                "impressions": int(len(y)),
                "clicks": int(y.sum()),
                "oracle_calibration": float(p_oracle.sum() / max(y.sum(), 1)),
                "model_calibration": float(p_model.sum() / max(y.sum(), 1)),
                "model_over_oracle": float(p_model.sum() / p_oracle.sum()),
                "calibration_standard_error": metrics.calibration_standard_error(p_oracle),
            }
        )
    return out


def _mean(summary: Mapping[str, Any], key: str) -> float:
    return float(summary.get(key, {}).get("mean", float("nan")))


def acceptance(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The claims the experiment tests, each with the figures it was judged on (mean over seeds)."""
    checks = []
    churn = results["churn"]
    curve = {point["fraction"]: point["summary"] for point in churn["learning_curve"]}
    if 1.0 in curve:
        full = curve[1.0]
        full_auc = _mean(full, "out_of_time.roc_auc")
        full_time = _mean(full, "train_seconds")
        candidates = []
        for fraction, summary in sorted(curve.items()):
            if fraction > 0.10:
                continue
            delta = full_auc - _mean(summary, "out_of_time.roc_auc")
            speedup = full_time / max(_mean(summary, "train_seconds"), 1e-9)
            candidates.append(
                {
                    "fraction": fraction,
                    "auc_loss": delta,
                    "training_speedup": speedup,
                    "holds": delta <= 0.005 and speedup >= 5.0,
                }
            )
        checks.append(
            {
                "claim": "churn at <= 10% of customers within 0.005 ROC AUC (out of time) of 100% "
                "at >= 5x less training time",
                "holds": any(c["holds"] for c in candidates),
                "figures": candidates,
            }
        )
    if "customer_sample" in churn:
        tx = churn["transaction_sample"]["summary"]
        cu = churn["customer_sample"]["summary"]
        figures = {
            f"{kind}.{dataset}.{metric}": _mean(summary, f"{dataset}.{metric}")
            for kind, summary in (("transaction", tx), ("customer", cu))
            for dataset in ("holdout", "out_of_time")
            for metric in ("roc_auc", "normalized_entropy", "calibration")
        }
        checks.append(
            {
                "claim": "transaction sampling worse than customer sampling at the same fraction",
                "holds": figures["transaction.out_of_time.roc_auc"]
                < figures["customer.out_of_time.roc_auc"]
                and figures["transaction.out_of_time.normalized_entropy"]
                > figures["customer.out_of_time.normalized_entropy"],
                "figures": figures,
            }
        )
    ctr = results["ctr"]
    by_rate = {point["negative_rate"]: point["summary"] for point in ctr["negative_rates"]}
    if 1.0 in by_rate and 0.025 in by_rate:
        day = "evaluation_day"
        ne_full, ne = (
            _mean(by_rate[1.0], f"{day}.normalized_entropy"),
            _mean(by_rate[0.025], f"{day}.normalized_entropy"),
        )
        cal_full, cal = (
            _mean(by_rate[1.0], f"{day}.calibration"),
            _mean(by_rate[0.025], f"{day}.calibration"),
        )
        checks.append(
            {
                "claim": "CTR at 2.5% negatives within 1% NE and +-2% calibration of full data",
                "holds": ne / ne_full - 1 <= 0.01 and abs(cal / cal_full - 1) <= 0.02,
                "figures": {
                    "ne_full": ne_full,
                    "ne_2.5%": ne,
                    "ne_change": ne / ne_full - 1,
                    "calibration_full": cal_full,
                    "calibration_2.5%": cal,
                    "calibration_change": cal / cal_full - 1,
                },
            }
        )
    designs = ctr["stratified_vs_random"]
    dataset, metric = NEW_CATEGORY_SET, "normalized_entropy"
    pairs = [
        (s["metrics"][dataset][metric], r["metrics"][dataset][metric])
        for s, r in zip(designs["stratified"]["runs"], designs["random"]["runs"], strict=True)
        if dataset in s["metrics"] and dataset in r["metrics"]
    ]
    gains = [r - s for s, r in pairs]  # random NE minus stratified NE, seed by seed
    gain = statistics.fmean(gains) if gains else float("nan")
    noise = statistics.stdev(gains) / math.sqrt(len(gains)) if len(gains) > 1 else float("nan")
    checks.append(
        {
            "claim": "stratified better than random on the new category (NE, same size): the "
            "paired gain over seeds above twice its standard error",
            "holds": bool(gain > 0 and len(gains) > 1 and gain > 2 * noise),
            "figures": {
                "stratified_ne": statistics.fmean(s for s, _ in pairs) if pairs else None,
                "random_ne": statistics.fmean(r for _, r in pairs) if pairs else None,
                "paired_gain": gain,
                "gain_standard_error": noise,
            },
        }
    )
    return checks


def _clean(value: Any) -> Any:
    """JSON-safe: NaN becomes None, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_results(results: Mapping[str, Any], out: Path) -> tuple[Path, Path]:
    """Write ``sampling_validity.json`` and ``.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "sampling_validity.json"
    json_path.write_text(json.dumps(_clean(results), indent=2) + "\n")
    md_path = out / "sampling_validity.md"
    md_path.write_text(markdown(results))
    return json_path, md_path


def _rounded(value: Any, digits: int = 4) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    return round(value, digits) if isinstance(value, float) else value


def _cell(summary: Mapping[str, Any], key: str, digits: int = 4) -> str:
    figures = summary.get(key)
    if not figures or figures["mean"] is None or math.isnan(figures["mean"]):
        return "-"
    if summary.get("seeds", 1) > 1:
        return f"{figures['mean']:.{digits}f} ± {figures['std']:.{digits}f}"
    return f"{figures['mean']:.{digits}f}"


def markdown(results: Mapping[str, Any]) -> str:
    """The results as Markdown tables (mean ± standard deviation over seeds)."""
    lines = [
        "# Sampling validity",
        "",
        f"`warehouse-ml experiment sampling --db {results['database']}`: seeds "
        f"{results['seeds']}, {results['total_seconds']:.0f} s in total on "
        f"{results['machine']['cpu_count']} cores (load average before "
        f"{results['machine']['load_average_before']}, after "
        f"{results['machine']['load_average_after']}); {results['finished_at']}.",
        "Figures are mean ± standard deviation over seeds; training time is the fit alone "
        "(1 thread). Samples are drawn by the project's macros: "
        + ", ".join(f"`{m}`" for m in results["sampling_macros"])
        + ".",
        "",
        "## Acceptance",
        "",
        "| claim | holds | figures |",
        "|---|---|---|",
    ]
    for check in results["acceptance"]:
        figures = json.dumps(_rounded(_clean(check["figures"])), default=str)
        lines.append(f"| {check['claim']} | {'yes' if check['holds'] else 'NO'} | `{figures}` |")
    churn = results["churn"]
    sets = ("holdout", "out_of_time")
    lines += [
        "",
        f"## Churn learning curve ({churn['algorithm']}; "
        f"evaluation rows {churn['evaluation_sets']})",
        "",
        "| customers | training rows | fit s | "
        + " | ".join(f"{s} {m}" for s in sets for m in ("ROC AUC", "PR AUC", "NE", "calibration"))
        + " |",
        "|---|---|---|" + "---|" * 8,
    ]
    rows = [(f"{p['fraction']:.0%}", p["summary"]) for p in churn["learning_curve"]]
    rows.append(
        (
            f"{churn['transaction_sample']['fraction']:.0%} of transactions",
            churn["transaction_sample"]["summary"],
        )
    )
    for label, summary in rows:
        lines.append(
            f"| {label} | {_cell(summary, 'training_rows', 0)} | "
            f"{_cell(summary, 'train_seconds', 2)} | "
            + " | ".join(_cell(summary, f"{s}.{m}") for s in sets for m in REPORTED_METRICS)
            + " |"
        )
    ceiling = churn.get("ceiling", {})
    if ceiling.get("datasets"):
        lines += [
            "",
            f"## Churn ceiling ({ceiling['definition']}; horizon {ceiling['horizon_days']} days; "
            f"model: {ceiling['model']})",
            "",
            "| dataset | | ROC AUC | PR AUC | NE | calibration |",
            "|---|---|---|---|---|---|",
        ]
        for name, figures in ceiling["datasets"].items():
            lines += _ceiling_rows(name, figures)
    elif ceiling:
        lines += ["", f"Churn ceiling: {ceiling.get('skipped')}"]
    ctr = results["ctr"]
    sets = ("evaluation_day", NEW_CATEGORY_SET)
    lines += [
        "",
        f"## CTR over negative rates ({ctr['algorithm']}, calibration {ctr['calibration']}, "
        f"random share {ctr['random_share']:.0%} of {ctr['training_window_rows']} window rows; "
        f"evaluation rows {ctr['evaluation_sets']})",
        "",
        "| negatives kept | training rows | fit s | "
        + " | ".join(f"{s} {title}" for s in sets for _, title in CTR_TABLE_METRICS)
        + " |",
        "|---|---|---|" + "---|" * (len(sets) * len(CTR_TABLE_METRICS)),
    ]
    for point in ctr["negative_rates"]:
        summary = point["summary"]
        lines.append(
            f"| {point['negative_rate']:.1%} | {_cell(summary, 'training_rows', 0)} | "
            f"{_cell(summary, 'train_seconds', 2)} | "
            + " | ".join(
                _cell(summary, f"{s}.{metric}") for s in sets for metric, _ in CTR_TABLE_METRICS
            )
            + " |"
        )
    designs = ctr["stratified_vs_random"]
    lines += [
        "",
        f"## Stratified vs random, same size (design {json.dumps(designs['design'])}; "
        f"{designs['fit']})",
        "",
        "| design | training rows | new-category rows | fit s | "
        + " | ".join(f"{s} {title}" for s in sets for _, title in CTR_TABLE_METRICS)
        + " |",
        "|---|---|---|---|" + "---|" * (len(sets) * len(CTR_TABLE_METRICS)),
    ]
    for name in ("stratified", "random"):
        summary = designs[name]["summary"]
        new_rows = statistics.fmean(r["new_category_rows"] for r in designs[name]["runs"])
        lines.append(
            f"| {name} | {_cell(summary, 'training_rows', 0)} | {new_rows:.0f} | "
            f"{_cell(summary, 'train_seconds', 2)} | "
            + " | ".join(
                _cell(summary, f"{s}.{metric}") for s in sets for metric, _ in CTR_TABLE_METRICS
            )
            + " |"
        )
    lines += _ctr_ceiling_markdown(ctr.get("ceiling", {}))
    for name, section in (("churn", churn), ("ctr", ctr)):
        if "serving_design" in section:
            serving = section["serving_design"]
            lines += [
                "",
                f"Serving design of `{name}` reproduced (its sample, seed {serving['seed']}): "
                f"`{json.dumps(_clean(serving['metrics']))}`; registered champion: "
                f"`{json.dumps(_clean(serving['registered']))}`.",
            ]
    return "\n".join(lines) + "\n"


def _ceiling_rows(
    name: str,
    figures: Mapping[str, Any],
    counts: Sequence[Any] = (),
    after: Callable[[str], Sequence[str]] | None = None,
) -> list[str]:
    """The oracle, point-in-time (if computed), model and gap rows of one dataset of a ceiling
    table: ``counts`` before the metrics, ``after(who)`` after them."""
    rows = []
    for who in ("oracle", "point_in_time", "model", "gap"):
        if who not in figures:
            continue
        cells = [name, who, *counts, *(f"{figures[who][m]:.4f}" for m in REPORTED_METRICS)]
        cells += after(who) if after else []
        rows.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return rows


def _ctr_ceiling_markdown(ceiling: Mapping[str, Any]) -> list[str]:
    """The CTR ceiling table and its day-by-day calibration table."""
    if not ceiling.get("datasets"):
        return ["", f"CTR ceiling: {ceiling.get('skipped')}"] if ceiling else []
    lines = [
        "",
        f"## CTR ceiling ({ceiling['definition']}; launch {json.dumps(ceiling['launch'])}; "
        f"model: {ceiling['model']})",
        "",
        "calibration ± s.e.: the standard error the clicks' binomial noise alone gives mean "
        "predicted / observed (sqrt(sum p(1-p)) / sum p, p the generator's); model / oracle: the "
        "model's expected clicks over the generator's (its bias without that noise). "
        "point_in_time: the Bayes posterior predictive of the click from the viewer's past alone, "
        "every other term of the generator's logit and its interest prior known "
        "(warehouse_ml.experiment.oracle.point_in_time_click_probability): the best a model that "
        "sees only the past can do, in expectation.",
        "",
        "| dataset | | impressions | clicks | ROC AUC | PR AUC | NE | calibration | "
        "calibration s.e. | model / oracle |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, figures in ceiling["datasets"].items():
        lines += _ceiling_rows(
            name,
            figures,
            counts=[figures["impressions"], figures["clicks"]],
            after=lambda who, f=figures: [
                f"{f['calibration_standard_error']:.4f}",
                f"{f[f'{who}_over_oracle']:.4f}" if f"{who}_over_oracle" in f else "",
            ],
        )
        if "point_in_time_skipped" in figures:
            lines.append(f"| {name} | point_in_time: {figures['point_in_time_skipped']} |")
    if ceiling.get("days"):
        lines += [
            "",
            "Day by day up to the evaluation day: mean predicted / observed of the generator's "
            "probability (oracle) and of the model, with the oracle's binomial standard error.",
            "",
            "| day | impressions | clicks | oracle calibration | model calibration | "
            "model / oracle | s.e. |",
            "|---|---|---|---|---|---|---|",
        ]
        for day in ceiling["days"]:
            lines.append(
                f"| {day['impression_date']} | {day['impressions']} | {day['clicks']} | "
                f"{day['oracle_calibration']:.4f} | {day['model_calibration']:.4f} | "
                f"{day['model_over_oracle']:.4f} | {day['calibration_standard_error']:.4f} |"
            )
    return lines
