"""A user's own data runs through the whole pipeline with vars alone.

The data set is the generator's, rewritten the way another source would deliver it: other
segment, acquisition-channel, placement and device values, every timestamp time-zone-aware in a
zone that is not UTC, dates ten years before ours, one extra user column on the customers
(categorical) and one on the impressions (numeric). Built with vars that describe it, every
model and test passes, no row is rejected for a value list, and both user columns reach the
models' features. The same files with the default vars fail on the rejection-rate test, whose
message names the table, the share, the reason and the var to change.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from pathlib import Path

import _dbt as dbt
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from warehouse_ml.generate import write_dataset

SEGMENTS = {"consumer": "retail", "small_business": "smb", "enterprise": "corporate"}
CHANNELS = {
    "organic": "seo",
    "paid_search": "sem",
    "social": "social media",
    "referral": "friend's referral",  # a quote inside a value must not break the SQL
    "email": "newsletter",
}
PLACEMENTS = {
    p: f"position_{i}" for i, p in enumerate(["feed", "search", "sidebar", "stories", "video"], 1)
}
DEVICES = {"mobile": "phone", "desktop": "pc", "tablet": "tab"}
SHIFT = timedelta(days=-3652)  # ten years earlier (3652 days keeps the weekdays)
ZONE = "Asia/Kolkata"  # UTC+05:30: a half-hour offset catches a conversion that drops minutes

FOREIGN_VARS = {
    "staging_segments": sorted(SEGMENTS.values()),
    "staging_acquisition_channels": None,  # any non-empty value
    "staging_placements": sorted(PLACEMENTS.values()),
    "staging_devices": sorted(DEVICES.values()),
    "extra_customer_columns": {"loyalty_tier": "categorical"},
    "extra_impression_columns": {"viewer_age": "numeric"},
}


def _recode(column: pa.ChunkedArray, mapping: dict[str, str]) -> pa.ChunkedArray:
    values = column.to_pylist()
    return pa.chunked_array([[mapping.get(v, v) if v is not None else None for v in values]])


def _foreign_timestamps(table: pa.Table) -> pa.Table:
    """Every timestamp column shifted ten years back and stored time-zone-aware in ZONE."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            naive = pc.cast(table.column(index), pa.timestamp("us"))
            shifted = pc.add(naive, pa.scalar(SHIFT, pa.duration("us")))
            aware = pc.assume_timezone(shifted, "UTC")  # the same instants, tz-aware
            table = table.set_column(index, field.name, pc.cast(aware, pa.timestamp("us", tz=ZONE)))
    return table


def _rewrite(folder: Path, change) -> None:
    for file in sorted(folder.glob("*.parquet")):
        pq.write_table(change(pq.read_table(file)), file)


@pytest.fixture(scope="module")
def foreign_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("foreign") / "raw"
    write_dataset(raw, scale=0.02, seed=11)
    rng = np.random.default_rng(0)

    def customers(table: pa.Table) -> pa.Table:
        table = table.set_column(
            table.schema.get_field_index("segment"), "segment", _recode(table["segment"], SEGMENTS)
        )
        table = table.set_column(
            table.schema.get_field_index("acquisition_channel"),
            "acquisition_channel",
            _recode(table["acquisition_channel"], CHANNELS),
        )
        tiers = rng.choice(["bronze", "silver", "gold"], size=table.num_rows)
        return _foreign_timestamps(table.append_column("loyalty_tier", pa.array(tiers)))

    def impressions(table: pa.Table) -> pa.Table:
        table = table.set_column(
            table.schema.get_field_index("placement"),
            "placement",
            _recode(table["placement"], PLACEMENTS),
        )
        table = table.set_column(
            table.schema.get_field_index("device"), "device", _recode(table["device"], DEVICES)
        )
        ages = rng.integers(18, 80, size=table.num_rows).astype("int32")
        table = table.append_column("viewer_age", pa.array(ages))
        return _foreign_timestamps(
            table.append_column("campaign_note", pa.array(["x"] * len(ages)))
        )

    _rewrite(raw / "customers", customers)
    _rewrite(raw / "impressions", impressions)
    for other in ("products", "transactions", "ads", "clicks"):
        _rewrite(raw / other, _foreign_timestamps)
    return raw


def test_foreign_data_builds_with_vars_alone(foreign_raw_dir: Path, tmp_path: Path) -> None:
    result = dbt.run_dbt("build", tmp_path, {"raw_data_path": str(foreign_raw_dir), **FOREIGN_VARS})
    output = dbt.output_of(result)
    assert result.returncode == 0, output[-4000:]
    assert "ERROR=0" in output, output[-4000:]
    # The one warning allowed is drift's: this raw data has the new-category launch, real drift.
    warned = [line for line in output.splitlines() if " WARN " in line and " of " in line]
    assert all("drift_below_threshold" in line for line in warned), warned

    database = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    rejected_for_lists = database.execute(
        "select count(*) from ("
        " select rejection_reason from staging.stg_shop__customers_rejected"
        " union all select rejection_reason from staging.stg_ads__impressions_rejected)"
        " where rejection_reason like 'invalid_%'"
    ).fetchone()[0]
    assert rejected_for_lists == 0
    segments = database.execute(
        "select distinct segment from staging.stg_shop__customers"
    ).fetchall()
    assert {row[0] for row in segments} == set(SEGMENTS.values())

    # Time-zone-aware instants stage as the same instants in UTC (naive), ten years back.
    raw_first = pc.min(
        pq.read_table(foreign_raw_dir / "transactions", columns=["transacted_at"])["transacted_at"]
    ).as_py()
    (staged_first,) = database.execute(
        "select min(transacted_at) from staging.base_shop__transactions"
    ).fetchone()
    assert raw_first.utcoffset().total_seconds() == 5.5 * 3600
    assert staged_first == raw_first.astimezone(UTC).replace(tzinfo=None)
    assert staged_first.year == 2014

    churn_features = json.loads(
        database.execute("select features from ml.ml_churn_model").fetchone()[0]
    )
    ctr_features = json.loads(
        database.execute("select features from ml.ml_ctr_model").fetchone()[0]
    )
    assert {"name": "loyalty_tier", "type": "categorical"}.items() <= next(
        f for f in churn_features if f["name"] == "loyalty_tier"
    ).items()
    assert next(f for f in ctr_features if f["name"] == "viewer_age")["type"] == "numeric"
    assert "campaign_note" not in {f["name"] for f in ctr_features}  # unlisted columns stay out


def test_foreign_data_with_default_vars_fails_on_rejection_rate(
    foreign_raw_dir: Path, tmp_path: Path
) -> None:
    result = dbt.run_dbt(
        "build",
        tmp_path,
        {"raw_data_path": str(foreign_raw_dir)},
        args=["--select", "staging", "--exclude", "test_type:unit"],
    )
    output = " ".join(dbt.output_of(result).split())
    assert result.returncode != 0, output[-4000:]
    for table, reason, var in [
        ("shop.customers", "invalid_segment", "staging_segments"),
        ("ads.impressions", "invalid_placement", "staging_placements"),
    ]:
        assert f"Raw table {table}: staging rejected 100.00% of its rows" in output, output[-4000:]
        assert f"{reason} -> widen var {var} (or set it to null)" in output
