"""The optimisers of GANMM's nets: TF 1.x ``RMSPropOptimizer`` semantics (the original) or PyTorch's."""
from __future__ import annotations

from typing import Any

import torch


class TFRMSprop:
    """TensorFlow 1.x's ``tf.train.RMSPropOptimizer`` (momentum 0), which the original uses:

        ms <- decay * ms + (1 - decay) * g^2      (ms starts at ONE, not zero)
        w  <- w - lr * g / sqrt(ms + eps)         (eps inside the square root)

    with TF's defaults decay 0.9 and eps 1e-10.  PyTorch's RMSprop differs in all three points
    (alpha 0.99, zero-initialised accumulator, eps outside the root); with ms starting at 1 the first
    tens of steps are ~lr * g, i.e. far smaller than PyTorch's first steps (~10 lr * sign(g)).

    A plain class with the optimiser methods the trainer uses (not a torch.optim.Optimizer, whose
    first construction imports torch._dynamo: seconds per process, which the resume test pays).
    """

    def __init__(self, params, lr: float, decay: float = 0.9, eps: float = 1e-10):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.decay, self.eps = lr, decay, eps
        self.ms = [torch.ones_like(p) for p in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        pairs = [(p, m) for p, m in zip(self.params, self.ms) if p.grad is not None]
        if not pairs:
            return
        ps, ms = [p for p, _ in pairs], [m for _, m in pairs]
        grads = [p.grad for p in ps]
        torch._foreach_mul_(ms, self.decay)
        torch._foreach_addcmul_(ms, grads, grads, value=1 - self.decay)
        denom = torch._foreach_add(ms, self.eps)
        torch._foreach_sqrt_(denom)
        torch._foreach_addcdiv_(ps, grads, denom, value=-self.lr)

    def state_dict(self) -> dict[str, Any]:
        return {"lr": self.lr, "decay": self.decay, "eps": self.eps, "ms": [m.clone() for m in self.ms]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["ms"]) != len(self.ms):
            raise ValueError("optimizer state does not match the network")
        self.lr, self.decay, self.eps = state["lr"], state["decay"], state["eps"]
        for m, saved in zip(self.ms, state["ms"]):
            m.copy_(saved)


def make_optimizer(params, lr: float, kind: str):
    if kind == "tf":
        return TFRMSprop(params, lr)
    return torch.optim.RMSprop(params, lr=lr)
