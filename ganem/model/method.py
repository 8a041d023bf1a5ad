"""GAN-EM behind the suite's ``Method`` interface; its hyper-parameters are in ``params.py``."""
from __future__ import annotations

import torch

from ganem.methods.base import Assignment, Labelled, Method, RunContext
from ganem.model.em import GANEMTrainer, mstep_steps
from ganem.model.params import Params


class GANEM(Method):
    """GAN-EM (Zhao et al.): Algorithm 1 with a conditional GAN in the M-step and the E-net in the
    E-step.  Writes iterations.jsonl, samples.png and checkpoint.pt into ``ctx.run_dir`` and resumes
    from the checkpoint when one is there."""

    name = "ganem"
    Params = Params
    supports_labels = True
    budget_unit = "G+D steps"

    @classmethod
    def budget(cls, params: Params, n_fit: int) -> int:
        """One D and one G step per real batch of every M-step (Algorithm 1)."""
        return params.em_iterations * mstep_steps(params, n_fit)

    def __init__(self, params: Params, ctx: RunContext):
        super().__init__(params, ctx)
        self.trainer = None

    def fit(self, x: torch.Tensor, labelled: Labelled | None = None) -> None:
        self.trainer = GANEMTrainer(self.params, self.ctx)
        self.trainer.fit(x, labelled)

    def assign(self, x: torch.Tensor) -> Assignment:
        if self.trainer is None:
            raise RuntimeError("GANEM.assign() called before fit()")
        return self.trainer.assign(x)
