"""Shared pytest fixtures: a small generated raw data set (built once per session)."""

from __future__ import annotations

from pathlib import Path

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
