"""Vars cannot change the SQL: every var that reaches SQL is checked, and a bad one stops dbt early.

Three layers, cheapest first:

- the source: no model or macro reads a var that reaches SQL except through ``checked_var``
  (macros/utils/project_vars.sql), and every var of dbt_project.yml has a check declared there;
- the checks: ``dbt run-operation check_vars`` (the project's first on-run-start hook) in a
  throw-away project over the repository's macros and vars, driven in-process (about a second a
  case), refuses each bad value with the var's name and what is allowed, and no traceback;
- the wiring: ``dbt parse`` of the real project fails on a few of them (dbt renders models and
  hooks while parsing, so nothing can run).
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import _dbt as dbt
import pytest
import yaml

dbt_main = pytest.importorskip("dbt.cli.main")

ROOT = dbt.PROJECT_DIR
PROJECT_VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
VAR_CHECKS_FILE = ROOT / "macros" / "utils" / "project_vars.sql"

# (var, bad value, what follows "<var> must be " in the message:
# "<var> must be <allowed>, got <value>. <hint>").
BAD_VARS: list[tuple[str, Any, str]] = [
    # Injection strings: refused by format, never quoted into SQL.
    (
        "ctr_model_version",
        "nope' or '1'='1",
        "null or a model version (16 lowercase hex digits), got 'nope' or '1'='1'.",
    ),
    ("churn_model_version", "0123456789ABCDEF", "null or a model version"),
    ("raw_data_path", "data/raw') union all select * from read_parquet('/x", "a folder path"),
    ("raw_data_path", "data/r*w", "a folder path or URI without quotes, backslashes, glob"),
    ("raw_data_path", "data/{identifier}", "a folder path or URI"),
    ("raw_data_path", "~/raw", "a folder path or URI"),
    ("staging_late_arriving_days", "1) or (1 = 1", "a whole number of days >= 0"),
    ("ctr_training_negative_rate", "0.1; drop table x", "a number in (0, 1]"),
    ("spark_file_format", "parquet options (path '/etc')", "one of parquet, delta"),
    ("ctr_training_end_date", "2024-01-01' or '1'='1", "a date 'YYYY-MM-DD' or null"),
    # Fractions and thresholds out of range.
    ("churn_training_holdout_fraction", 1.5, "a number in [0, 1), got 1.5."),
    ("churn_training_customer_fraction", 0, "a number in (0, 1], got 0."),
    ("sampling_alpha", 0, "a number in (0, 1), got 0."),
    ("staging_max_amount", float("nan"), "a number > 0 or null, got nan."),
    ("staging_max_rejected_share", 1.5, "a number in [0, 1], got 1.5."),
    ("ctr_stratified_fraction", True, "a number in (0, 1], got True."),
    # Day counts, seeds, counts.
    ("churn_horizon_days", -5, "a whole number of days >= 1, got -5."),
    ("churn_feature_windows_days", [30, -1], "must hold positive whole numbers of days"),
    ("sampling_seed", 4.5, "a whole number >= 0, got 4.5."),
    ("ml_random_state", -1, "a whole number >= 0, got -1."),
    ("ctr_prior_min_impressions", "100", "a whole number >= 0, got '100'."),
    # Dates, enumerations, value lists.
    ("ctr_training_end_date", "2024-02-30", "a date 'YYYY-MM-DD' or null, got '2024-02-30'."),
    ("staging_min_event_at", "yesterday", "a date 'YYYY-MM-DD' or null, got 'yesterday'."),
    ("churn_observation_grain", "day", "one of month, week, got 'day'."),
    ("staging_segments", ["consumer", 1], "a non-empty list of non-empty texts or null"),
]


class VarsProject:
    """A throw-away dbt project over the repository's macros and vars, driven in-process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.messages: list[str] = []
        self.runner = dbt_main.dbtRunner(callbacks=[self._collect])

    def _collect(self, event) -> None:  # noqa: ANN001 - dbt EventMsg
        if event.info.level != "debug":  # what the user sees (the debug log keeps tracebacks)
            self.messages.append(event.info.msg)

    def invoke(self, *args: str, dbt_vars: dict[str, Any] | None = None) -> Any:
        """Run a dbt command in this project; return dbt's result object."""
        self.messages.clear()
        previous = os.environ.get("WAREHOUSE_ML_DUCKDB_PATH")
        os.environ["WAREHOUSE_ML_DUCKDB_PATH"] = str(self.root / "vars.duckdb")
        try:
            return self.runner.invoke(
                [
                    *args,
                    "--project-dir",
                    str(self.root),
                    "--profiles-dir",
                    str(ROOT / "profiles"),
                    "--target-path",
                    str(self.root / "target"),
                    "--log-path",
                    str(self.root / "logs"),
                    *(["--vars", dbt.vars_text(dbt_vars)] if dbt_vars else []),
                ]
            )
        finally:
            if previous is None:
                os.environ.pop("WAREHOUSE_ML_DUCKDB_PATH", None)
            else:
                os.environ["WAREHOUSE_ML_DUCKDB_PATH"] = previous

    @property
    def output(self) -> str:
        return " ".join("\n".join(self.messages).split())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> VarsProject:
    root = tmp_path_factory.mktemp("vars_project")
    (root / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": "warehouse_ml",
                "version": "0.1.0",
                "config-version": 2,
                "profile": "warehouse_ml",
                "macro-paths": ["macros"],
                "vars": PROJECT_VARS,
                "flags": {"send_anonymous_usage_stats": False},
            }
        )
    )
    (root / "macros").symlink_to(ROOT / "macros")
    return VarsProject(root)


