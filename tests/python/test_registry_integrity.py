"""Artifacts that cannot run code: skops only, exact types, a row hash over what scorers execute.

Everything here is refused by ``registry.verify_row`` (or the skops type check after it) before a
single byte of the artifact is deserialised or a line of the row's SQL runs; each message names
the model, the version and the reason. The SQL path through dbt is in test_registry_survival.py.
"""

from __future__ import annotations

import builtins
import hashlib
import itertools
import os
import pickle
import re
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest
import skops.io as skops_io
from _ml_synthetic import synthetic_frame
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier

from warehouse_ml import duckdb_plugin, registry, registry_columns, training
from warehouse_ml.errors import (
    ArtifactHashMismatchError,
    RegistryIntegrityError,
    RegistrySignatureError,
    UntrustedArtifactError,
)
from warehouse_ml.training import FeatureSpec

PROJECT_DIR = Path(__file__).resolve().parents[2]

# Every preprocessing branch build_pipeline has: numeric only, categorical only (string and
# integer-typed), both.
BRANCHES = {
    "numeric_only": FeatureSpec(numeric=("tenure_days", "spend_90d")),
    "categorical_only": FeatureSpec(categorical=("segment",)),
    "integer_categorical_only": FeatureSpec(categorical=("hour",)),
    "numeric_and_categorical": FeatureSpec(
        numeric=("tenure_days", "spend_90d"), categorical=("segment", "hour")
    ),
}


@pytest.fixture(scope="module")
def frame():
    return synthetic_frame(400, seed=11)


def fit(frame, features, algorithm="logistic_regression"):
    return training.fit(
        frame,
        features=features,
        label="is_churned",
        weight="weight",
        algorithm=algorithm,
        random_state=5,
    )


def row_of(trained, **kwargs):
    options = {"model_name": "churn", "training_set": "trn_churn", "code": "test-code"}
    options.update(kwargs)
    return registry.registry_row(trained, trained_at=datetime(2026, 1, 1), **options)


@pytest.fixture(scope="module")
def trained(frame):
    return fit(frame, BRANCHES["numeric_and_categorical"])


@pytest.fixture(autouse=True)
def no_registry_key(monkeypatch):
    monkeypatch.delenv(registry.REGISTRY_KEY_ENV, raising=False)


def load(row):
    return registry.load_model(
        registry.registry_table([row]), row["model_name"], row["model_version"]
    )


