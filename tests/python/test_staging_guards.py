"""Staging guards on a small raw data set with planted bad rows, built into a throw-away DuckDB.

A scale-0.01 data set gets extra Parquet files holding one bad row per guard (events dated 1970 and
2100 or after their own load, NaN, infinite, huge and sub-cent amounts, values outside their
lists). The module builds staging and ``int_churn_observation_dates`` once with the default vars
and checks each bad row is rejected with its reason, row conservation holds and observation dates
stay inside the data. Further builds set a value list to null, push a table above the rejection
share, and read time-zone-aware timestamps.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import _dbt as dbt
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from warehouse_ml.generate import write_dataset

SCALE = 0.01
SEED = 11
SELECT = ["staging", "int_churn_observation_dates"]

# Planted rows: key -> the rejection reason staging must give it.
BAD_TRANSACTIONS = {
    9_000_001: "event_before_floor",  # 1970-01-01
    9_000_002: "event_in_future",  # 2100-01-01
    9_000_003: "event_after_load",  # one second after its loaded_at
    9_000_004: "non_finite_amount",  # NaN
    9_000_005: "non_finite_amount",  # +inf
    9_000_006: "non_finite_amount",  # -inf
    9_000_007: "amount_above_max",  # 1e308
    9_000_008: "amount_not_in_cents",  # 12.345: DECIMAL(18, 2) would round it
}
BAD_CUSTOMER = (9_000_101, "invalid_segment")  # segment 'martian'
# (No third bad product: 3 of the 200 products would pass the 1% rejection-share warning.)
BAD_PRODUCTS = {9_000_201: "event_before_floor", 9_000_202: "non_finite_list_price"}
BAD_IMPRESSIONS = {9_000_301: "invalid_placement", 9_000_302: "event_before_floor"}
BAD_CLICK_REASON = "event_in_future"


def run_dbt(
    work_dir: Path, raw: Path, db_name: str, extra_vars: str = "", unit_tests: bool = False
) -> subprocess.CompletedProcess[str]:
    """``dbt build`` of staging and int_churn_observation_dates on ``raw`` into ``db_name``.

    ``extra_vars`` holds more vars as YAML mapping entries after a comma (``", a: 1"``). Unit
    tests (fixtures, not this data) are left out unless ``unit_tests``: the assertions here are
    about the planted rows, and a broken guard should fail them, not only its unit test.
    """
    dbt_vars = {"raw_data_path": str(raw), **yaml.safe_load(f"{{{extra_vars.lstrip(', ')}}}")}
    args = ["--select", *SELECT, "--indirect-selection", "cautious"]
    return dbt.run_dbt(
        "build",
        work_dir,
        dbt_vars,
        args=[*args, *([] if unit_tests else ["--exclude", "test_type:unit"])],
        database=db_name,
        timeout=600,
    )


def test_statuses(work_dir: Path, db_name: str) -> dict[str, str]:
    """Status of every test node of the last build into ``db_name``, by test name."""
    results = json.loads(
        (work_dir / f"target_{Path(db_name).stem}" / "run_results.json").read_text()
    )
    return {
        result["unique_id"].split(".")[2]: result["status"]
        for result in results["results"]
        if result["unique_id"].startswith("test.")
    }


test_statuses.__test__ = False  # a helper, not a pytest test


def append_rows(folder: Path, rows: list[dict]) -> None:
    """Write ``rows`` as one more Parquet file in ``folder``, with the schema of its first file."""
    schema = pq.read_schema(sorted(folder.glob("*.parquet"))[0])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / "part-planted.parquet")


def plant_bad_rows(raw: Path) -> None:
    """Add one bad row per guard to the raw data set at ``raw``."""
    with duckdb.connect() as con:

        def first(sql: str) -> tuple:
            return con.sql(sql.replace("RAW", str(raw))).fetchall()[0]

        (customer_id,) = first(
            "select min(customer_id) from read_parquet('RAW/customers/*.parquet')"
        )
        (product_id,) = first("select min(product_id) from read_parquet('RAW/products/*.parquet')")
        (ad_id,) = first("select min(ad_id) from read_parquet('RAW/ads/*.parquet')")
        (unclicked_id,) = first(
            "select min(impression_id) from read_parquet('RAW/impressions/*.parquet')"
            " where impression_id not in"
            " (select impression_id from read_parquet('RAW/clicks/*.parquet')"
            " where impression_id is not null)"
        )

    june = datetime(2025, 6, 1, 12, 0, 0)
    events = {
        9_000_001: (datetime(1970, 1, 1), june, 5.0),
        9_000_002: (datetime(2100, 1, 1), datetime(2100, 1, 1, 0, 1), 5.0),
        9_000_003: (datetime(2025, 6, 1, 12, 0, 1), june, 5.0),
        9_000_004: (june, june, float("nan")),
        9_000_005: (june, june, float("inf")),
        9_000_006: (june, june, float("-inf")),
        9_000_007: (june, june, 1e308),
        9_000_008: (june, june, 12.345),
    }
    append_rows(
        raw / "transactions",
        [
            {
                "transaction_id": key,
                "customer_id": customer_id,
                "product_id": product_id,
                "transacted_at": transacted_at,
                "amount": amount,
                "quantity": 1,
                "loaded_at": loaded_at,
            }
            for key, (transacted_at, loaded_at, amount) in events.items()
        ],
    )
    append_rows(
        raw / "customers",
        [
            {
                "customer_id": BAD_CUSTOMER[0],
                "signed_up_at": june,
                "segment": "martian",
                "region": "north",
                "acquisition_channel": "organic",
            }
        ],
    )
    append_rows(
        raw / "products",
        [
            {
                "product_id": 9_000_201,
                "product_name": "old",
                "category": "books",
                "launched_at": datetime(1970, 1, 1),
                "list_price": 9.0,
            },
            {
                "product_id": 9_000_202,
                "product_name": "nan",
                "category": "books",
                "launched_at": june,
                "list_price": float("nan"),
            },
        ],
    )
    impression = {"ad_id": ad_id, "device": "mobile", "user_id": 1, "loaded_at": june}
    append_rows(
        raw / "impressions",
        [
            {
                **impression,
                "impression_id": 9_000_301,
                "impressed_at": june,
                "placement": "billboard",
            },
            {
                **impression,
                "impression_id": 9_000_302,
                "impressed_at": datetime(1999, 12, 31),
                "placement": "feed",
            },
        ],
    )
    append_rows(
        raw / "clicks",
        [
            {
                "impression_id": unclicked_id,
                "clicked_at": datetime(2100, 1, 1),
                "loaded_at": datetime(2100, 1, 1, 0, 1),
            }
        ],
    )


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scratch folder of the module: raw data, databases, targets and logs."""
    return tmp_path_factory.mktemp("staging_guards")


