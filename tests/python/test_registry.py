"""warehouse_ml.registry: content-hash versions, append-only rows, verified loading."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml
from _ml_synthetic import FEATURES, synthetic_frame

from warehouse_ml import engine, registry, training
from warehouse_ml.errors import (
    ArtifactHashMismatchError,
    ModelNotRegisteredError,
    ModelVersionNotFoundError,
    UntrustedArtifactError,
)

SAMPLING = {"method": "cluster", "fraction": 0.2, "seed": 42}


def fit(frame, **params):
    return training.fit(
        frame,
        features=FEATURES,
        label="is_churned",
        weight="weight",
        algorithm="logistic_regression",
        random_state=3,
        params=params or None,
    )


def row_for(trained, when=datetime(2026, 1, 1), **kwargs):
    options = {
        "model_name": "churn",
        "training_set": "trn_churn",
        "sampling_spec": SAMPLING,
        "spec_fingerprint": "spec-0",
        "code": "test-code",
    }
    options.update(kwargs)
    return registry.registry_row(trained, trained_at=when, **options)


@pytest.fixture(scope="module")
def frame():
    return synthetic_frame(600, seed=8)


@pytest.fixture(scope="module")
def trained(frame):
    return fit(frame)


def test_row_describes_the_model(trained, frame):
    row = row_for(trained, metrics={"holdout": {"roc_auc": 0.8}})
    assert row["row_count"] == 600
    assert row["weight_sum"] == pytest.approx(frame["weight"].sum())
    assert row["algorithm"] == "logistic_regression"
    assert json.loads(row["hyperparameters"])["C"] == 1.0
    features = json.loads(row["features"])
    assert features[2] == {"name": "segment", "type": "categorical", "dtype": "string"}
    assert features[3] == {"name": "hour", "type": "categorical", "dtype": "bigint"}
    assert json.loads(row["sampling_spec"]) == SAMPLING
    assert row["spec_fingerprint"] == "spec-0"
    assert json.loads(row["metrics"]) == {"holdout": {"roc_auc": 0.8}}
    assert row["artifact_sha256"] == hashlib.sha256(row["artifact"]).hexdigest()
    assert "scikit-learn" in json.loads(row["library_versions"])
    assert len(row["model_version"]) == 16
    assert registry.registry_table([row]).schema == registry.REGISTRY_SCHEMA


def test_retraining_with_nothing_changed_gives_the_same_version(trained, frame):
    again = fit(frame.sample(frac=1.0, random_state=1))
    first = row_for(trained, when=datetime(2026, 1, 1))
    second = row_for(again, when=datetime(2026, 2, 1))
    assert first["model_version"] == second["model_version"]


def test_a_change_gives_a_new_version(trained, frame):
    base = row_for(trained)["model_version"]
    assert row_for(fit(frame, C=0.5))["model_version"] != base
    assert row_for(fit(frame.iloc[1:]))["model_version"] != base
    assert row_for(trained, sampling_spec={**SAMPLING, "seed": 1})["model_version"] != base
    assert row_for(trained, code="other-code")["model_version"] != base
    assert row_for(trained, training_set="trn_other")["model_version"] != base
    assert row_for(trained, spec_fingerprint="spec-1")["model_version"] != base


def test_code_version_covers_every_module_that_can_change_a_model(monkeypatch):
    base = registry.code_version()
    assert base.startswith("0.1.0+") and len(base.split("+")[1]) == 12
    read = registry._module_source
    for name in registry.CODE_MODULES:
        edited = {name: read(name) + b"\n# edited\n"}
        monkeypatch.setattr(registry, "_module_source", lambda n, e=edited: e.get(n) or read(n))
        assert registry.code_version() != base, f"editing {name}.py leaves code_version unchanged"
    monkeypatch.setattr(registry, "_module_source", read)
    assert registry.code_version() == base


# Modules that cannot change a model or its scores; every other module must be in CODE_MODULES.
# promotion decides which registered version serves; it changes no version.
NOT_MODEL_CODE = {
    "__init__",
    "cli",
    "contract",
    "dbt_log",
    "digest",
    "duckdb_plugin",
    "errors",
    "evaluation",
    "parity",
    "progress",
    "promotion",
    "publish",
    "registry_columns",
    "registry_archive",
}


def test_every_library_module_is_classified():
    package = Path(registry.__file__).parent
    modules = {path.stem for path in package.glob("*.py")}
    unlisted = modules - set(registry.CODE_MODULES) - NOT_MODEL_CODE
    assert not unlisted, f"add {sorted(unlisted)} to registry.CODE_MODULES (or NOT_MODEL_CODE)"
    assert set(registry.CODE_MODULES) <= modules


def test_registry_yml_declares_the_schema_columns_once():
    """models/ml/_ml__models.yml: both registries share one anchored column list, which is
    REGISTRY_SCHEMA's, in order."""
    path = Path(__file__).parents[2] / "models" / "ml" / "_ml__models.yml"
    text = path.read_text()
    assert text.count("&registry_columns") == 1 and text.count("*registry_columns") == 1
    models = {m["name"]: m for m in yaml.safe_load(text)["models"]}
    for name in ("ml_churn_model", "ml_ctr_model"):
        columns = [c["name"] for c in models[name]["columns"]]
        assert columns == registry.REGISTRY_SCHEMA.names, f"{name} columns drift from the schema"


