"""Bad raw input stops dbt before any model runs, with one clear message and no traceback.

The check is the ``validate_raw_sources`` on-run-start hook (macros/raw/), which calls the Python
check (warehouse_ml.contract) through the SQL function the profile's dbt-duckdb plugin registers.
Each test copies the small generated raw data set, corrupts the copy, and runs ``dbt run`` on one
tiny model in a throw-away target path and database: the hook fires whatever is selected.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import _dbt as dbt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml


def run_dbt(
    raw_data_path: Path, work_dir: Path, extra_vars: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``dbt run --select base_shop__customers`` on ``raw_data_path`` in an isolated target.

    ``extra_vars`` holds more vars as YAML mapping entries (``"a: 1, b: {c: d}"``).
    """
    dbt_vars = {"raw_data_path": str(raw_data_path), **yaml.safe_load(f"{{{extra_vars}}}")}
    return dbt.run_dbt(
        "run", work_dir, dbt_vars, args=["--select", "base_shop__customers"], threads=1, timeout=300
    )


def rewrite_table(folder: Path, change: Callable[[pa.Table], pa.Table]) -> list[Path]:
    """Apply ``change`` to every Parquet file in ``folder``, in place; return the files."""
    files = sorted(folder.glob("*.parquet"))
    assert files, f"no Parquet files in {folder}"
    for file in files:
        pq.write_table(change(pq.read_table(file)), file)
    return files


def drop_quantity(table: pa.Table) -> pa.Table:
    """The table without its ``quantity`` column."""
    return table.drop_columns(["quantity"])


def amount_as_text(table: pa.Table) -> pa.Table:
    """The table with ``amount`` stored as text (VARCHAR) instead of DOUBLE."""
    index = table.schema.get_field_index("amount")
    return table.set_column(index, "amount", table["amount"].cast(pa.string()))


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Target path, logs and database shared by the module's dbt runs.

    Every test uses the same ``raw_data_path`` (``<work_dir>/raw``), so after the first run dbt
    reuses its partial parse instead of parsing the whole project again.
    """
    return tmp_path_factory.mktemp("bad_input")


@pytest.fixture
def raw_copy(small_raw_dir: Path, work_dir: Path) -> Path:
    """A fresh private copy of the small raw data set at ``<work_dir>/raw``, safe to corrupt."""
    raw = work_dir / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    return Path(shutil.copytree(small_raw_dir, raw))


def assert_clean_failure(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The run failed, named every ``expected`` text, and printed no Python traceback."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    for text in expected:
        assert text in output, f"{text!r} not in dbt output:\n{output}"
    return output


def narrow_customer_id(table: pa.Table) -> pa.Table:
    """The table with ``customer_id`` stored as INTEGER (32 bit) instead of BIGINT."""
    index = table.schema.get_field_index("customer_id")
    return table.set_column(index, "customer_id", table["customer_id"].cast(pa.int32()))


def with_time_zone(table: pa.Table) -> pa.Table:
    """The table with ``signed_up_at`` time-zone aware (what pandas writes from '+00:00' text)."""
    index = table.schema.get_field_index("signed_up_at")
    aware = table["signed_up_at"].cast(pa.timestamp("us", tz="UTC"))
    return table.set_column(index, "signed_up_at", aware)


def with_loyalty_tier(table: pa.Table) -> pa.Table:
    """The table with an extra integer column ``loyalty_tier`` (a user column)."""
    return table.append_column("loyalty_tier", pa.array([1] * table.num_rows, pa.int64()))


def test_valid_raw_data_passes_the_check(raw_copy: Path, work_dir: Path) -> None:
    # The contract compares type families: INTEGER is accepted where BIGINT is declared, a
    # time-zone-aware timestamp where TIMESTAMP is, an integer column as a categorical extra.
    rewrite_table(
        raw_copy / "customers",
        lambda table: with_loyalty_tier(with_time_zone(narrow_customer_id(table))),
    )
    result = run_dbt(raw_copy, work_dir, "extra_customer_columns: {loyalty_tier: categorical}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "6 raw tables match the contract" in output


def test_missing_column_names_file_and_column(raw_copy: Path, work_dir: Path) -> None:
    files = rewrite_table(raw_copy / "transactions", drop_quantity)
    output = assert_clean_failure(
        run_dbt(raw_copy, work_dir),
        str(files[0]),
        "column 'quantity' is missing, expected INTEGER",
        "docs/raw_data_contract.md",
    )
    assert "1 problem(s)" in output


def test_wrong_type_names_file_column_found_and_expected(raw_copy: Path, work_dir: Path) -> None:
    files = rewrite_table(raw_copy / "transactions", amount_as_text)
    assert_clean_failure(
        run_dbt(raw_copy, work_dir),
        str(files[0]),
        "column 'amount' is string (text), expected DOUBLE (floating point)",
        "docs/raw_data_contract.md",
    )


def test_all_problems_are_reported_in_one_message(raw_copy: Path, work_dir: Path) -> None:
    rewrite_table(raw_copy / "transactions", lambda table: amount_as_text(drop_quantity(table)))
    shutil.rmtree(raw_copy / "clicks")
    output = assert_clean_failure(
        run_dbt(raw_copy, work_dir),
        "column 'quantity' is missing",
        "column 'amount' is string",
        f"{raw_copy}/clicks/: no Parquet files",
    )
    assert "3 problem(s)" in output
    assert output.count("Raw data does not match the contract") == 1


def test_missing_raw_folder_names_path_and_var(raw_copy: Path, work_dir: Path) -> None:
    shutil.rmtree(raw_copy)
    assert_clean_failure(
        run_dbt(raw_copy, work_dir),
        f"raw_data_path '{raw_copy}' does not exist",
        "--vars '{raw_data_path:",
    )


def test_missing_extra_column_names_the_var_and_the_file(raw_copy: Path, work_dir: Path) -> None:
    files = sorted((raw_copy / "impressions").glob("*.parquet"))
    output = assert_clean_failure(
        run_dbt(raw_copy, work_dir, "extra_impression_columns: {user_affinity: numeric}"),
        f"column 'user_affinity' listed in var extra_impression_columns is missing from {files[0]}",
    )
    assert f"{len(files)} problem(s)" in output


def test_bad_extra_column_role_names_the_var_before_anything_runs(
    raw_copy: Path, work_dir: Path
) -> None:
    assert_clean_failure(
        run_dbt(raw_copy, work_dir, "extra_customer_columns: {loyalty_tier: ordinal}"),
        "var extra_customer_columns: column 'loyalty_tier' has role 'ordinal'; "
        "allowed: numeric, categorical.",
    )