@pytest.mark.parametrize(("name", "value", "message"), BAD_VARS, ids=lambda x: str(x)[:40])
def test_bad_var_is_refused_by_name(
    project: VarsProject, name: str, value: Any, message: str
) -> None:
    result = project.invoke("run-operation", "check_vars", dbt_vars={name: value})
    assert not result.success, f"{name}: {value!r} was accepted"
    assert result.exception is None, f"dbt crashed instead of refusing {name}: {result.exception!r}"
    expected = message if message.startswith("must") else f"must be {message}"
    assert f"{name} {expected}" in project.output, project.output[-2000:]
    assert "Traceback" not in project.output


def test_rejected_share_warn_above_error_is_refused(project: VarsProject) -> None:
    result = project.invoke(
        "run-operation",
        "check_vars",
        dbt_vars={"staging_max_rejected_share_warn": 0.5, "staging_max_rejected_share": 0.2},
    )
    assert not result.success
    assert (
        "staging_max_rejected_share_warn must be <= staging_max_rejected_share (0.2), got 0.5."
        in project.output
    ), project.output[-2000:]


def test_good_vars_pass_and_come_back_checked(project: VarsProject) -> None:
    assert project.invoke("run-operation", "check_vars").success, project.output[-2000:]
    result = project.invoke(
        "compile",
        "--quiet",
        "--inline",
        "{{ checked_var('raw_data_path') }}|{{ checked_var('ctr_training_end_date') }}|"
        "{{ model_version_var('churn_model_version') }}|"
        "{{ checked_var('churn_training_holdout_fraction') }}",
        dbt_vars={
            "raw_data_path": "s3://bucket/raw/",
            "ctr_training_end_date": datetime.date(2024, 2, 29),  # YAML reads it as a date
            "churn_model_version": "0123456789abcdef",
            "churn_training_holdout_fraction": 0,
        },
    )
    assert result.success, project.output[-2000:]
    compiled = result.result.results[0].node.compiled_code.strip()
    assert compiled == "s3://bucket/raw|2024-02-29|0123456789abcdef|0"


@pytest.mark.parametrize(
    ("dbt_vars", "message"),
    [
        (
            {"churn_training_holdout_fraction": 1.5},
            "churn_training_holdout_fraction must be a number in [0, 1), got 1.5.",
        ),
        ({"raw_data_path": "data/raw' or '1'='1"}, "raw_data_path must be a folder path or URI"),
    ],
    ids=["holdout_fraction", "raw_data_path_quote"],
)
def test_real_project_refuses_at_parse(
    tmp_path: Path, dbt_vars: dict[str, Any], message: str
) -> None:
    done: subprocess.CompletedProcess[str] = dbt.run_dbt(
        "parse", tmp_path, dbt_vars, args=["--no-partial-parse"], timeout=300
    )
    output = dbt.output_of(done)
    assert done.returncode != 0, output[-3000:]
    assert message in " ".join(output.split()), output[-3000:]
    assert "Traceback" not in output


# Raw var() reads allowed outside checked_var, by file: the kind macros read var(name), and these
# vars are validated where they are read (ml_model_spec, extra_columns, the Python contract check).
RAW_READS = {
    "macros/utils/checked_vars.sql": {"name", "'ml_models'"},
    "macros/utils/day_windows.sql": {"name"},
    "macros/utils/project_vars.sql": {"'ml_models'"},
    "macros/staging/extra_columns.sql": {"var_name"},
    "macros/raw/validate_raw_sources.sql": {"extra_var"},
    "macros/ml/ml_model_spec.sql": {"'ml_models'", "'ml_random_state'"},
    "models/ml/ml_model_specs.sql": {"'ml_models'"},
    "models/ml/ml_model_aliases.sql": {"'ml_models'"},
}
VAR_CALL = re.compile(r"\bvar\(\s*([^,)]+)")
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def declared_checks() -> set[str]:
    return set(re.findall(r"^\s*'(\w+)': \['", VAR_CHECKS_FILE.read_text(), re.MULTILINE))


def test_sql_reads_vars_only_through_checked_var() -> None:
    files = [
        *ROOT.glob("models/**/*.sql"),
        *ROOT.glob("macros/**/*.sql"),
        *ROOT.glob("tests/generic/*.sql"),
    ]
    raw_reads = []
    for path in sorted(files):
        relative = path.relative_to(ROOT).as_posix()
        for argument in VAR_CALL.findall(JINJA_COMMENT.sub("", path.read_text())):
            if argument.strip() not in RAW_READS.get(relative, set()):
                raw_reads.append(f"{relative}: var({argument.strip()})")
    assert raw_reads == [], "read them through checked_var (declare the check in var_checks())"


def test_vars_read_in_yml_are_checked_by_the_hook() -> None:
    """yml cannot call macros: each var it reads is checked by the check_vars hook first."""
    files = [ROOT / "dbt_project.yml", *ROOT.glob("models/**/*.yml")]
    unchecked = []
    for path in files:
        for expression in JINJA_EXPRESSION.findall(path.read_text()):
            for argument in VAR_CALL.findall(expression):
                name = argument.strip().strip("'\"")
                if name not in declared_checks():
                    unchecked.append(f"{path.relative_to(ROOT)}: var({name})")
    assert unchecked == []
    on_run_start = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["on-run-start"]
    assert on_run_start[0].replace(" ", "") == "{{check_vars()}}"


def test_every_project_var_has_a_check() -> None:
    models = PROJECT_VARS["ml_models"]
    pins = {f"{model}_model_version" for model in models}  # model_version_var, via check_vars
    missing = set(PROJECT_VARS) - declared_checks() - pins - {"ml_models"}
    assert missing == set()
