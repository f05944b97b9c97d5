"""Pure split of a frozen audience into variants and a control group."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Group code of the control group in ``split_audience``'s result.
CONTROL = -1


def group_sizes(n: int, *, weights: Sequence[int], control_share: float) -> list[int]:
    """Exact group sizes: ``[control, variant 0, variant 1, ...]``, summing to ``n``.

    The control group is ``control_share × n`` rounded half up; the rest is
    shared between variants in proportion to ``weights`` by largest
    remainder (ties to the earlier variant), so every group is within one
    customer of its exact share.
    """
    if n < 0 or not 0 <= control_share <= 1:
        raise ValueError("n must be ≥ 0 and control_share in [0, 1]")
    if not weights or any(w <= 0 for w in weights):
        raise ValueError("at least one variant with a positive weight is needed")
    control = min(n, math.floor(n * control_share + 0.5))
    treated = n - control
    total = sum(weights)
    exact = [treated * w / total for w in weights]
    sizes = [math.floor(x) for x in exact]
    leftover = treated - sum(sizes)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - sizes[i]), i))
    for i in order[:leftover]:
        sizes[i] += 1
    return [control, *sizes]


def split_audience(
    customer_ids: Sequence[int] | np.ndarray,
    *,
    weights: Sequence[int],
    control_share: float,
    seed: int,
) -> np.ndarray:
    """Group code per customer (``CONTROL`` or a variant index), aligned with
    the ids sorted ascending.

    Reproducible: the same ids, weights, share and seed give the same split,
    whatever order the ids arrive in.
    """
    ids = np.sort(np.asarray(customer_ids, dtype=np.int64))
    sizes = group_sizes(len(ids), weights=weights, control_share=control_share)
    codes = np.repeat(np.arange(-1, len(weights)), sizes)
    rng = np.random.default_rng(seed)
    groups = np.empty(len(ids), dtype=np.int64)
    groups[rng.permutation(len(ids))] = codes
    return groups
