"""The two types every dataset module returns or raises, and the shared error texts.

Kept apart from ``__init__`` so the per-dataset modules can import them without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


class DataError(Exception):
    """A data file is missing, corrupt or unusable, or a dataset/split name is unknown.

    Every message names the problem, the files involved and the fix, because the person reading
    it is usually running a long pipeline and should not have to open the code to recover.
    """


class MissingFilesError(DataError):
    """The files are absent (as opposed to present but corrupt): the case ``fetch`` may download."""


@dataclass(frozen=True)
class ImageSet:
    """One split of one dataset, fully in memory and ready for a model."""

    x: torch.Tensor  # float32 (N, C, H, W)
    y: np.ndarray  # int64 (N,), class ids 0..n_classes-1
    n_classes: int
    name: str  # dataset name as given to load(), e.g. "mnist", "celeba-Eyeglasses"
    split: str
    value_range: tuple[float, float]  # (0, 1) or (-1, 1)


def search_dirs(data_dir: Path, subdirs: tuple[str, ...]) -> list[Path]:
    """The folders a dataset is looked for in, in order ("" = data_dir itself)."""
    return [data_dir / s if s else data_dir for s in subdirs]


def fetch_command(name: str) -> str:
    """The one command that downloads and verifies ``name`` (the DAG's data rule)."""
    return f"snakemake --cores 1 data/manifests/{name}.json"


def missing_files_error(
    name: str, missing: list[str], searched: list[Path], extra_fix: str = ""
) -> MissingFilesError:
    """A DataError naming every missing file, every folder searched, and how to get the files."""
    folders = "\n".join(f"  - {p}" for p in searched)
    files = "\n".join(f"  - {m}" for m in missing)
    fix = (
        f"Fix: run `{fetch_command(name)}` on a machine with internet, "
        f"or put the files in {searched[0]}"
    )
    if extra_fix:
        fix += f", {extra_fix}"
    return MissingFilesError(
        f"{name}: {len(missing)} required file(s) not found:\n{files}\n"
        f"Folders searched, in order:\n{folders}\n{fix}."
    )


def to_float(images: np.ndarray, value_range: tuple[float, float]) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 tensor in ``value_range`` ((0,1): x/255; (-1,1): x/127.5-1)."""
    x = torch.from_numpy(images.astype(np.float32))  # astype copies: the result owns its memory
    if value_range == (0.0, 1.0):
        return x.div_(255.0)
    if value_range == (-1.0, 1.0):
        return x.div_(127.5).sub_(1.0)
    raise ValueError(f"unsupported value range {value_range}")
