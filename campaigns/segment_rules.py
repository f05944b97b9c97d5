"""Pure helpers behind segments: distances, age bands and look-alike scores.

No Django here: numbers and arrays in, numbers and arrays out, so the maths
is tested without a database and reused by the benchmark.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import scipy.sparse as sp

#: Mean Earth radius (IUGG), km: the same constant the SQL expression uses.
EARTH_RADIUS_KM = 6371.0088


def haversine_km(
    lat1: np.ndarray | float,
    lon1: np.ndarray | float,
    lat2: np.ndarray | float,
    lon2: np.ndarray | float,
) -> np.ndarray:
    """Great-circle distance in km between points given in decimal degrees."""
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year - years, day=28)


def birth_date_bounds(
    *, today: dt.date, min_age: int | None, max_age: int | None
) -> tuple[dt.date | None, dt.date | None]:
    """``(earliest, latest)`` birth dates of people aged min_age..max_age today.

    Both ends are inclusive: someone aged exactly ``max_age`` (until the eve
    of their next birthday) is inside, as is someone who turns ``min_age``
    today.
    """
    latest = _years_before(today, min_age) if min_age is not None else None
    earliest = None
    if max_age is not None:
        earliest = _years_before(today, max_age + 1) + dt.timedelta(days=1)
    return earliest, latest


def lookalike_customer_ids(
    pairs: pd.DataFrame,
    seed_ids: np.ndarray | list[int],
    *,
    limit: int,
    min_similarity: float,
) -> np.ndarray:
    """Customers whose purchase profile is closest to the seed group's.

    ``pairs`` has columns ``customer_id`` (int64) and ``feature`` (int64: a
    category, or a product without one), one row per thing a customer kept.
    Each customer is a binary vector over features, L2-normalised; the seed
    group is the mean of its members' vectors, and a customer's score is the
    cosine between their vector and that centroid. Seeds themselves are
    never returned. At most ``limit`` ids come back, best first (ties by
    id), each with a score of at least ``min_similarity``.

    The recommendation engine's look-alikes (``similarity``) compare each
    customer to every other one over products; a segment needs the opposite
    shape (many customers against one group), and categories generalise
    better than products for a small seed group.
    """
    if pairs.empty or len(seed_ids) == 0 or limit <= 0:
        return np.array([], dtype=np.int64)
    pairs = pairs[["customer_id", "feature"]].drop_duplicates()
    customer_codes, customer_ids = pd.factorize(pairs["customer_id"], sort=True)
    feature_codes, _ = pd.factorize(pairs["feature"])
    matrix = sp.csr_matrix(
        (np.ones(len(pairs), dtype=np.float64), (customer_codes, feature_codes)),
        shape=(len(customer_ids), int(feature_codes.max()) + 1),
    )
    norms = np.sqrt(np.asarray(matrix.sum(axis=1)).ravel())
    matrix = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ matrix
    customer_ids = np.asarray(customer_ids, dtype=np.int64)
    is_seed = np.isin(customer_ids, np.asarray(seed_ids, dtype=np.int64))
    if not is_seed.any():
        return np.array([], dtype=np.int64)
    centroid = np.asarray(matrix[is_seed].mean(axis=0)).ravel()
    length = np.linalg.norm(centroid)
    if length == 0:
        return np.array([], dtype=np.int64)
    scores = matrix @ (centroid / length)
    keep = (~is_seed) & (scores >= min_similarity)
    candidates = pd.DataFrame(
        {"customer_id": customer_ids[keep], "score": scores[keep]}
    )
    candidates = candidates.sort_values(
        ["score", "customer_id"], ascending=[False, True]
    ).head(limit)
    return candidates["customer_id"].to_numpy(dtype=np.int64)
