"""A toy clustering method, as small as a method can be: the example of docs/extending.md.

It splits the points at the median of their first coordinate. Registering it is the one line
``METHODS["threshold"] = Registered("example_method.threshold:Threshold", "Threshold")``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ganem.methods.base import Assignment, Labelled, Method


@dataclass(frozen=True)
class ThresholdParams:
    feature: int = 0  # which coordinate to split on


class Threshold(Method):
    name = "threshold"
    Params = ThresholdParams

    def fit(self, x: torch.Tensor, labelled: Labelled | None = None) -> None:
        self.cut = float(x.reshape(len(x), -1)[:, self.params.feature].median())

    def assign(self, x: torch.Tensor) -> Assignment:
        values = x.reshape(len(x), -1)[:, self.params.feature].numpy()
        return Assignment(labels=(values > self.cut).astype(np.int64))
