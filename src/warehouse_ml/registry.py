"""The model registry: models travel as table rows (bytes + sha256), never as loose files.

A registry row describes one model version: what it was trained on (training set, sampling
spec, row count, weight sum, data fingerprint), how (algorithm, hyper-parameters, features,
code and library versions), how well (metrics) and the serialised pipeline with its sha256.
The version is a content hash of the training-set spec, the parameters, the feature list and
the code version, so retraining with nothing changed gives the same version.

Every row also carries ``integrity_sha256``, a sha256 over everything a scorer executes or
reads (:data:`INTEGRITY_FIELDS`: the artifact's sha256, the compiled SQL of each engine, the
feature spec, ...), and, when ``WAREHOUSE_ML_REGISTRY_KEY`` is set at training time, an HMAC of
the same payload (``signature``). :func:`verify_row` checks a row before anything of it runs: the
Python loader (:func:`load_model`) calls it, and so does the SQL scoring path, through the SQL
function :data:`~warehouse_ml.registry_columns.ROW_PROBLEM_FUNCTION` (registered by the DuckDB
plugin and the Spark launcher).
Artifacts are skops only (no pickle, no joblib), and skops is told to build only the exact types
the project's pipelines are made of (:data:`warehouse_ml.training.ARTIFACT_TYPES`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import math
import os
import platform
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import sklearn
import skops.io as skops_io

import warehouse_ml
from warehouse_ml import engine, metrics
from warehouse_ml.errors import (
    ArtifactHashMismatchError,
    ModelNotRegisteredError,
    ModelVersionNotFoundError,
    RegistryIntegrityError,
    RegistrySignatureError,
    UntrustedArtifactError,
    WarehouseMLError,
)
from warehouse_ml.registry_columns import INTEGRITY_FIELDS, ROW_PROBLEM_COLUMNS
from warehouse_ml.training import ARTIFACT_TYPES, FeatureSpec, TrainedModel

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
        pa.field("integrity_sha256", pa.string()),
        pa.field("signature", pa.string()),
    ]
)
"""Column names and types of the registry table (JSON text for nested values)."""

ARTIFACT_FORMAT = "skops"
"""The only artifact format: skops builds only the types it is told to trust (no pickle)."""

REGISTRY_KEY_ENV = "WAREHOUSE_ML_REGISTRY_KEY"
"""Environment variable holding the HMAC key: set at training time, rows are signed; set at
scoring time, rows without a valid signature are refused."""


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
    "ctr_priors",
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
    import skops

    versions = {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pa.__version__,
        "skops": skops.__version__,
        "warehouse_ml": warehouse_ml.__version__,
    }
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


def serialize(pipeline: Any) -> bytes:
    """Serialise a fitted pipeline with skops (the only format; see :data:`ARTIFACT_FORMAT`)."""
    return skops_io.dumps(pipeline)


def _integrity_payload(row: Mapping[str, Any]) -> bytes:
    """Canonical JSON of the row's :data:`INTEGRITY_FIELDS` (a NaN rate counts as null)."""
    content = {name: row.get(name) for name in INTEGRITY_FIELDS}
    rate = content["negative_downsampling_rate"]
    if rate is not None:
        rate = float(rate)
        content["negative_downsampling_rate"] = None if math.isnan(rate) else rate
    return _canonical_json(content).encode()


def integrity_sha256(row: Mapping[str, Any]) -> str:
    """sha256 (hex) of the row's :data:`INTEGRITY_FIELDS`, as canonical JSON."""
    return hashlib.sha256(_integrity_payload(row)).hexdigest()


def signature(row: Mapping[str, Any], key: str | None = None) -> str | None:
    """HMAC-SHA256 (hex) of the row's :data:`INTEGRITY_FIELDS` with ``key``.

    ``key`` defaults to the environment variable :data:`REGISTRY_KEY_ENV`; without a key the
    row is not signed (``None``).
    """
    key = key if key is not None else os.environ.get(REGISTRY_KEY_ENV) or None
    if key is None:
        return None
    return hmac.new(key.encode(), _integrity_payload(row), hashlib.sha256).hexdigest()


