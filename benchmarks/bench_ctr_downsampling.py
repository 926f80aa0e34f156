"""Which negative-downsampling correction keeps the CTR model calibrated, measured on a warehouse.

The CTR training set keeps every click and a hashed share of the non-clicks. Three ways to undo
that, each fitted with the serving model's own spec (features, algorithm, parameters) on the built
``trn_ctr__recent_sample`` and scored on ``ml_ctr_evaluation_day``:

* ``weights``: fit with weight ``1 / rate`` on the kept negatives (rescaled to mean 1 by
  :func:`warehouse_ml.training.normalized_weights`, as every weighted fit is), no recalibration;
* ``recalibration``: fit unweighted, then ``q = p / (p + (1 - p) / rate)`` (He et al. 2014);
* ``both``: the weights and then the recalibration.

Rates below the training set's own (``ctr_training_negative_rate``) keep a further hashed share of
its negatives (``hash(impression_id)``, the same rows on every run). Figures (normalized entropy,
ROC AUC, mean predicted / observed from :func:`warehouse_ml.metrics.scalar_metrics`, overall and on
the new category's impressions, ``is_new_category``) go to
benchmarks/results/ctr_downsampling.json and .md.

    .venv/bin/python benchmarks/bench_ctr_downsampling.py --db .test-tmp/s1.duckdb --rates 0.1 0.025
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _measure import write_results  # noqa: E402

from warehouse_ml import lifecycle, metrics, specs, training  # noqa: E402

CORRECTIONS = ("weights", "recalibration", "both")


def _kept(frame: pd.DataFrame, label: str, keep: float) -> pd.DataFrame:
    """All positives and a fixed hashed share ``keep`` of the negatives."""
    if keep >= 1.0:
        return frame
    bucket = pd.util.hash_pandas_object(frame["impression_id"], index=False).to_numpy() % 1_000_000
    return frame[frame[label].astype(bool).to_numpy() | (bucket < keep * 1_000_000)]


def compare(database: str, rates: list[float]) -> list[dict]:
    """Fit and evaluate each correction at each negative rate; one row per (rate, correction)."""
    con = duckdb.connect(database, read_only=True)
    spec = specs.from_table(con.table("ml.ml_model_specs"), "ctr")
    base_rate = float(spec.sampling_spec["negative_rate"])  # the training set's own rate
    training_set = lifecycle.training_rows(spec, con.table(f"training.{spec.training_set}"))
    evaluation = spec.evaluation_sets[0]
    evaluation_rows = lifecycle.evaluation_rows(
        spec, evaluation, con.table(f"ml.{evaluation.relation}")
    )
    y_eval = evaluation_rows[spec.label].astype("int64").to_numpy()
    is_new = evaluation_rows["is_new_category"].astype(bool).to_numpy()
    rows = []
    for rate in rates:
        if rate > base_rate:
            raise SystemExit(f"rate {rate} is above the training set's negative rate {base_rate}")
        sample = _kept(training_set, spec.label, rate / base_rate).copy()
        sample["correction_weight"] = np.where(sample[spec.label].astype(bool), 1.0, 1.0 / rate)
        for correction in CORRECTIONS:
            started = time.perf_counter()
            trained = training.fit(
                sample,
                features=spec.features,
                label=spec.label,
                algorithm=spec.algorithm,
                random_state=spec.random_state,
                weight=None if correction == "recalibration" else "correction_weight",
                params=spec.params,
                training_set=spec.training_set,
            )
            scores = trained.predict_proba(evaluation_rows)
            if correction != "weights":
                scores = training.recalibrate_downsampled(scores, rate)
            figures = metrics.scalar_metrics(y_eval, scores)
            new = metrics.scalar_metrics(y_eval[is_new], scores[is_new]) if is_new.any() else {}
            rows.append(
                {
                    "negative_rate": rate,
                    "correction": correction,
                    "training_rows": len(sample),
                    "normalized_entropy": round(figures["normalized_entropy"], 4),
                    "roc_auc": round(figures["roc_auc"], 4),
                    "calibration": round(figures["calibration"], 4),
                    "new_category_normalized_entropy": round(
                        new.get("normalized_entropy", np.nan), 4
                    ),
                    "new_category_calibration": round(new.get("calibration", np.nan), 4),
                    "evaluation_rows": len(evaluation_rows),
                    "fit_seconds": round(time.perf_counter() - started, 2),
                }
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a built warehouse (DuckDB file)")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.025])
    args = parser.parse_args()
    rows = compare(args.db, args.rates)
    note = (
        f"CTR downsampling corrections on {os.path.basename(args.db)}: the serving spec "
        "refitted on trn_ctr__recent_sample (negatives further hash-sampled to each rate), "
        "scored on ml_ctr_evaluation_day. calibration = mean predicted / observed. "
        f"Load: {os.getloadavg()[0]:.1f}."
    )
    print(write_results("ctr_downsampling", rows, note))


if __name__ == "__main__":
    main()
