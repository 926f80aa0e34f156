"""A malformed ``ml_models`` var fails at parse time, naming the key and what is allowed.

``ml_model_specs`` calls the ``ml_model_spec`` macro for every model of the var, so ``dbt parse`` is
enough to see the error; nothing is built.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import _dbt as dbt
import pytest
import yaml

PROJECT_DIR = dbt.PROJECT_DIR
DEFAULT_MODELS = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["ml_models"]


def parse_with(tmp_path: Path, dbt_vars: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """``dbt parse`` of the project with ``dbt_vars``, in a throw-away target path."""
    return dbt.run_dbt("parse", tmp_path, dbt_vars, args=["--no-partial-parse"], timeout=300)


def churn_spec_with(**changes: Any) -> dict[str, Any]:
    """The default ml_models var with the churn spec changed (a value of None drops the key)."""
    models = copy.deepcopy(DEFAULT_MODELS)
    for key, value in changes.items():
        if value is None:
            models["churn"].pop(key)
        else:
            models["churn"][key] = value
    return {"ml_models": models}


BAD_SPECS = [
    (
        churn_spec_with(feature_set="orders"),
        "ml_models.churn.feature_set must be one of churn, ctr, got 'orders'",
    ),
    (
        churn_spec_with(algorithm="random_forest"),
        "ml_models.churn.algorithm must be one of hist_gradient_boosting, logistic_regression, "
        "got 'random_forest'",
    ),
    (
        churn_spec_with(calibration="platt"),
        "ml_models.churn.calibration must be one of none, negative_downsampling, got 'platt'",
    ),
    (churn_spec_with(label=None), "ml_models.churn is missing key(s) label"),
    (churn_spec_with(lable="is_churned"), "ml_models.churn has unknown key(s) lable"),
    (
        churn_spec_with(key_columns="customer_id"),
        "ml_models.churn.key_columns must be a non-empty list of column names",
    ),
    (
        {"extra_customer_columns": {"loyalty_tier": "text"}},
        "var extra_customer_columns: column 'loyalty_tier' has role 'text'; "
        "allowed: numeric, categorical.",
    ),
    (
        {"extra_impression_columns": {"placement": "categorical"}},
        "var extra_impression_columns: column 'placement' is already a column of the model; "
        "list only extra columns.",
    ),
    (
        {"extra_impression_columns": {"is_clicked": "numeric"}},
        "var extra_impression_columns: column 'is_clicked' is already a column of the model; "
        "list only extra columns.",
    ),
    (
        {"extra_customer_columns": {"is_churned": "numeric"}},
        "var extra_customer_columns: column 'is_churned' is already a column of the model; "
        "list only extra columns.",
    ),
    (
        churn_spec_with(max_training_rows=0),
        "ml_models.churn.max_training_rows must be a whole number >= 1, got 0.",
    ),
    (
        {"churn_min_history_days": 1.5},
        "churn_min_history_days must be a whole number of days >= 0, got 1.5.",
    ),
]


@pytest.mark.parametrize(("dbt_vars", "message"), BAD_SPECS)
def test_bad_spec_fails_naming_the_key(
    tmp_path: Path, dbt_vars: dict[str, Any], message: str
) -> None:
    done = parse_with(tmp_path, dbt_vars)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert message in " ".join(output.split()), output[-3000:]


def test_default_specs_parse(tmp_path: Path) -> None:
    done = parse_with(tmp_path, {})
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
