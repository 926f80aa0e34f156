"""Tests of the table digests (:mod:`warehouse_ml.digest`) and ``warehouse-ml digest``."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from warehouse_ml import digest, parity
from warehouse_ml.cli import main

ROWS = [
    (1, "a", 377.57, "2026-01-01 00:00:00"),
    (2, "b", None, "2026-01-02 00:00:00"),
    (3, None, 0.1, "2026-01-03 00:00:00"),
    (3, None, 0.1, "2026-01-03 00:00:00"),
]


def _table(connection, name: str, rows, stamp_column: str = "scored_at") -> None:
    connection.execute("create schema if not exists ml")
    connection.execute(
        f"create or replace table ml.{name} (id bigint, label varchar, amount double, "
        f"{stamp_column} timestamp)"
    )
    connection.executemany(f"insert into ml.{name} values (?, ?, ?, ?)", rows)


def _digest(rows, stamp_column: str = "scored_at") -> digest.TableDigest:
    with duckdb.connect() as connection:
        _table(connection, "scores", rows, stamp_column)
        return digest.table_digest(connection, "ml", "scores")


def test_the_digest_does_not_depend_on_row_order() -> None:
    forward = _digest(ROWS)
    assert forward.row_count == 4
    assert forward.same_content(_digest(list(reversed(ROWS))))
    assert forward.same_content(_digest([ROWS[2], ROWS[0], ROWS[3], ROWS[1]]))


def test_a_last_bit_float_difference_changes_the_digest() -> None:
    changed = [(1, "a", 377.57000000000005, "2026-01-01 00:00:00"), *ROWS[1:]]
    assert 377.57000000000005 != 377.57
    assert _digest(changed).rows_digest != _digest(ROWS).rows_digest


def test_a_duplicated_or_missing_row_changes_the_digest() -> None:
    # A sum of row hashes, not a XOR: two equal rows do not cancel out.
    assert _digest(ROWS[:3]).rows_digest != _digest(ROWS).rows_digest
    assert _digest(ROWS[:2]).rows_digest != _digest(ROWS[:2] + ROWS[2:3] * 3).rows_digest


@pytest.mark.parametrize("stamp_column", parity.RUN_STAMP_COLUMNS)
def test_run_stamps_are_left_out(stamp_column: str) -> None:
    restamped = [(*row[:3], "2030-06-30 12:34:56") for row in ROWS]
    first = _digest(ROWS, stamp_column)
    assert first.excluded_columns == (stamp_column,)
    assert first.same_content(_digest(restamped, stamp_column))


def test_the_run_stamps_are_the_ones_parity_does_not_compare() -> None:
    assert set(parity.RUN_STAMP_COLUMNS) == {"trained_at", "scored_at", "decided_at"}
    assert set(parity.RUN_STAMP_COLUMNS) <= parity.NOT_COMPARED


def test_a_column_of_another_type_changes_the_columns_digest() -> None:
    with duckdb.connect() as connection:
        _table(connection, "scores", ROWS)
        before = digest.table_digest(connection, "ml", "scores")
        connection.execute("alter table ml.scores alter amount type decimal(18, 2)")
        after = digest.table_digest(connection, "ml", "scores")
    assert before.columns_sha256 != after.columns_sha256


def _warehouse(path: Path) -> None:
    with duckdb.connect(str(path)) as connection:
        _table(connection, "scores", ROWS)
        connection.execute("create schema staging")
        connection.execute("create table staging.stg_things as select 1 as id")
        connection.execute("create table staging.stg_things__dbt_tmp as select 1 as id")
        connection.execute("create schema raw")
        connection.execute("create table raw.things as select 1 as id")


def test_table_digests_cover_the_layers_in_order_without_dbt_scratch(tmp_path: Path) -> None:
    _warehouse(tmp_path / "w.duckdb")
    found = digest.database_digests(str(tmp_path / "w.duckdb"))
    assert [d.relation for d in found] == ["staging.stg_things", "ml.scores"]
    assert [d.relation for d in digest.database_digests(str(tmp_path / "w.duckdb"), ["raw"])] == [
        "raw.things"
    ]


def test_differences_name_each_changed_relation() -> None:
    before = {"ml.a": {"row_count": 1, "columns_sha256": "c", "rows_digest": "1"}}
    after = {
        "ml.a": {"row_count": 2, "columns_sha256": "c", "rows_digest": "2"},
        "ml.b": {"row_count": 0, "columns_sha256": "c", "rows_digest": "0"},
    }
    assert digest.differences(before, before) == []
    assert digest.differences(before, after) == [
        "ml.a: row_count 1 -> 2, rows_digest 1 -> 2",
        "ml.b: missing in the first warehouse",
    ]


def test_the_cli_prints_a_table_and_writes_json(tmp_path: Path) -> None:
    _warehouse(tmp_path / "w.duckdb")
    out = tmp_path / "digests" / "w.json"
    result = CliRunner().invoke(
        main, ["digest", "--db", str(tmp_path / "w.duckdb"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "ml.scores" in result.output and "staging.stg_things" in result.output
    written = json.loads(out.read_text())
    assert set(written) == {"staging.stg_things", "ml.scores"}
    assert written["ml.scores"]["row_count"] == 4
    assert written["ml.scores"]["excluded_columns"] == ["scored_at"]

    only_ml = CliRunner().invoke(
        main, ["digest", "--db", str(tmp_path / "w.duckdb"), "--schemas", "ml"]
    )
    assert only_ml.exit_code == 0, only_ml.output
    assert "ml.scores" in only_ml.output and "staging.stg_things" not in only_ml.output


def test_the_cli_refuses_a_missing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["digest", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code != 0
    assert "does not exist" in result.output
