"""Tests of the raw data generator (warehouse_ml.generate)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from warehouse_ml.generate import (
    GENERATOR_VERSION,
    MANIFEST,
    SCHEMAS,
    TABLES,
    is_up_to_date,
    iter_chunks,
    write_dataset,
)
from warehouse_ml.generate import ads as ads_mod
from warehouse_ml.generate import common as c
from warehouse_ml.generate.shop import (
    expected_purchase_days,
    make_customers,
    make_products,
    transactions_chunk,
)

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "raw_data_contract.md"
FAMILY = {"BIGINT": "integer", "INTEGER": "integer", "DOUBLE": "float", "TIMESTAMP": "timestamp"}
FAMILY["VARCHAR"] = "text"


def _family(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type):
        return "float"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    return str(arrow_type)


def _contract_columns() -> dict[str, list[tuple[str, str]]]:
    """Parse ``| table | column | TYPE | meaning |`` rows of the contract."""
    columns: dict[str, list[tuple[str, str]]] = {}
    pattern = re.compile(r"^\|\s*(\w+)\s*\|\s*(\w+)\s*\|\s*([A-Z]+)\s*\|")
    for line in CONTRACT.read_text().splitlines():
        match = pattern.match(line)
        if match:
            table, column, kind = match.groups()
            columns.setdefault(table, []).append((column, FAMILY[kind]))
    return columns


def _read(raw: Path, table: str) -> pa.Table:
    return pq.read_table(sorted((raw / table).glob("*.parquet")))


@pytest.fixture(scope="module")
def con(small_raw_dir: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    for table in TABLES:
        connection.execute(
            f"create view {table} as "
            f"select * from read_parquet('{small_raw_dir}/{table}/*.parquet')"
        )
    yield connection
    connection.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return con.execute(sql).fetchone()


# --- layout, schema, manifest -------------------------------------------------------------


def test_schema_equals_contract(small_raw_dir: Path) -> None:
    contract = _contract_columns()
    assert sorted(contract) == sorted(TABLES)
    for table in TABLES:
        files = sorted((small_raw_dir / table).glob("part-*.parquet"))
        assert files, table
        schema = pq.read_schema(files[0])
        assert schema.equals(SCHEMAS[table]), table
        actual = [(field.name, _family(field.type)) for field in schema]
        assert actual == contract[table], table
        for field in schema:
            if pa.types.is_timestamp(field.type):
                assert field.type.unit == "us" and field.type.tz is None, (table, field)
            if field.name.endswith("_id"):
                assert field.type == pa.int64(), (table, field)
    assert (
        pq.read_schema(next((small_raw_dir / "transactions").glob("*.parquet")))
        .field("quantity")
        .type
        == pa.int32()
    )


def test_manifest_matches_files(small_raw_dir: Path) -> None:
    manifest = json.loads((small_raw_dir / MANIFEST).read_text())
    assert manifest["generator_version"] == GENERATOR_VERSION
    assert manifest["scale"] == 0.02
    assert manifest["seed"] == 7
    assert "created_at" in manifest
    for table in TABLES:
        assert manifest["row_counts"][table] == _read(small_raw_dir, table).num_rows, table
    assert is_up_to_date(small_raw_dir, 0.02, 7)
    assert not is_up_to_date(small_raw_dir, 0.02, 8)
    assert not is_up_to_date(small_raw_dir, 0.03, 7)
    assert "new_category" not in manifest  # the default manifest is unchanged
    assert not is_up_to_date(small_raw_dir, 0.02, 7, new_category=False)


def test_sizes_at_scale(small_raw_dir: Path) -> None:
    counts = json.loads((small_raw_dir / MANIFEST).read_text())["row_counts"]
    # Scale 0.02: about 20k transactions and 100k impressions (plus ~0.5% duplicates).
    assert 18_500 < counts["transactions"] < 21_500
    assert 100_000 < counts["impressions"] < 101_500
    assert counts["products"] == 200
    assert counts["ads"] == 42  # max(40, round(300 * sqrt(0.02)))
    assert counts["customers"] == round(c.CUSTOMERS_PER_SCALE * 0.02)


# --- determinism and scaling --------------------------------------------------------------


def test_same_seed_identical_other_seed_differs(tmp_path: Path) -> None:
    first = tmp_path / "a"
    again = tmp_path / "b"
    other = tmp_path / "c"
    write_dataset(first, scale=0.005, seed=11)
    write_dataset(again, scale=0.005, seed=11)
    write_dataset(other, scale=0.005, seed=12)
    for table in TABLES:
        assert _read(first, table).equals(_read(again, table)), table
    for table in ("customers", "transactions", "impressions", "clicks"):
        assert not _read(first, table).equals(_read(other, table)), table


# Digest of the default data set at scale 0.005, seed 11 (every table's columns, in order): the
# --new-category knob must leave the default output unchanged bit for bit. A deliberate change of
# the generator's output bumps GENERATOR_VERSION and this digest together.
DEFAULT_DIGEST_0005_11 = "66bb7b11ea087ac2aad3d407cb4aa1bfba0bf0d10ac8cdb3d9fb775a632cff14"


def _digest(new_category: bool = True) -> str:
    digest = hashlib.sha256()
    for table, arrow in iter_chunks(11, 0.005, new_category):
        digest.update(table.encode())
        for column in arrow.columns:
            digest.update(repr(column.to_pylist()).encode())
    return digest.hexdigest()


def test_default_data_set_is_unchanged_by_the_launch_knob() -> None:
    assert _digest() == DEFAULT_DIGEST_0005_11
    assert _digest(new_category=True) == DEFAULT_DIGEST_0005_11


def test_no_new_category_has_no_new_category_rows(tmp_path: Path) -> None:
    out = tmp_path / "unlaunched"
    manifest = write_dataset(out, scale=0.005, seed=11, new_category=False)
    products = _read(out, "products")
    ads = _read(out, "ads")
    assert c.NEW_CATEGORY not in set(products["category"].to_pylist())
    assert c.NEW_CATEGORY not in set(ads["product_category"].to_pylist())
    assert products.num_rows == c.N_PRODUCTS - c.N_NEW_CATEGORY_PRODUCTS
    sold = set(_read(out, "transactions")["product_id"].to_pylist())
    assert sold <= set(products["product_id"].to_pylist())
    impressed = set(_read(out, "impressions")["ad_id"].to_pylist())
    assert impressed <= set(ads["ad_id"].to_pylist())
    assert manifest["new_category"] is False
    assert is_up_to_date(out, 0.005, 11, new_category=False)
    assert not is_up_to_date(out, 0.005, 11)


def test_launch_share_and_effect_knobs(tmp_path: Path) -> None:
    """--new-category-share sets the new ads' share of the budget; --new-category-effect scales how
    differently they click (0: like the old categories), by placement, device and hour."""
    ads = ads_mod.make_ads(11, 1.0, share=0.2, effect=0.5)
    is_new = ads.category == len(c.CATEGORIES) - 1
    assert ads.budget[is_new].sum() / ads.budget.sum() == pytest.approx(0.2, rel=1e-12)
    new_ad, old_ad = int(np.flatnonzero(is_new)[0]), int(np.flatnonzero(~is_new)[0])
    after = np.array([c.NEW_CATEGORY_LAUNCH + c.US_PER_DAY] * 2)

    def logit(effect: float, ad: int, placement: int, device: int, hour: int) -> float:
        launched = ads_mod.Ads(**{**ads.__dict__, "new_category_effect": effect})
        args = [np.array([ad] * 2), np.array([placement, 0]), np.array([device, 0])]
        return float(
            ads_mod.click_logit(launched, *args, np.array([hour, 0]), np.full(2, 0.3), after)[0]
            - ads.quality[ad]
        )

    search, stories = ads_mod.PLACEMENTS.index("search"), ads_mod.PLACEMENTS.index("stories")
    for ad in (new_ad, old_ad):
        assert logit(0.0, ad, search, 0, 12) == pytest.approx(logit(0.0, old_ad, search, 0, 12))
    # The old categories click much better from search than from stories; the new one less so.
    own = ads_mod.NEW_CATEGORY_PLACEMENT_EFFECT
    old_gap = logit(1.0, old_ad, search, 0, 12) - logit(1.0, old_ad, stories, 0, 12)
    new_gap = logit(1.0, new_ad, search, 0, 12) - logit(1.0, new_ad, stories, 0, 12)
    assert (
        old_gap - new_gap == pytest.approx(own[stories] - own[search])
        and own[stories] > own[search]
    )
    mobile = ads_mod.DEVICES.index("mobile")
    assert logit(2.0, new_ad, stories, mobile, 8) - logit(0.0, new_ad, stories, mobile, 8) == (
        pytest.approx(
            2
            * (
                ads_mod.NEW_CATEGORY_CTR_EFFECT
                + own[stories]
                + ads_mod.NEW_CATEGORY_DEVICE_EFFECT[mobile]
                + ads_mod.NEW_CATEGORY_HOUR_EFFECT[8]
            )
        )
    )
    out = tmp_path / "launch"
    manifest = write_dataset(
        out, scale=0.005, seed=11, new_category_share=0.2, new_category_effect=0.5
    )
    assert (manifest["new_category_share"], manifest["new_category_effect"]) == (0.2, 0.5)
    assert is_up_to_date(out, 0.005, 11, new_category_share=0.2, new_category_effect=0.5)
    assert not is_up_to_date(out, 0.005, 11)
    assert not is_up_to_date(out, 0.005, 11, new_category_share=0.2)


@pytest.mark.parametrize(
    ("share", "effect", "message"),
    [
        (0.0, 1.0, "new_category_share must be in (0, 1)"),
        (1.0, 1.0, "new_category_share must be in (0, 1)"),
        (0.1, -1.0, "new_category_effect must be >= 0"),
        (0.1, float("nan"), "new_category_effect must be >= 0"),
    ],
)
def test_launch_knobs_reject_bad_values(
    tmp_path: Path, share: float, effect: float, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        write_dataset(
            tmp_path / "bad", 0.005, 11, new_category_share=share, new_category_effect=effect
        )
    assert not (tmp_path / "bad").exists()


def test_generate_cli_documents_the_launch_knobs(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from warehouse_ml.cli import main

    runner = CliRunner()
    help_text = " ".join(runner.invoke(main, ["generate", "--help"]).output.split())
    assert f"[default: {ads_mod.NEW_CATEGORY_SHARE}; 0<x<1]" in help_text
    assert f"[default: {ads_mod.NEW_CATEGORY_EFFECT}; x>=0]" in help_text
    bad = runner.invoke(
        main, ["generate", "--out", str(tmp_path / "x"), "--new-category-share", "1"]
    )
    assert bad.exit_code == 2 and "--new-category-share" in bad.output


def test_row_counts_linear_in_scale(tmp_path: Path, small_raw_dir: Path) -> None:
    half = tmp_path / "half"
    write_dataset(half, scale=0.01, seed=7)
    small = json.loads((half / MANIFEST).read_text())["row_counts"]
    big = json.loads((small_raw_dir / MANIFEST).read_text())["row_counts"]
    for table in ("customers", "transactions", "impressions"):
        assert big[table] / small[table] == pytest.approx(2.0, rel=0.05), table
    # Clicks follow impressions up to the CTR of the (few, randomly good or bad) ads.
    assert big["clicks"] / small["clicks"] == pytest.approx(2.0, rel=0.25)
    assert big["products"] == small["products"]


def test_chunk_streams_depend_only_on_seed_table_chunk() -> None:
    a = c.rng_for(7, "transactions", 3).random(5)
    assert np.array_equal(a, c.rng_for(7, "transactions", 3).random(5))
    assert not np.array_equal(a, c.rng_for(7, "transactions", 4).random(5))
    assert not np.array_equal(a, c.rng_for(7, "impressions", 3).random(5))
    assert not np.array_equal(a, c.rng_for(8, "transactions", 3).random(5))


def test_purchase_rates_normalised_to_target() -> None:
    customers = make_customers(seed=3, scale=0.05)
    expected = np.sum(customers.rate_per_day * expected_purchase_days(customers))
    assert expected == pytest.approx(0.05 * c.TRANSACTIONS_PER_SCALE, rel=1e-9)


# --- dates and the new category -----------------------------------------------------------


def test_event_windows(con: duckdb.DuckDBPyConnection) -> None:
    lo, hi = _one(con, "select min(transacted_at), max(transacted_at) from transactions")
    assert str(lo) >= "2024-01-01" and str(hi) < "2026-01-01"
    assert lo.month == 1 and hi.month == 12  # spans the whole window
    lo, hi = _one(con, "select min(impressed_at), max(impressed_at) from impressions")
    assert str(lo) >= "2025-05-01" and str(hi) < "2026-01-01"
    assert lo.month == 5 and hi.month == 12
    lo, hi = _one(con, "select min(clicked_at), max(clicked_at) from clicks")
    assert str(lo) >= "2025-05-01" and str(hi) < "2026-01-01"
    lo, hi = _one(con, "select min(signed_up_at), max(signed_up_at) from customers")
    assert lo.year == 2022 and hi.year == 2025
    before = _one(con, "select avg((signed_up_at < '2024-01-01')::int) from customers")[0]
    assert 0.2 < before < 0.6


def test_no_new_category_before_launch(con: duckdb.DuckDBPyConnection) -> None:
    launch = "timestamp '2025-09-01'"
    assert _one(
        con,
        f"select min(launched_at) = {launch}, count(*) from products where category = 'wearables'",
    ) == (True, 25)
    assert _one(
        con, f"select max(launched_at) < {launch} from products where category != 'wearables'"
    )[0]
    sold_early, sold_after, first_sale = _one(
        con,
        f"""select count(*) filter (where t.transacted_at < {launch}),
                   count(*) filter (where t.transacted_at >= {launch}),
                   min(t.transacted_at)
            from transactions t inner join products p using (product_id)
            where p.category = 'wearables'""",
    )
    assert sold_early == 0 and sold_after > 100
    assert str(first_sale) < "2025-09-08"
    # every sale is after its product's launch
    assert (
        _one(
            con,
            "select count(*) from transactions t inner join products p using (product_id) "
            "where t.transacted_at < p.launched_at",
        )[0]
        == 0
    )
    shown_early, shown_after = _one(
        con,
        f"""select count(*) filter (where i.impressed_at < {launch}),
                   count(*) filter (where i.impressed_at >= {launch})
            from impressions i inner join ads a using (ad_id)
            where a.product_category = 'wearables'""",
    )
    assert shown_early == 0 and shown_after > 100  # the ramp: about 340 at scale 0.02
    assert (
        _one(
            con,
            "select count(*) from impressions i inner join ads a using (ad_id) "
            "where i.impressed_at < a.created_at",
        )[0]
        == 0
    )


# --- imperfections ------------------------------------------------------------------------


def test_transaction_imperfections(con: duckdb.DuckDBPyConnection) -> None:
    n, dup, null, negative, late, unknown, conflicting = _one(
        con,
        """select count(*),
                  1 - count(distinct transaction_id) / count(*),
                  avg((amount is null)::int),
                  avg((amount < 0)::int),
                  avg((loaded_at > transacted_at + interval 1 day)::int),
                  avg((customer_id not in (select customer_id from customers))::int),
                  (select count(*) from (
                      select transaction_id from transactions group by 1
                      having count(distinct (customer_id, product_id, transacted_at,
                                             coalesce(amount, 0), quantity)) > 1))
           from transactions""",
    )
    assert 0.003 < dup < 0.008
    assert 0.0015 < null < 0.0045
    assert 0.0008 < negative < 0.0035
    assert 0.006 < late < 0.015
    assert 0.0002 < unknown < 0.0025
    assert conflicting == 0  # a duplicate repeats the same content
    assert _one(con, "select count(*) from transactions where loaded_at <= transacted_at")[0] == 0
    assert _one(con, "select min(quantity) from transactions")[0] >= 1


def test_late_loads_are_days_late(con: duckdb.DuckDBPyConnection) -> None:
    shortest, longest = _one(
        con,
        """select min(loaded_at - impressed_at), max(loaded_at - impressed_at) from impressions
           where loaded_at > impressed_at + interval 1 day""",
    )
    assert shortest.days >= 2 and longest.days <= 12
    on_time = _one(
        con,
        """select quantile_cont(epoch(loaded_at - impressed_at), 0.5) from impressions
           where loaded_at <= impressed_at + interval 1 day""",
    )[0]
    assert 60 < on_time < 4 * 3600


def test_event_imperfections(con: duckdb.DuckDBPyConnection) -> None:
    dup, late = _one(
        con,
        """select 1 - count(distinct impression_id) / count(*),
                  avg((loaded_at > impressed_at + interval 1 day)::int)
           from impressions""",
    )
    assert 0.0035 < dup < 0.0065
    assert 0.008 < late < 0.012
    clicks, distinct_clicks, orphans = _one(
        con,
        """select count(*), count(distinct impression_id),
                  count(distinct impression_id) filter (
                      where impression_id not in (select impression_id from impressions))
           from clicks""",
    )
    assert 0.001 < 1 - distinct_clicks / clicks < 0.012
    assert 1 <= orphans < 0.01 * distinct_clicks


def test_imperfection_helpers_rates() -> None:
    rng = np.random.default_rng(0)
    at = np.zeros(1_000_000, dtype=np.int64)
    loaded = c.loaded_at_for(rng, at)
    assert (loaded > at).all()
    late = loaded > c.US_PER_DAY
    assert late.mean() == pytest.approx(c.LATE_RATE, rel=0.1)
    assert loaded[late].min() >= 2 * c.US_PER_DAY and loaded[late].max() <= 10 * c.US_PER_DAY
    index, extra = c.duplicate_rows(rng, 1_000_000)
    assert index.size / 1_000_000 == pytest.approx(c.DUPLICATE_RATE, rel=0.1)
    assert 0.4 < (extra == 0).mean() < 0.6


def test_clicks_follow_their_impressions(con: duckdb.DuckDBPyConnection) -> None:
    n, before, longest, repeated = _one(
        con,
        """with impression as (select distinct impression_id, impressed_at from impressions),
                click as (select distinct impression_id, clicked_at from clicks)
           select count(*),
                  count(*) filter (where click.clicked_at <= impression.impressed_at),
                  max(epoch(click.clicked_at - impression.impressed_at)),
                  count(*) - count(distinct impression_id)
           from click inner join impression using (impression_id)""",
    )
    assert n > 1000
    assert before == 0
    assert longest < 3 * 3600
    assert repeated == 0  # one click per impression (repeats are exact duplicates)


def test_sample_available_respects_availability() -> None:
    rng = np.random.default_rng(1)
    available_from = np.array([0, 100, 200])
    at = rng.integers(0, 300, 10_000)
    choice = c.sample_available(rng, np.array([1.0, 5.0, 5.0]), available_from, at)
    assert (available_from[choice] <= at).all()
    late = at >= 200
    assert 0.35 < (choice[late] == 2).mean() < 0.55


# --- learnable signals --------------------------------------------------------------------


CTR_BY = """
    with impression as (select distinct impression_id, impressed_at, ad_id, placement, device
                        from impressions),
         click as (select distinct impression_id from clicks)
    select {by}, count(*) as n, avg((click.impression_id is not null)::int) as ctr
    from impression left join click using (impression_id)
    inner join ads using (ad_id)
    group by all
