"""MNIST and Fashion-MNIST: the two datasets stored as four IDX files with identical names.

Files are looked for, in order, in ``data_dir/`` itself, ``data_dir/<name>/`` and torchvision's
``data_dir/<TorchvisionName>/raw/``; the first of these folders that holds any of the needed files
is used, each file raw or ``.gz`` (raw preferred: no decompression). Every file is checked
(IDX header against its size, then the md5 of its content) before any image is converted.

MNIST splits follow the paper's Appendix B.1 (50k train / 10k validation from the 60k training
file; the paper does not say which 10k, we take the last 10k) plus what the authors' code
clusters (``all``: train file + test file, 70k).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import checksums, idx
from .base import DataError, ImageSet, fetch_command, missing_files_error, search_dirs, to_float

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
VAL_SIZE = 10_000  # MNIST "val" = the last VAL_SIZE images of the training file
N_CLASSES = 10


@dataclass(frozen=True)
class IdxDataset:
    name: str
    subdirs: tuple[str, ...]  # searched under data_dir, in order ("" = data_dir itself)
    split_parts: dict[str, tuple[str, ...]]  # split -> the FILES parts it needs
    torchvision_class: str
    extra_fix: str  # appended to the missing-files message

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.split_parts)


MNIST = IdxDataset(
    name="mnist",
    subdirs=("", "mnist", "MNIST/raw"),
    split_parts={
        "train": ("train",),
        "val": ("train",),
        "test": ("test",),
        "train60k": ("train",),
        "all": ("train", "test"),
    },
    torchvision_class="MNIST",
    extra_fix="or pass --data-dir pointing at a folder with the four IDX files (.gz or raw)",
)
FASHION_MNIST = IdxDataset(
    name="fashion_mnist",
    subdirs=("", "fashion_mnist", "FashionMNIST/raw"),
    split_parts={"train": ("train",), "test": ("test",), "all": ("train", "test")},
    torchvision_class="FashionMNIST",
    extra_fix=(
        "or install Debian's package (apt-get install dataset-fashion-mnist) and pass "
        "--data-dir /usr/share/datasets/fashion-mnist"
    ),
)


def locate(ds: IdxDataset, data_dir: Path, parts: tuple[str, ...]) -> dict[str, Path]:
    """Map each needed IDX stem to its file, or raise one DataError naming all missing files."""
    stems = [stem for part in parts for stem in FILES[part]]
    folders = search_dirs(data_dir, ds.subdirs)

    def find(folder: Path, stem: str) -> Path | None:
        return next((p for p in (folder / stem, folder / f"{stem}.gz") if p.is_file()), None)

    for folder in folders:
        found = {stem: find(folder, stem) for stem in stems}
        if any(found.values()):
            missing = [f"{folder / s}(.gz)" for s, p in found.items() if p is None]
            if missing:
                raise missing_files_error(ds.name, missing, folders, ds.extra_fix)
            return found  # type: ignore[return-value]
    raise missing_files_error(ds.name, [f"{s}(.gz)" for s in stems], folders, ds.extra_fix)


def read_verified(ds: IdxDataset, stem: str, path: Path) -> tuple[np.ndarray, str]:
    """Parse one IDX file after checking its header, size and content md5 (returned too)."""
    content = idx.read_content(path)
    magic = idx.IMAGES_MAGIC if "images" in stem else idx.LABELS_MAGIC
    array = idx.parse(content, path, magic)
    content_md5 = checksums.md5_bytes(content)
    fix = f"delete it and run `{fetch_command(ds.name)}`, or replace it with an intact copy"
    checksums.check(ds.name, stem, content_md5, path, fix)
    return array, content_md5


def read_part(ds: IdxDataset, part: str, paths: dict[str, Path]) -> tuple[np.ndarray, np.ndarray]:
    images_stem, labels_stem = FILES[part]
    images, _ = read_verified(ds, images_stem, paths[images_stem])
    labels, _ = read_verified(ds, labels_stem, paths[labels_stem])
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise DataError(
            f"{ds.name}: {paths[images_stem]} holds images of shape {images.shape} and "
            f"{paths[labels_stem]} {len(labels)} labels; expected (N, 28, 28) and N labels."
        )
    if labels.size and labels.max() >= N_CLASSES:
        raise DataError(f"{ds.name}: {paths[labels_stem]} has label {labels.max()}; expected 0..9.")
    return images, labels.astype(np.int64)


def load(ds: IdxDataset, split: str, data_dir: Path) -> ImageSet:
    parts_needed = ds.split_parts[split]
    paths = locate(ds, data_dir, parts_needed)
    parts = {part: read_part(ds, part, paths) for part in parts_needed}
    if split == "all":
        x, y = (np.concatenate([parts["train"][i], parts["test"][i]]) for i in (0, 1))
    else:
        x, y = parts[parts_needed[0]]
    if ds is MNIST and split in ("train", "val"):
        cut = len(y) - VAL_SIZE
        x, y = (x[:cut], y[:cut]) if split == "train" else (x[cut:], y[cut:])
    return ImageSet(
        x=to_float(x[:, None], (0.0, 1.0)),
        y=y,
        n_classes=N_CLASSES,
        name=ds.name,
        split=split,
        value_range=(0.0, 1.0),
    )


def verified_files(ds: IdxDataset, data_dir: Path) -> list[dict]:
    """Manifest entries for all four files, each fully verified (used by fetch)."""
    paths = locate(ds, data_dir, ("train", "test"))
    entries = []
    for stem, path in paths.items():
        _, content_md5 = read_verified(ds, stem, path)
        entries.append(
            {
                "path": str(path.resolve()),
                "md5": checksums.md5_file(path),
                "bytes": path.stat().st_size,
                "content_md5": content_md5,
            }
        )
    return entries


def download(ds: IdxDataset, data_dir: Path) -> None:
    """torchvision downloads (or, if its .gz files are already there, just extracts) all four."""
    import torchvision.datasets

    getattr(torchvision.datasets, ds.torchvision_class)(root=str(data_dir), download=True)
