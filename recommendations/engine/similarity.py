"""Purchase profiles and the collaborative scores built on them.

Everything here works on a customer x product matrix: item-kNN (cosine between
products over customers), look-alike customers (cosine between customers over
products, plus optional demographic features), pair-rule confidence and
popularity. ``blend_cross_sell_scores`` combines them with tuned weights; it is
the engine's cross-sell candidate generator, used by the pipeline and measured
offline by ``evaluation``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommendations.engine._validation import require_frame, require_no_nulls

#: Purchase events. dtypes: customer_id int64, product_id int64|str,
#: purchased_at datetime64 (any resolution; tz-aware or naive, consistent with
#: ``now``), basket_id any hashable (order id or invoice).
PURCHASE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "product_id",
    "purchased_at",
    "basket_id",
)

#: Long candidate frame. dtypes: customer_id int64, product_id (as purchases),
#: score float64, item_knn float64, lookalike float64, rule_confidence float64,
#: popularity float64 (each component in [0, 1] per customer).
CANDIDATE_SCORE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "product_id",
    "score",
    "item_knn",
    "lookalike",
    "rule_confidence",
    "popularity",
)


@dataclass(frozen=True)
class BlendWeights:
    """Weights of the cross-sell score components (tuned on Online Retail).

    Look-alikes are searched among at most ``max_neighbour_pool`` customers (those
    who bought the most distinct products), which keeps the neighbour search
    linear in the number of customers beyond that size: scoring 100,000
    customers compares each with 5,000, not with everyone. Below that many
    customers (Online Retail has 4,372) everyone is a candidate neighbour.
    """

    item_knn: float = 1.0
    lookalike: float = 1.0
    rules: float = 0.5
    popularity: float = 0.02
    half_life_days: float = 60.0
    neighbours: int = 30
    min_pair_count: int = 10
    max_neighbour_pool: int = 5_000


@dataclass(frozen=True)
class PurchaseProfile:
    """Customer x product matrices of one purchase history.

    ``owned`` is a bool CSR (customers x products); ``recency`` a float32 CSR
    holding ``log1p(sum of exp-decayed purchase weights)``; ``basket_counts`` the
    number of baskets holding each product (int64); ids are sorted arrays.
    """

    customer_ids: np.ndarray
    product_ids: np.ndarray
    owned: sp.csr_matrix
    recency: sp.csr_matrix
    basket_counts: np.ndarray
    pair_counts: sp.csr_matrix


def build_purchase_profile(
    purchases: pd.DataFrame, *, now: pd.Timestamp, half_life_days: float = 60.0
) -> PurchaseProfile:
    """Build a ``PurchaseProfile`` from purchase events (``PURCHASE_COLUMNS``).

    A purchase ``d`` days before ``now`` weighs ``0.5 ** (d / half_life_days)``.
    Pair counts (products bought in the same basket) feed the pair rules.
    """
    require_frame(purchases, name="purchases", columns=PURCHASE_COLUMNS)
    require_no_nulls(purchases, name="purchases", columns=PURCHASE_COLUMNS)
    if not half_life_days > 0:
        raise ValueError(f"half_life_days must be > 0, got {half_life_days!r}")
    customer_codes, customer_ids = pd.factorize(purchases["customer_id"], sort=True)
    product_codes, product_ids = pd.factorize(purchases["product_id"], sort=True)
    shape = (len(customer_ids), len(product_ids))
    age_days = (now - pd.to_datetime(purchases["purchased_at"])).dt.total_seconds()
    weights = np.power(
        0.5, np.clip(age_days.to_numpy() / 86400.0, 0, None) / half_life_days
    )
    recency = sp.csr_matrix(
        (weights.astype(np.float64), (customer_codes, product_codes)), shape=shape
    )
    recency.sum_duplicates()
    recency.data = np.log1p(recency.data)
    owned = recency.astype(bool)
    basket_codes, _ = pd.factorize(purchases["basket_id"])
    baskets = sp.csr_matrix(
        (np.ones(len(purchases), dtype=np.int32), (basket_codes, product_codes)),
        shape=(int(basket_codes.max(initial=-1)) + 1, shape[1]),
    )
    baskets.sum_duplicates()
    baskets.data[:] = 1
    basket_counts = np.asarray(baskets.sum(axis=0), dtype=np.int64).ravel()
    pair_counts = (baskets.T @ baskets).tocsr()
    pair_counts.setdiag(0)
    pair_counts.eliminate_zeros()
    return PurchaseProfile(
        customer_ids=np.asarray(customer_ids),
        product_ids=np.asarray(product_ids),
        owned=owned.tocsr(),
        recency=recency.astype(np.float32).tocsr(),
        basket_counts=basket_counts,
        pair_counts=pair_counts.astype(np.int64),
    )


def item_similarity(owned: sp.csr_matrix) -> sp.csr_matrix:
    """Cosine similarity between products over customers (zero diagonal)."""
    binary = owned.astype(np.float32)
    norms = np.sqrt(np.asarray(binary.sum(axis=0)).ravel())
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    gram = (binary.T @ binary).tocsr()
    scaled = sp.diags(inverse) @ gram @ sp.diags(inverse)
    scaled = sp.csr_matrix(scaled, dtype=np.float32)
    scaled.setdiag(0)
    scaled.eliminate_zeros()
    return scaled


def pair_confidence(profile: PurchaseProfile, *, min_pair_count: int) -> sp.csr_matrix:
    """Confidence of pair rules a -> c as a sparse (products x products) matrix.

    Entry (a, c) = baskets(a and c) / baskets(a), kept when baskets(a and c) >=
    ``min_pair_count``.
    """
    pairs = profile.pair_counts.tocoo()
    keep = pairs.data >= min_pair_count
    confidence = pairs.data[keep] / profile.basket_counts[pairs.row[keep]]
    return sp.csr_matrix(
        (confidence.astype(np.float32), (pairs.row[keep], pairs.col[keep])),
        shape=pairs.shape,
    )


#: Above this many products the (products x products) matrices stay sparse:
#: dense ones make the per-customer products several times faster but take
#: products² x 4 bytes each.
DENSE_CONFIDENCE_MAX_PRODUCTS = 4_000
#: The pool's purchases are kept dense up to this many (customer, product) cells.
DENSE_POOL_MAX_ENTRIES = 20_000_000


def max_rule_confidence(
    owned: sp.csr_matrix, *, confidence: sp.csr_matrix | np.ndarray
) -> np.ndarray:
    """Best pair-rule confidence per (customer, product) over the owned products.

    ``owned``: bool CSR (customers x products); ``confidence``: CSR (products x
    products) from ``pair_confidence``, or the same as a dense float32 array.
    Returns a dense float32 array shaped like ``owned``: entry (r, c) = max over
    products a owned by r of confidence[a, c].
    """
    owned = sp.csr_matrix(owned)
    result = np.zeros(owned.shape, dtype=np.float32)
    if isinstance(confidence, np.ndarray):
        # One vectorised maximum per owned product over the rows owning it:
        # a few hundred array operations instead of millions of scattered ones.
        by_product = owned.tocsc()
        has_rules = confidence.any(axis=1)
        for item in np.flatnonzero(np.diff(by_product.indptr) > 0):
            if not has_rules[item]:
                continue
            rows = by_product.indices[
                by_product.indptr[item] : by_product.indptr[item + 1]
            ]
            result[rows] = np.maximum(result[rows], confidence[item])
        return result
    row_of = np.repeat(np.arange(owned.shape[0]), np.diff(owned.indptr))
    items = owned.indices
    # Expand every (customer, owned item) into the item's confidence row.
    positions, lengths, _offsets = _stored_positions(confidence, rows=items)
    total = len(positions)
    if total == 0:
        return result
    np.maximum.at(
        result,
        (np.repeat(row_of, lengths), confidence.indices[positions]),
        confidence.data[positions].astype(np.float32),
    )
    return result


def _row_normalise(scores: np.ndarray) -> np.ndarray:
    top = scores.max(axis=1, keepdims=True)
    return scores / np.where(top > 0, top, 1.0)


def _customer_vectors(
    profile: PurchaseProfile, demographics: np.ndarray | None
) -> sp.csr_matrix:
    """Unit-length customer vectors: binary purchases, plus demographics if given.

    Row-wise only, so a subset of customers gets the same vectors as in the whole.
    """
    binary = profile.owned.astype(np.float32)
    norms = np.sqrt(np.asarray(binary.sum(axis=1)).ravel())
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    vectors = sp.diags(inverse) @ binary
    if demographics is not None:
        vectors = sp.hstack([vectors, sp.csr_matrix(demographics.astype(np.float32))])
        norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        vectors = sp.diags(inverse) @ vectors
    return sp.csr_matrix(vectors, dtype=np.float32)


@dataclass(frozen=True)
class CrossSellModel:
    """The history-wide half of the cross-sell scorer, built once per history.

    Item cosine (``similarity``), pair-rule ``confidence``, ``popularity`` (basket
    share over the best seller) and the look-alike neighbour pool: its customer
    ids (sorted), their unit vectors as a dense (features x pool) float32 array
    and their purchases; ``dense_confidence``, the confidence matrix as a dense
    array when the catalogue is small enough (``DENSE_CONFIDENCE_MAX_PRODUCTS``),
    which makes the best-rule lookup several times faster; likewise
    ``dense_similarity`` and ``dense_pool_owned`` (``DENSE_POOL_MAX_ENTRIES``). ``score_cross_sells``
    scores any customers against it;
    a run builds it once and scores every shard, and a one-customer recompute
    reuses it (``pipeline.EngineContext``).
    """

    profile: PurchaseProfile
    weights: BlendWeights
    similarity: sp.csr_matrix
    confidence: sp.csr_matrix
    popularity: np.ndarray
    pool_customer_ids: np.ndarray
    pool_vectors_t: np.ndarray
    pool_owned: sp.csr_matrix
    dense_confidence: np.ndarray | None = None
    dense_similarity: np.ndarray | None = None
    dense_pool_owned: np.ndarray | None = None


def build_cross_sell_model(
    profile: PurchaseProfile,
    *,
    weights: BlendWeights,
    demographics: np.ndarray | None = None,
    similarity: sp.csr_matrix | None = None,
    confidence: sp.csr_matrix | None = None,
) -> CrossSellModel:
    """Build the ``CrossSellModel`` of a purchase history.

    ``demographics``: optional float array (n_customers, n_features) aligned with
    ``profile.customer_ids``. The neighbour pool is every customer, or the
    ``weights.max_neighbour_pool`` who bought the most distinct products.
    ``similarity`` / ``confidence``: ``item_similarity(profile.owned)`` and
    ``pair_confidence(profile, min_pair_count=weights.min_pair_count)`` when the
    caller has them already (computed here otherwise).
    """
    n_customers = profile.owned.shape[0]
    if demographics is not None and len(demographics) != n_customers:
        raise ValueError("demographics must have one row per profile customer")
    if similarity is None:
        similarity = item_similarity(profile.owned)
    if confidence is None:
        confidence = pair_confidence(profile, min_pair_count=weights.min_pair_count)
    popularity = profile.basket_counts / max(
        1, int(profile.basket_counts.max(initial=0))
    )
    pool = np.arange(n_customers)
    if n_customers > weights.max_neighbour_pool:
        breadth = np.diff(profile.owned.indptr)
        pool = np.sort(
            np.argsort(-breadth, kind="stable")[: weights.max_neighbour_pool]
        )
    pool_profile = _profile_rows(profile, pool)
    # Dense: every pair of customers has a non-zero demographic product, so a
    # sparse result would be dense anyway, at several times the cost.
    pool_vectors_t = np.ascontiguousarray(
        _customer_vectors(
            pool_profile, None if demographics is None else demographics[pool]
        )
        .T.toarray()
        .astype(np.float32)
    )
    confidence = sp.csr_matrix(confidence)
    return CrossSellModel(
        profile=profile,
        weights=weights,
        similarity=sp.csr_matrix(similarity),
        confidence=confidence,
        dense_confidence=(
            confidence.toarray().astype(np.float32)
            if confidence.shape[0] <= DENSE_CONFIDENCE_MAX_PRODUCTS
            else None
        ),
        dense_similarity=(
            np.asarray(similarity.toarray(), dtype=np.float32)
            if similarity.shape[0] <= DENSE_CONFIDENCE_MAX_PRODUCTS
            else None
        ),
        dense_pool_owned=(
            pool_profile.owned.astype(np.float32).toarray()
            if len(pool) * similarity.shape[0] <= DENSE_POOL_MAX_ENTRIES
            else None
        ),
        popularity=popularity,
        pool_customer_ids=profile.customer_ids[pool],
        pool_vectors_t=pool_vectors_t,
        pool_owned=pool_profile.owned.astype(np.float32).tocsr(),
    )


def _profile_rows(profile: PurchaseProfile, rows: np.ndarray) -> PurchaseProfile:
    """The same profile restricted to some customers (product statistics kept)."""
    return PurchaseProfile(
        customer_ids=profile.customer_ids[rows],
        product_ids=profile.product_ids,
        owned=profile.owned[rows],
        recency=profile.recency[rows],
        basket_counts=profile.basket_counts,
        pair_counts=profile.pair_counts,
    )


def align_profile(
    profile: PurchaseProfile, *, product_ids: np.ndarray
) -> PurchaseProfile:
    """``profile`` re-indexed on ``product_ids`` (sorted; other products dropped).

    Used to score customers whose own profile was built from their lines only
    against a ``CrossSellModel`` of the whole history. Basket and pair counts are
    those of ``profile`` re-indexed (the model keeps its own).
    """
    product_ids = np.asarray(product_ids)
    columns = np.searchsorted(product_ids, profile.product_ids)
    columns = np.minimum(columns, max(len(product_ids) - 1, 0))
    known = (
        product_ids[columns] == profile.product_ids
        if len(product_ids)
        else np.zeros(len(profile.product_ids), dtype=bool)
    )
    mapping = sp.csr_matrix(
        (
            np.ones(int(known.sum()), dtype=np.float32),
            (np.flatnonzero(known), columns[known]),
        ),
        shape=(len(profile.product_ids), len(product_ids)),
    )
    counts = np.zeros(len(product_ids), dtype=np.int64)
    counts[columns[known]] = profile.basket_counts[known]
    pairs = (mapping.T @ profile.pair_counts.astype(np.float32) @ mapping).tocsr()
    return PurchaseProfile(
        customer_ids=profile.customer_ids,
        product_ids=product_ids,
        owned=(profile.owned.astype(np.float32) @ mapping).astype(bool).tocsr(),
        recency=(profile.recency @ mapping).astype(np.float32).tocsr(),
        basket_counts=counts,
        pair_counts=pairs.astype(np.int64),
    )


def blend_cross_sell_scores(
    profile: PurchaseProfile,
    *,
    weights: BlendWeights,
    n_candidates: int = 50,
    exclude_owned: bool = True,
    demographics: np.ndarray | None = None,
    chunk_size: int = 512,
    customer_ids: np.ndarray | None = None,
    similarity: sp.csr_matrix | None = None,
    confidence: sp.csr_matrix | None = None,
) -> pd.DataFrame:
    """Top ``n_candidates`` cross-sell products per customer.

    Returns ``CANDIDATE_SCORE_COLUMNS``, sorted by customer then score descending.

    score = w_knn * item_knn + w_look * lookalike + w_rules * rule_confidence +
    w_pop * popularity, where item_knn is the recency-weighted profile times the
    product cosine matrix, lookalike the purchases of the ``neighbours`` most
    similar customers (cosine on purchases, plus ``demographics``: an optional
    float array (n_customers, n_features) aligned with ``profile.customer_ids``),
    rule_confidence the best pair-rule confidence from any owned product, and
    popularity the basket share. Item-kNN, look-alike and rule confidence are
    scaled to [0, 1] per customer. Owned products are dropped when ``exclude_owned``.
    Customers are processed in chunks to bound memory; the neighbour search costs
    O(customers x min(customers, ``weights.max_neighbour_pool``)).

    ``customer_ids`` (optional): score only these customers (ids not in the profile
    are ignored). Every profile customer still counts as a look-alike neighbour and
    towards the product statistics, so a scored customer's rows are the same as in
    a run over everyone; only the work for the others is skipped.
    ``similarity`` / ``confidence`` (optional): ``item_similarity(profile.owned)``
    and ``pair_confidence(profile, min_pair_count=weights.min_pair_count)`` when
    the caller has them already (computed here otherwise).

    Equivalent to ``score_cross_sells(build_cross_sell_model(profile, ...),
    customers=<the selected rows of profile>, ...)``.
    """
    if n_candidates < 1:
        raise ValueError(f"n_candidates must be >= 1, got {n_candidates!r}")
    model = build_cross_sell_model(
        profile,
        weights=weights,
        demographics=demographics,
        similarity=similarity,
        confidence=confidence,
    )
    selected = np.arange(len(profile.customer_ids))
    if customer_ids is not None:
        selected = np.flatnonzero(
            np.isin(profile.customer_ids, np.asarray(customer_ids))
        )
    return score_cross_sells(
        model,
        customers=_profile_rows(profile, selected),
        demographics=None if demographics is None else demographics[selected],
        n_candidates=n_candidates,
        exclude_owned=exclude_owned,
        chunk_size=chunk_size,
    )


def score_cross_sells(
    model: CrossSellModel,
    *,
    customers: PurchaseProfile,
    demographics: np.ndarray | None = None,
    n_candidates: int = 50,
    exclude_owned: bool = True,
    chunk_size: int = 512,
) -> pd.DataFrame:
    """Score ``customers`` against a ``CrossSellModel`` (see ``blend_cross_sell_scores``).

    ``customers``: their purchase profile on the model's products (``align_profile``
    or rows of the model's own profile); ``demographics``: their features, built
    as for the model (None when the model has none). A customer who is in the
    neighbour pool is never their own neighbour. Returns ``CANDIDATE_SCORE_COLUMNS``.
    """
    if n_candidates < 1:
        raise ValueError(f"n_candidates must be >= 1, got {n_candidates!r}")
    if not np.array_equal(customers.product_ids, model.profile.product_ids):
        raise ValueError("customers must be profiled on the model's products")
    weights = model.weights
    n_products = len(model.profile.product_ids)
    vectors = _customer_vectors(customers, demographics)
    if vectors.shape[1] != model.pool_vectors_t.shape[0]:
        raise ValueError("demographics must have the model's features")
    pool_ids = model.pool_customer_ids
    popularity = model.popularity
    take = min(n_candidates, n_products)
    frames: list[pd.DataFrame] = []
    if len(pool_ids) == 0 or n_products == 0:
        return pd.DataFrame({column: [] for column in CANDIDATE_SCORE_COLUMNS})
    for start in range(0, len(customers.customer_ids), chunk_size):
        rows = np.arange(start, min(start + chunk_size, len(customers.customer_ids)))
        if model.dense_similarity is not None:
            knn = _row_normalise(
                np.asarray(customers.recency[rows] @ model.dense_similarity)
            )
        else:
            knn = _row_normalise((customers.recency[rows] @ model.similarity).toarray())
        neighbour_sim = np.asarray(vectors[rows] @ model.pool_vectors_t)
        ids = customers.customer_ids[rows]
        position = np.minimum(np.searchsorted(pool_ids, ids), len(pool_ids) - 1)
        in_pool = pool_ids[position] == ids
        neighbour_sim[np.flatnonzero(in_pool), position[in_pool]] = 0.0
        k = min(weights.neighbours, len(pool_ids) - 1)
        if k > 0:
            nearest = np.argpartition(-neighbour_sim, k - 1, axis=1)[:, :k]
            # The k nearest as a CSR matrix built directly (columns ascending, zero
            # similarities left out: the same matrix as from a dense copy).
            nearest.sort(axis=1)
            values = np.take_along_axis(neighbour_sim, nearest, axis=1)
            nearest_matrix = sp.csr_matrix(
                (
                    values.ravel(),
                    nearest.ravel(),
                    np.arange(0, len(rows) * k + 1, k),
                ),
                shape=neighbour_sim.shape,
            )
            nearest_matrix.eliminate_zeros()
            if model.dense_pool_owned is not None:
                lookalike = _row_normalise(
                    np.asarray(nearest_matrix @ model.dense_pool_owned)
                )
            else:
                lookalike = _row_normalise(
                    (nearest_matrix @ model.pool_owned).toarray()
                )
        else:
            lookalike = np.zeros((len(rows), n_products), dtype=np.float32)
        owned_rows = customers.owned[rows]
        rule = max_rule_confidence(
            owned_rows,
            confidence=(
                model.confidence
                if model.dense_confidence is None
                else model.dense_confidence
            ),
        )
        score = (
            weights.item_knn * knn
            + weights.lookalike * lookalike
            + weights.rules * _row_normalise(rule)
            + weights.popularity * popularity[None, :]
        )
        if exclude_owned:
            score[owned_rows.toarray()] = -np.inf
        top = np.argpartition(-score, take - 1, axis=1)[:, :take]
        top_score = np.take_along_axis(score, top, axis=1)
        frame = pd.DataFrame(
            {
                "customer_id": np.repeat(ids, take),
                "product_id": model.profile.product_ids[top.ravel()],
                "score": top_score.ravel().astype(np.float64),
                "item_knn": np.take_along_axis(knn, top, axis=1).ravel(),
                "lookalike": np.take_along_axis(lookalike, top, axis=1).ravel(),
                "rule_confidence": np.take_along_axis(rule, top, axis=1).ravel(),
                "popularity": popularity[top.ravel()],
            }
        )
        frames.append(frame[np.isfinite(frame["score"])])
    if not frames:
        return pd.DataFrame({column: [] for column in CANDIDATE_SCORE_COLUMNS})
    result = pd.concat(frames, ignore_index=True)
    for column in CANDIDATE_SCORE_COLUMNS[2:]:
        result[column] = result[column].astype("float64")
    return result.sort_values(
        ["customer_id", "score", "product_id"], ascending=[True, False, True]
    ).reset_index(drop=True)


def strongest_anchors(
    profile: PurchaseProfile,
    *,
    links: sp.csr_matrix,
    customer_ids: np.ndarray,
    product_ids: np.ndarray,
) -> np.ndarray:
    """The owned product that links most strongly to each suggested product.

    ``links`` is a (products x products) matrix over ``profile.product_ids``, such
    as ``item_similarity`` (cosine) or ``pair_confidence`` (a -> c). For every pair
    (customer_ids[i], product_ids[i]) returns the index into
    ``profile.product_ids`` of the owned product a maximising ``recency[a] *
    links[a, product]``, or -1 when the customer, the product or any link is
    missing. Both id arrays must be aligned; lookups are vectorised.
    """
    customer_ids = np.asarray(customer_ids)
    product_ids = np.asarray(product_ids)
    if len(customer_ids) != len(product_ids):
        raise ValueError("customer_ids and product_ids must have the same length")
    result = np.full(len(customer_ids), -1, dtype=np.int64)
    if len(customer_ids) == 0 or len(profile.product_ids) == 0:
        return result
    rows = np.searchsorted(profile.customer_ids, customer_ids)
    rows = np.minimum(rows, len(profile.customer_ids) - 1)
    columns = np.searchsorted(profile.product_ids, product_ids)
    columns = np.minimum(columns, len(profile.product_ids) - 1)
    known = (profile.customer_ids[rows] == customer_ids) & (
        profile.product_ids[columns] == product_ids
    )
    if not known.any():
        return result
    recency = _canonical(profile.recency)
    links = _canonical(sp.csr_matrix(links))
    pair_rows = rows[known]
    pair_columns = columns[known]
    # Expand each pair into its customer's owned products (a recency row's
    # stored entries, in product order) and weigh each by its link.
    positions, lengths, offsets = _stored_positions(recency, rows=pair_rows)
    total = len(positions)
    if total == 0:
        return result
    pair_of = np.repeat(np.arange(len(pair_rows)), lengths)
    items = recency.indices[positions]
    dtype = np.result_type(recency.dtype, links.dtype)
    strength = recency.data[positions].astype(dtype) * _entries(
        links, rows=items, columns=pair_columns[pair_of]
    ).astype(dtype)
    # Per pair the first owned product (in product order) of greatest
    # positive strength: what argmax over the sparse product would pick.
    nonempty = lengths > 0
    best_strength = np.zeros(len(pair_rows), dtype=dtype)
    best_strength[nonempty] = np.maximum.reduceat(strength, offsets[nonempty])
    at_best = np.where(strength == best_strength[pair_of], np.arange(total), total - 1)
    first_best = np.zeros(len(pair_rows), dtype=np.int64)
    first_best[nonempty] = np.minimum.reduceat(at_best, offsets[nonempty])
    linked = best_strength > 0
    anchors = np.full(len(pair_rows), -1, dtype=np.int64)
    anchors[linked] = items[first_best[linked]]
    result[np.flatnonzero(known)] = anchors
    return result


def _stored_positions(
    matrix: sp.csr_matrix, *, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the stored entries of ``matrix[rows]`` sit, row after row.

    Returns the positions into ``matrix.data``/``indices``, each requested
    row's entry count and where its entries start in the positions.
    """
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    offsets = np.cumsum(lengths) - lengths
    total = int(lengths.sum())
    positions = np.repeat(starts - offsets, lengths) + np.arange(total)
    return positions, lengths, offsets


def _canonical(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """``matrix`` with sorted, unique column indices in each row."""
    if matrix.has_canonical_format:
        return matrix
    matrix = matrix.copy()
    matrix.sum_duplicates()
    return matrix


def _entries(
    matrix: sp.csr_matrix, *, rows: np.ndarray, columns: np.ndarray
) -> np.ndarray:
    """``matrix[rows[i], columns[i]]`` for every i (0 where nothing is stored).

    One binary search per lookup over the stored entries' (row, column) keys,
    which a canonical CSR matrix holds in ascending order.
    """
    values = np.zeros(len(rows), dtype=matrix.dtype)
    if matrix.nnz == 0 or len(rows) == 0:
        return values
    width = np.int64(matrix.shape[1])
    stored_rows = np.repeat(
        np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr)
    )
    keys = stored_rows * width + matrix.indices
    wanted = rows.astype(np.int64) * width + columns
    position = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    found = keys[position] == wanted
    values[found] = matrix.data[position[found]]
    return values
