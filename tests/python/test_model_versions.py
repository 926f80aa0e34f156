"""Version resolution after a spec change is undone (issue 9), through the decision log (issue 10).

One throw-away DuckDB is built three times on the small generated data set, up to the CTR
scorers: at the default vars (a copy of the session's whole default build,
``conftest.default_build``), with ``ctr_rolling_windows_days: [3, 14]`` (a new spec: a new
version with other features is appended) and at the default vars again. The registry is
append-only and idempotent, so the third build appends nothing and the newest version is the
[3, 14] one; the scorers must still use the default-features version, the one whose
``spec_fingerprint`` is the current spec's. The champion of another feature set cannot score the
current evaluation set, so each spec change promotes the current spec's version
(``ml_model_decisions``: first_version, promoted, promoted).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import _dbt as dbt
import duckdb
import pytest

SCORERS = ["+ctr_predictions", "+ctr_impression_scores"]
OTHER_WINDOWS = {"ctr_rolling_windows_days": [3, 14]}


def run_dbt(
    work_dir: Path, raw_dir: Path, dbt_vars: dict[str, object], select: list[str]
) -> subprocess.CompletedProcess[str]:
    """``dbt build --select <select>`` (no unit tests) into ``work_dir``'s DuckDB."""
    return dbt.run_dbt(
        "build",
        work_dir,
        {"raw_data_path": str(raw_dir), **dbt_vars},
        args=["--exclude", "test_type:unit", "--indirect-selection", "cautious", "--select"]
        + select,
    )


def passed(done: subprocess.CompletedProcess[str]) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "ERROR=0" in output, output[-6000:]
    return output


def ctr_state(work_dir: Path) -> dict[str, object]:
    """What the CTR scorers used, and the CTR registry, after a build."""
    with duckdb.connect(str(work_dir / "warehouse.duckdb"), read_only=True) as connection:
        (spec_fingerprint,) = connection.execute(
            "select spec_fingerprint from ml.ml_model_specs where model_name = 'ctr'"
        ).fetchone()
        current = connection.execute(
            "select model_version, resolved_by from ml.ml_model_aliases "
            "where model_name = 'ctr' and alias = 'champion'"
        ).fetchone()
        registered = connection.execute(
            "select model_version, spec_fingerprint, features from ml.ml_ctr_model "
            "order by trained_at"
        ).fetchall()
        predicted = connection.execute(
            "select distinct model_version from ml.ctr_predictions"
        ).fetchall()
        sql_scored = connection.execute(
            "select distinct model_version from ml.ctr_impression_scores"
        ).fetchall()
    return {
        "spec_fingerprint": spec_fingerprint,
        "current": current,
        "registered": [
            (version, fingerprint, [f["name"] for f in json.loads(features)])
            for version, fingerprint, features in registered
        ],
        "scored_by": sorted({row[0] for row in predicted + sql_scored}),
    }


@pytest.fixture(scope="module")
def three_builds(
    small_raw_dir: Path, default_build: dict, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """One database built at the default vars, then with windows [3, 14], then at the defaults."""
    work_dir = tmp_path_factory.mktemp("model_versions")
    # The first build: the session's default build (the scorers and all they read), copied.
    dbt.copy_database(default_build, work_dir)
    states = {"first_output": default_build["output"], "first": ctr_state(work_dir)}
    for name, dbt_vars in (("other", OTHER_WINDOWS), ("again", {})):
        states[f"{name}_output"] = passed(run_dbt(work_dir, small_raw_dir, dbt_vars, SCORERS))
        states[name] = ctr_state(work_dir)
    states["work_dir"] = work_dir
    return states


def test_undoing_a_spec_change_scores_with_the_version_of_the_current_spec(three_builds):
    first, other, again = three_builds["first"], three_builds["other"], three_builds["again"]
    default_version = first["current"][0]
    assert first["current"] == (default_version, "first_version")
    assert first["scored_by"] == [default_version]

    # The [3, 14] spec: another fingerprint, a new version with its features, scored with.
    assert other["spec_fingerprint"] != first["spec_fingerprint"]
    new_version, new_fingerprint, new_features = other["registered"][-1]
    assert len(other["registered"]) == 2 and new_version != default_version
    assert new_fingerprint == other["spec_fingerprint"]
    default_features = first["registered"][0][2]
    assert any(f.endswith("_3d") for f in new_features)
    assert not any(f.endswith("_3d") for f in default_features)
    assert other["current"] == (new_version, "promoted") and other["scored_by"] == [new_version]

    # Undone: nothing appended, the newest row is the [3, 14] one, yet the default version scores.
    assert again["spec_fingerprint"] == first["spec_fingerprint"]
    assert again["registered"] == other["registered"]
    assert again["registered"][-1][0] == new_version
    assert again["current"] == (default_version, "promoted")
    assert again["scored_by"] == [default_version]


def test_a_spec_no_version_was_trained_from_stops_the_build_naming_the_model(
    three_builds, small_raw_dir
):
    """A spec no version was trained from stops the version lookup, saying what to build."""
    done = run_dbt(
        three_builds["work_dir"],
        small_raw_dir,
        {"ctr_rolling_windows_days": [5, 10]},
        ["ml_model_specs", "ml_model_decisions"],
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-6000:]
    assert "no version of model 'ctr'" in output, output[-6000:]
    assert "build ml_ctr_model" in output, output[-6000:]
