"""What the model report reads from a built warehouse: small, aggregated tables only.

Everything comes from tables dbt built (the registries without their artifact bytes,
``ml_model_metrics``, the evaluation tables of ``models/ml/evaluation/`` and
``rpt_sample_representativeness``); nothing is recomputed here, so the report shows what a BI
tool reading the same tables shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from warehouse_ml.errors import ReportInputError

TABLES = {
    "specs": "ml.ml_model_specs",
    "aliases": "ml.ml_model_aliases",
    "metrics": "ml.ml_model_metrics",
    "roc": "ml.ml_model_roc_curve",
    "pr": "ml.ml_model_pr_curve",
    "thresholds": "ml.ml_model_threshold_metrics",
    "confusion": "ml.ml_model_confusion_matrix",
    "importance": "ml.ml_model_feature_importance",
    "coefficients": "ml.ml_model_coefficients",
    "score_distribution": "ml.ml_model_score_distribution",
    "representativeness": "marts.rpt_sample_representativeness",
}
"""Every table the report reads, by the name the report code uses."""

REGISTRY_COLUMNS = (
    "model_version",
    "trained_at",
    "algorithm",
    "hyperparameters",
    "random_state",
    "features",
    "label",
    "weight_column",
    "training_set",
    "sampling_spec",
    "spec_fingerprint",
    "row_count",
    "positive_count",
    "weight_sum",
    "negative_downsampling_rate",
    "code_version",
    "library_versions",
)
"""The registry columns shown as the version's training spec (never the artifact bytes)."""


@dataclass
class ModelData:
    """One model's figures: its serving version, its spec and one frame per table."""

    model_name: str
    version: str
    alias_row: dict[str, Any]
    spec_row: dict[str, Any]
    registry_row: dict[str, Any]
    frames: dict[str, pd.DataFrame]


def connect(db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to ``db`` (a reader never blocks a build or a publication).

    Raises
    ------
    ReportInputError
        If the file does not exist or cannot be opened.
    """
    if not db.is_file():
        raise ReportInputError(
            f"report: database {db} does not exist; build the warehouse first (make demo) or "
            "pass --db with the path of a built DuckDB file"
        )
    try:
        return duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise ReportInputError(f"report: cannot open {db} read-only ({exc})") from exc


def _frame(connection: duckdb.DuckDBPyConnection, table: str, where: str = "") -> pd.DataFrame:
    try:
        return connection.sql(f"select * from {table} {where}").df()
    except duckdb.CatalogException as exc:
        raise ReportInputError(
            f"report: table {table} is not in the database ({str(exc).splitlines()[0]}); build "
            "it first: dbt build --profiles-dir profiles --select models/ml models/marts/sampling"
        ) from exc


def registry_relations(model_name: str) -> tuple[str, ...]:
    """Where a version's registry row may be read: the registry, or its public view without the
    artifact bytes (what a publication of the BI-facing tables may hold instead)."""
    return (f"ml.ml_{model_name}_model", f"ml.ml_{model_name}_model_versions")


def _registry_row(
    connection: duckdb.DuckDBPyConnection, model_name: str, version: str
) -> dict[str, Any]:
    tried = []
    for relation in registry_relations(model_name):
        try:
            present = set(connection.sql(f"select * from {relation} limit 0").columns)
        except duckdb.CatalogException as exc:
            tried.append(f"{relation}: {str(exc).splitlines()[0]}")
            continue
        columns = [c for c in REGISTRY_COLUMNS if c in present]  # a public view may hold fewer
        found = connection.sql(
            f"select {', '.join(columns)} from {relation} where model_version = '{version}'"
        ).df()
        if len(found):
            return found.iloc[0].to_dict()
        tried.append(f"{relation}: no row")
    raise ReportInputError(
        f"report: version {version} of model '{model_name}' (the champion of "
        f"{TABLES['aliases']}) is not readable ({'; '.join(tried)}); rebuild the registry "
        f"(dbt build --select ml_{model_name}_model+)"
    )


def model_names(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The models of ``ml_model_specs``, sorted."""
    return sorted(_frame(connection, TABLES["specs"])["model_name"].tolist())


def load_model(connection: duckdb.DuckDBPyConnection, model_name: str) -> ModelData:
    """The serving (champion) version of ``model_name`` and every figure the report charts.

    Raises
    ------
    ReportInputError
        If the model has no champion in ``ml_model_aliases``, or a table is missing.
    """
    literal = "'" + model_name.replace("'", "''") + "'"
    where = f"where model_name = {literal}"
    aliases = _frame(connection, TABLES["aliases"], where)
    champion = aliases[aliases["alias"] == "champion"]
    if len(champion) != 1:
        raise ReportInputError(
            f"report: model '{model_name}' has no champion in {TABLES['aliases']} "
            f"({len(champion)} rows); build ml_model_aliases (dbt build --select ml_model_aliases)"
        )
    version = str(champion.iloc[0]["model_version"])
    spec = _frame(connection, TABLES["specs"], where).iloc[0].to_dict()
    registry_row = _registry_row(connection, model_name, version)
    frames = {}
    for name, table in TABLES.items():
        if name in ("specs", "aliases"):
            continue
        if name == "representativeness":
            training_set = spec["training_set"].replace("'", "''")
            frames[name] = _frame(connection, table, f"where training_set = '{training_set}'")
        else:
            frames[name] = _frame(connection, table, f"{where} and model_version = '{version}'")
    return ModelData(
        model_name=model_name,
        version=version,
        alias_row=champion.iloc[0].to_dict(),
        spec_row=spec,
        registry_row=registry_row,
        frames=frames,
    )


def pretty_json(text: Any) -> str:
    """Canonical JSON text indented for reading (other values as they are)."""
    if not isinstance(text, str):
        return "" if text is None or text != text else str(text)
    try:
        return json.dumps(json.loads(text), indent=1, sort_keys=True)
    except ValueError:
        return text
