"""Rebuilds are bit-identical (issue 10, determinism at the source).

One throw-away DuckDB is built four times from the small generated data set with the same vars:
once (2 dbt threads: the session's shared first build, ``conftest.default_build``, copied into this
module's folder); again with nothing changed; at one dbt thread (``WAREHOUSE_ML_THREADS=1``:
models run one at a time, not side by side, so DuckDB's threads split the work otherwise); and,
at 4 dbt threads, after every raw Parquet file has been rewritten in another physical row order
(rows shuffled, split over three files with small row groups, so every scan hands its rows to
DuckDB's threads in other chunks and another order). After every rebuild the registries hold no
new row and every table of staging, intermediate, marts, training and ml has the digest of the
first build (row count + an order-independent hash of all rows, run stamps aside:
:mod:`warehouse_ml.digest`). The rebuilds build every model and run every data test; the unit
tests, which read no table and the same fixtures at the same vars, ran in the first build.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import _dbt as dbt
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from warehouse_ml import digest

REGISTRIES = ("ml.ml_churn_model", "ml.ml_ctr_model")


def passed(done: subprocess.CompletedProcess[str]) -> str:
    output = dbt.output_of(done)
    assert done.returncode == 0 and "ERROR=0" in output, output[-6000:]
    return output


def reorder_raw(source: Path, target: Path, seed: int = 2026, files: int = 3) -> None:
    """Copy the raw data set ``source`` to ``target`` with every table's rows in another order.

    The rows are shuffled (seeded) and written as ``files`` Parquet files with small row groups;
    the manifest is copied as is. The content is unchanged: only the physical order differs.
    """
    rng = np.random.default_rng(seed)
    target.mkdir(parents=True)
    for manifest in source.glob("*.json"):
        shutil.copy(manifest, target / manifest.name)
    for table_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        table = pq.read_table(table_dir)
        shuffled = table.take(pa.array(rng.permutation(table.num_rows)))
        (target / table_dir.name).mkdir()
        bounds = np.linspace(0, shuffled.num_rows, files + 1).astype(int)
        for part, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            pq.write_table(
                shuffled.slice(start, stop - start),
                target / table_dir.name / f"part-{part:05d}.parquet",
                row_group_size=max(1, (stop - start) // 4 + 1),
            )


def registry_rows(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {
            name: connection.execute(f"select count(*) from {name}").fetchone()[0]
            for name in REGISTRIES
        }


def state_of(database: Path) -> dict:
    return {
        "digests": digest.to_json(digest.database_digests(str(database))),
        "registry_rows": registry_rows(database),
    }


@pytest.fixture(scope="module")
def rebuilds(
    small_raw_dir: Path, default_build: dict, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """Digests and registry counts after each of the four builds of one database.

    The first build is the session's (``default_build``: the same command, vars and threads on a
    fresh database); the three rebuilds run on a copy of it.
    """
    work_dir = tmp_path_factory.mktemp("rebuild_determinism")
    reordered = work_dir / "raw_reordered"
    reorder_raw(small_raw_dir, reordered)
    database = dbt.copy_database(default_build, work_dir)
    states = {"first": state_of(database)}
    for name, raw, threads in (
        ("again", small_raw_dir, 2),
        ("one_thread", small_raw_dir, 1),
        ("reordered_raw", reordered, 4),
    ):
        passed(
            dbt.run_dbt(
                "build",
                work_dir,
                {"raw_data_path": str(raw)},
                args=["--exclude", "test_type:unit"],
                threads=threads,
            )
        )
        states[name] = state_of(database)
    return states


def test_the_reordered_raw_files_hold_the_same_rows_in_another_order(
    small_raw_dir: Path, tmp_path: Path
) -> None:
    reorder_raw(small_raw_dir, tmp_path / "raw")
    for table in ("transactions", "impressions"):
        original = f"read_parquet('{small_raw_dir / table}/*.parquet')"
        reordered = f"read_parquet('{tmp_path / 'raw' / table}/*.parquet')"
        assert len(list((tmp_path / "raw" / table).glob("*.parquet"))) == 3
        with duckdb.connect() as connection:
            # The same multiset of rows (NaN equals NaN in DuckDB), not in the same order.
            (missing, extra) = connection.execute(
                f"select (select count(*) from (from {original} except all from {reordered})), "
                f"(select count(*) from (from {reordered} except all from {original}))"
            ).fetchone()
            assert (missing, extra) == (0, 0)
        first_ids = pq.read_table(small_raw_dir / table).column(0)
        assert pq.read_table(tmp_path / "raw" / table).column(0) != first_ids


def test_the_first_build_registers_one_version_of_each_model(rebuilds: dict) -> None:
    assert rebuilds["first"]["registry_rows"] == dict.fromkeys(REGISTRIES, 1)


@pytest.mark.parametrize("rebuild", ["again", "one_thread", "reordered_raw"])
def test_a_rebuild_adds_no_registry_row(rebuilds: dict, rebuild: str) -> None:
    assert rebuilds[rebuild]["registry_rows"] == rebuilds["first"]["registry_rows"]


@pytest.mark.parametrize("rebuild", ["again", "one_thread", "reordered_raw"])
def test_a_rebuild_reproduces_every_table_bit_for_bit(rebuilds: dict, rebuild: str) -> None:
    first = rebuilds["first"]["digests"]
    schemas = {relation.split(".")[0] for relation in first}
    assert schemas == set(digest.DEFAULT_SCHEMAS)
    assert digest.differences(first, rebuilds[rebuild]["digests"]) == []
