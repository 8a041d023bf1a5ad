"""Adam as PyTorch 0.4/1.0 computed it (``adam_eps: legacy``), the runtime of the authors' code.

PyTorch 0.4/1.0 (torch/optim/adam.py) updated each parameter as

    m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,   t <- t + 1
    p <- p - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)

with eps added to sqrt(v) *before* the bias correction; today's Adam adds it after,
p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).  On the first steps after a restart
(the authors re-create their optimisers every EM iteration) the two differ most where |g| is near
eps's scale, e.g. the biases right before a BatchNorm.  No library ships the old formula, so this is
a small optimizer of its own: per-parameter state (step, exp_avg, exp_avg_sq) as Adam's, no weight
decay (the authors used none), and the update done with torch._foreach_* ops over each param group
so that it costs about what PyTorch's single-tensor Adam does (benchmarks/step_cost.py).
"""
from __future__ import annotations

import math
from typing import Iterable

import torch


class LegacyAdam(torch.optim.Optimizer):
    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        if not lr > 0 or not eps >= 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"LegacyAdam needs lr > 0, eps >= 0 and betas in [0, 1); got lr={lr}, "
                             f"betas={betas}, eps={eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            params, grads, exp_avgs, exp_avg_sqs, step_sizes = [], [], [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("LegacyAdam does not support sparse gradients")
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = state["step"]
                params.append(p)
                grads.append(p.grad)
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                # the step count is per parameter (as in 0.4), so each tensor gets its own step size
                step_sizes.append(-group["lr"] * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t))
            if not params:
                continue
            torch._foreach_mul_(exp_avgs, beta1)
            torch._foreach_add_(exp_avgs, grads, alpha=1 - beta1)
            torch._foreach_mul_(exp_avg_sqs, beta2)
            torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
            denom = torch._foreach_sqrt(exp_avg_sqs)
            torch._foreach_add_(denom, group["eps"])
            torch._foreach_addcdiv_(params, exp_avgs, denom, step_sizes)
        return loss