"""


def test_ctr_signals(con: duckdb.DuckDBPyConnection) -> None:
    overall = _one(con, CTR_BY.format(by="1"))[2]
    assert 0.01 < overall < 0.03
    by_placement = {
        placement: ctr
        for placement, _, ctr in con.execute(CTR_BY.format(by="placement")).fetchall()
    }
    assert by_placement["search"] > 1.5 * by_placement["feed"]
    assert by_placement["feed"] > 1.5 * by_placement["video"]
    assert by_placement["search"] > by_placement["feed"] > by_placement["sidebar"]
    after = {
        category: (n, ctr)
        for category, n, ctr in con.execute(
            CTR_BY.format(by="product_category").replace(
                "group by all", "where impressed_at >= '2025-09-01' group by all"
            )
        ).fetchall()
    }
    others = [(n, ctr) for category, (n, ctr) in after.items() if category != "wearables"]
    others_ctr = sum(n * ctr for n, ctr in others) / sum(n for n, _ in others)
    assert after["wearables"][1] > 1.25 * others_ctr
    # The launch ramps up to ads.NEW_CATEGORY_SHARE of the traffic at the end of the data, by a
    # factor e every NEW_CATEGORY_RAMP_DAYS: December gets about 40% of that share on average,
    # November e^(30 / 14) ~ 8x less.
    monthly = dict(
        con.execute(
            """select month(i.impressed_at), avg((a.product_category = 'wearables')::int)
            from impressions i inner join ads a using (ad_id)
            where i.impressed_at >= '2025-11-01' group by all"""
        ).fetchall()
    )
    assert monthly[12] == pytest.approx(0.4 * ads_mod.NEW_CATEGORY_SHARE, rel=0.5)
    assert monthly[12] > 4 * monthly[11]


CHURN = """
    with tx as (
        select distinct customer_id, cast(transacted_at as date) as d
        from transactions
        where amount > 0 and customer_id in (select customer_id from customers)
    ),
    ends as (
        select last_day(cast(m as date)) as obs
        from unnest(generate_series(date '2024-04-30', date '2025-09-30', interval 1 month)) as t(m)
    ),
    customer_months as (
        select ends.obs, tx.customer_id,
               max((tx.d <= ends.obs and tx.d > ends.obs - 365)::int) as active,
               max((tx.d > ends.obs and tx.d <= ends.obs + 90)::int) as bought_next,
               sum((tx.d <= ends.obs and tx.d > ends.obs - 30)::int) as recent_30,
               sum((tx.d <= ends.obs - 30 and tx.d > ends.obs - 120)::int) as prior_90
        from ends cross join tx
        group by all
    )
    select * from customer_months where active = 1
