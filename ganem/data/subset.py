"""Class-balanced subsets, e.g. the labelled examples of a semi-supervised run."""

from __future__ import annotations

import numpy as np


def balanced_counts(n: int, n_classes: int) -> np.ndarray:
    """Images per class of a balanced draw of ``n`` over ``n_classes`` classes (ascending class id):
    ``n // C`` each, one more for each of the first ``n % C`` classes."""
    per_class = np.full(n_classes, n // n_classes)
    per_class[: n % n_classes] += 1
    return per_class


def max_balanced(counts) -> int:
    """The largest ``n`` a balanced draw can take from classes of these sizes (ascending class id)."""
    counts = np.asarray(counts)
    least = int(counts.min())
    extra = int(np.argmin(counts > least))  # the leading classes that can give one more
    return least * len(counts) + extra


def balanced_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` examples, ``n // C`` from each of the C classes present in ``y``.

    The remainder ``n % C`` goes one each to the first classes (ascending class id), so the draw
    is as balanced as ``n`` allows. Within a class the examples are drawn without replacement by
    ``numpy.random.Generator(PCG64(seed))``, one class after another in ascending order: the same
    (y, n, seed) always gives the same indices.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-d, got shape {y.shape}")
    if not 0 <= n <= len(y):
        raise ValueError(f"n={n} is outside 0..{len(y)} (the number of examples)")
    if n == 0:
        return np.empty(0, dtype=np.int64)
    classes = np.unique(y)
    per_class = balanced_counts(n, len(classes))
    rng = np.random.default_rng(seed)
    chosen = []
    for c, k in zip(classes, per_class, strict=True):
        members = np.flatnonzero(y == c)
        if len(members) < k:
            raise ValueError(
                f"class {c} has {len(members)} examples, fewer than the {k} a balanced subset "
                f"of {n} over {len(classes)} classes needs"
            )
        chosen.append(rng.choice(members, size=k, replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64)
