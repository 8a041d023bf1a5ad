"""Short timings of the suite's own training steps on the current device.

``python -m ganem plan`` times these on the spot (seconds in all) to turn step counts into hours,
``python -m ganem plan --save-timings`` stores them for a device (``timings/<device>.json``, read by
``ganem.cost`` for the SLURM runtime of each training rule), and ``benchmarks/step_cost.py`` puts
them beside a bare PyTorch loop.  Every number comes from the trainers' own step functions
(``GANEMTrainer.mstep_step`` / ``estep_step``, ``GANMMTrainer.main_iteration``) on random images
of the family's shape; what the steps compute does not depend on the pixel values.
"""
from __future__ import annotations

import dataclasses
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

from ganem.data import ENTRIES
from ganem.methods.base import RunContext

# One sample shape per network family, from the dataset registry (every dataset of a family has it).
FAMILY_SHAPES: dict[str, tuple[int, ...]] = {entry.net: entry.shape for entry in ENTRIES.values()}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_ms(fn: Callable[[], Any], device: torch.device, steps: int, repeats: int, warmup: int = 2) -> float:
    """Median over ``repeats`` of the mean wall milliseconds of ``steps`` calls of ``fn`` (after warm-up)."""
    return interleaved_ms({"fn": fn}, device, steps, repeats, warmup)["fn"]


def interleaved_ms(fns: dict[str, Callable[[], Any]], device: torch.device, steps: int, repeats: int,
                   warmup: int = 2) -> dict[str, float]:
    """``median_ms`` of several functions, their repeats taken in turn (A B A B ...), so that load
    from other jobs on a shared machine falls on all of them alike.  On the CPU the clock is the
    process's CPU time (time.process_time: what the steps used of a core, not the time they waited
    for one on a busy machine); on a GPU it is wall time up to a device synchronisation."""
    clock = time.perf_counter if device.type == "cuda" else time.process_time
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    sync(device)
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = clock()
            for _ in range(steps):
                fn()
            sync(device)
            samples[name].append((clock() - t0) * 1000 / steps)
    return {name: statistics.median(v) for name, v in samples.items()}


def random_images(family: str, n: int, seed: int = 0) -> torch.Tensor:
    """n random inputs of the family's shape, in [0, 1] (images) or N(0, 1) (points)."""
    gen = torch.Generator().manual_seed(seed)
    shape = FAMILY_SHAPES[family]
    return torch.rand(n, *shape, generator=gen) if len(shape) == 3 else torch.randn(n, *shape, generator=gen)


def ganem_trainer(family: str, device: torch.device, params, k: int, run_dir: Path, n: int | None = None):
    """A GANEMTrainer with nets and optimisers built for ``family`` and images x on the device;
    returns (trainer, x, w, phi_draw, gen): everything ``mstep_step``/``estep_step`` take."""
    from ganem.model.em import GANEMTrainer

    ctx = RunContext(k=k, seed=0, run_dir=run_dir, device=device, progress=False)
    trainer = GANEMTrainer(params, ctx)
    n = n or max(4 * params.batch_size, params.assign_batch_size)
    x = trainer.prepare(random_images(family, n))
    w = torch.full((n, k), 1.0 / k, device=device)
    phi_draw = trainer.begin_iteration(0, w.sum(0) / n)
    trainer.G.train(), trainer.D.train()
    trainer.e_train_mode()
    return trainer, x, w, phi_draw, torch.Generator().manual_seed(0)


def time_ganem(family: str, device: torch.device, params=None, k: int = 10, steps: int = 5,
               repeats: int = 3, warmup: int = 2) -> dict[str, float]:
    """ms per M-step step (one D + one G step at batch_size), per E-step step (e_batch_size fakes),
    and per image of the assignment pass (w = E(x)), with GAN-EM's Params (default: the paper's)."""
    from ganem.model.method import Params
    from ganem.trainer_support import enable_determinism

    enable_determinism()  # the kernels training runs with (seed_everything), not the defaults
    params = params or Params()
    with tempfile.TemporaryDirectory() as tmp:
        trainer, x, w, phi_draw, gen = ganem_trainer(family, device, params, k, Path(tmp))
        m_step, e_step, finish = suite_steps(trainer, x, w, phi_draw, gen)
        some = x[:min(len(x), 4 * params.batch_size)]  # enough images for a per-image cost
        out = {"mstep_ms": median_ms(m_step, device, steps, repeats, warmup),
               "estep_ms": median_ms(e_step, device, steps, repeats, warmup),
               "assign_ms_per_image": median_ms(lambda: trainer.predict(some), device, 1, repeats, 1) / len(some)}
        finish()
    return {**out, "mstep_batch": params.batch_size, "estep_batch": params.e_batch_size}


