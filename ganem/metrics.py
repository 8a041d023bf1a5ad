"""Scoring a clustering against true labels (separate from fitting, as in benchopt).

Two rules, both in percent, both the paper's Eq. 20 family:

* ``hungarian`` — when the number of clusters used equals the number of classes: the best
  one-to-one mapping of clusters to classes (``scipy.optimize.linear_sum_assignment`` on the
  contingency table); error = 1 - matched / N.
* ``majority`` — when there are more clusters than classes (MNIST K=20, 30): each cluster takes the
  majority true label of its members; error = 1 - purity.

"Number of clusters used" is K, the number of clusters the method was asked for, not the number of
non-empty clusters: a K=10 run that left one cluster empty is still matched one-to-one.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def contingency(y_true: np.ndarray, y_pred: np.ndarray, n_clusters: int, n_classes: int) -> np.ndarray:
    """Counts table C[cluster, class]."""
    table = np.zeros((n_clusters, n_classes), dtype=np.int64)
    np.add.at(table, (y_pred, y_true), 1)
    return table


def scoring_rule(n_clusters: int, n_classes: int) -> str:
    """Which rule Eq. 20 implies for this K: one-to-one when K equals the classes, else majority."""
    if n_clusters < n_classes:
        raise ValueError(
            f"{n_clusters} clusters for {n_classes} classes: the suite scores only K >= number of classes"
        )
    return "hungarian" if n_clusters == n_classes else "majority"


def clustering_error(y_true, y_pred, n_clusters: int | None = None, n_classes: int | None = None) -> float:
    """Clustering error in percent (Eq. 20): Hungarian when K == classes, else 1 - purity.

    ``n_classes`` defaults to max(y_true)+1 and ``n_clusters`` to max(max(y_pred)+1, n_classes);
    pass K explicitly (the run does) so that a K=20 run with empty clusters keeps the majority rule.
    """
    y_true, y_pred = _check(y_true, y_pred)
    n_classes = int(y_true.max()) + 1 if n_classes is None else n_classes
    n_clusters = max(int(y_pred.max()) + 1, n_classes) if n_clusters is None else n_clusters
    if y_pred.max() >= n_clusters or y_true.max() >= n_classes:
        raise ValueError("label ids exceed n_clusters / n_classes")
    table = contingency(y_true, y_pred, n_clusters, n_classes)
    if scoring_rule(n_clusters, n_classes) == "hungarian":
        rows, cols = linear_sum_assignment(table, maximize=True)
        correct = table[rows, cols].sum()
    else:
        correct = table.max(axis=1).sum()
    return float(100.0 * (1.0 - correct / len(y_true)))


def classification_error(y_true, y_pred) -> float:
    """Plain classification error in percent, no matching (the semi-supervised standard)."""
    y_true, y_pred = _check(y_true, y_pred)
    return float(100.0 * np.mean(y_true != y_pred))


def score(y_true, y_pred, n_clusters: int, n_classes: int, semi_supervised: bool = False) -> dict:
    """All numbers a run reports: error (with its rule), NMI and ARI."""
    y_true, y_pred = _check(y_true, y_pred)
    if semi_supervised:
        rule, error = "classification", classification_error(y_true, y_pred)
    else:
        rule, error = scoring_rule(n_clusters, n_classes), clustering_error(y_true, y_pred, n_clusters, n_classes)
    return {
        "error": error,
        "scoring_rule": rule,
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
        "n": int(len(y_true)),
    }


def _check(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    if y_true.size == 0:
        raise ValueError("cannot score an empty clustering")
    if not (np.issubdtype(y_true.dtype, np.integer) and np.issubdtype(y_pred.dtype, np.integer)):
        raise ValueError("labels must be integers")
    if y_true.min() < 0 or y_pred.min() < 0:
        raise ValueError("labels must be non-negative")
    return y_true.astype(np.int64), y_pred.astype(np.int64)