@pytest.fixture(scope="module")
def raw(work_dir: Path) -> Path:
    """A scale-0.01 raw data set with the planted bad rows. Read-only for the tests."""
    out = work_dir / "raw"
    write_dataset(out, scale=SCALE, seed=SEED)
    plant_bad_rows(out)
    return out


@pytest.fixture(scope="module")
def guarded_build(work_dir: Path, raw: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The default-vars build of the planted data: it passes, and yields a read-only connection."""
    result = run_dbt(work_dir, raw, "guards.duckdb")
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(work_dir / "guards.duckdb"), read_only=True) as con:
        yield con


def reasons(con: duckdb.DuckDBPyConnection, model: str, key: str) -> dict[int, str]:
    """``{key: rejection_reason}`` of a _rejected view."""
    return dict(con.sql(f"select {key}, rejection_reason from staging.{model}").fetchall())


def test_each_bad_row_is_rejected_with_its_reason(guarded_build: duckdb.DuckDBPyConnection) -> None:
    transactions = reasons(guarded_build, "stg_shop__transactions_rejected", "transaction_id")
    assert {key: transactions.get(key) for key in BAD_TRANSACTIONS} == BAD_TRANSACTIONS
    customers = reasons(guarded_build, "stg_shop__customers_rejected", "customer_id")
    assert customers.get(BAD_CUSTOMER[0]) == BAD_CUSTOMER[1]
    products = reasons(guarded_build, "stg_shop__products_rejected", "product_id")
    assert {key: products.get(key) for key in BAD_PRODUCTS} == BAD_PRODUCTS
    impressions = reasons(guarded_build, "stg_ads__impressions_rejected", "impression_id")
    assert {key: impressions.get(key) for key in BAD_IMPRESSIONS} == BAD_IMPRESSIONS
    clicks = guarded_build.sql(
        "select rejection_reason from staging.stg_ads__clicks_rejected"
        " where year(clicked_at) = 2100"
    ).fetchall()
    assert clicks == [(BAD_CLICK_REASON,)]


def test_no_staged_value_is_out_of_range(guarded_build: duckdb.DuckDBPyConnection) -> None:
    (row,) = guarded_build.sql(
        "select min(transacted_at), max(transacted_at), max(amount),"
        " count(*) filter (where isnan(amount) or isinf(amount)),"
        " count(*) filter (where transacted_at > loaded_at)"
        " from staging.stg_shop__transactions"
    ).fetchall()
    first, last, largest, non_finite, after_load = row
    assert first >= datetime(2000, 1, 1)
    assert last <= datetime.now(UTC).replace(tzinfo=None)
    assert largest <= 1_000_000
    assert (non_finite, after_load) == (0, 0)


def test_row_conservation_and_rejection_shares_pass(work_dir: Path, guarded_build) -> None:
    statuses = test_statuses(work_dir, "guards.duckdb")
    tables = ["shop__customers", "shop__products", "shop__transactions"]
    tables += ["ads__ads", "ads__impressions", "ads__clicks"]
    for table in tables:
        assert statuses[f"row_conservation_{table}"] == "pass"
        assert statuses[f"rejected_share_stg_{table}"] == "pass"  # a few planted rows: below 1%


def test_observation_dates_stay_inside_the_valid_data(
    guarded_build: duckdb.DuckDBPyConnection, raw: Path
) -> None:
    ((last_valid,),) = guarded_build.sql(
        "select max(transaction_date) from staging.stg_shop__transactions"
    ).fetchall()
    ((last_generated,),) = guarded_build.sql(
        "select max(cast(transacted_at as date))"
        f" from read_parquet('{raw}/transactions/part-0*.parquet')"
    ).fetchall()
    assert last_valid <= last_generated < datetime(2100, 1, 1).date()
    (row,) = guarded_build.sql(
        "select max(observation_date), min(last_transaction_date), max(last_transaction_date),"
        " count(*) filter"
        " (where is_label_complete <> (label_horizon_end_date <= last_transaction_date))"
        " from intermediate.int_churn_observation_dates"
    ).fetchall()
    last_observation, last_min, last_max, wrong_labels = row
    assert last_min == last_max == last_valid
    assert last_observation <= last_valid
    assert wrong_labels == 0


def test_null_value_list_accepts_any_non_empty_value_and_extra_columns_pass(
    work_dir: Path, raw: Path
) -> None:
    result = run_dbt(
        work_dir,
        raw,
        "null_list.duckdb",
        ", staging_placements: null, staging_segments: null,"
        " extra_customer_columns: {region: categorical}",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "extra_customer_columns: column 'region' is already a column of the model" in output

    extra = raw.parent / "raw_extra"
    shutil.copytree(raw, extra, dirs_exist_ok=True)
    for file in (extra / "impressions").glob("*.parquet"):
        table = pq.read_table(file)
        table = table.append_column("user_score", pc.cast(table["user_id"], pa.int32()))
        pq.write_table(table, file)
    for file in (extra / "customers").glob("*.parquet"):
        table = pq.read_table(file)
        pq.write_table(
            table.append_column("loyalty_tier", pc.cast(table["customer_id"], pa.int64())), file
        )
    result = run_dbt(
        work_dir,
        extra,
        "null_list.duckdb",
        ", staging_placements: null, staging_segments: null,"
        " extra_customer_columns: {loyalty_tier: categorical},"
        " extra_impression_columns: {user_score: numeric}",
        unit_tests=True,  # the unit tests' fixtures have no user columns: they must still pass
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(work_dir / "null_list.duckdb"), read_only=True) as con:
        placements = dict(
            con.sql(
                "select impression_id, placement from staging.stg_ads__impressions"
                " where impression_id in (9000301, 9000302)"
            ).fetchall()
        )
        segment = con.sql(
            "select segment from staging.stg_shop__customers where customer_id = 9000101"
        ).fetchall()
        types = dict(
            con.sql(
                "select table_name || '.' || column_name, data_type from information_schema.columns"
                " where column_name in ('user_score', 'loyalty_tier')"
            ).fetchall()
        )
        (row,) = con.sql(
            "select count(*) filter (where user_score = user_id), count(*)"
            " from staging.stg_ads__impressions"
        ).fetchall()
    assert placements == {9_000_301: "billboard"}  # 9000302 is still before the floor
    assert segment == [("martian",)]
    assert types == {
        "base_ads__impressions.user_score": "DOUBLE",
        "stg_ads__impressions.user_score": "DOUBLE",
        "stg_ads__impressions_rejected.user_score": "DOUBLE",
        "base_shop__customers.loyalty_tier": "VARCHAR",
        "stg_shop__customers.loyalty_tier": "VARCHAR",
        "stg_shop__customers_rejected.loyalty_tier": "VARCHAR",
    }
    assert row[0] == row[1] > 0


def test_rejection_share_fails_with_a_message_naming_table_share_reasons_and_vars(
    work_dir: Path, raw: Path
) -> None:
    result = run_dbt(
        work_dir,
        raw,
        "shares.duckdb",
        ", staging_segments: [consumer], staging_max_rejected_share_warn: 0.00001",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    with duckdb.connect(str(work_dir / "shares.duckdb"), read_only=True) as con:
        ((rejected, total),) = con.sql(
            "select count(*) filter (where rejection_reason = 'invalid_segment'), count(*)"
            " from staging.base_shop__customers where not is_duplicate"
        ).fetchall()
    share = f"{100 * rejected / total:.2f}%"
    error = next(line for line in output.splitlines() if "Raw table shop.customers" in line)
    for text in [
        f"staging rejected {share} of its rows ({rejected:,} rejected of {total:,}",
        "above staging_max_rejected_share = 20%",
        f"Top reasons: invalid_segment {rejected:,}",
        "invalid_segment -> widen var staging_segments",
        "or raise var staging_max_rejected_share ",
        "stg_shop__customers_rejected",
    ]:
        assert text in error, f"{text!r} not in {error!r}"
    warning = next(line for line in output.splitlines() if "Raw table ads.impressions" in line)
    assert "above staging_max_rejected_share_warn = 0.001%" in warning
    assert "invalid_placement 1" in warning and "widen var staging_placements" in warning
    statuses = test_statuses(work_dir, "shares.duckdb")
    assert statuses["rejected_share_stg_shop__customers"] == "error"
    assert statuses["rejected_share_stg_ads__impressions"] == "warn"
    # Everything built from the customers waits for the test: transactions are skipped.
    assert statuses["row_conservation_shop__transactions"] == "skipped"


def test_time_zone_aware_timestamps_stage_as_the_same_utc_instant(
    work_dir: Path, raw: Path, guarded_build: duckdb.DuckDBPyConnection
) -> None:
    aware = raw.parent / "raw_tz"
    shutil.copytree(raw, aware, dirs_exist_ok=True)
    for file in (aware / "transactions").glob("*.parquet"):
        table = pq.read_table(file)
        for column in ["transacted_at", "loaded_at"]:
            index = table.schema.get_field_index(column)
            berlin = pc.cast(table[column], pa.timestamp("us", tz="UTC")).cast(
                pa.timestamp("us", tz="Europe/Berlin")
            )
            table = table.set_column(index, column, berlin)
        pq.write_table(table, file)
    assert pq.read_schema(next((aware / "transactions").glob("*.parquet"))).field(
        "transacted_at"
    ).type == pa.timestamp("us", tz="Europe/Berlin")
    with duckdb.connect() as con:
        ((raw_type,),) = con.sql(
            "select typeof(transacted_at)"
            f" from read_parquet('{aware}/transactions/*.parquet') limit 1"
        ).fetchall()
    assert raw_type == "TIMESTAMP WITH TIME ZONE"

    result = run_dbt(work_dir, aware, "tz.duckdb")
    assert result.returncode == 0, result.stdout + result.stderr
    naive = guarded_build.sql(
        "select transaction_id, transacted_at, loaded_at from staging.stg_shop__transactions"
    ).fetchall()
    with duckdb.connect(str(work_dir / "tz.duckdb"), read_only=True) as con:
        converted = con.sql(
            "select transaction_id, transacted_at, loaded_at from staging.stg_shop__transactions"
        ).fetchall()
        ((staged_type,),) = con.sql(
            "select data_type from information_schema.columns"
            " where table_name = 'stg_shop__transactions' and column_name = 'transacted_at'"
        ).fetchall()
    assert staged_type == "TIMESTAMP"
    assert len(naive) > 1000
    assert sorted(converted) == sorted(naive)