def suite_steps(trainer, x, w, phi_draw, gen):
    """(M-step step, E-step step, finish) as the EM loop runs them: the trainer's step, the NaN
    guard and the loss accumulation; ``finish`` runs the guard's last check."""
    from ganem.trainer_support import FiniteGuard

    params, device = trainer.p, trainer.device
    guard = FiniteGuard(1, params.finite_check_every)
    acc = torch.zeros((), device=device)
    counter = iter(range(10**9))

    perm = torch.randperm(len(x), generator=gen).to(device)  # the EM loop's batches: slices of one permutation
    batches = len(x) // params.batch_size

    def m_step():
        nonlocal acc
        b = next(counter) % batches
        idx = perm[b * params.batch_size:(b + 1) * params.batch_size]
        d_loss, g_loss = trainer.mstep_step(x, w, idx, phi_draw, gen)
        guard.add(b, {"d_loss": d_loss, "g_loss": g_loss})
        acc = acc + d_loss + g_loss

    def e_step():
        nonlocal acc
        e_loss = trainer.estep_step(phi_draw, gen)
        guard.add(next(counter), {"e_loss": e_loss})
        acc = acc + e_loss

    return m_step, e_step, guard.check


def time_ganmm(family: str, device: torch.device, params=None, k: int = 2, repeats: int = 3,
               n: int = 1000, warmup: int = 2) -> dict[str, float]:
    """ms per GAN of one GANMM main-loop iteration (classifier step + 1 G step + critic_iters critic
    steps, lazy refresh) and ms per image of the classifier's full p(.|x) refresh."""
    from baselines.ganmm.method import Params as GANMMParams
    from baselines.ganmm.train import GANMMTrainer
    from ganem.trainer_support import enable_determinism

    if family == "mlp":
        return {}  # GANMM takes images only
    enable_determinism()  # as in training; setup() would switch it on only after the nets are built
    params = dataclasses.replace(params or GANMMParams(), proba_refresh="lazy")
    with tempfile.TemporaryDirectory() as tmp:
        ctx = RunContext(k=k, seed=0, run_dir=Path(tmp), device=device, progress=False)
        trainer = GANMMTrainer(params, ctx)
        x = trainer.setup(random_images(family, n))
        late = params.num_chose_schedule[-1][0]  # the num_chose of almost every iteration
        it = iter(range(late, late + 10**9))
        per_gan = median_ms(lambda: trainer.main_iteration(x, next(it)), device, 1, repeats, warmup) / k
        refresh = median_ms(lambda: trainer.log_proba(x), device, 1, repeats, warmup=1) / n
    return {"ganmm_ms_per_gan": per_gan, "ganmm_refresh_ms_per_image": refresh}


def measure(families: tuple[str, ...], device: torch.device, *, ganem_params: dict[str, Any] | None = None,
            ganmm_params: dict[str, Any] | None = None, ganmm: bool = True, repeats: int = 3, steps: int = 5,
            warmup: int = 2, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The timings ``ganem.cost`` reads, for each family: {family: {key: ms}} plus provenance.

    ``ganem_params`` / ``ganmm_params`` map a family to the Params to time it with (default: the
    methods' defaults, i.e. the paper's and the original's networks and batch sizes)."""
    ganem_params, ganmm_params = ganem_params or {}, ganmm_params or {}
    out: dict[str, Any] = {"device": device.type, "device_name": device_name(device),
                           "threads": torch.get_num_threads(), "torch": torch.__version__, "families": {}}
    for family in families:
        progress(f"timing GAN-EM steps, {family}")
        row: dict[str, Any] = time_ganem(family, device, ganem_params.get(family), steps=steps, repeats=repeats,
                                         warmup=warmup)
        if ganmm and family != "mlp":
            progress(f"timing a GANMM iteration, {family}")
            row.update(time_ganmm(family, device, ganmm_params.get(family), repeats=repeats, warmup=warmup))
        out["families"][family] = {key: round(v, 6) for key, v in row.items()}
        for name, chosen in (("ganem_params", ganem_params), ("ganmm_params", ganmm_params)):
            if family in chosen:
                out["families"][family][name] = chosen[family].to_dict()
    return out


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()
