"""What explains whether GAN-EM learns, measured once per EM iteration (issue 10's ablation).

Three cheap views, logged beside the losses in iterations.jsonl:

* ``d_outputs``: D's mean output per unit, D_i = sigmoid(l_i), on real images and on class-balanced
  fakes, the K class units and the extra unit (last).  A D whose class units all sit near 1 on reals
  (or near 0 on fakes) gives G no class-specific signal.
* ``g_input_gradients``: the per-sample size of G's loss gradient with respect to its class input
  (the one-hot c) and its noise input z.  When the class gradient vanishes against the noise
  gradient, G's classes stop differing, the E-net cannot tell them apart and clusters empty.
* ``CollapseGuard``: a cluster whose share phi_i stays below 1/(10K) for ``patience`` EM iterations
  is *dead*; the guard records (iteration, cluster) so a long run that is going nowhere says so early.

None of this touches the training: the networks run in eval mode (BatchNorm statistics unchanged),
gradients are taken with ``torch.autograd.grad`` (no ``.grad`` accumulates), and the caller passes a
random generator of its own.
"""
from __future__ import annotations

from typing import Any, Callable

import torch


@torch.no_grad()
def d_outputs(D: torch.nn.Module, x: torch.Tensor) -> list[float]:
    """Mean sigmoid output of each of D's K+1 units on ``x`` (eval mode)."""
    was_training = D.training
    D.eval()
    out = torch.sigmoid(D(x)).mean(0)
    D.train(was_training)
    return [round(float(v), 5) for v in out]


def g_input_gradients(G: torch.nn.Module, D: torch.nn.Module, z: torch.Tensor, c: torch.Tensor,
                      g_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> dict[str, float]:
    """Mean per-sample norm of dL_G/dc (one-hot class input) and dL_G/dz (noise), G and D in eval mode.

    L_G is a mean over the batch, so the gradients are scaled by the batch size to be per sample."""
    was = (G.training, D.training)
    G.eval(), D.eval()
    onehot = torch.nn.functional.one_hot(c, G.k).to(z.dtype).requires_grad_(True)
    z = z.detach().clone().requires_grad_(True)
    loss = g_loss(D(G(z, onehot)), c)
    grad_c, grad_z = torch.autograd.grad(loss, [onehot, z])
    G.train(was[0]), D.train(was[1])
    b = len(z)
    return {"g_grad_class": round(float((grad_c * b).norm(dim=1).mean()), 8),
            "g_grad_noise": round(float((grad_z * b).norm(dim=1).mean()), 8)}


class CollapseGuard:
    """Counts, per cluster, the consecutive EM iterations its share phi_i stayed below 1/(10K)."""

    def __init__(self, k: int, patience: int):
        self.k, self.patience = k, patience
        self.threshold = 1.0 / (10 * k)
        self.streak = [0] * k
        self.dead: list[list[int]] = []  # [iteration, cluster] each time a cluster is declared dead

    def update(self, iteration: int, phi: torch.Tensor) -> list[int]:
        """Feed the shares after an EM iteration; return the clusters declared dead at this one."""
        new = []
        for i, share in enumerate(phi.tolist()):
            self.streak[i] = self.streak[i] + 1 if share < self.threshold else 0
            if self.streak[i] == self.patience:
                self.dead.append([iteration, i])
                new.append(i)
        return new

    def state_dict(self) -> dict[str, Any]:
        return {"streak": list(self.streak), "dead": [list(d) for d in self.dead]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.streak, self.dead = list(state["streak"]), [list(d) for d in state["dead"]]
