"""What one training job asks its executor for: threads, memory, wall time and GPUs.

The training rules (workflow/rules/runs.smk, run_variant in figures.smk) declare these values
themselves, so a laptop, a GPU machine and SLURM all see the same resources. The wall time is the
run's own cost (``ganem.cost.estimate_run_seconds``: step counts x a measured per-step time) with a
safety margin, so a 64x64 CelebA GAN-EM run asks for hours and a K-means run for minutes instead of
one guess for all; a retried job (``--retries``) asks for twice as long each attempt, so a run
killed for its time limit gets more the next time.
"""
from __future__ import annotations

import math
from typing import Any

from ganem.config import base_method
from ganem.cost import estimate_run_seconds, gpu_seconds_from_cpu
from ganem.methods import METHODS, ConfigError, Method, get_method

# Wall time = SAFETY x estimate + STARTUP (imports, data loading, scoring), in whole minutes. An
# estimate is a mean over measured steps; clusters kill at the limit, so the margin is generous.
RUNTIME_SAFETY = 2.0
RUNTIME_STARTUP_MIN = 10
# When no GPU timing is stored, a GPU run's limit comes from the CPU timing / GPU_SPEEDUP_FLOOR
# (ganem.cost), with the same margin, and is capped at FALLBACK_CAP_MIN: 8 h fits the common
# SLURM partition limits (a 24 h request is refused by shorter ones), and a retry doubles it. With
# no timing at all (a new dataset or method): the cap for a neural run, two hours for
# K-means/GMM (minutes on full MNIST). Override per rule with --set-resources if needed.
FALLBACK_CAP_MIN = 8 * 60
DEFAULT_RUNTIME_MIN = {"neural": FALLBACK_CAP_MIN, "other": 2 * 60}
MEM_MB = {"neural": 8000, "other": 4000}  # a 70,000-image dataset in float32 plus nets and batches


def is_neural(config: dict[str, Any], method: str) -> bool:
    """True for methods that train nets (the registry's ``neural``: GAN-EM, GANMM) and their variants
    (methods.<name>: {method: ganem, ...}): they ask for a GPU and more memory."""
    return METHODS[base_method(config, method)].neural


def _check_counts_steps(config: dict[str, Any], method: str) -> None:
    """A neural method must count its own training steps (``Method.steps``), so that its jobs ask
    for their estimated run time rather than the day-long default a forgotten count would give."""
    base = base_method(config, method)
    cls = get_method(base)
    if is_neural(config, method) and cls.steps.__func__ is Method.steps.__func__:
        raise ConfigError(f"method {base!r} trains networks but {cls.__name__} does not count its training steps, "
                          f"so its jobs' run time cannot be estimated; implement {cls.__name__}.steps "
                          "(see ganem/methods/base.py)")


def _family(config: dict[str, Any], method: str) -> str:
    return "neural" if is_neural(config, method) else "other"


def runtime_minutes(config: dict[str, Any], method: str, dataset: str, n_labels: int, k: int,
                    attempt: int = 1, n_seeds: int = 1) -> int:
    """Wall-time limit of one job of ``n_seeds`` runs in minutes (SLURM's --time), from the runs'
    estimated cost (packed seeds are costed as run one after another: a GPU may overlap them)."""
    seconds = estimate_run_seconds(config, method, dataset, n_labels, k)
    cap = None
    if seconds is None:  # no timing of the planned device: a GPU run from the CPU timing (capped)
        seconds, cap = gpu_seconds_from_cpu(config, method, dataset, n_labels, k), FALLBACK_CAP_MIN
    if seconds is None:
        _check_counts_steps(config, method)
        minutes = DEFAULT_RUNTIME_MIN[_family(config, method)]
    else:
        minutes = math.ceil(RUNTIME_SAFETY * n_seeds * seconds / 60) + RUNTIME_STARTUP_MIN
        minutes = min(minutes, cap) if cap else minutes
    return minutes * 2 ** (max(attempt, 1) - 1)


def training_resources(config: dict[str, Any], method: str, dataset: str, n_labels: int, k: int,
                       attempt: int = 1, n_seeds: int = 1) -> dict[str, int]:
    """threads, mem_mb, runtime (minutes) and gpu of one training job of ``n_seeds`` packed runs
    (each seed holds its own copy of the data and nets, so memory grows with the pack)."""
    family = _family(config, method)
    return {
        "threads": int(config.get("threads_per_job", 1)),
        "mem_mb": MEM_MB[family] * n_seeds,
        "runtime": runtime_minutes(config, method, dataset, n_labels, k, attempt, n_seeds),
        "gpu": int(config.get("gpus_per_job", 0)) if family == "neural" else 0,
    }


def gpu_pin_command(jobs_per_gpu: int, python: str) -> str:
    """The command every training job starts through (``python -m ganem.gpu_pin``), up to its
    ``--gpus`` option. ``jobs_per_gpu`` is ``ganem.gpu_pin.local_slots``'s: 0 (cluster executor, no
    visible GPU, device cpu) runs the job unchanged; N >= 1 pins a job that declares a GPU to one
    device, N jobs per device. Part of the shell command, not a param, so switching machines or
    executors does not rerun finished jobs."""
    return f"{python} -m ganem.gpu_pin --jobs-per-gpu {jobs_per_gpu} --lock-dir .snakemake/gpu-locks"
