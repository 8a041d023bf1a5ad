"""Plumbing shared by the neural methods (GAN-EM and GANMM): seeding, NaN guard, checkpoints,
the per-iteration log, sample grids and progress bars.

Both training loops call these, so resuming, logging and failing behave the same for every method.
"""
from __future__ import annotations

import json
import logging
import math
import os
import random
import sys
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
from tqdm.auto import tqdm

from ganem.io import atomic_path, atomic_write_bytes


class NonFiniteLoss(RuntimeError):
    """A loss became NaN or inf; the run stops without writing metrics.json."""


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a torch.Generator for the run's sampling.

    On CPU the same seed then gives bit-identical predictions (deterministic algorithms are on).
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    enable_determinism()
    return torch.Generator().manual_seed(seed)


def enable_determinism(compiling: bool = False) -> None:
    """The kernel choice training runs under (deterministic algorithms, warning where none exists);
    step timings call it too, so that they time what trains.

    ``torch.use_deterministic_algorithms`` also sets TorchInductor's own flag, and importing
    ``torch._inductor`` for it costs about 2 s per process (torch 2.14), more than a whole short run
    (the test DAGs' runs, `make quick`). So a process that does not compile sets only the kernel
    switch; one that compiles (``compiling``, or inductor already loaded) sets both."""
    if compiling or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch._C._set_deterministic_algorithms(True, warn_only=True)


def resolve_output(kind: str, x: torch.Tensor, key: str) -> str:
    """G's output activation: ``kind`` itself, or from the data when it is 'auto' (linear for vectors,
    sigmoid for images in [0,1], tanh for [-1,1]).  ``key`` names the config key for the error."""
    if kind != "auto":
        return kind
    if x.dim() == 2:
        return "linear"
    lo, hi = float(x.min()), float(x.max())
    if lo >= -1e-6 and hi <= 1 + 1e-6:
        return "sigmoid"
    if lo >= -1 - 1e-6 and hi <= 1 + 1e-6:
        return "tanh"
    raise ValueError(f"images range over [{lo:.3g}, {hi:.3g}], neither [0,1] (sigmoid) nor [-1,1] (tanh): "
                     f"normalise them or set {key} to sigmoid, tanh or linear")


def check_finite(losses: dict[str, torch.Tensor | float], iteration: int, step: int) -> None:
    """Raise NonFiniteLoss naming the loss, EM iteration and step if any loss is NaN or inf."""
    for name, value in losses.items():
        v = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
        if not math.isfinite(v):
            raise NonFiniteLoss(
                f"loss {name} = {v} at iteration {iteration}, step {step}; the run is stopped and no "
                "metrics.json is written. Lower the learning rates or check the input range."
            )


class FiniteGuard:
    """NaN/inf detection of one EM iteration's step losses without a host sync per step.

    ``add`` keeps each step's losses on the device; every ``every`` steps (and at ``check``) one
    ``isfinite`` over all of them is read back, so a GPU waits once per window instead of once per
    step.  When the window holds a bad loss, the first bad step is found in the kept losses and
    ``check_finite`` raises with its name, EM iteration and step, exactly as a per-step check would.
    The run stops at most ``every - 1`` steps later than the step that diverged; nothing is saved in
    between (checkpoints are written after whole EM iterations only).
    """

    def __init__(self, iteration: int, every: int):
        self.iteration, self.every = iteration, max(int(every), 1)
        self.pending: list[tuple[int, int, dict[str, torch.Tensor]]] = []

    def add(self, step: int, losses: dict[str, torch.Tensor], iteration: int | None = None) -> None:
        """Keep one step's losses; ``iteration`` overrides the guard's own for the error message
        (GANMM names each main-loop iteration, one guard spanning many)."""
        self.pending.append((self.iteration if iteration is None else iteration, step, losses))
        if len(self.pending) >= self.every:
            self.check()

    def check(self) -> None:
        """Raise NonFiniteLoss for the first bad step since the last check; then forget the window."""
        if not self.pending:
            return
        flat = torch.stack([v.detach().float().reshape(()) for _, _, losses in self.pending for v in losses.values()])
        if not bool(torch.isfinite(flat).all()):
            for iteration, step, losses in self.pending:
                check_finite(losses, iteration, step)
        self.pending.clear()


class Checkpointer:
    """One checkpoint file per run, replaced atomically after every iteration.

    The state is whatever the method needs to continue exactly: model and optimiser state dicts,
    the E-step's w, the iteration counter and the RNG states (see ``rng_state``/``set_rng_state``).
    """

    def __init__(self, run_dir: Path, name: str = "checkpoint.pt"):
        self.path = Path(run_dir) / name

    def save(self, state: dict[str, Any]) -> None:
        with atomic_path(self.path) as tmp:
            torch.save(state, tmp)

    def load(self) -> dict[str, Any] | None:
        """The saved state, every tensor on the CPU (None when there is no checkpoint).

        Always the CPU, whatever device the run trains on: the RNG states must stay CPU byte tensors
        (``torch.set_rng_state`` and ``Generator.set_state`` refuse CUDA ones), and
        ``load_state_dict`` copies weights and optimiser states onto the models' own device.
        """
        if not self.path.exists():
            return None
        return torch.load(self.path, map_location="cpu", weights_only=False)