def where_of(row: Mapping[str, Any]) -> str:
    """``model '<name>' version '<version>'``, how every refusal names its row."""
    return f"model '{row.get('model_name')}' version '{row.get('model_version')}'"


def verify_row(row: Mapping[str, Any]) -> None:
    """Refuse a registry row that could run anything it was not trained to run.

    Checks, in order, before anything of the row is deserialised or executed: the artifact format
    is skops; the artifact's sha256 is the registered one (when the row carries the artifact; the
    SQL path does not read it); ``integrity_sha256`` is the hash of :data:`INTEGRITY_FIELDS`; and,
    when :data:`REGISTRY_KEY_ENV` is set, ``signature`` is their HMAC with that key.

    Raises
    ------
    UntrustedArtifactError
        The artifact format is not skops (joblib/pickle rows can run code when loaded).
    ArtifactHashMismatchError
        The artifact bytes differ from ``artifact_sha256``.
    RegistryIntegrityError
        ``integrity_sha256`` is missing (a row from before integrity hashing) or does not match.
    RegistrySignatureError
        The key is set and the signature is missing or does not verify.
    """
    where = where_of(row)
    artifact_format = row.get("artifact_format")
    if artifact_format != ARTIFACT_FORMAT:
        raise UntrustedArtifactError(
            f"{where}: artifact_format '{artifact_format}' is refused, only '{ARTIFACT_FORMAT}' "
            "artifacts are loaded (pickle/joblib can run code when loaded); retrain the model "
            "to register a skops artifact"
        )
    artifact = row.get("artifact")
    if artifact is not None:
        actual = hashlib.sha256(bytes(artifact)).hexdigest()
        if actual != row.get("artifact_sha256"):
            raise ArtifactHashMismatchError(
                f"{where}: artifact sha256 {actual} does not match the registered "
                f"{row.get('artifact_sha256')}; the bytes were altered, refusing to load them "
                "(retrain the model to register a fresh artifact)"
            )
    registered = row.get("integrity_sha256")
    if registered is None:
        raise RegistryIntegrityError(
            f"{where}: the row has no integrity_sha256 (registered before rows were hashed), "
            "so what it would run cannot be verified; retrain or re-import the model (warehouse-ml "
            "registry import, from an export that carries integrity_sha256)"
        )
    if not hmac.compare_digest(str(registered), integrity_sha256(row)):
        raise RegistryIntegrityError(
            f"{where}: integrity_sha256 does not match the row (one of {list(INTEGRITY_FIELDS)} "
            "was changed after training, e.g. the compiled scoring SQL); refusing to run it "
            "(retrain or re-import the model)"
        )
    key = os.environ.get(REGISTRY_KEY_ENV) or None
    if key is not None:
        signed = row.get("signature")
        if signed is None:
            raise RegistrySignatureError(
                f"{where}: the row has no signature but {REGISTRY_KEY_ENV} is set; refusing "
                "it (retrain the model with the key set to sign it)"
            )
        if not hmac.compare_digest(str(signed), signature(row, key) or ""):
            raise RegistrySignatureError(
                f"{where}: the signature does not verify with {REGISTRY_KEY_ENV}; the row was "
                "not signed with this key or was changed after signing, refusing it"
            )


