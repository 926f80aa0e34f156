"""Write the generated tables as Parquet, chunk by chunk, and the manifest last.

Layout (see ``docs/raw_data_contract.md``)::

    <out>/<table>/part-00000.parquet, part-00001.parquet, ...
    <out>/_manifest.json          written last: its presence means the data set is complete
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse_ml.generate import ads as ads_mod
from warehouse_ml.generate import common as c
from warehouse_ml.generate import shop

MANIFEST = "_manifest.json"
TABLES = ("customers", "products", "transactions", "ads", "impressions", "clicks")

_TS = pa.timestamp("us")
SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema(
        [
            ("customer_id", pa.int64()),
            ("signed_up_at", _TS),
            ("segment", pa.string()),
            ("region", pa.string()),
            ("acquisition_channel", pa.string()),
        ]
    ),
    "products": pa.schema(
        [
            ("product_id", pa.int64()),
            ("product_name", pa.string()),
            ("category", pa.string()),
            ("launched_at", _TS),
            ("list_price", pa.float64()),
        ]
    ),
    "transactions": pa.schema(
        [
            ("transaction_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("product_id", pa.int64()),
            ("transacted_at", _TS),
            ("amount", pa.float64()),
            ("quantity", pa.int32()),
            ("loaded_at", _TS),
        ]
    ),
    "ads": pa.schema(
        [
            ("ad_id", pa.int64()),
            ("campaign_id", pa.int64()),
            ("product_category", pa.string()),
            ("created_at", _TS),
        ]
    ),
    "impressions": pa.schema(
        [
            ("impression_id", pa.int64()),
            ("impressed_at", _TS),
            ("ad_id", pa.int64()),
            ("placement", pa.string()),
            ("device", pa.string()),
            ("user_id", pa.int64()),
            ("loaded_at", _TS),
        ]
    ),
    "clicks": pa.schema(
        [
            ("impression_id", pa.int64()),
            ("clicked_at", _TS),
            ("loaded_at", _TS),
        ]
    ),
}

# Code columns and the labels their codes index.
_LABELS: dict[str, tuple[str, ...]] = {
    "segment": shop.SEGMENTS,
    "region": shop.REGIONS,
    "acquisition_channel": shop.CHANNELS,
    "category": c.CATEGORIES,
    "product_category": c.CATEGORIES,
    "placement": ads_mod.PLACEMENTS,
    "device": ads_mod.DEVICES,
}


def to_table(name: str, columns: dict[str, np.ndarray | list]) -> pa.Table:
    """Build an Arrow table with the contract schema from numpy columns.

    Integer codes of categorical columns become strings, NaN amounts become nulls.

    Parameters
    ----------
    name : str
        Table name (a key of ``SCHEMAS``).
    columns : dict
        Column name to values.

    Returns
    -------
    pyarrow.Table
    """
    schema = SCHEMAS[name]
    arrays = []
    for field in schema:
        values = columns[field.name]
        if field.name in _LABELS and not isinstance(values, list):
            dictionary = pa.array(_LABELS[field.name], type=pa.string())
            indices = pa.array(np.asarray(values, dtype=np.int32))
            array = pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
        elif pa.types.is_timestamp(field.type):
            array = pa.array(np.asarray(values, dtype=np.int64)).cast(field.type)
        else:
            array = pa.array(values, type=field.type, from_pandas=True)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=schema)


def read_manifest(out: Path) -> dict | None:
    """Return the manifest of a data set, or None if there is none (or it is unreadable)."""
    path = Path(out) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _launch_entries(new_category: bool, share: float, effect: float) -> dict:
    """The manifest's launch entries: ``new_category: false``, or the launch's share and effect."""
    if not new_category:
        return {"new_category": False}
    return {"new_category_share": share, "new_category_effect": effect}


def is_up_to_date(
    out: Path,
    scale: float,
    seed: int,
    new_category: bool = True,
    new_category_share: float = ads_mod.NEW_CATEGORY_SHARE,
    new_category_effect: float = ads_mod.NEW_CATEGORY_EFFECT,
) -> bool:
    """True if ``out`` holds a complete data set of this scale, seed, launch and generator."""
    manifest = read_manifest(out)
    launch = _launch_entries(new_category, new_category_share, new_category_effect)
    return (
        manifest is not None
        and manifest.get("generator_version") == c.GENERATOR_VERSION
        and manifest.get("seed") == seed
        and manifest.get("scale") == scale
        and manifest.get("new_category", True) == new_category
        and all(manifest.get(key) == value for key, value in launch.items())
        and all((Path(out) / t).is_dir() for t in TABLES)
    )


def clear(out: Path) -> None:
    """Delete the manifest (first) and the six table folders; nothing else in ``out``."""
    out = Path(out)
    (out / MANIFEST).unlink(missing_ok=True)
    for table in TABLES:
        folder = out / table
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        elif folder.is_dir():
            shutil.rmtree(folder)


def plan(scale: float) -> dict[str, int]:
    """Number of chunks per table at a scale."""
    return {
        "customers": 1,
        "products": 1,
        "transactions": math.ceil(shop.n_customers_for(scale) / c.CUSTOMERS_PER_CHUNK),
        "ads": 1,
        "impressions": math.ceil(ads_mod.n_impressions_for(scale) / c.IMPRESSIONS_PER_CHUNK),
    }


def iter_chunks(
    seed: int,
    scale: float,
    new_category: bool = True,
    new_category_share: float = ads_mod.NEW_CATEGORY_SHARE,
    new_category_effect: float = ads_mod.NEW_CATEGORY_EFFECT,
) -> Iterator[tuple[str, pa.Table]]:
    """Yield ``(table, arrow chunk)`` pairs of the whole data set, in a fixed order.

    Parameters
    ----------
    seed : int
    scale : float
    new_category : bool, default True
        False: the new category is never launched (no products, ads or sales of it).
    new_category_share : float, default ads.NEW_CATEGORY_SHARE
        The new category's share of impressions at the end of the data (it ramps up to it).
    new_category_effect : float, default ads.NEW_CATEGORY_EFFECT
        Strength of its own click behaviour (0: clicks like the old categories).

    Yields
    ------
    tuple of (str, pyarrow.Table)
    """
    ads_mod.check_launch(new_category_share, new_category_effect)
    products = shop.make_products(seed, new_category)
    yield (
        "products",
        to_table(
            "products",
            {
                "product_id": products.product_id,
                "product_name": products.product_name,
                "category": products.category,
                "launched_at": products.launched_at,
                "list_price": products.list_price,
            },
        ),
    )
    customers = shop.make_customers(seed, scale)
    yield (
        "customers",
        to_table(
            "customers",
            {
                "customer_id": customers.customer_id,
                "signed_up_at": customers.signed_up_at,
                "segment": customers.segment,
                "region": customers.region,
                "acquisition_channel": customers.channel,
            },
        ),
    )
    next_id = 1
    for chunk, start in enumerate(range(0, len(customers), c.CUSTOMERS_PER_CHUNK)):
        part = customers.slice(start, start + c.CUSTOMERS_PER_CHUNK)
        columns = shop.transactions_chunk(seed, chunk, part, products, next_id)
        next_id = int(columns["transaction_id"].max(initial=next_id - 1)) + 1
        yield "transactions", to_table("transactions", columns)
    del customers

    ads = ads_mod.make_ads(seed, scale, new_category, new_category_share, new_category_effect)
    yield (
        "ads",
        to_table(
            "ads",
            {
                "ad_id": ads.ad_id,
                "campaign_id": ads.campaign_id,
                "product_category": ads.category,
                "created_at": ads.created_at,
            },
        ),
    )
    users = ads_mod.make_users(seed, scale)
    total = ads_mod.n_impressions_for(scale)
    for chunk, start in enumerate(range(0, total, c.IMPRESSIONS_PER_CHUNK)):
        size = min(c.IMPRESSIONS_PER_CHUNK, total - start)
        impressions, clicks = ads_mod.impressions_chunk(seed, chunk, size, start + 1, ads, users)
        yield "impressions", to_table("impressions", impressions)
        yield "clicks", to_table("clicks", clicks)


def write_dataset(
    out: Path,
    scale: float,
    seed: int,
    on_chunk: Callable[[str], None] | None = None,
    new_category: bool = True,
    new_category_share: float = ads_mod.NEW_CATEGORY_SHARE,
    new_category_effect: float = ads_mod.NEW_CATEGORY_EFFECT,
) -> dict:
    """Generate the data set into ``out`` and write the manifest last.

    Existing table folders and the manifest are deleted first (the manifest before anything
    else, so an interrupted run never looks complete); nothing else in ``out`` is touched.

    Parameters
    ----------
    out : pathlib.Path
    scale : float
        Size factor (> 0); scale 1 is about 1M transactions and 5M impressions.
    seed : int
    on_chunk : callable, optional
        Called with the table name after each chunk is written (progress reporting).
    new_category : bool, default True
        False: no launch of the new category (``common.NEW_CATEGORY``); the manifest records it
        as ``"new_category": false``.
    new_category_share, new_category_effect : float
        The launch's final share of impressions and the strength of its own click behaviour (see
        ``ads.NEW_CATEGORY_SHARE`` and ``ads.NEW_CATEGORY_EFFECT``); recorded in the manifest.

    Returns
    -------
    dict
        The manifest.
    """
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    ads_mod.check_launch(new_category_share, new_category_effect)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clear(out)
    for table in TABLES:
        (out / table).mkdir()
    counts = dict.fromkeys(TABLES, 0)
    parts = dict.fromkeys(TABLES, 0)
    chunks = iter_chunks(seed, scale, new_category, new_category_share, new_category_effect)
    for table, arrow in chunks:
        path = out / table / f"part-{parts[table]:05d}.parquet"
        pq.write_table(arrow, path, compression="zstd", row_group_size=1_000_000)
        parts[table] += 1
        counts[table] += arrow.num_rows
        if on_chunk is not None:
            on_chunk(table)
    manifest = {
        "generator_version": c.GENERATOR_VERSION,
        "scale": scale,
        "seed": seed,
        **_launch_entries(new_category, new_category_share, new_category_effect),
        "row_counts": counts,
        "files": parts,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.replace(out / MANIFEST)
    return manifest


def n_chunks(scale: float) -> int:
    """Total number of chunks (files) ``iter_chunks`` yields at a scale."""
    p = plan(scale)
    return p["customers"] + p["products"] + p["transactions"] + p["ads"] + 2 * p["impressions"]
