"""Shared constants and helpers of the raw data generator.

Times are handled as ``int64`` microseconds since the Unix epoch (UTC) throughout, which is
what Parquet ``timestamp[us]`` stores, so no conversion is needed when writing.
"""

from __future__ import annotations

import zlib
from datetime import datetime

import numpy as np

GENERATOR_VERSION = "1.4.0"

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR


def to_us(value: str) -> int:
    """Convert an ISO date or datetime string (UTC) to microseconds since the epoch.

    Parameters
    ----------
    value : str
        For example ``"2025-09-01"`` or ``"2025-09-01T12:00:00"``.

    Returns
    -------
    int
        Microseconds since 1970-01-01T00:00:00 UTC.
    """
    moment = datetime.fromisoformat(value)
    return int((moment - datetime(1970, 1, 1)).total_seconds()) * US_PER_SECOND


# History windows of the generated data (end bounds are exclusive).
TRANSACTIONS_START = to_us("2024-01-01")
TRANSACTIONS_END = to_us("2026-01-01")
IMPRESSIONS_START = to_us("2025-05-01")
IMPRESSIONS_END = to_us("2026-01-01")
SIGNUPS_START = to_us("2022-01-01")
SIGNUPS_END = to_us("2025-11-30")

NEW_CATEGORY = "wearables"
NEW_CATEGORY_LAUNCH = to_us("2025-09-01")
CATEGORIES = ("electronics", "home", "office", "outdoor", "apparel", NEW_CATEGORY)

# Sizes at scale 1 (linear in the scale unless noted).
TRANSACTIONS_PER_SCALE = 1_000_000
IMPRESSIONS_PER_SCALE = 5_000_000
CUSTOMERS_PER_SCALE = 60_000
USERS_PER_SCALE = 100_000
N_PRODUCTS = 200  # fixed
N_NEW_CATEGORY_PRODUCTS = 25  # fixed

# Rows per chunk: customers per transactions chunk, impressions per impressions chunk.
CUSTOMERS_PER_CHUNK = 100_000
IMPRESSIONS_PER_CHUNK = 2_000_000

# Imperfections (fractions of rows).
DUPLICATE_RATE = 0.005
LATE_RATE = 0.01
ORPHAN_CLICK_RATE = 0.003
NULL_AMOUNT_RATE = 0.003
NEGATIVE_AMOUNT_RATE = 0.002
UNKNOWN_CUSTOMER_RATE = 0.001

# Ids at or above these never exist in customers / impressions.
UNKNOWN_CUSTOMER_ID_BASE = 9_000_000_000
ORPHAN_IMPRESSION_ID_BASE = 9_000_000_000_000


def rng_for(seed: int, table: str, chunk: int = 0) -> np.random.Generator:
    """Return the random generator of one chunk of one table.

    The stream depends only on ``seed``, the table name and the chunk index, so a chunk's
    content does not depend on the order in which chunks are generated.

    Parameters
    ----------
    seed : int
        The user's seed.
    table : str
        Name of the table (or of a latent entity such as ``"users"``).
    chunk : int, default 0
        Index of the chunk within the table.

    Returns
    -------
    numpy.random.Generator
    """
    key = zlib.crc32(table.encode("utf-8"))
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key, chunk)))
    )


def n_ads_for(scale: float) -> int:
    """Number of ads at a scale: ``max(40, round(300 * sqrt(scale)))``."""
    return max(40, round(300 * float(np.sqrt(scale))))


def loaded_at_for(rng: np.random.Generator, event_at: np.ndarray) -> np.ndarray:
    """Draw warehouse load times for events, about 1% of them late.

    On-time rows load seconds to hours after the event (exponential, mean 20 minutes,
    at least 5 seconds); late rows load 2 to 10 days after it.

    Parameters
    ----------
    rng : numpy.random.Generator
    event_at : numpy.ndarray
        Event times in microseconds.

    Returns
    -------
    numpy.ndarray
        Load times in microseconds (int64), always after the event.
    """
    n = event_at.shape[0]
    delay = 5 * US_PER_SECOND + rng.exponential(20 * US_PER_MINUTE, n).astype(np.int64)
    late = rng.random(n) < LATE_RATE
    late_delay = rng.uniform(2 * US_PER_DAY, 10 * US_PER_DAY, n).astype(np.int64)
    return event_at + np.where(late, late_delay, delay)


def duplicate_rows(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pick rows to deliver twice and the extra load delay of each copy.

    Half of the copies keep the original ``loaded_at``; the other half arrive between a
    minute and six hours later (so a copy of an on-time row does not look late).

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Number of rows.

    Returns
    -------
    index : numpy.ndarray
        Positions of the rows to copy (sorted).
    extra_delay : numpy.ndarray
        Microseconds to add to the copy's ``loaded_at``.
    """
    index = np.flatnonzero(rng.random(n) < DUPLICATE_RATE)
    same = rng.random(index.shape[0]) < 0.5
    extra = rng.uniform(US_PER_MINUTE, 6 * US_PER_HOUR, index.shape[0]).astype(np.int64)
    return index, np.where(same, 0, extra)


def sample_weighted(rng: np.random.Generator, cumulative: np.ndarray, n: int) -> np.ndarray:
    """Draw ``n`` indices from normalised cumulative weights (inverse CDF)."""
    return np.minimum(np.searchsorted(cumulative, rng.random(n), side="right"), len(cumulative) - 1)


def sample_available(
    rng: np.random.Generator,
    weights: np.ndarray,
    available_from: np.ndarray,
    at: np.ndarray,
    max_rounds: int = 200,
) -> np.ndarray:
    """Draw an item per event among the items already available at the event time.

    Rejection sampling: draw from ``weights``, redraw the events whose item is not yet
    available (``available_from > at``). The loop runs over rounds, not rows.

    Parameters
    ----------
    rng : numpy.random.Generator
    weights : numpy.ndarray
        Non-negative weight per item.
    available_from : numpy.ndarray
        Time (microseconds) from which each item may be chosen.
    at : numpy.ndarray
        Event times (microseconds).
    max_rounds : int, default 200
        After this many rounds the remaining events get the heaviest always-available item.

    Returns
    -------
    numpy.ndarray
        Item index per event.
    """
    cumulative = np.cumsum(weights) / np.sum(weights)
    choice = sample_weighted(rng, cumulative, at.shape[0])
    pending = np.flatnonzero(available_from[choice] > at)
    for _ in range(max_rounds):
        if pending.size == 0:
            break
        choice[pending] = sample_weighted(rng, cumulative, pending.size)
        pending = pending[available_from[choice[pending]] > at[pending]]
    if pending.size:
        fallback = np.argmax(np.where(available_from <= at.min(), weights, -1.0))
        choice[pending] = fallback
    return choice
