"""Frequent itemset counting on a sparse basket x item matrix.

Pairs come from sparse co-occurrence (``X.T @ X``, in column blocks, upper
triangle only); longer itemsets from a depth-first Eclat search over packed
bitsets (numpy ``bitwise_count``), pruned with the frequent-pair table. An itemset
is frequent when ``count / n_baskets >= min_support``. The shard functions
(``count_cooccurrence``, ``merge_cooccurrence``, ``count_itemsets``) return
additive counts so that mining can be spread over workers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

_PAIR_BLOCK_MIN_ITEMS = 256
_COUNT_CHUNK = 4096
_DENSE_PRUNE_MAX_ITEMS = 12_000


@dataclass(frozen=True)
class CooccurrenceCounts:
    """Additive basket counts of a shard of baskets.

    ``n_baskets`` int; ``item_counts`` int64 array (n_items,); ``pair_counts`` a
    ``scipy.sparse.csr_matrix`` int64 (n_items, n_items) holding count(i, j) for
    i < j only. Counts of disjoint shards add up to the counts of their union.
    """

    n_baskets: int
    item_counts: np.ndarray
    pair_counts: sp.csr_matrix


def check_matrix(matrix: object) -> sp.csr_matrix:
    """Return ``matrix`` as CSR; ``ValueError`` unless it is 2-d sparse, >= 0."""
    if not sp.issparse(matrix) or matrix.ndim != 2:
        raise ValueError("matrix must be a 2-d scipy.sparse basket x item matrix")
    csr = sp.csr_matrix(matrix)
    if csr.nnz and (csr.data < 0).any():
        raise ValueError("matrix must hold 0/1 (bool or unsigned) values")
    return csr


def _binary_int32(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """0/1 int32 copy of the structure of ``matrix`` (duplicates and zeros removed)."""
    source = matrix
    if not source.has_canonical_format:
        source = source.copy()
        source.sum_duplicates()
    if source.nnz and not source.data.all():
        source = source.copy()
        source.eliminate_zeros()
    return sp.csr_matrix(
        (
            np.ones(source.nnz, dtype=np.int32),
            source.indices.copy(),
            source.indptr.copy(),
        ),
        shape=source.shape,
    )


def minimum_count(*, min_support: float, n_baskets: int) -> int:
    """Smallest basket count ``c`` with ``c / n_baskets >= min_support`` (>= 1)."""
    count = max(1, math.ceil(min_support * n_baskets))
    while count > 1 and (count - 1) / n_baskets >= min_support:
        count -= 1
    while count / n_baskets < min_support:
        count += 1
    return count


def count_cooccurrence(matrix: sp.spmatrix) -> CooccurrenceCounts:
    """Count items and item pairs in a shard of baskets (rows of ``matrix``).

    Pure and additive: ``merge_cooccurrence([count_cooccurrence(a),
    count_cooccurrence(b)])`` equals ``count_cooccurrence(vstack([a, b]))``, so
    mining can be spread over workers that each hold some baskets.
    """
    binary = _binary_int32(check_matrix(matrix))
    item_counts = np.asarray(binary.sum(axis=0), dtype=np.int64).ravel()
    gram = (binary.T @ binary).astype(np.int64)
    pair_counts = sp.triu(gram, k=1, format="csr")
    pair_counts.eliminate_zeros()
    return CooccurrenceCounts(
        n_baskets=int(binary.shape[0]),
        item_counts=item_counts,
        pair_counts=pair_counts,
    )


def merge_cooccurrence(parts: Sequence[CooccurrenceCounts]) -> CooccurrenceCounts:
    """Add up the counts of disjoint basket shards (same item columns)."""
    if not parts:
        raise ValueError("parts must hold at least one CooccurrenceCounts")
    shapes = {part.item_counts.shape for part in parts}
    if len(shapes) != 1:
        raise ValueError(f"parts have different item counts: {sorted(shapes)}")
    pair_counts = parts[0].pair_counts.copy()
    for part in parts[1:]:
        pair_counts = pair_counts + part.pair_counts
    return CooccurrenceCounts(
        n_baskets=sum(part.n_baskets for part in parts),
        item_counts=np.sum([part.item_counts for part in parts], axis=0),
        pair_counts=sp.csr_matrix(pair_counts),
    )


def count_itemsets(matrix: sp.spmatrix, *, itemsets: np.ndarray) -> np.ndarray:
    """Count the baskets of ``matrix`` holding every item of each itemset.

    ``itemsets`` is an int array (n_itemsets, k) of column indices. Returns int64
    counts (n_itemsets,). Additive over disjoint basket shards.
    """
    binary = _binary_int32(check_matrix(matrix))
    itemsets = np.asarray(itemsets)
    if itemsets.ndim != 2 or not np.issubdtype(itemsets.dtype, np.integer):
        raise ValueError("itemsets must be a 2-d integer array of column indices")
    if itemsets.size and (itemsets.min() < 0 or itemsets.max() >= binary.shape[1]):
        raise ValueError("itemsets hold a column index outside the matrix")
    counts = np.zeros(len(itemsets), dtype=np.int64)
    if itemsets.size == 0:
        return counts
    columns, local = np.unique(itemsets, return_inverse=True)
    local = local.reshape(itemsets.shape)
    bits = _packed_bits(binary, columns=columns)
    for start in range(0, len(itemsets), _COUNT_CHUNK):
        block = local[start : start + _COUNT_CHUNK]
        joint = bits[block[:, 0]].copy()
        for position in range(1, block.shape[1]):
            joint &= bits[block[:, position]]
        counts[start : start + len(block)] = np.bitwise_count(joint).sum(
            axis=1, dtype=np.int64
        )
    return counts


def _frequent_pairs(
    binary: sp.csr_matrix, *, min_count: int, n_threads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequent pairs (i < j) of the columns of ``binary`` with their counts.

    The upper triangle is computed in column blocks so that about half of the
    products of ``X.T @ X`` are skipped; blocks run on ``n_threads`` threads
    (scipy's sparse product releases the GIL for most of its work).
    """
    n_items = binary.shape[1]
    n_blocks = 4 if n_items >= _PAIR_BLOCK_MIN_ITEMS else 1
    edges = np.linspace(0, n_items, n_blocks + 1).astype(np.int64)
    by_column = binary.tocsc()
    blocks = [by_column[:, edges[i] : edges[i + 1]] for i in range(n_blocks)]
    transposed = [block.T.tocsr() for block in blocks]
    rows_form = [block.tocsr() for block in blocks]
    jobs = [(i, j) for i in range(n_blocks) for j in range(i, n_blocks)]

    def run(job: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frequent (row, col, count) of block pair ``job``, upper triangle only."""
        i, j = job
        product = (transposed[i] @ rows_form[j]).tocoo()
        keep = product.data >= min_count
        rows = product.row[keep].astype(np.int64) + edges[i]
        cols = product.col[keep].astype(np.int64) + edges[j]
        upper = rows < cols
        return rows[upper], cols[upper], product.data[keep][upper].astype(np.int64)

    if n_threads > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            results = list(pool.map(run, jobs))
    else:
        results = [run(job) for job in jobs]
    rows = np.concatenate([result[0] for result in results])
    cols = np.concatenate([result[1] for result in results])
    counts = np.concatenate([result[2] for result in results])
    order = np.lexsort((cols, rows))
    return rows[order], cols[order], counts[order]


def _packed_bits(binary: sp.csr_matrix, *, columns: np.ndarray) -> np.ndarray:
    """Bitsets of the baskets holding each column: uint64 array (len(columns), W)."""
    n_words = (binary.shape[0] + 63) // 64
    sub = binary[:, columns].tocsc()
    sub.sort_indices()
    col_of = np.repeat(np.arange(len(columns), dtype=np.int64), np.diff(sub.indptr))
    rows = sub.indices.astype(np.int64)
    keys = col_of * n_words + (rows >> 6)
    values = np.left_shift(np.uint64(1), (rows & 63).astype(np.uint64))
    bits = np.zeros(len(columns) * n_words, dtype=np.uint64)
    if len(keys):
        # Keys are sorted (column-major, rows ascending) and bits within one word
        # are distinct, so a grouped sum is a bitwise or.
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        bits[keys[starts]] = np.add.reduceat(values, starts)
    return bits.reshape(len(columns), n_words)


def _eclat_longer(
    binary: sp.csr_matrix,
    *,
    pair_rows: np.ndarray,
    pair_cols: np.ndarray,
    min_count: int,
    max_len: int | None,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Frequent itemsets of length >= 3 by depth-first Eclat on bitsets."""
    found: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    if len(pair_rows) == 0:
        return {}
    used = np.unique(np.concatenate([pair_rows, pair_cols]))
    local = np.full(binary.shape[1], -1, dtype=np.int64)
    local[used] = np.arange(len(used))
    rows_local = local[pair_rows]
    cols_local = local[pair_cols]
    bits = _packed_bits(binary, columns=used)
    n_used = len(used)
    prune: np.ndarray | None = None
    if n_used <= _DENSE_PRUNE_MAX_ITEMS:
        prune = np.zeros((n_used, n_used), dtype=bool)
        prune[rows_local, cols_local] = True
    starts = np.flatnonzero(np.r_[True, rows_local[1:] != rows_local[:-1]])
    ends = np.r_[starts[1:], len(rows_local)]

    def extend(prefix: np.ndarray, *, items: np.ndarray, item_bits: np.ndarray) -> None:
        """Record frequent extensions of ``prefix`` by two items, then recurse.

        ``items``: local ids c (ascending) with prefix + (c,) frequent;
        ``item_bits``: the basket bitsets of prefix + (c,).
        """
        length = len(prefix) + 2
        for position in range(len(items) - 1):
            rest = items[position + 1 :]
            rest_bits = item_bits[position + 1 :]
            if prune is not None:
                allowed = prune[items[position], rest]
                if not allowed.any():
                    continue
                rest = rest[allowed]
                rest_bits = rest_bits[allowed]
            joint = rest_bits & item_bits[position]
            counts = np.bitwise_count(joint).sum(axis=1, dtype=np.int64)
            keep = counts >= min_count
            if not keep.any():
                continue
            new_prefix = np.append(prefix, items[position])
            kept_items = rest[keep]
            itemsets = np.column_stack(
                [
                    np.broadcast_to(new_prefix, (len(kept_items), len(new_prefix))),
                    kept_items,
                ]
            )
            found.setdefault(length, []).append((itemsets, counts[keep]))
            if (max_len is None or length < max_len) and len(kept_items) > 1:
                extend(new_prefix, items=kept_items, item_bits=joint[keep])

    for start, end in zip(starts, ends, strict=True):
        if end - start < 2:
            continue
        first = rows_local[start]
        partners = cols_local[start:end]
        extend(
            np.array([first]), items=partners, item_bits=bits[partners] & bits[first]
        )

    assembled: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for length, chunks in found.items():
        local_sets = np.concatenate([chunk[0] for chunk in chunks])
        assembled[length] = (
            used[local_sets],
            np.concatenate([chunk[1] for chunk in chunks]),
        )
    return assembled


def frequent_itemset_indices(
    matrix: sp.csr_matrix, *, min_count: int, max_len: int | None, n_threads: int
) -> tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Item counts (int64 per column) and the frequent itemsets by length.

    The dict maps a length k >= 1 to (int64 array (n, k) of ascending column
    indices, int64 basket counts (n,)); lengths stop at ``max_len`` when given.
    """
    binary = _binary_int32(matrix)
    item_counts = np.bincount(binary.indices, minlength=binary.shape[1]).astype(
        np.int64
    )
    frequent = np.flatnonzero(item_counts >= min_count)
    by_length: dict[int, tuple[np.ndarray, np.ndarray]] = {
        1: (frequent[:, None], item_counts[frequent])
    }
    if (max_len is not None and max_len < 2) or len(frequent) < 2:
        return item_counts, by_length
    sub = binary[:, frequent]
    rows, cols, counts = _frequent_pairs(sub, min_count=min_count, n_threads=n_threads)
    by_length[2] = (np.column_stack([frequent[rows], frequent[cols]]), counts)
    if max_len is None or max_len > 2:
        longer = _eclat_longer(
            sub, pair_rows=rows, pair_cols=cols, min_count=min_count, max_len=max_len
        )
        for length, (local_sets, set_counts) in longer.items():
            by_length[length] = (frequent[local_sets], set_counts)
    return item_counts, by_length
