"""K-means on raw pixels (scikit-learn), the paper's first Table 1 baseline (46.51 % on MNIST, K=10)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.cluster import KMeans as SkKMeans

from ganem.methods.base import Assignment, Labelled, Method


def flatten(x: torch.Tensor) -> np.ndarray:
    """Images (N, C, H, W) or vectors (N, D) -> float32 array (N, D) on the host."""
    return x.detach().cpu().reshape(len(x), -1).numpy().astype(np.float32, copy=False)


@dataclass(frozen=True)
class KMeansParams:
    n_init: int = 10  # restarts; the best inertia wins (scikit-learn's choice, seeded by the run)
    max_iter: int = 300
    tol: float = 1e-4
    init: str = "k-means++"

    def __post_init__(self):
        if self.n_init < 1 or self.max_iter < 1:
            raise ValueError("n_init and max_iter must be >= 1")
        if self.init not in ("k-means++", "random"):
            raise ValueError(f"init must be 'k-means++' or 'random', not {self.init!r}")


class KMeans(Method):
    name = "kmeans"
    Params = KMeansParams

    def fit(self, x: torch.Tensor, labelled: Labelled | None = None) -> None:
        p = self.params
        self.model = SkKMeans(n_clusters=self.ctx.k, n_init=p.n_init, max_iter=p.max_iter, tol=p.tol,
                              init=p.init, random_state=self.ctx.seed)
        self.model.fit(flatten(x))

    def assign(self, x: torch.Tensor) -> Assignment:
        labels = self.model.predict(flatten(x)).astype(np.int64)
        return Assignment(labels=labels, extras={"inertia": float(self.model.inertia_),
                                                 "n_iter": int(self.model.n_iter_)})
