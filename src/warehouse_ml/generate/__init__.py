"""Synthetic raw data for the warehouse: a shop (churn) and an ad platform (CTR).

``write_dataset(out, scale, seed)`` writes the six raw tables of ``docs/raw_data_contract.md``
as Parquet, chunk by chunk, and ``_manifest.json`` last. Everything depends only on the seed
and the scale: each chunk of each table has its own random stream.

Modules
-------
common
    Dates, sizes, imperfection rates, random streams and shared samplers.
shop
    Customers (latent purchase rate and churn time), products, transactions.
ads
    Ads, latent users, impressions and clicks (click model).
writer
    Arrow schemas, the Parquet writer and the manifest.
"""

from warehouse_ml.generate.common import GENERATOR_VERSION
from warehouse_ml.generate.writer import (
    MANIFEST,
    SCHEMAS,
    TABLES,
    is_up_to_date,
    iter_chunks,
    n_chunks,
    read_manifest,
    write_dataset,
)

__all__ = [
    "GENERATOR_VERSION",
    "MANIFEST",
    "SCHEMAS",
    "TABLES",
    "is_up_to_date",
    "iter_chunks",
    "n_chunks",
    "read_manifest",
    "write_dataset",
]
