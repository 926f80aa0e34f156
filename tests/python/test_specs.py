"""warehouse_ml.specs: a row of ml_model_specs parsed into a ModelSpec, with clear errors."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pytest
from _ml_synthetic import CHURN_CATEGORICAL, CHURN_NUMERIC
from _ml_synthetic import spec_row as synthetic_spec_row

from warehouse_ml import specs
from warehouse_ml.errors import ModelSpecError


def spec_row(model_name: str = "churn", **overrides: object) -> dict[str, object]:
    """``_ml_synthetic.spec_row`` with the ``random_state`` and ``spec_fingerprint`` columns."""
    columns = {"random_state": 0, "spec_fingerprint": f"{model_name}-spec-0", **overrides}
    return synthetic_spec_row(model_name, **columns)


def test_a_row_parses_into_a_spec():
    spec = specs.from_row(spec_row("churn"))
    assert spec.model_name == "churn"
    assert spec.features.numeric == CHURN_NUMERIC
    assert spec.features.categorical == CHURN_CATEGORICAL
    assert spec.key_columns == ("customer_id", "observation_date")
    assert spec.params == {"max_iter": 30}
    assert spec.sampling_spec == {"design": "cluster", "fraction": 0.5, "seed": 42}
    assert spec.evaluation_sets == (
        specs.EvaluationSetSpec("holdout", "trn_churn__cluster_sample", "holdout", "sample_weight"),
        specs.EvaluationSetSpec("out_of_time", "ml_churn_evaluation_out_of_time"),
    )
    assert spec.training_relations == (
        "trn_churn__cluster_sample",
        "ml_churn_evaluation_out_of_time",
    )
    assert spec.recalibration_rate is None
    assert spec.random_state == 0 and spec.spec_fingerprint == "churn-spec-0"
    ctr = specs.from_row(spec_row("ctr", random_state=7))
    assert ctr.weight_column is None and ctr.recalibration_rate == 0.2
    assert ctr.random_state == 7


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("algorithm", "random_forest", "field 'algorithm'.*'random_forest' is not one of"),
        ("calibration", "isotonic", "field 'calibration'"),
        ("params", "{not json", "field 'params'.*not valid JSON"),
        ("params", "[1]", "field 'params'.*must be a JSON dict"),
        ("key_columns", "[1, 2]", "field 'key_columns'.*list of column names"),
        ("label", None, "field 'label'.*is missing"),
        ("max_training_rows", 0, "field 'max_training_rows'.*positive integer"),
        ("evaluation_sets", '[{"name": "x"}]', r"field 'evaluation_sets\[0\]'.*relation"),
        (
            "evaluation_sets",
            '[{"name": "x", "relation": "a"}, {"name": "x", "relation": "b"}]',
            "field 'evaluation_sets'.*unique",
        ),
        ("numeric_features", json.dumps(["segment"]), "field .numeric_features/categorical_"),
        ("random_state", None, "field 'random_state'.*integer >= 0"),
        ("random_state", -1, "field 'random_state'.*integer >= 0"),
        ("random_state", 1.5, "field 'random_state'.*integer >= 0"),
        ("spec_fingerprint", None, "field 'spec_fingerprint'.*is missing"),
    ],
)
def test_a_bad_field_is_named_with_its_model(field, value, message):
    with pytest.raises(ModelSpecError, match=f"model 'churn', {message}") as error:
        specs.from_row(spec_row("churn", **{field: value}))
    assert "var('ml_models').churn" in str(error.value)


def test_downsampling_calibration_needs_a_rate():
    with pytest.raises(ModelSpecError, match="model 'ctr', field 'negative_downsampling_rate'"):
        specs.from_row(spec_row("ctr", negative_downsampling_rate=None))


def test_from_table_reads_the_row_of_one_model_in_the_engine():
    table = pa.Table.from_pylist([spec_row("churn"), spec_row("ctr")])
    connection = duckdb.connect()
    relation = connection.from_arrow(table)
    assert specs.from_table(relation, "ctr").model_name == "ctr"
    assert specs.from_table(table, "churn").label == "is_churned"
    with pytest.raises(ModelSpecError, match="0 rows for model 'uplift'.*ml_models"):
        specs.from_table(relation, "uplift")


def test_refs_must_be_the_relations_the_spec_names():
    spec = specs.from_row(spec_row("churn"))
    specs.check_refs("churn's file", spec.training_relations, spec.training_relations, "x")
    with pytest.raises(ModelSpecError) as error:
        specs.check_refs(
            "the training model file of 'churn'",
            ["trn_churn__cluster_sample", "fct_customer_churn_features"],
            spec.training_relations,
            "var('ml_models').churn",
        )
    message = str(error.value)
    assert message.startswith("the training model file of 'churn' passes refs")
    assert "missing: ['ml_churn_evaluation_out_of_time']" in message
    assert "not in the spec: ['fct_customer_churn_features']" in message
    assert "match var('ml_models').churn" in message
    assert "not in the spec: ['fct_customer_churn_features']" in message
