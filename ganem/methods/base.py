"""The one small interface every clustering method implements.

benchopt-style separation: a method only *fits* and *assigns*; loading data, scoring and writing
results are somebody else's job (``ganem.data``, ``ganem.metrics``, ``ganem.run``). K-means, GMM,
GAN-EM and GANMM all sit behind this interface, so the run CLI and the DAG never special-case one.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ganem.trainer_support import seed_everything


@dataclass(frozen=True)
class Labelled:
    """The labelled real images of a semi-supervised run (drawn class-balanced with the run's seed)."""

    x: torch.Tensor  # float32 (n, C, H, W), same normalisation as the fitted images
    y: torch.Tensor  # int64 (n,), class ids 0..K-1


@dataclass(frozen=True)
class RunContext:
    """Everything a method may need besides the data: where to write, which device, how loud."""

    k: int  # number of clusters K
    seed: int
    run_dir: Path  # the run's output folder; methods may write logs, checkpoints, samples here
    device: torch.device
    progress: bool = True  # tqdm bars (off under CI)
    # True labels of the fitted images, for *monitoring only* (per-iteration error in the log).
    # A method must never use them for training or model selection.
    monitor_labels: np.ndarray | None = None


@dataclass
class Assignment:
    """What a method says about a set of images."""

    labels: np.ndarray  # int64 (n,), hard cluster ids in 0..K-1
    proba: np.ndarray | None = None  # float (n, K) soft assignments w, where the method has them
    features: np.ndarray | None = None  # float (n, k) learned features (GAN-EM's bottleneck), optional
    extras: dict[str, Any] = field(default_factory=dict)  # small JSON-able facts for metrics.json


class Method(abc.ABC):
    """A clustering method. Subclasses set ``name`` and ``Params`` (a dataclass of hyper-parameters).

    ``Params`` holds every hyper-parameter with its default; ``config.methods.<name>`` overrides
    them, and an unknown key is an error (see ``make_params``).
    """

    name: ClassVar[str]
    Params: ClassVar[type]
    supports_labels: ClassVar[bool] = False  # can it use a Labelled set (semi-supervised)?
    # What one unit of training budget is ("G+D steps"); None for methods fitted to convergence.
    budget_unit: ClassVar[str | None] = None
    # Does ``fit_seeds`` step several seeds together (so that ``seeds_per_job`` packs its runs)?
    steps_seeds_together: ClassVar[bool] = False
    # The parameter that only lengthens a run: a run with more of it, all else equal, is a finished
    # shorter run continued from its final checkpoint, step for step (``ganem.plan.continuations``).
    # None: the method has none (or its training depends on its total length).
    continues_on: ClassVar[str | None] = None

    @classmethod
    def budget(cls, params: Any, n_fit: int) -> int | None:
        """Training steps (in ``budget_unit``) a run with ``params`` on ``n_fit`` images takes, so
        that tables can put a run's budget beside the paper's; None when the method has no budget."""
        return None

    @classmethod
    def steps(cls, params: Any, n_fit: int, k: int, device_type: str) -> dict[str, int]:
        """The training work of one run in the units per-step timings are measured in (the fields
        of ``ganem.cost.RunSteps``), for cost estimates, ``python -m ganem plan`` and SLURM run
        times; {} for methods without a training loop (K-means, GMM), which cost estimates leave out."""
        return {}

    def __init__(self, params: Any, ctx: RunContext):
        self.params = params
        self.ctx = ctx

    @abc.abstractmethod
    def fit(self, x: torch.Tensor, labelled: Labelled | None = None) -> None:
        """Fit on images ``x`` (float32, (N, C, H, W) or (N, D) for vector data)."""

    @classmethod
    def fit_seeds(cls, methods: list["Method"], xs: list[torch.Tensor],
                  labelled: list[Labelled | None]) -> None:
        """Fit several seeds' instances in one process (``seeds_per_job``). Here one after another;
        a method that can step its seeds together (GAN-EM) overrides this. Either way each instance
        must end exactly as its own ``fit`` would have left it."""
        for method, x, lab in zip(methods, xs, labelled):
            seed_everything(method.ctx.seed)  # as a separate run seeds before its fit
            method.fit(x, lab)

    def resumed_seconds(self) -> float:
        """Fit seconds that earlier processes spent on this run before the checkpoint ``fit`` resumed
        from (a killed run restarted, or a shorter run continued): 0.0 for a fresh start, NaN when the
        checkpoint does not say. The run adds them to its own, so its seconds count all its training."""
        return 0.0

    @abc.abstractmethod
    def assign(self, x: torch.Tensor) -> Assignment:
        """Assign images ``x`` (possibly not the fitted ones, e.g. a test split) to clusters."""