def test_is_registered_finds_a_version_in_any_engine_table(trained):
    row = row_for(trained)
    table = registry.registry_table([row])
    assert registry.is_registered(table, "churn", row["model_version"])
    assert not registry.is_registered(table, "churn", "0" * 16)
    assert not registry.is_registered(table, "ctr", row["model_version"])
    assert not registry.is_registered(None, "churn", row["model_version"])
    relation = duckdb.connect().from_arrow(table)
    assert registry.is_registered(relation, "churn", row["model_version"])


@pytest.mark.parametrize("engine_name", ["arrow", "duckdb"])
def test_select_version_picks_the_given_version(trained, frame, engine_name):
    old = row_for(trained, when=datetime(2026, 1, 1))
    new = row_for(fit(frame, C=0.5), when=datetime(2026, 2, 1))
    other = row_for(trained, model_name="ctr", when=datetime(2026, 5, 1))
    table = registry.registry_table([new, old, other])
    if engine_name == "duckdb":
        table = duckdb.connect().from_arrow(table)
    pinned = registry.select_version(table, "churn", old["model_version"])
    assert pinned["trained_at"] == datetime(2026, 1, 1)
    assert pinned["model_name"] == "churn"
    newer = registry.select_version(table, "churn", new["model_version"])
    assert newer["trained_at"] == datetime(2026, 2, 1)


def test_select_version_has_no_default_version(trained):
    """The version rule lives in SQL (ml_model_aliases): no 'newest' fallback here."""
    table = registry.registry_table([row_for(trained)])
    with pytest.raises(TypeError):
        registry.select_version(table, "churn")
    with pytest.raises(TypeError):
        registry.load_model(table, "churn")


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda table, version: registry.registered_metrics(table), [["metrics"]]),
        (
            lambda table, version: registry.is_registered(table, "churn", version),
            [["model_version"]],
        ),
    ],
    ids=["registered_metrics", "is_registered"],
)
def test_registry_lookups_collect_no_artifact_bytes(trained, monkeypatch, call, expected):
    row = row_for(trained)
    relation = duckdb.connect().from_arrow(registry.registry_table([row]))
    collected = []
    collect = engine.collect

    def recording_collect(frame, max_rows):
        table = collect(frame, max_rows)
        collected.append(table.column_names)
        return table

    monkeypatch.setattr(engine, "collect", recording_collect)
    call(relation, row["model_version"])
    assert collected == expected


