"""What every result records beside its numbers: code version, library versions, device, host.

A number in results/ is only as good as the ability to say where it came from.
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
import platform
import subprocess
import warnings
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from ganem.methods import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("torch", "torchvision", "numpy", "scipy", "scikit-learn", "pandas", "snakemake",
             "openTSNE", "mlxtend", "matplotlib", "seaborn")
log = logging.getLogger("ganem.device")


@lru_cache(maxsize=1)
def git_state() -> dict:
    """Commit hash and whether the working tree had uncommitted changes (None outside git)."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(dirty) if dirty is not None else None}


def library_versions() -> dict[str, str | None]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def resolve_device(choice: str) -> torch.device:
    """The config's ``device`` as a torch device, checked before any data is read.

    ``cuda`` is the first GPU this process sees, so a job that the scheduler pinned with
    CUDA_VISIBLE_DEVICES trains on the GPU it was given. ``cuda`` without a usable GPU is an error
    (never a silent CPU run of a GPU-week job); ``auto`` takes CUDA when usable, else the CPU, and
    logs which and why.
    """
    if choice == "cpu":
        log.info("device: cpu (asked for)")
        return torch.device("cpu")
    usable, why = cuda_status()
    if choice == "cuda" and not usable:
        raise ConfigError(f"device: cuda was asked for but no usable GPU was found ({why}). Run on a GPU "
                          "node, or force the CPU (weeks for the paper's budgets): snakemake --config "
                          "device=cpu, or python -m ganem run --set device=cpu")
    if choice == "auto":
        log.info("device: auto -> %s (%s)", "cuda" if usable else "cpu", why)
        return torch.device("cuda" if usable else "cpu")
    log.info("device: cuda (%s)", why)
    return torch.device("cuda")


def cuda_status() -> tuple[bool, str]:
    """(whether CUDA is usable, why): torch's own warning when it is not (e.g. a driver too old for
    the installed CUDA build), or the GPU's name and CUDA_VISIBLE_DEVICES when it is."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available = torch.cuda.is_available()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if not available:
        if caught:
            return False, "; ".join(str(w.message).strip() for w in caught)
        if torch.version.cuda is None:
            return False, "this torch build has no CUDA support"
        return False, f"torch sees no GPU (CUDA_VISIBLE_DEVICES={visible if visible is not None else 'unset'})"
    try:
        torch.zeros(1, device="cuda")
    except RuntimeError as err:
        return False, f"CUDA is present but a tensor cannot be placed on it: {err}"
    return True, (f"{torch.cuda.get_device_name(0)}, the first of {torch.cuda.device_count()} visible GPU(s), "
                  f"CUDA_VISIBLE_DEVICES={visible if visible is not None else 'unset'}")


def device_description(device: torch.device) -> dict:
    info = {"type": device.type, "torch_threads": torch.get_num_threads()}
    if device.type == "cuda":
        info["name"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
        info["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")
    else:
        # the CPU model and the kernel set ATen picked: the same wheels round differently on AVX2 and
        # AVX-512 machines, so a seed's result on one CPU need not be its result on another
        info["name"] = cpu_model() or platform.processor() or platform.machine()
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return info


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """The CPU's model name as Linux reports it (None elsewhere)."""
    try:
        lines = cpuinfo.read_text(errors="replace").splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)


def provenance(device: torch.device) -> dict:
    return {
        "git": git_state(),
        "libraries": library_versions(),
        "device": device_description(device),
        "host": platform.node(),
        "platform": platform.platform(),
        "finished_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