def row_problem(
    model_name: str | None,
    model_version: str | None,
    artifact_format: str | None,
    artifact_sha256: str | None,
    features: str | None,
    label: str | None,
    negative_downsampling_rate: float | None,
    scoring_sql_duckdb: str | None,
    scoring_sql_spark: str | None,
    code_version: str | None,
    integrity_sha256: str | None,
    signature: str | None,
) -> str | None:
    """:func:`verify_row` for SQL: ``None`` when the row verifies, else the refusal message.

    The arguments are :data:`ROW_PROBLEM_COLUMNS` (no artifact bytes: the SQL path runs the
    compiled SQL, whose text is covered by ``integrity_sha256``). Registered as the SQL function
    :data:`ROW_PROBLEM_FUNCTION`, which ``ml_scoring_query`` calls before using a row's SQL.
    """
    values = (
        model_name,
        model_version,
        artifact_format,
        artifact_sha256,
        features,
        label,
        negative_downsampling_rate,
        scoring_sql_duckdb,
        scoring_sql_spark,
        code_version,
        integrity_sha256,
        signature,
    )
    try:
        verify_row(dict(zip(ROW_PROBLEM_COLUMNS, values, strict=True)))
    except WarehouseMLError as refused:
        return str(refused)
    return None


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
    code : str, optional
        Code version; defaults to :func:`code_version`.

    The row's ``integrity_sha256`` covers :data:`INTEGRITY_FIELDS`; ``signature`` is their HMAC
    when :data:`REGISTRY_KEY_ENV` is set (else null).

    Raises
    ------
    UntrustedArtifactError
        If the pipeline holds a type outside :data:`warehouse_ml.training.ARTIFACT_TYPES`
        (nothing is registered that the loader would refuse).
    """
    code = code or code_version()
    artifact = serialize(trained.pipeline)
    # Refuse at registration what the loader would refuse (e.g. params that add a type).
    check_artifact_types(artifact, f"model '{model_name}' (a new version, not registered)")
    when = trained_at or datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    sql = dict(scoring_sql or {})
    row = {
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
        "artifact_format": ARTIFACT_FORMAT,
        "artifact": artifact,
        "artifact_sha256": hashlib.sha256(artifact).hexdigest(),
        "scoring_sql_duckdb": sql.get("duckdb"),
        "scoring_sql_spark": sql.get("spark"),
        "code_version": code,
        "library_versions": _canonical_json(library_versions()),
    }
    row["integrity_sha256"] = integrity_sha256(row)
    row["signature"] = signature(row)
    return row


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


def artifact_types(artifact: bytes) -> set[str]:
    """Every type and function a skops artifact would build, as ``module.name``.

    Read from the archive's ``schema.json`` without constructing anything: every node skops
    constructs is an object there with ``__module__`` and ``__class__`` (functions too), so
    walking every object finds them all, whatever skops itself would trust by default.
    """
    with zipfile.ZipFile(io.BytesIO(artifact)) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def check_artifact_types(artifact: bytes, where: str) -> set[str]:
    """The artifact's types (:func:`artifact_types`), all in :data:`training.ARTIFACT_TYPES`.

    Raises
    ------
    UntrustedArtifactError
        Naming ``where`` and every type outside the list (or an unreadable archive).
    """
    try:
        types = artifact_types(artifact) | set(skops_io.get_untrusted_types(data=artifact))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UntrustedArtifactError(
            f"{where}: the artifact is not a readable skops archive ({exc}); refusing to load it"
        ) from exc
    refused = sorted(types - ARTIFACT_TYPES)
    if refused:
        raise UntrustedArtifactError(
            f"{where}: the artifact holds types outside training.ARTIFACT_TYPES {refused}; "
            "refusing to load it (a pipeline built by training.build_pipeline has none)"
        )
    return types


def _deserialize(artifact: bytes, where: str) -> Any:
    """Build a skops artifact whose every type is in :data:`training.ARTIFACT_TYPES`."""
    return skops_io.loads(artifact, trusted=sorted(check_artifact_types(artifact, where)))


def load_model(registry: Any, model_name: str, version: str) -> LoadedModel:
    """Select ``version`` of ``model_name``, verify the row, then deserialise it.

    Raises
    ------
    ModelNotRegisteredError, ModelVersionNotFoundError
        See :func:`select_version`.
    UntrustedArtifactError, ArtifactHashMismatchError, RegistryIntegrityError,
    RegistrySignatureError
        From :func:`verify_row` (nothing is deserialised), or the artifact would build a type
        outside :data:`warehouse_ml.training.ARTIFACT_TYPES`.
    """
    row = select_version(registry, model_name, version)
    verify_row(row)
    pipeline = _deserialize(bytes(row["artifact"]), where_of(row))
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