"""


def test_churn_label_rate_and_falling_trend(con: duckdb.DuckDBPyConnection) -> None:
    rate = _one(con, f"select avg(1 - bought_next) from ({CHURN})")[0]
    assert 0.25 < rate < 0.45
    # Same prior activity: those who stopped buying recently churn much more often.
    stopped, kept = _one(
        con,
        f"""select avg(1 - bought_next) filter (where recent_30 = 0),
                   avg(1 - bought_next) filter (where recent_30 > 0)
            from ({CHURN}) where prior_90 between 2 and 6""",
    )
    assert stopped > kept + 0.25


def test_enterprise_buys_more_often(con: duckdb.DuckDBPyConnection) -> None:
    per_customer = dict(
        con.execute(
            """select segment, count(t.transaction_id) / count(distinct c.customer_id)
               from customers c left join transactions t using (customer_id) group by 1"""
        ).fetchall()
    )
    assert per_customer["enterprise"] > 2 * per_customer["small_business"]
    assert per_customer["small_business"] > 1.5 * per_customer["consumer"]


def test_no_purchases_between_churn_and_reactivation() -> None:
    customers = make_customers(seed=5, scale=0.02)
    columns = transactions_chunk(5, 0, customers, make_products(5), first_id=1)
    known = columns["customer_id"] < c.UNKNOWN_CUSTOMER_ID_BASE
    position = columns["customer_id"][known] - 1  # ids are 1..n in order
    at = columns["transacted_at"][known]
    churn_at = customers.churn_at[position]
    back_at = customers.reactivated_at[position]
    assert ((at < churn_at) | (at >= back_at)).all()
    assert (at >= np.maximum(customers.signed_up_at[position], c.TRANSACTIONS_START)).all()
    comes_back = customers.reactivated_at < c.TRANSACTIONS_END
    churned = customers.churn_at < c.TRANSACTIONS_END
    assert 0.02 < comes_back.sum() / churned.sum() < 0.12
    assert (at >= back_at).sum() > 10  # reactivated customers really buy again