def test_load_model_collects_only_the_selected_row(trained, frame, monkeypatch):
    rows = [row_for(trained), row_for(fit(frame, C=0.5)), row_for(trained, model_name="ctr")]
    relation = duckdb.connect().from_arrow(registry.registry_table(rows))
    collected = []
    collect = engine.collect

    def recording_collect(table, max_rows):
        result = collect(table, max_rows)
        collected.append(result.num_rows)
        return result

    monkeypatch.setattr(engine, "collect", recording_collect)
    loaded = registry.load_model(relation, "churn", rows[1]["model_version"])
    assert loaded.model_version == rows[1]["model_version"]
    assert collected == [1]


def test_no_registered_model_is_a_clear_error(trained):
    table = registry.registry_table([row_for(trained)])
    with pytest.raises(ModelNotRegisteredError, match="model 'ctr' has no registered version"):
        registry.load_model(table, "ctr", "0" * 16)


def test_missing_pinned_version_is_a_clear_error(trained):
    row = row_for(trained)
    table = registry.registry_table([row])
    known = row["model_version"]
    with pytest.raises(
        ModelVersionNotFoundError,
        match=rf"model 'churn' has no version 'deadbeef' \(registered: \['{known}'\]",
    ):
        registry.load_model(table, "churn", "deadbeef")


def test_load_round_trip(trained, frame):
    row = row_for(trained, negative_downsampling_rate=0.25)
    loaded = registry.load_model(registry.registry_table([row]), "churn", row["model_version"])
    assert loaded.model_version == row["model_version"]
    assert loaded.features == FEATURES
    assert loaded.negative_downsampling_rate == 0.25
    assert loaded.integer_categoricals == ("hour",)
    prepared = training.prepare_features(frame, FEATURES)
    np.testing.assert_array_equal(
        loaded.pipeline.predict_proba(prepared)[:, 1], trained.predict_proba(frame)
    )


def test_tampered_artifact_is_refused(trained, monkeypatch):
    row = row_for(trained)
    tampered = bytearray(row["artifact"])
    tampered[len(tampered) // 2] ^= 0xFF
    row["artifact"] = bytes(tampered)

    def must_not_run(*args, **kwargs):
        raise AssertionError("deserialised bytes that failed the hash check")

    monkeypatch.setattr(registry, "_deserialize", must_not_run)
    with pytest.raises(
        ArtifactHashMismatchError,
        match=rf"model 'churn' version '{row['model_version']}': artifact sha256 .* does not match",
    ):
        registry.load_model(registry.registry_table([row]), "churn", row["model_version"])


class NotAModel:
    """Stands for anything outside the project's pipelines that a crafted artifact could build."""

    def __init__(self) -> None:
        self.payload = "x"


def test_skops_artifact_with_foreign_types_is_refused(trained):
    skops_io = pytest.importorskip("skops.io")
    row = row_for(trained)
    row["artifact"] = skops_io.dumps(NotAModel())
    row["artifact_sha256"] = hashlib.sha256(row["artifact"]).hexdigest()
    row["integrity_sha256"] = registry.integrity_sha256(row)  # a consistent, re-hashed row
    with pytest.raises(UntrustedArtifactError, match="NotAModel"):
        registry.load_model(registry.registry_table([row]), "churn", row["model_version"])


def test_registry_survives_a_duckdb_table(trained, frame):
    row = row_for(trained)
    con = duckdb.connect()
    con.register("registry_rows", registry.registry_table([row]))
    con.execute("create table ml_registry as select * from registry_rows")
    loaded = registry.load_model(
        con.sql("select * from ml_registry"), "churn", row["model_version"]
    )
    prepared = training.prepare_features(frame, FEATURES)
    np.testing.assert_array_equal(
        loaded.pipeline.predict_proba(prepared)[:, 1], trained.predict_proba(frame)
    )
