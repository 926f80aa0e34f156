"""The shop: customers, products and transactions.

Behaviour the churn model can learn:

- every customer has a latent purchase rate (gamma, by segment: enterprise buys most often);
- a churn time drawn from a hazard that is higher for a low purchase rate, a short tenure and
  the consumer segment;
- purchases thin out over the 60-120 days before churn (a falling trend predicts churn), and
  stop at churn; a few customers (about 6%) come back months later at half their old rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse_ml.generate import common as c

SEGMENTS = ("consumer", "small_business", "enterprise")
SEGMENT_SHARE = np.array([0.65, 0.25, 0.10])
# Relative mean purchase rate, gamma shape and churn hazard multiplier per segment.
SEGMENT_RATE = np.array([1.0, 2.0, 4.0])
SEGMENT_RATE_SHAPE = np.array([1.5, 2.0, 3.0])
SEGMENT_HAZARD = np.array([1.6, 1.0, 0.5])
# Mean extra quantity (Poisson) per segment.
SEGMENT_EXTRA_QUANTITY = np.array([0.3, 1.0, 3.0])

REGIONS = ("north_america", "europe", "asia_pacific", "latin_america", "middle_east_africa")
REGION_SHARE = np.array([0.38, 0.30, 0.18, 0.09, 0.05])
CHANNELS = ("organic", "paid_search", "social", "referral", "email")
CHANNEL_SHARE = np.array([0.35, 0.25, 0.20, 0.12, 0.08])
# Hazard multiplier per acquisition channel (referred customers stay longer).
CHANNEL_HAZARD = np.array([1.0, 1.15, 1.3, 0.75, 0.9])

# Churn hazard per day for a customer of average rate in segment "small_business".
BASE_HAZARD_PER_DAY = 1.0 / 1000.0
EARLY_TENURE_DAYS = 180.0
EARLY_TENURE_HAZARD = 2.5
RATE_HAZARD_ELASTICITY = 0.8
# Before churn the purchase rate falls linearly to this floor over the decline window.
DECLINE_FLOOR = 0.1
DECLINE_DAYS = (60.0, 120.0)
# A few churned customers come back after a while, buying at a fraction of their old rate.
REACTIVATION_SHARE = 0.06
REACTIVATION_AFTER_DAYS = (90.0, 300.0)
REACTIVATED_RATE_FACTOR = 0.5
# Reference purchase rate per day of an average customer before normalisation.
REFERENCE_RATE_PER_DAY = 0.03

PRODUCT_KINDS = {
    "electronics": ("Headphones", "Speaker", "Charger", "Monitor", "Keyboard", "Camera"),
    "home": ("Lamp", "Kettle", "Blender", "Rug", "Pillow", "Vase"),
    "office": ("Notebook", "Desk", "Chair", "Stapler", "Printer", "Planner"),
    "outdoor": ("Tent", "Backpack", "Bottle", "Lantern", "Jacket", "Stove"),
    "apparel": ("Shirt", "Sneakers", "Hoodie", "Cap", "Scarf", "Jeans"),
    "wearables": ("Smartwatch", "Fitness Band", "Smart Ring", "Earbuds", "Sleep Tracker"),
}
CATEGORY_PRICE = {  # median list price per category
    "electronics": 120.0,
    "home": 45.0,
    "office": 30.0,
    "outdoor": 70.0,
    "apparel": 40.0,
    "wearables": 180.0,
}


@dataclass(frozen=True)
class Customers:
    """Customer attributes, including the latent ones the generator needs.

    Attributes
    ----------
    customer_id : numpy.ndarray
    signed_up_at : numpy.ndarray
        Microseconds since the epoch.
    segment, region, channel : numpy.ndarray
        Codes into ``SEGMENTS``, ``REGIONS`` and ``CHANNELS``.
    rate_per_day : numpy.ndarray
        Latent purchase rate (purchases per day, after normalisation).
    churn_at : numpy.ndarray
        Latent churn time in microseconds (may lie after the history).
    decline_days : numpy.ndarray
        Length of the pre-churn decline of each customer.
    reactivated_at : numpy.ndarray
        Time the customer starts buying again after churn (microseconds; far in the future
        for the customers who never come back).
    """

    customer_id: np.ndarray
    signed_up_at: np.ndarray
    segment: np.ndarray
    region: np.ndarray
    channel: np.ndarray
    rate_per_day: np.ndarray
    churn_at: np.ndarray
    decline_days: np.ndarray
    reactivated_at: np.ndarray

    def __len__(self) -> int:
        return int(self.customer_id.shape[0])

    def slice(self, start: int, stop: int) -> Customers:
        """Return the customers at positions ``start:stop``."""
        return Customers(**{k: v[start:stop] for k, v in self.__dict__.items()})


@dataclass(frozen=True)
class Products:
    """The product catalogue.

    Attributes
    ----------
    product_id : numpy.ndarray
    product_name : list of str
    category : numpy.ndarray
        Codes into ``common.CATEGORIES``.
    launched_at : numpy.ndarray
        Microseconds since the epoch.
    list_price : numpy.ndarray
    popularity : numpy.ndarray
        Latent sales weight.
    """

    product_id: np.ndarray
    product_name: list[str]
    category: np.ndarray
    launched_at: np.ndarray
    list_price: np.ndarray
    popularity: np.ndarray


def n_customers_for(scale: float) -> int:
    """Number of customers at a scale (at least 50)."""
    return max(50, round(c.CUSTOMERS_PER_SCALE * scale))


def make_products(seed: int, new_category: bool = True) -> Products:
    """Generate the fixed catalogue of ``common.N_PRODUCTS`` products.

    ``common.N_NEW_CATEGORY_PRODUCTS`` of them belong to the new category and launch on or
    after its launch date (the first ones exactly on it); the others launch before the
    transaction history starts.

    Parameters
    ----------
    seed : int
    new_category : bool, default True
        False: no launch; the catalogue is the ``N_PRODUCTS - N_NEW_CATEGORY_PRODUCTS`` older
        products only.

    Returns
    -------
    Products
    """
    rng = c.rng_for(seed, "products")
    n_old = c.N_PRODUCTS - c.N_NEW_CATEGORY_PRODUCTS
    n_new = c.N_NEW_CATEGORY_PRODUCTS if new_category else 0
    old_categories = len(c.CATEGORIES) - 1
    category = np.concatenate(
        [np.arange(n_old) % old_categories, np.full(n_new, old_categories)]
    ).astype(np.int64)
    launched_old = rng.integers(c.to_us("2021-01-01"), c.to_us("2023-12-01"), n_old)
    # New category: half on launch day, the rest over the following six weeks (whole days).
    offsets = np.where(np.arange(n_new) < n_new // 2, 0, rng.integers(1, 43, n_new))
    launched_new = c.NEW_CATEGORY_LAUNCH + offsets * c.US_PER_DAY
    launched_at = np.concatenate([launched_old, launched_new]).astype(np.int64)
    median = np.array([CATEGORY_PRICE[c.CATEGORIES[k]] for k in category])
    # Shop prices end in .99.
    list_price = np.floor(median * rng.lognormal(0.0, 0.45, n_old + n_new)) + 0.99
    popularity = rng.lognormal(0.0, 0.8, n_old + n_new)
    # The new category is a hit: after its launch it takes a clear share of sales.
    popularity[category == old_categories] *= 3.0
    names = []
    counters: dict[str, int] = {}
    for k in category:
        name = c.CATEGORIES[k]
        kinds = PRODUCT_KINDS[name]
        i = counters.get(name, 0)
        counters[name] = i + 1
        names.append(f"{kinds[i % len(kinds)]} {100 + i}")
    return Products(
        product_id=np.arange(1, n_old + n_new + 1, dtype=np.int64),
        product_name=names,
        category=category,
        launched_at=launched_at,
        list_price=list_price,
        popularity=popularity,
    )


def expected_purchase_days(customers: Customers) -> np.ndarray:
    """Integral of the rate multiplier over each customer's active windows (in days).

    Multiplying by ``rate_per_day`` gives the expected number of transactions in the history.
    """
    start = np.maximum(customers.signed_up_at, c.TRANSACTIONS_START) / c.US_PER_DAY
    end = np.minimum(customers.churn_at, c.TRANSACTIONS_END) / c.US_PER_DAY
    churn = customers.churn_at / c.US_PER_DAY
    decline_start = churn - customers.decline_days
    flat = np.clip(np.minimum(end, decline_start) - start, 0.0, None)
    a = np.maximum(start, decline_start)
    b = end
    span = np.clip(b - a, 0.0, None)
    slope = (1.0 - DECLINE_FLOOR) / customers.decline_days
    # integral of FLOOR + slope * (churn - t) over [a, b]
    sloped = DECLINE_FLOOR * span + slope * ((churn - a) ** 2 - (churn - (a + span)) ** 2) / 2.0
    comeback = np.clip(
        (c.TRANSACTIONS_END - np.maximum(customers.reactivated_at, c.TRANSACTIONS_START))
        / c.US_PER_DAY,
        0.0,
        None,
    )
    return flat + np.where(span > 0, sloped, 0.0) + REACTIVATED_RATE_FACTOR * comeback


def make_customers(seed: int, scale: float) -> Customers:
    """Generate all customers with their latent purchase rate and churn time.

    Customer rows are drawn chunk by chunk (one random stream per chunk); the purchase rates
    are then normalised so the expected number of transactions is
    ``common.TRANSACTIONS_PER_SCALE * scale``.

    Parameters
    ----------
    seed : int
    scale : float

    Returns
    -------
    Customers
    """
    n = n_customers_for(scale)
    parts = []
    for chunk, start in enumerate(range(0, n, c.CUSTOMERS_PER_CHUNK)):
        size = min(c.CUSTOMERS_PER_CHUNK, n - start)
        rng = c.rng_for(seed, "customers", chunk)
        # Sign-ups grow over time: density rises linearly to twice its initial value.
        u = rng.random(size)
        frac = np.sqrt(1.0 + 3.0 * u) - 1.0  # inverse CDF of density (1 + x) on [0, 1]
        signed_up_at = (c.SIGNUPS_START + frac * (c.SIGNUPS_END - c.SIGNUPS_START)).astype(np.int64)
        segment = rng.choice(len(SEGMENTS), size=size, p=SEGMENT_SHARE)
        region = rng.choice(len(REGIONS), size=size, p=REGION_SHARE)
        channel = rng.choice(len(CHANNELS), size=size, p=CHANNEL_SHARE)
        shape = SEGMENT_RATE_SHAPE[segment]
        relative_rate = rng.gamma(shape, SEGMENT_RATE[segment] / shape)
        # Churn hazard: higher for low rate (relative to segment), consumers, early tenure.
        rate_ratio = np.clip(relative_rate / SEGMENT_RATE[segment], 0.05, 20.0)
        late_hazard = (
            BASE_HAZARD_PER_DAY
            * SEGMENT_HAZARD[segment]
            * CHANNEL_HAZARD[channel]
            * rate_ratio ** (-RATE_HAZARD_ELASTICITY)
        )
        early_hazard = late_hazard * EARLY_TENURE_HAZARD
        exposure = rng.exponential(1.0, size)
        early_exposure = early_hazard * EARLY_TENURE_DAYS
        churn_days = np.where(
            exposure < early_exposure,
            exposure / early_hazard,
            EARLY_TENURE_DAYS + (exposure - early_exposure) / late_hazard,
        )
        churn_at = signed_up_at + (churn_days * c.US_PER_DAY).astype(np.int64)
        decline_days = rng.uniform(*DECLINE_DAYS, size)
        comes_back = rng.random(size) < REACTIVATION_SHARE
        reactivated_at = np.where(
            comes_back,
            churn_at
            + (rng.uniform(*REACTIVATION_AFTER_DAYS, size) * c.US_PER_DAY).astype(np.int64),
            np.iinfo(np.int64).max // 2,
        )
        parts.append(
            (
                np.arange(start + 1, start + size + 1, dtype=np.int64),
                signed_up_at,
                segment,
                region,
                channel,
                relative_rate * REFERENCE_RATE_PER_DAY,
                churn_at,
                decline_days,
                reactivated_at,
            )
        )
    columns = [np.concatenate(col) for col in zip(*parts, strict=True)]
    customers = Customers(*columns)
    expected = np.sum(customers.rate_per_day * expected_purchase_days(customers))
    factor = c.TRANSACTIONS_PER_SCALE * scale / max(expected, 1e-9)
    return Customers(**{**customers.__dict__, "rate_per_day": customers.rate_per_day * factor})


def transactions_chunk(
    seed: int,
    chunk: int,
    customers: Customers,
    products: Products,
    first_id: int,
) -> dict[str, np.ndarray]:
    """Generate the transactions of one chunk of customers.

    Purchases follow a Poisson process per customer, drawn by thinning: candidate times at
    the customer's full rate, each kept with the probability given by the pre-churn decline;
    customers who come back get a second process from their reactivation on.

    Parameters
    ----------
    seed : int
    chunk : int
        Chunk index (selects the random stream).
    customers : Customers
        The customers of this chunk.
    products : Products
    first_id : int
        ``transaction_id`` of the first (non-duplicate) row.

    Returns
    -------
    dict of str to numpy.ndarray
        Columns of the ``transactions`` table, duplicates and other imperfections included.
    """
    rng = c.rng_for(seed, "transactions", chunk)
    start = np.maximum(customers.signed_up_at, c.TRANSACTIONS_START)
    end = np.minimum(customers.churn_at, c.TRANSACTIONS_END)
    span = np.clip(end - start, 0, None)
    counts = rng.poisson(customers.rate_per_day * span / c.US_PER_DAY)
    owner = np.repeat(np.arange(len(customers)), counts)
    at = start[owner] + (rng.random(owner.shape[0]) * span[owner]).astype(np.int64)
    to_churn_days = (customers.churn_at[owner] - at) / c.US_PER_DAY
    keep_probability = np.clip(
        DECLINE_FLOOR + (1.0 - DECLINE_FLOOR) * to_churn_days / customers.decline_days[owner],
        DECLINE_FLOOR,
        1.0,
    )
    keep = rng.random(owner.shape[0]) < keep_probability
    owner, at = owner[keep], at[keep]
    # Customers who come back: a second Poisson process from reactivation to the history end.
    back_start = np.maximum(customers.reactivated_at, c.TRANSACTIONS_START)
    back_span = np.clip(c.TRANSACTIONS_END - back_start, 0, None)
    back_counts = rng.poisson(
        REACTIVATED_RATE_FACTOR * customers.rate_per_day * back_span / c.US_PER_DAY
    )
    back_owner = np.repeat(np.arange(len(customers)), back_counts)
    back_at = back_start[back_owner] + (
        rng.random(back_owner.shape[0]) * back_span[back_owner]
    ).astype(np.int64)
    owner = np.concatenate([owner, back_owner])
    at = np.concatenate([at, back_at])
    order = np.argsort(at, kind="stable")
    owner, at = owner[order], at[order]
    n = at.shape[0]

    product = c.sample_available(rng, products.popularity, products.launched_at, at)
    segment = customers.segment[owner]
    quantity = (1 + rng.poisson(SEGMENT_EXTRA_QUANTITY[segment])).astype(np.int32)
    amount = np.round(quantity * products.list_price[product] * rng.lognormal(0.0, 0.05, n), 2)
    customer_id = customers.customer_id[owner].copy()

    # Imperfections.
    unknown = rng.random(n) < c.UNKNOWN_CUSTOMER_RATE
    customer_id[unknown] = c.UNKNOWN_CUSTOMER_ID_BASE + rng.integers(0, 1_000_000, unknown.sum())
    bad = rng.random(n)
    amount[bad < c.NEGATIVE_AMOUNT_RATE] *= -1.0
    amount[
        (bad >= c.NEGATIVE_AMOUNT_RATE) & (bad < c.NEGATIVE_AMOUNT_RATE + c.NULL_AMOUNT_RATE)
    ] = np.nan
    loaded_at = c.loaded_at_for(rng, at)
    transaction_id = np.arange(first_id, first_id + n, dtype=np.int64)
    dup, extra = c.duplicate_rows(rng, n)
    columns = {
        "transaction_id": transaction_id,
        "customer_id": customer_id,
        "product_id": products.product_id[product],
        "transacted_at": at,
        "amount": amount,
        "quantity": quantity,
        "loaded_at": loaded_at,
    }
    out = {k: np.concatenate([v, v[dup]]) for k, v in columns.items()}
    out["loaded_at"][n:] += extra
    return out
