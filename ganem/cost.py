"""What a run costs before it runs: its step counts (from the method's resolved Params and the
dataset's size) times per-step timings of the device it will run on.

    estimate_run_seconds(config, "ganem", "mnist", 0, 10)   # seconds, or None without a timing

Step counts are exact for the configured Params (GAN-EM: em_iterations x M-step steps and E-steps;
GANMM: pretraining and main-loop iterations).  The timings come from ``timings/<device>.json``,
written by ``python -m ganem plan --save-timings`` with the suite's own step functions
(``ganem.step_timing``); they are per family at the paper's batch sizes and scale linearly with
the batch (on a GPU, where small batches are launch-bound, that overestimates smaller batches).
The estimate leaves out what is small against the training steps: data loading, the checkpoint,
GAN-EM's semi-supervised label steps (at most semi_max_steps per iteration), k-means and GMM
(no timing: ``None``).
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ganem import data
from ganem.config import base_method, dataset_settings, resolved_params, splits_for
from ganem.methods import get_method

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMINGS_DIR = REPO_ROOT / "timings"

@dataclass(frozen=True)
class RunSteps:
    """The training work of one run, in the units the timings are measured in."""

    family: str  # network family: mnist (28x28), svhn (32x32), celeba (64x64), mlp
    n_images: int  # images of the fit split
    gd_steps: int = 0  # GAN-EM M-step steps (one D + one G step each)
    gd_batch: int = 0
    e_steps: int = 0  # GAN-EM E-step steps
    e_batch: int = 0
    assign_images: int = 0  # images pushed through the E-net for w = E(x) (ganem.model.em.lazy_w)
    ganmm_iterations: int = 0  # GANMM main-loop iterations
    ganmm_gan_passes: int = 0  # GAN passes (one G + critic_iters critic steps) over pretraining and main loop
    ganmm_refresh_images: int = 0  # images of GANMM's full p(.|x) refresh (0 with the lazy refresh)


def fit_images(config: dict[str, Any], dataset: str, n_labels: int) -> int:
    """Images of the split a run fits on (the registry's split size, after datasets.<name>.n_samples)."""
    settings = dataset_settings(config, dataset)
    n = data.split_size(dataset, splits_for(config, dataset, n_labels)[0],
                        celeba_max_per_class=settings.get("options", {}).get("max_per_class"))
    cap = settings.get("n_samples")
    return min(n, cap) if cap else n


def run_steps(config: dict[str, Any], method: str, dataset: str, n_labels: int, k: int,
              device_type: str | None = None) -> RunSteps:
    """Step counts of one run, from the method's own ``Method.steps``; zero steps for methods without
    a training loop (k-means, GMM)."""
    family = data.entry(dataset).net
    n = fit_images(config, dataset, n_labels)
    method_class = get_method(base_method(config, method))
    return RunSteps(family, n, **method_class.steps(resolved_params(config, method, dataset), n, k,
                                                    device_type or planned_device(config)))


def seconds(steps: RunSteps, timings: dict[str, Any]) -> float | None:
    """Seconds of a run's steps under a timing table (``step_timing.measure``); None when the
    table has no row for the run's family or the run has no timed work (k-means, GMM)."""
    row = timings.get("families", {}).get(steps.family)
    trained = steps.gd_steps or steps.e_steps or steps.ganmm_gan_passes
    if not row or not trained:
        return None
    ms = 0.0
    if steps.gd_steps:
        ms += steps.gd_steps * row["mstep_ms"] * steps.gd_batch / row["mstep_batch"]
        ms += steps.e_steps * row["estep_ms"] * steps.e_batch / row["estep_batch"]
        ms += steps.assign_images * row["assign_ms_per_image"]
    elif steps.e_steps:
        ms += steps.e_steps * row["estep_ms"] * steps.e_batch / row["estep_batch"]
    if steps.ganmm_gan_passes:
        if "ganmm_ms_per_gan" not in row:
            return None
        ms += steps.ganmm_gan_passes * row["ganmm_ms_per_gan"]
        ms += steps.ganmm_refresh_images * row["ganmm_refresh_ms_per_image"]
    return ms / 1000


def planned_device(config: dict[str, Any]) -> str:
    """'cuda' or 'cpu': the device the config's training jobs run on.  ``device: auto`` means CUDA
    when the jobs are given a GPU (gpus_per_job > 0), so a plan made on a login node without a GPU
    still prices the GPU jobs."""
    device = str(config.get("device", "auto"))
    if device == "auto":
        return "cuda" if config.get("gpus_per_job", 0) else "cpu"
    return "cuda" if device.startswith("cuda") else "cpu"


def timing_path(device_type: str) -> Path:
    return TIMINGS_DIR / f"{device_type}.json"


@lru_cache(maxsize=8)
def _stored(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def stored_timings(device_type: str) -> dict[str, Any] | None:
    """The stored timing table of a device type, or None when none was measured yet."""
    return _stored(timing_path(device_type))


def device_key(timings: dict[str, Any]) -> str:
    """What a timing table was measured on, e.g. ``cuda:NVIDIA H200`` (device type and name)."""
    return f"{timings.get('device', '?')}:{timings.get('device_name', '?')}"


def device_mismatch(timings: dict[str, Any]) -> str | None:
    """A warning when a stored GPU timing was measured on another GPU model than the one this
    machine shows (an H200's timing would price a T4 several times too fast); None when they
    agree or no GPU is visible here (a login node pricing the cluster's GPUs cannot tell)."""
    if timings.get("device") != "cuda":
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    here = f"cuda:{torch.cuda.get_device_name(0)}"
    if here == device_key(timings):
        return None
    return (f"{timing_path('cuda')} was measured on {device_key(timings)}, but this machine's GPU is {here}: "
            "its hours and SLURM runtimes are for the other GPU; run `python -m ganem plan --save-timings` "
            "here to measure this one")


@lru_cache(maxsize=8)
def _warn_mismatch(path: Path) -> None:
    """Warn once per process and timing file (estimate_run_seconds is called once per job)."""
    message = device_mismatch(_stored(path) or {})
    if message:
        warnings.warn(message, stacklevel=3)


def estimate_run_seconds(config: dict[str, Any], method: str, dataset: str, n_labels: int, k: int) -> float | None:
    """Estimated seconds of one training run on the device the config runs on, from the stored
    timing file of that device; None when no timing is known (no file, k-means, GMM).  Warns
    when the stored GPU timing is of another GPU model than this machine's (``device_mismatch``)."""
    device_type = planned_device(config)
    timings = stored_timings(device_type)
    if timings is None:
        return None
    _warn_mismatch(timing_path(device_type))
    return seconds(run_steps(config, method, dataset, n_labels, k, device_type), timings)


# With no GPU timing stored, a GPU run is priced from the CPU timing (one core) divided by this
# speed-up: deliberately low (these conv nets run tens of times faster on any recent GPU than on
# one core), so that the runtime it gives is long enough.  ganem.job_resources caps the result.
GPU_SPEEDUP_FLOOR = 5.0


def gpu_seconds_from_cpu(config: dict[str, Any], method: str, dataset: str, n_labels: int, k: int) -> float | None:
    """A GPU run's seconds when only a CPU timing is stored: the CPU estimate / GPU_SPEEDUP_FLOOR;
    None when the config does not run on a GPU or no CPU timing covers the run."""
    timings = stored_timings("cpu")
    if planned_device(config) != "cuda" or timings is None:
        return None
    cpu = seconds(run_steps(config, method, dataset, n_labels, k, "cuda"), timings)
    return None if cpu is None else cpu / GPU_SPEEDUP_FLOOR
