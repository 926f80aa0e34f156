"""Shared pytest fixtures: a small generated raw data set and one default build of it.

Both are built once per session and shared by every module that needs them. A test that changes
a built database works on a copy (``_dbt.copy_database``), never on the shared file, so the tests
still pass in any order and one at a time (``pytest -x``, ``-k``).
"""

from __future__ import annotations

from pathlib import Path

import _dbt as dbt
import pytest

from warehouse_ml.generate import write_dataset

SMALL_SCALE = 0.02
SMALL_SEED = 7


@pytest.fixture(scope="session")
def small_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A raw data set at scale 0.02, seed 7 (about 20k transactions, 100k impressions).

    Laid out as in docs/raw_data_contract.md: ``<dir>/<table>/part-*.parquet`` and
    ``<dir>/_manifest.json``. Shared by the whole session: do not modify it.
    """
    out = tmp_path_factory.mktemp("raw") / "raw"
    write_dataset(out, scale=SMALL_SCALE, seed=SMALL_SEED)
    return out


@pytest.fixture(scope="session")
def default_build(small_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The whole project built once on ``small_raw_dir`` at the default vars, into a fresh DuckDB.

    ``dbt build`` of every model, data test and unit test, 2 dbt threads, vars
    ``{raw_data_path: small_raw_dir}`` and nothing else: what a first build of a new warehouse
    gives. Returns ``{"work_dir", "db", "output"}``. Shared by the whole session: read it, or
    ``dbt.copy_database`` it into your own work dir before building on it or changing it.
    """
    work_dir = tmp_path_factory.mktemp("default_build")
    done = dbt.run_dbt("build", work_dir, {"raw_data_path": str(small_raw_dir)}, threads=2)
    output = dbt.output_of(done)
    assert done.returncode == 0 and "ERROR=0" in output, output[-6000:]
    return {"work_dir": work_dir, "db": work_dir / dbt.DATABASE, "output": output}
