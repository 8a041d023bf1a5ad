"""What every result records beside its numbers: code version, library versions, device, host.

A number in results/ is only as good as the ability to say where it came from.
"""
from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("torch", "torchvision", "numpy", "scipy", "scikit-learn", "pandas", "snakemake",
             "openTSNE", "mlxtend", "matplotlib", "seaborn")


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
    """'auto' -> CUDA when present, else CPU; 'cuda' without a GPU is an error, not a silent CPU run."""
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for but torch sees no GPU; set device: auto or cpu")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def device_description(device: torch.device) -> dict:
    info = {"type": device.type, "torch_threads": torch.get_num_threads()}
    if device.type == "cuda":
        info["name"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    else:
        info["name"] = platform.processor() or platform.machine()
    return info


def provenance(device: torch.device) -> dict:
    return {
        "git": git_state(),
        "libraries": library_versions(),
        "device": device_description(device),
        "host": platform.node(),
        "platform": platform.platform(),
        "finished_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
