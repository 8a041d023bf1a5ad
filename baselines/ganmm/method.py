"""GANMM (Yu & Zhou, "Mixture of GANs for Clustering", IJCAI 2018) behind the suite's Method
interface.  Every hyper-parameter is a field of ``Params``; the default is the value in the
authors' TF code (github.com/eyounx/GANMM), except where the comment says otherwise.
See docs/ganmm.md for the departures from the original and why.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from ganem.methods.base import Assignment, Labelled, Method, RunContext

ORIGINAL_SCHEDULE = ((0, 25), (500, 40), (1000, 45), (2000, 48))


@dataclass
class Params:
    # --- schedule ---
    iterations: int = 200_000  # main-loop (epsilon-EM) iterations (original n_iter)
    pretrain_iterations: int = 500  # per-GAN pretraining iterations on its chunk of the split (n_pretrain)
    num_chose_schedule: tuple[tuple[int, int], ...] = ORIGINAL_SCHEDULE
    # ^ [start iteration (0-based), num_chose] pairs: num_chose of the batch_size critic images have
    #   argmax p(.|x) = i, the rest are the epsilon part drawn by p(i|x) (original: 25 -> 40 -> 45 -> 48
    #   at iterations 500 / 1000 / 2000, i.e. epsilon 0.5 -> 0.2 -> 0.1 -> 0.04)
    # --- optimisation ---
    batch_size: int = 50  # real, fake and classifier batches
    critic_iters: int = 5  # critic steps per G step
    lr_g: float = 5e-5  # RMSProp learning rates (original: 5e-5 for all three)
    lr_d: float = 5e-5
    lr_c: float = 5e-5
    optimizer: str = "tf"  # tf: TF1 RMSPropOptimizer (decay 0.9, eps 1e-10 in the root, accumulator starts at 1;
    #                        the original) | torch: torch.optim.RMSprop defaults
    clip_value: float = 0.01  # WGAN weight clipping of every critic parameter after every main-loop critic step
    clip_in_pretrain: bool = False  # the original does not clip during pretraining (its clip op is only run in the main loop)
    classifier_double_softmax: bool = True  # original: softmax output fed to softmax_cross_entropy_with_logits
    # --- networks ---
    noise_dim: int = 128  # z ~ N(0, 1)^noise_dim
    dim: int = 64  # width: convolutions dim / 2dim / 4dim (original DIM = 64)
    output_activation: str = "auto"  # auto: sigmoid for [0,1] images (original), tanh for [-1,1] | sigmoid | tanh
    # --- computation ---
    batched: bool = False  # False: a Python loop over the K GANs (as the original) | True: the K GANs as stacked
    #   parameters in one vmapped call per step (same algorithm and random numbers; float rounding differs)
    # --- bookkeeping (no effect on the result) ---
    log_every: int = 100  # iterations.jsonl record every log_every iterations (original logs every 100)
    checkpoint_every: int = 1000  # checkpoint.pt and samples.png (original saved the TF model every 5,000)
    proba_refresh: str = "auto"  # how p(.|x) of the data is computed after each classifier update: lazy
    #   (only for the images the stream reads) | full (all images at once) | auto: lazy on a CPU, and on a
    #   GPU when it reads under a quarter of the images (e.g. CelebA K=2), else full (train.refresh_mode)
    assign_batch_size: int = 500

    def __post_init__(self) -> None:
        for name in ("iterations", "pretrain_iterations"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
        for name in ("batch_size", "critic_iters", "noise_dim", "dim", "log_every", "checkpoint_every",
                     "assign_batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 (BatchNorm over the batch), got {self.batch_size}")
        for name in ("lr_g", "lr_d", "lr_c", "clip_value"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not v > 0:
                raise ValueError(f"{name} must be a number > 0, got {v!r}")
        for name, choices in (("optimizer", ("tf", "torch")),
                              ("output_activation", ("auto", "sigmoid", "tanh")),
                              ("proba_refresh", ("auto", "lazy", "full"))):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {list(choices)}, got {getattr(self, name)!r}")
        for name in ("clip_in_pretrain", "classifier_double_softmax", "batched"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        self.num_chose_schedule = _schedule(self.num_chose_schedule, self.batch_size)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["num_chose_schedule"] = [list(pair) for pair in self.num_chose_schedule]
        return d


def _schedule(value: Any, batch_size: int) -> tuple[tuple[int, int], ...]:
    example = "e.g. [[0, 25], [500, 40], [1000, 45], [2000, 48]]"
    try:
        pairs = tuple((int(a), int(b)) for a, b in value)
        ok = all(float(a) == int(a) and float(b) == int(b) for a, b in value)
    except (TypeError, ValueError):
        raise ValueError(f"num_chose_schedule must be a list of [start_iteration, num_chose] pairs, {example}; "
                         f"got {value!r}") from None
    if not ok or not pairs:
        raise ValueError(f"num_chose_schedule must be a non-empty list of integer pairs, {example}; got {value!r}")
    if pairs[0][0] != 0:
        raise ValueError(f"num_chose_schedule must start at iteration 0, got {value!r}")
    starts = [a for a, _ in pairs]
    if any(b <= a for a, b in zip(starts, starts[1:])):
        raise ValueError(f"num_chose_schedule start iterations must increase strictly, got {value!r}")
    for _, n in pairs:
        if not 1 <= n <= batch_size:
            raise ValueError(f"num_chose must be in [1, batch_size={batch_size}], got {n} in {value!r} "
                             "(the default schedule is for the original batch_size 50; set num_chose_schedule "
                             "together with a smaller batch_size)")
    return pairs


class GANMM(Method):
    """K WGANs + one classifier, hard assignment by the classifier's argmax (see train.py).
    Writes iterations.jsonl, samples.png (one row per GAN) and checkpoint.pt into ctx.run_dir and
    resumes from the checkpoint when one is there."""

    name = "ganmm"
    Params = Params
    budget_unit = "iterations (pretraining + main loop)"
    continues_on = "iterations"  # main-loop iterations; its schedules are indexed by iteration, not by the total

    @classmethod
    def budget(cls, params: Params, n_fit: int) -> int:
        """Each iteration trains all K GANs (1 G + critic_iters critic steps) and the classifier."""
        return params.pretrain_iterations + params.iterations

    @classmethod
    def steps(cls, params: Params, n_fit: int, k: int, device_type: str) -> dict[str, int]:
        """K GAN passes per pretraining and main-loop iteration, plus the full p(.|x) refresh of
        every fitted image per iteration when the run refreshes in full (``refresh_mode``)."""
        from baselines.ganmm.train import refresh_mode  # local import: as fit's, keeps the registry light

        full = refresh_mode(params, device_type, k, n_fit) == "full"
        return {"ganmm_iterations": params.iterations,
                "ganmm_gan_passes": k * (params.pretrain_iterations + params.iterations),
                "ganmm_refresh_images": params.iterations * n_fit if full else 0}

    def __init__(self, params: Params, ctx: RunContext):
        super().__init__(params, ctx)
        self.trainer = None

    def fit(self, x: torch.Tensor, labelled: Labelled | None = None) -> None:
        if labelled is not None:
            raise ValueError("GANMM is unsupervised: it takes no labelled images")
        from baselines.ganmm.train import GANMMTrainer

        self.trainer = GANMMTrainer(self.params, self.ctx)
        self.trainer.fit(x)

    def resumed_seconds(self) -> float:
        return 0.0 if self.trainer is None else self.trainer.elapsed_before

    def assign(self, x: torch.Tensor) -> Assignment:
        if self.trainer is None:
            raise RuntimeError("GANMM.assign() called before fit()")
        return self.trainer.assign(x)
