"""SVHN cropped digits (32x32 RGB) from torchvision's ``<split>_32x32.mat`` files.

Each .mat holds ``X`` uint8 (32, 32, 3, N) and ``y`` (N, 1) with labels 1..10, where 10 means the
digit 0; we map 10 -> 0 so class ids are the digits. Images are scaled to [-1, 1] (paper, B.2).
Splits are the official ones: train 73,257, test 26,032, extra 531,131. The paper's "about
53,000 training images" matches none of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import checksums
from .base import DataError, ImageSet, fetch_command, missing_files_error, search_dirs, to_float

SPLITS = ("train", "test", "extra")
FETCHED_SPLITS = ("train", "test")  # extra (1.3 GB) is not downloaded by fetch
SUBDIRS = ("", "svhn")
URL = "http://ufldl.stanford.edu/housenumbers/"
N_CLASSES = 10


def filename(split: str) -> str:
    return f"{split}_32x32.mat"


def find(split: str, data_dir: Path) -> Path | None:
    candidates = (d / filename(split) for d in search_dirs(data_dir, SUBDIRS))
    return next((p for p in candidates if p.is_file()), None)


def verified_path(split: str, data_dir: Path) -> tuple[Path, str]:
    """The split's file and its md5, after checking the md5 against torchvision's."""
    p = find(split, data_dir)
    if p is None:
        name = filename(split)
        extra_fix = f"or download {URL}{name} by hand" if split not in FETCHED_SPLITS else ""
        raise missing_files_error("svhn", [name], search_dirs(data_dir, SUBDIRS), extra_fix)
    md5 = checksums.md5_file(p)
    fix = f"delete it and run `{fetch_command('svhn')}`, or download {URL}{filename(split)} again"
    checksums.check("svhn", filename(split), md5, p, fix)
    return p, md5


def load(split: str, data_dir: Path) -> ImageSet:
    from scipy.io import loadmat

    p, _ = verified_path(split, data_dir)
    mat = loadmat(p, variable_names=("X", "y"))
    x, y = mat.get("X"), mat.get("y")
    if (
        x is None
        or y is None
        or x.dtype != np.uint8
        or x.ndim != 4
        or x.shape[:3] != (32, 32, 3)
        or y.reshape(-1).shape != (x.shape[3],)
    ):
        raise DataError(
            f"svhn: {p} does not hold X uint8 (32, 32, 3, N) and y (N, 1) "
            f"(found X {None if x is None else (x.dtype, x.shape)}, "
            f"y {None if y is None else y.shape}); replace it with torchvision's file."
        )
    labels = y.reshape(-1).astype(np.int64)
    if labels.size and (labels.min() < 1 or labels.max() > 10):
        raise DataError(f"svhn: {p} has labels outside 1..10 ({labels.min()}..{labels.max()}).")
    labels[labels == 10] = 0
    return ImageSet(
        x=to_float(np.transpose(x, (3, 2, 0, 1)), (-1.0, 1.0)),
        y=labels,
        n_classes=N_CLASSES,
        name="svhn",
        split=split,
        value_range=(-1.0, 1.0),
    )


def verified_files(data_dir: Path) -> list[dict]:
    """Manifest entries for the fetched splits, plus extra when it is present."""
    present = [s for s in SPLITS if s in FETCHED_SPLITS or find(s, data_dir) is not None]
    entries = []
    for split in present:
        p, md5 = verified_path(split, data_dir)
        entries.append({"path": str(p.resolve()), "md5": md5, "bytes": p.stat().st_size})
    return entries


def download(data_dir: Path) -> None:
    import torchvision.datasets

    for split in FETCHED_SPLITS:
        torchvision.datasets.SVHN(root=str(data_dir), split=split, download=True)
