"""The model registry: models travel as table rows (bytes + sha256), never as loose files.

A registry row describes one model version: what it was trained on (training set, sampling
spec, row count, weight sum, data fingerprint), how (algorithm, hyper-parameters, features,
code and library versions), how well (metrics) and the serialised pipeline with its sha256.
The version is a content hash of the training-set spec, the parameters, the feature list and
the code version, so retraining with nothing changed gives the same version.

Loading verifies the artifact's sha256 against the row before deserialising anything, and
deserialises with skops (a restricted format that only builds allow-listed types) when the
row says so; joblib/pickle rows are accepted only after the hash check.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import pyarrow as pa
import sklearn

import warehouse_ml
from warehouse_ml import engine, metrics
from warehouse_ml.errors import (
    ArtifactHashMismatchError,
    ModelNotRegisteredError,
    ModelVersionNotFoundError,
    UntrustedArtifactError,
)
from warehouse_ml.training import FeatureSpec, TrainedModel

try:  # skops is optional: without it artifacts are joblib pickles guarded by the sha256.
    import skops.io as skops_io
except ImportError:  # pragma: no cover - depends on the environment
    skops_io = None

REGISTRY_SCHEMA = pa.schema(
    [
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("trained_at", pa.timestamp("us"), nullable=False),
        pa.field("algorithm", pa.string(), nullable=False),
        pa.field("hyperparameters", pa.string()),
        pa.field("random_state", pa.int64()),
        pa.field("features", pa.string()),
        pa.field("label", pa.string()),
        pa.field("weight_column", pa.string()),
        pa.field("training_set", pa.string()),
        pa.field("sampling_spec", pa.string()),
        pa.field("spec_fingerprint", pa.string()),
        pa.field("row_count", pa.int64()),
        pa.field("positive_count", pa.int64()),
        pa.field("weight_sum", pa.float64()),
        pa.field("data_fingerprint", pa.string()),
        pa.field("negative_downsampling_rate", pa.float64()),
        pa.field("metrics", pa.string()),
        pa.field("artifact_format", pa.string(), nullable=False),
        pa.field("artifact", pa.binary(), nullable=False),
        pa.field("artifact_sha256", pa.string(), nullable=False),
        pa.field("scoring_sql_duckdb", pa.string()),
        pa.field("scoring_sql_spark", pa.string()),
        pa.field("code_version", pa.string()),
        pa.field("library_versions", pa.string()),
    ]
)
"""Column names and types of the registry table (JSON text for nested values)."""

_TRUSTED_PREFIXES = ("sklearn.", "numpy.")
_TRUSTED_EXTRA = frozenset({"functools.partial"})  # HistGradientBoosting keeps partial(check_array)


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


CODE_MODULES = (
    "training",
    "lifecycle",
    "specs",
    "metrics",
    "sql_compile",
    "scoring",
    "registry",
    "engine",
    "churn",
    "ctr",
)
"""The library modules that can change a model or its scores, hashed in this order by
:func:`code_version` (tests/python/test_registry.py checks every other module is listed as not
model-changing)."""

MAX_REGISTRY_ROWS = 100_000
"""Most registry rows ever collected (one row per trained version)."""


def _module_source(name: str) -> bytes:
    return Path(__file__).with_name(f"{name}.py").read_bytes()


def code_version() -> str:
    """Package version plus a digest of :data:`CODE_MODULES`, e.g. ``0.1.0+3f2a9c1b0d4e``."""
    digest = hashlib.sha256()
    for name in CODE_MODULES:
        source = _module_source(name)
        digest.update(f"{name}:{len(source)}:".encode())
        digest.update(source)
    return f"{warehouse_ml.__version__}+{digest.hexdigest()[:12]}"


def library_versions() -> dict[str, str]:
    """Versions of the libraries a pipeline depends on."""
    import numpy
    import pandas

    versions = {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pa.__version__,
        "joblib": joblib.__version__,
        "warehouse_ml": warehouse_ml.__version__,
    }
    if skops_io is not None:
        import skops

        versions["skops"] = skops.__version__
    return versions


def model_version(
    *,
    model_name: str,
    trained: TrainedModel,
    training_set: str,
    sampling_spec: Mapping[str, Any] | None,
    code: str,
    spec_fingerprint: str | None = None,
) -> str:
    """Content hash (16 hex digits) of what determines a model.

    Covers the model name, training-set name, sampling spec and data fingerprint, the
    algorithm, hyper-parameters, seed, features, label, weight column, code version and the
    ``spec_fingerprint`` of the ``ml_model_specs`` row it was trained from (so a changed spec
    always gives a new version, and an unchanged spec on unchanged data the same one).
    The trained-at time and the artifact bytes are deliberately left out.
    """
    content = {
        "model_name": model_name,
        "training_set": training_set,
        "sampling_spec": dict(sampling_spec or {}),
        "data_fingerprint": trained.data_fingerprint,
        "algorithm": trained.algorithm,
        "params": trained.params,
        "random_state": trained.random_state,
        "features": trained.features.to_records(trained.integer_categoricals),
        "label": trained.label,
        "weight": trained.weight,
        "code_version": code,
        "spec_fingerprint": spec_fingerprint,
    }
    return hashlib.sha256(_canonical_json(content).encode()).hexdigest()[:16]


def serialize(pipeline: Any, artifact_format: str = "skops") -> bytes:
    """Serialise a fitted pipeline with ``skops`` (default) or ``joblib``."""
    if artifact_format == "skops":
        if skops_io is None:
            raise ValueError("artifact_format 'skops' needs the skops package; use 'joblib'")
        return skops_io.dumps(pipeline)
    if artifact_format == "joblib":
        buffer = io.BytesIO()
        joblib.dump(pipeline, buffer)
        return buffer.getvalue()
    raise ValueError(f"artifact_format '{artifact_format}' is not supported; use skops or joblib")


def registry_row(
    trained: TrainedModel,
    *,
    model_name: str,
    training_set: str,
    sampling_spec: Mapping[str, Any] | None = None,
    spec_fingerprint: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    negative_downsampling_rate: float | None = None,
    scoring_sql: Mapping[str, str] | None = None,
    trained_at: datetime | None = None,
    artifact_format: str = "skops" if skops_io is not None else "joblib",
    code: str | None = None,
) -> dict[str, Any]:
    """Build one registry row for a trained model.

    Parameters
    ----------
    trained : TrainedModel
        Output of :func:`warehouse_ml.training.fit`.
    model_name : str
        Registry name, e.g. ``"churn"``.
    training_set : str
        Name of the training-set model.
    sampling_spec : mapping, optional
        How the training set was sampled (method, fraction, seed, ...).
    spec_fingerprint : str, optional
        The ``spec_fingerprint`` of the ``ml_model_specs`` row the model was trained from.
    metrics : mapping, optional
        Summary metrics, e.g. ``{"rows": <long-format rows of metrics.evaluate>}``.
    negative_downsampling_rate : float, optional
        Set when predictions must be recalibrated at scoring time.
    scoring_sql : mapping, optional
        Compiled scoring SQL per engine (keys ``duckdb``, ``spark``).
    trained_at : datetime, optional
        Defaults to now (UTC); stored without time zone.
    artifact_format : {"skops", "joblib"}
    code : str, optional
        Code version; defaults to :func:`code_version`.
    """
    code = code or code_version()
    artifact = serialize(trained.pipeline, artifact_format)
    when = trained_at or datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    sql = dict(scoring_sql or {})
    return {
        "model_name": model_name,
        "model_version": model_version(
            model_name=model_name,
            trained=trained,
            training_set=training_set,
            sampling_spec=sampling_spec,
            code=code,
            spec_fingerprint=spec_fingerprint,
        ),
        "trained_at": when,
        "algorithm": trained.algorithm,
        "hyperparameters": _canonical_json(trained.params),
        "random_state": trained.random_state,
        "features": _canonical_json(trained.features.to_records(trained.integer_categoricals)),
        "label": trained.label,
        "weight_column": trained.weight,
        "training_set": training_set,
        "sampling_spec": _canonical_json(dict(sampling_spec or {})),
        "spec_fingerprint": spec_fingerprint,
        "row_count": trained.row_count,
        "positive_count": trained.positive_count,
        "weight_sum": trained.weight_sum,
        "data_fingerprint": trained.data_fingerprint,
        "negative_downsampling_rate": negative_downsampling_rate,
        "metrics": _canonical_json(dict(metrics or {})),
        "artifact_format": artifact_format,
        "artifact": artifact,
        "artifact_sha256": hashlib.sha256(artifact).hexdigest(),
        "scoring_sql_duckdb": sql.get("duckdb"),
        "scoring_sql_spark": sql.get("spark"),
        "code_version": code,
        "library_versions": _canonical_json(library_versions()),
    }


def registry_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Registry rows as an Arrow table with :data:`REGISTRY_SCHEMA`."""
    return pa.Table.from_pylist([dict(r) for r in rows], schema=REGISTRY_SCHEMA)


