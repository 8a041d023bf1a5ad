"""Adam as PyTorch 0.4/1.0 computed it (``adam_eps: legacy``), the runtime of the authors' code.

PyTorch 0.4/1.0 (torch/optim/adam.py) updated each parameter as

    m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,   t <- t + 1
    p <- p - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)

with eps added to sqrt(v) *before* the bias correction; today's Adam adds it after,
p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).  On the first steps after a restart
(the authors re-create their optimisers every EM iteration) the two differ most where |g| is near
eps's scale, e.g. the biases right before a BatchNorm.  No library ships the old formula.

Multiplying today's denominator by sqrt(1 - b2^t) shows that the old update *is* today's with
eps_t = eps / sqrt(1 - b2^t):

    lr / (1 - b1^t) * m / ((sqrt(v) + eps) / sqrt(1 - b2^t)) = lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)

So ``LegacyAdam`` is torch.optim.Adam (its state, state_dict and single/foreach/fused kernels:
fused is the fast one on a CPU core) called with that per-step eps.  t is per parameter, as in 0.4:
parameters about to take different steps are updated in separate kernel calls.  Equal to the
0.4 formula up to float rounding (tests/test_legacy_adam.py checks it by hand).  No weight decay,
amsgrad or maximize: the authors used none.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Iterable

import torch
from torch.optim.adam import adam


class LegacyAdam(torch.optim.Adam):
    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, *,
                 foreach: bool | None = None, fused: bool | None = None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, foreach=foreach, fused=fused)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
            has_complex = self._init_group(group, params, grads, exp_avgs, exp_avg_sqs, [], steps)
            # the step each parameter is about to take, counted on the host (Adam's own `step`
            # tensor may live on the GPU; reading it would wait for the device)
            by_t: dict[int, list[int]] = defaultdict(list)
            for i, p in enumerate(params):
                state = self.state[p]
                state["host_step"] = state.get("host_step", 0) + 1
                by_t[state["host_step"]].append(i)
            beta1, beta2 = group["betas"]
            for t, idx in by_t.items():
                adam([params[i] for i in idx], [grads[i] for i in idx], [exp_avgs[i] for i in idx],
                     [exp_avg_sqs[i] for i in idx], [], [steps[i] for i in idx],
                     foreach=group["foreach"], fused=group["fused"], capturable=group["capturable"],
                     differentiable=False, has_complex=has_complex, amsgrad=False, beta1=beta1, beta2=beta2,
                     lr=group["lr"], weight_decay=0.0, eps=group["eps"] / math.sqrt(1 - beta2 ** t),
                     maximize=False)
        return loss
