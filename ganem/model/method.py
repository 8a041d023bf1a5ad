"""GAN-EM behind the suite's ``Method`` interface; its hyper-parameters are in ``params.py``."""
from __future__ import annotations

import torch

from ganem.methods.base import Assignment, Labelled, Method, RunContext
from ganem.model.em import GANEMTrainer, fit_interleaved, lazy_w, mstep_steps
from ganem.model.params import Params


class GANEM(Method):
    """GAN-EM (Zhao et al.): Algorithm 1 with a conditional GAN in the M-step and the E-net in the
    E-step.  Writes iterations.jsonl, samples.png and checkpoint.pt into ``ctx.run_dir`` and resumes
    from the checkpoint when one is there."""

    name = "ganem"
    Params = Params
    supports_labels = True
    budget_unit = "G+D steps"
    steps_seeds_together = True
    continues_on = "em_iterations"  # nothing in Algorithm 1's loop reads the total (lr decays per iteration)

    @classmethod
    def budget(cls, params: Params, n_fit: int) -> int:
        """One D and one G step per real batch of every M-step (Algorithm 1)."""
        return params.em_iterations * mstep_steps(params, n_fit)

    @classmethod
    def steps(cls, params: Params, n_fit: int, k: int, device_type: str) -> dict[str, int]:
        """Per EM iteration one M-step (D+G steps), q_steps E-steps and w = E(x): over every fitted
        image, or (lazy w) over the M-step's batches and the monitored subsample, plus the final
        assignment of every image. The supervised reference runs no EM iterations."""
        iterations = 0 if params.supervised_reference else params.em_iterations
        steps_m = mstep_steps(params, n_fit)
        lazy = lazy_w(params, n_fit)
        per_iteration = steps_m * params.batch_size + min(params.monitor_images, n_fit) if lazy else n_fit
        return {"gd_steps": iterations * steps_m, "gd_batch": params.batch_size,
                "e_steps": iterations * params.q_steps, "e_batch": params.e_batch_size,
                "assign_images": iterations * per_iteration + (n_fit if lazy and iterations else 0)}

    def __init__(self, params: Params, ctx: RunContext):
        super().__init__(params, ctx)
        self.trainer = None

    def fit(self, x: torch.Tensor, labelled: Labelled | None = None) -> None:
        self.trainer = GANEMTrainer(self.params, self.ctx)
        self.trainer.fit(x, labelled)

    @classmethod
    def fit_seeds(cls, methods: list["GANEM"], xs: list[torch.Tensor], labelled: list[Labelled | None]) -> None:
        """One step of each seed in turn (``fit_interleaved``): bit-identical to separate runs on CPU."""
        for method in methods:
            method.trainer = GANEMTrainer(method.params, method.ctx)
        fit_interleaved([m.trainer for m in methods], xs, labelled)

    def resumed_seconds(self) -> float:
        return 0.0 if self.trainer is None else self.trainer.resumed_seconds

    def assign(self, x: torch.Tensor) -> Assignment:
        if self.trainer is None:
            raise RuntimeError("GANEM.assign() called before fit()")
        return self.trainer.assign(x)