def rows_of(registry: Any) -> list[dict[str, Any]]:
    """Registry rows as dicts, from an Arrow table, DuckDB relation, Spark or pandas frame."""
    return engine.collect(registry, MAX_REGISTRY_ROWS).to_pylist()


def _rows_of_version(registry: Any, model_name: str, version: str) -> Any:
    """The rows of ``model_name`` at ``version``, filtered by the engine (lazy)."""
    return engine.where(engine.where(registry, "model_name", model_name), "model_version", version)


def is_registered(registry: Any | None, model_name: str, version: str) -> bool:
    """True when ``registry`` (``None``: not built yet) holds ``model_name`` at ``version``.

    The registries are append-only: a retrain that gives a known version appends nothing.
    Only the version column of the matching rows leaves the engine.
    """
    if registry is None:
        return False
    found = _rows_of_version(registry, model_name, version)
    return engine.collect(engine.select(found, ["model_version"]), MAX_REGISTRY_ROWS).num_rows > 0


def registered_metrics(*registries: Any) -> pa.Table:
    """Long-format metrics (:data:`metrics.METRICS_SCHEMA`) of every version of ``registries``.

    Only the ``metrics`` column leaves the engine (no artifact bytes).
    """
    rows: list[dict[str, Any]] = []
    for table in registries:
        for row in rows_of(engine.select(table, ["metrics"])):
            rows.extend(json.loads(row["metrics"] or "{}").get("rows", []))
    return metrics.metrics_table(rows)


