"""Which real images each critic step sees: the initial K-chunk split, the endless data stream and
the epsilon sampler (``mix_batch``) with its ``num_chose`` schedule."""
from __future__ import annotations

from typing import Any, Callable

import torch


def num_chose_at(schedule: tuple[tuple[int, int], ...], iteration: int) -> int:
    """num_chose for main-loop iteration ``iteration`` (0-based, as the original's loop counter):
    the value of the last schedule entry whose start is <= iteration."""
    value = schedule[0][1]
    for start, n in schedule:
        if iteration >= start:
            value = n
        else:
            break
    return value


def initial_split(n: int, k: int, batch_size: int, gen: torch.Generator) -> torch.Tensor:
    """The original's ``splitGenerator``: shuffle, cut into K equal chunks of whole batches.

    Returns indices of shape (K, batches_per_chunk, batch_size); the remaining
    n - K * batches_per_chunk * batch_size images are in no chunk (as in the original).
    """
    per_chunk = n // (batch_size * k)
    if per_chunk < 1:
        raise ValueError(
            f"GANMM's initial split needs at least K * batch_size = {k * batch_size} images "
            f"(one batch per GAN), got {n}; lower batch_size or K")
    perm = torch.randperm(n, generator=gen)
    return perm[: k * per_chunk * batch_size].view(k, per_chunk, batch_size)


class EpochStream:
    """The original's ``inf_train_gen``: an endless stream of batches of indices, reshuffled every
    epoch; each epoch yields n // batch_size full batches (the remainder sits out that epoch)."""

    def __init__(self, n: int, batch_size: int, gen: torch.Generator):
        if n < batch_size:
            raise ValueError(f"need at least batch_size={batch_size} images, got {n}")
        self.n, self.b, self.gen = n, batch_size, gen
        self.perm: torch.Tensor | None = None
        self.pos = 0

    def next(self) -> torch.Tensor:
        if self.perm is None or self.pos + self.b > (self.n // self.b) * self.b:
            self.perm = torch.randperm(self.n, generator=self.gen)
            self.pos = 0
        idx = self.perm[self.pos:self.pos + self.b]
        self.pos += self.b
        return idx

    def state_dict(self) -> dict[str, Any]:
        return {"perm": self.perm, "pos": self.pos}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.perm, self.pos = state["perm"], state["pos"]


def mix_batch(draw: Callable[[], torch.Tensor], log_proba_of: Callable[[torch.Tensor], torch.Tensor],
              i: int, num_chose: int, batch_size: int, gen: torch.Generator) -> tuple[torch.Tensor, int]:
    """One critic batch for GAN ``i`` (the original's epsilon-EM batch; indices on the CPU).

    ``draw()`` returns the next stream batch of indices, ``log_proba_of(idx)`` the classifier's
    log p(.|x) for them (rows, float).  Stream batches are read until at least ``num_chose`` images
    with argmax i and ``batch_size - num_chose`` others have been collected; the batch is the first
    ``num_chose`` of the former plus ``batch_size - num_chose`` of the latter drawn without
    replacement with probability proportional to p(i|x).  Two quirks of the original are kept: a
    stream batch with no argmax-i image contributes its image of highest p(i|x) to the chosen ones,
    and a stream batch whose images are all argmax-i contributes its image of lowest p(i|x) to the
    others.  Returns (indices (batch_size,), number of stream images read).
    """
    chosen: list[torch.Tensor] = []
    rest: list[torch.Tensor] = []
    rest_lp: list[torch.Tensor] = []
    n_chosen = n_rest = drawn = 0
    n_eps = batch_size - num_chose
    while True:
        idx = draw()
        lp = log_proba_of(idx)
        drawn += len(idx)
        sel = lp.argmax(1) == i
        n_sel = int(sel.sum())
        if n_sel:
            chosen.append(idx[sel])
        else:
            chosen.append(idx[lp[:, i].argmax()].view(1))
        if n_sel < len(idx):
            rest.append(idx[~sel])
            rest_lp.append(lp[~sel, i])
        else:
            j = lp[:, i].argmin()
            rest.append(idx[j].view(1))
            rest_lp.append(lp[j, i].view(1))
        n_chosen += len(chosen[-1])
        n_rest += len(rest[-1])
        if n_chosen >= num_chose and n_rest >= n_eps:
            break
    batch = torch.cat(chosen)[:num_chose]
    if n_eps > 0:
        pool = torch.cat(rest)
        lpi = torch.cat(rest_lp).double()
        # weights p(i|x) / sum, computed from log-probabilities in float64 so that no weight
        # underflows to 0 (np.random.choice in the original fails when fewer than n_eps are > 0)
        w = torch.exp(lpi - lpi.max()).clamp_min(1e-300)
        pick = torch.multinomial(w, n_eps, replacement=False, generator=gen)
        batch = torch.cat([batch, pool[pick]])
    return batch, drawn