def must_not_deserialise(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("deserialised an artifact whose row does not verify")

    monkeypatch.setattr(registry, "_deserialize", refuse)
    monkeypatch.setattr(skops_io, "loads", refuse)


# --- (a) the allow-list covers every pipeline the builder can produce ------------------------


@pytest.mark.parametrize(
    ("algorithm", "branch"), list(itertools.product(training.ALGORITHMS, BRANCHES))
)
def test_every_pipeline_the_builder_produces_holds_only_listed_types(frame, algorithm, branch):
    """Derived from ALGORITHMS: a new algorithm whose types are not listed fails here."""
    artifact = registry.serialize(fit(frame, BRANCHES[branch], algorithm).pipeline)
    types = registry.artifact_types(artifact)
    assert set(skops_io.get_untrusted_types(data=artifact)) <= types
    assert types - training.ARTIFACT_TYPES == set()
    assert "sklearn.pipeline.Pipeline" in types


def test_the_list_holds_no_type_no_pipeline_uses(frame):
    used = set()
    for algorithm, features in itertools.product(training.ALGORITHMS, BRANCHES.values()):
        used |= registry.artifact_types(
            registry.serialize(fit(frame, features, algorithm).pipeline)
        )
    assert training.ARTIFACT_TYPES - used == set()


# --- (b) another type is refused, by name ----------------------------------------------------


def foreign_pipeline(frame, step):
    features = BRANCHES["numeric_only"]
    prepared = training.prepare_features(frame, features)
    return Pipeline([("step", step), ("model", DecisionTreeClassifier(max_depth=2))]).fit(
        prepared, frame["is_churned"]
    )


@pytest.mark.parametrize(
    ("step", "refused"),
    [
        ("passthrough", "sklearn.tree._classes.DecisionTreeClassifier"),
        (FunctionTransformer(np.log1p), "numpy.log1p"),
        (FunctionTransformer(builtins.abs), "builtins.abs"),
    ],
    ids=["sklearn_estimator", "numpy_callable", "builtin_callable"],
)
def test_a_pipeline_with_another_type_is_refused_naming_it(
    trained, frame, step, refused, monkeypatch
):
    row = row_of(trained)
    row["artifact"] = skops_io.dumps(foreign_pipeline(frame, step))
    row["artifact_sha256"] = hashlib.sha256(row["artifact"]).hexdigest()
    row["integrity_sha256"] = registry.integrity_sha256(row)  # a consistent, re-hashed row
    monkeypatch.setattr(skops_io, "loads", lambda *a, **k: pytest.fail("loaded a foreign type"))
    with pytest.raises(UntrustedArtifactError) as refusal:
        load(row)
    message = str(refusal.value)
    assert f"model 'churn' version '{row['model_version']}'" in message
    assert refused in message and "outside training.ARTIFACT_TYPES" in message


def test_a_pipeline_the_loader_would_refuse_is_not_registered(trained, frame):
    foreign = training.TrainedModel(
        **{**trained.__dict__, "pipeline": foreign_pipeline(frame, "passthrough")}
    )
    with pytest.raises(UntrustedArtifactError, match="not registered.*DecisionTreeClassifier"):
        row_of(foreign)


def test_no_prefix_trust_is_left():
    source = (PROJECT_DIR / "src" / "warehouse_ml" / "registry.py").read_text()
    assert "startswith" not in source and "_TRUSTED" not in source


# --- joblib / pickle: refused before anything is read -----------------------------------------


class RunsACommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_joblib_row_is_refused_before_anything_is_deserialised(trained, tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    row = row_of(trained)
    row["artifact_format"] = "joblib"
    row["artifact"] = pickle.dumps(RunsACommand(marker))
    row["artifact_sha256"] = hashlib.sha256(row["artifact"]).hexdigest()
    row["integrity_sha256"] = registry.integrity_sha256(row)  # hash and integrity both match
    must_not_deserialise(monkeypatch)
    with pytest.raises(UntrustedArtifactError) as refusal:
        load(row)
    assert str(refusal.value).startswith(
        f"model 'churn' version '{row['model_version']}': artifact_format 'joblib' is refused"
    )
    assert not marker.exists()
    assert registry.row_problem(*(row[c] for c in registry_columns.ROW_PROBLEM_COLUMNS)) == str(
        refusal.value
    )


def test_no_pickle_or_joblib_loading_anywhere_in_the_library():
    package = PROJECT_DIR / "src" / "warehouse_ml"
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert not re.search(
            r"^\s*(import|from)\s+(joblib|pickle|cloudpickle|dill)\b", text, re.M
        ), path
    assert "joblib" not in (PROJECT_DIR / "pyproject.toml").read_text()
    assert "joblib" not in registry.library_versions()


# --- the integrity hash covers everything a scorer executes ----------------------------------


def test_a_fresh_row_verifies_and_loads(trained, frame):
    row = row_of(trained)
    assert row["integrity_sha256"] == registry.integrity_sha256(row)
    assert row["signature"] is None
    registry.verify_row(row)
    loaded = load(row)
    np.testing.assert_array_equal(
        loaded.pipeline.predict_proba(training.prepare_features(frame, loaded.features))[:, 1],
        trained.predict_proba(frame),
    )


EDITS = {
    "model_name": "ctr",
    "model_version": "f" * 16,
    "artifact_sha256": "0" * 64,
    "features": '[{"dtype":"double","name":"spend_90d","type":"numeric"}]',
    "label": "is_active",
    "negative_downsampling_rate": 0.5,
    "scoring_sql_duckdb": "select customer_id, 0.5 as probability from __population__",
    "scoring_sql_spark": "select customer_id, 0.5 as probability from __population__",
    "code_version": "0.1.0+000000000000",
}
"""An edit of every integrity field but artifact_format (refused as a format, above)."""


def test_every_integrity_field_has_an_edit():
    assert set(EDITS) | {"artifact_format"} == set(registry_columns.INTEGRITY_FIELDS)


@pytest.mark.parametrize("column", sorted(EDITS))
def test_an_edited_row_is_refused_naming_model_version_and_reason(trained, column):
    """Without the artifact, as the SQL path checks a row: the integrity hash alone catches it."""
    row = row_of(trained)
    del row["artifact"]
    row[column] = EDITS[column]
    with pytest.raises(RegistryIntegrityError) as refusal:
        registry.verify_row(row)
    assert str(refusal.value).startswith(
        f"model '{row['model_name']}' version '{row['model_version']}': integrity_sha256 does "
        "not match the row"
    )


def test_an_edited_scoring_sql_is_refused_by_the_loader(trained, monkeypatch):
    row = row_of(trained)
    row["scoring_sql_duckdb"] = EDITS["scoring_sql_duckdb"]
    must_not_deserialise(monkeypatch)
    with pytest.raises(RegistryIntegrityError) as refusal:
        load(row)
    assert str(refusal.value).startswith(
        f"model 'churn' version '{row['model_version']}': integrity_sha256 does not match"
    )


def test_altered_artifact_bytes_are_refused_first(trained, monkeypatch):
    row = row_of(trained)
    row["artifact"] = row["artifact"][:-1] + bytes([row["artifact"][-1] ^ 1])
    must_not_deserialise(monkeypatch)
    with pytest.raises(ArtifactHashMismatchError, match="artifact sha256 .* does not match"):
        load(row)


def test_a_row_without_integrity_says_retrain_or_reimport(trained):
    row = row_of(trained)
    row["integrity_sha256"] = None
    with pytest.raises(RegistryIntegrityError, match="retrain or re-import"):
        load(row)


# --- signing ---------------------------------------------------------------------------------


def test_with_the_key_rows_are_signed_and_forgeries_refused(trained, monkeypatch):
    monkeypatch.setenv(registry.REGISTRY_KEY_ENV, "training-key")
    row = row_of(trained)
    assert re.fullmatch(r"[0-9a-f]{64}", row["signature"])
    registry.verify_row(row)

    forged = {**row, "scoring_sql_duckdb": EDITS["scoring_sql_duckdb"]}
    forged["integrity_sha256"] = registry.integrity_sha256(forged)  # an attacker can re-hash...
    forged["signature"] = registry.signature(forged, "attacker-key")  # ...but not sign
    with pytest.raises(RegistrySignatureError) as refusal:
        load(forged)
    assert str(refusal.value).startswith(f"model 'churn' version '{row['model_version']}'")
    assert "signature does not verify" in str(refusal.value)

    unsigned = {**row, "signature": None}
    with pytest.raises(
        RegistrySignatureError, match="has no signature but WAREHOUSE_ML_REGISTRY_KEY"
    ):
        load(unsigned)

    monkeypatch.setenv(registry.REGISTRY_KEY_ENV, "another-key")
    with pytest.raises(RegistrySignatureError, match="does not verify"):
        registry.verify_row(row)

    monkeypatch.delenv(registry.REGISTRY_KEY_ENV)
    registry.verify_row(forged)  # without a key only the (re-computable) hash is checked


# --- the SQL function is the same check ------------------------------------------------------


def test_the_sql_function_runs_verify_row_on_duckdb(trained, monkeypatch):
    good = row_of(trained)  # churn: no downsampling rate, no signature (nulls must pass through)
    edited = {**good, "model_name": "churn", "scoring_sql_duckdb": EDITS["scoring_sql_duckdb"]}
    edited["model_version"] = "e" * 16
    con = duckdb.connect()
    duckdb_plugin.register_registry_functions(con)
    con.register("rows", registry.registry_table([good, edited]))
    arguments = ", ".join(registry_columns.ROW_PROBLEM_COLUMNS)
    problems = dict(
        con.execute(
            f"select model_version, {registry_columns.ROW_PROBLEM_FUNCTION}({arguments}) from rows"
        ).fetchall()
    )
    assert problems[good["model_version"]] is None
    assert "integrity_sha256 does not match" in problems["e" * 16]
    monkeypatch.setenv(registry.REGISTRY_KEY_ENV, "k")
    (problem,) = con.execute(
        f"select {registry_columns.ROW_PROBLEM_FUNCTION}({arguments}) from rows "
        f"where model_version = '{good['model_version']}'"
    ).fetchone()
    assert "has no signature" in problem


def test_plugin_macro_and_registry_agree_on_the_function():
    macro = (PROJECT_DIR / "macros" / "ml" / "ml_scoring_query.sql").read_text()
    call = re.search(registry_columns.ROW_PROBLEM_FUNCTION + r"\(([^)]*)\)", macro).group(1)
    arguments = tuple(a.strip().removeprefix("registered.") for a in call.split(","))
    assert arguments == registry_columns.ROW_PROBLEM_COLUMNS