def select_version(registry: Any, model_name: str, version: str) -> dict[str, Any]:
    """The registry row of ``model_name`` at ``version``.

    There is no default version: which version serves is decided once, in SQL
    (``ml_model_aliases``, read by :func:`warehouse_ml.promotion.champion_version`). The engine
    filters the registry to that one row before anything (artifact bytes included) leaves it.

    Raises
    ------
    ModelNotRegisteredError
        If the registry has no row for ``model_name``.
    ModelVersionNotFoundError
        If ``version`` is not registered for ``model_name``.
    """
    found = rows_of(_rows_of_version(registry, model_name, version))
    if found:
        return found[0]
    versions = engine.select(engine.where(registry, "model_name", model_name), ["model_version"])
    known = sorted({r["model_version"] for r in rows_of(versions)})
    if not known:
        raise ModelNotRegisteredError(
            f"model '{model_name}' has no registered version; build its training model "
            "first (e.g. dbt build --select ml_<name>_model)"
        )
    raise ModelVersionNotFoundError(
        f"model '{model_name}' has no version '{version}' (registered: {known}); "
        "pass a registered version (ml_model_aliases resolves the serving one)"
    )


@dataclass
class LoadedModel:
    """A verified, deserialised model and the registry facts scoring needs."""

    model_name: str
    model_version: str
    pipeline: Any
    features: FeatureSpec
    negative_downsampling_rate: float | None
    integer_categoricals: tuple[str, ...]
    row: dict[str, Any]


def _deserialize(artifact: bytes, artifact_format: str, where: str) -> Any:
    if artifact_format == "skops":
        if skops_io is None:
            raise ValueError(f"{where} is stored with skops, which is not installed")
        untrusted = skops_io.get_untrusted_types(data=artifact)
        refused = [
            t for t in untrusted if not (t.startswith(_TRUSTED_PREFIXES) or t in _TRUSTED_EXTRA)
        ]
        if refused:
            raise UntrustedArtifactError(
                f"{where}: the artifact holds types outside scikit-learn/numpy {refused}; "
                "refusing to load it"
            )
        return skops_io.loads(artifact, trusted=untrusted)
    if artifact_format == "joblib":
        return joblib.load(io.BytesIO(artifact))
    raise ValueError(f"{where}: unknown artifact_format '{artifact_format}'")


def load_model(registry: Any, model_name: str, version: str) -> LoadedModel:
    """Select ``version`` of ``model_name``, verify its sha256, then deserialise it.

    Raises
    ------
    ModelNotRegisteredError, ModelVersionNotFoundError
        See :func:`select_version`.
    ArtifactHashMismatchError
        If the artifact's sha256 differs from the registered one; nothing is deserialised.
    """
    row = select_version(registry, model_name, version)
    where = f"model '{row['model_name']}' version '{row['model_version']}'"
    artifact = bytes(row["artifact"])
    actual = hashlib.sha256(artifact).hexdigest()
    if actual != row["artifact_sha256"]:
        raise ArtifactHashMismatchError(
            f"{where}: artifact sha256 {actual} does not match the registered "
            f"{row['artifact_sha256']}; the bytes were altered, refusing to load them "
            "(retrain the model to register a fresh artifact)"
        )
    pipeline = _deserialize(artifact, row["artifact_format"], where)
    rate = row.get("negative_downsampling_rate")
    records = json.loads(row["features"])
    return LoadedModel(
        model_name=row["model_name"],
        model_version=row["model_version"],
        pipeline=pipeline,
        features=FeatureSpec.from_records(records),
        integer_categoricals=tuple(r["name"] for r in records if r.get("dtype") == "bigint"),
        negative_downsampling_rate=None if rate is None or rate != rate else float(rate),
        row=row,
    )