CHECKPOINT_POLICIES = ("keep", "slim", "remove")


def tidy_checkpoint(run_dir: Path, policy: str) -> None:
    """After a run's metrics.json: ``remove`` its checkpoint, ``slim`` it to what a resume still needs
    (nets, w, RNG states, counters: optimiser states dropped, so a resume re-creates the optimisers,
    which GAN-EM does every EM iteration anyway under reset_optimizers), or ``keep`` it whole.
    No figure reads a checkpoint (they read samples.png, features.npy, predictions.npy)."""
    ckpt = Checkpointer(run_dir)
    if policy == "remove":
        ckpt.path.unlink(missing_ok=True)
    elif policy == "slim":
        state = ckpt.load()
        if state is not None and any(key.startswith("opt") for key in state):
            # marked, so that a continuation (``ganem.run.check_continuation``) refuses it
            ckpt.save({**{key: value for key, value in state.items() if not key.startswith("opt")}, "slimmed": True})
    elif policy != "keep":
        raise ValueError(f"checkpoints must be one of {list(CHECKPOINT_POLICIES)}, got {policy!r}")


def rng_state(generator: torch.Generator | None = None) -> dict[str, Any]:
    """Every RNG state a resumed run must restore to continue bit-identically.

    Of CUDA, the current device's state only: a job trains on one GPU (``ganem.gpu_pin`` makes it
    cuda:0), and a checkpoint holding every visible GPU's state could not be restored when the run
    resumes with fewer GPUs visible."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state() if torch.cuda.is_available() else None,
    }
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def set_rng_state(state: dict[str, Any], generator: torch.Generator | None = None) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available():
        if isinstance(cuda, (list, tuple)):  # older checkpoints: every visible GPU's; the run's is the first
            cuda = cuda[0]
        torch.cuda.set_rng_state(cuda)
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"])


class IterationLog:
    """Append-only JSON-lines log, one record per iteration (losses, phi, changed fraction, ...).

    Each record is also logged as one readable line (``iteration_line``) on the job's stderr, which
    the workflow sends to the rule's log: ``tail -f logs/runs/...log`` shows where a long job stands.
    ``truncate(n)`` drops records past iteration n, so a resumed run does not log twice.
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record, default=_jsonable) + "\n")
        logging.getLogger("ganem.iteration").info(iteration_line(record))

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def truncate(self, n_iterations: int) -> None:
        kept = [r for r in self.records() if r["iteration"] <= n_iterations]
        text = "".join(json.dumps(r) + "\n" for r in kept)
        atomic_write_bytes(self.path, text.encode())


def iteration_line(record: dict[str, Any]) -> str:
    """One line per EM (GAN-EM) or logged training (GANMM) iteration record: iteration, phase,
    seconds, every loss, cluster sizes, changed fraction and the monitoring error when present, e.g.
    ``iteration 3 | 12.4 s | d_loss 1.3021 g_loss 0.7113 | sizes [51, 49] | changed 0.02 | error 12.50%``."""
    head = f"iteration {record['iteration']}"
    if record.get("phase"):
        head += f" ({record['phase']})"
    parts = [head]
    if record.get("seconds_per_iteration") is not None:  # GANMM: seconds since the start, and per iteration
        parts.append(f"{record['seconds']:.1f} s elapsed, {record['seconds_per_iteration']:.2f} s/iteration")
    elif record.get("seconds") is not None:  # GAN-EM: seconds of this EM iteration
        parts.append(f"{record['seconds']:.1f} s")
    losses = [f"{key} {value:.4f}" for key, value in record.items()
              if "loss" in key and isinstance(value, (int, float)) and not isinstance(value, bool)]
    if losses:
        parts.append(" ".join(losses))
    if record.get("cluster_sizes") is not None:
        parts.append(f"sizes {list(record['cluster_sizes'])}")
    if record.get("changed") is not None:
        parts.append(f"changed {record['changed']:.4f}")
    if record.get("monitor_error") is not None:
        parts.append(f"error {record['monitor_error']:.2f}%")
    return " | ".join(parts)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {type(value)}")


def save_sample_grid(images: torch.Tensor, nrow: int, path: Path, value_range: tuple[float, float]) -> None:
    """Save images (B, C, H, W) as one PNG grid, ``nrow`` images per row (one row per class)."""
    from torchvision.utils import save_image

    lo, hi = value_range
    save_image(((images.detach().float().cpu() - lo) / (hi - lo)).clamp(0, 1), path, nrow=nrow, padding=2)


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
             enabled: bool = True, leave: bool = True):
    """A tqdm bar, silent when disabled (CI sets CI=true) so logs stay readable."""
    return tqdm(iterable, total=total, desc=desc, disable=not enabled or bool(os.environ.get("CI")),
                leave=leave, dynamic_ncols=True)
