"""K networks of one architecture as stacked parameters, for ``batched: true``."""
from __future__ import annotations

import copy

import torch


class Stack:
    """K networks of one architecture as stacked parameters (K, ...), evaluated in one call with
    torch.func.vmap + functional_call (convolutions become grouped convolutions).  Used when
    ``Params.batched``; each network's computation is the same as when it runs on its own."""

    def __init__(self, modules: list[torch.nn.Module]):
        from torch.func import functional_call, stack_module_state, vmap

        self.k = len(modules)
        self.base = copy.deepcopy(modules[0]).to("meta")
        self.params, self.buffers = stack_module_state(modules)
        if self.buffers:
            raise ValueError("Stack expects networks without buffers (BatchNorm without running stats)")

        def one(params, buffers, x):
            return functional_call(self.base, (params, buffers), (x,))

        self._call = vmap(one)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x: (K, B, ...) -> (K, B, ...): network i on x[i]."""
        return self._call(self.params, self.buffers, x)

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def requires_grad_(self, flag: bool) -> None:
        for p in self.params.values():
            p.requires_grad_(flag)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {name: p.detach().clone() for name, p in self.params.items()}

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for name, p in self.params.items():
            p.copy_(state[name])

    @torch.no_grad()
    def clip_(self, value: float) -> None:
        for p in self.params.values():
            p.clamp_(-value, value)
