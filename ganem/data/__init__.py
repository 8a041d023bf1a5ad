"""The data layer: every dataset the suite uses, loaded from verified local files.

``load`` never downloads; ``fetch`` (the DAG's data rule) is the only code that touches the
network, and it leaves a manifest of what it verified. See docs/datasets.md for sources, splits,
the CelebA balanced-subset rule and the data-dir layout.
"""

from .base import DataError, ImageSet
from .fetching import fetch
from .registry import (CELEBA_ATTRIBUTES, DATASETS, ENTRIES, Entry, check_name, class_counts, entry, family, load,
                       split_size, splits)
from .subset import balanced_counts, balanced_subset, max_balanced

__all__ = [
    "CELEBA_ATTRIBUTES",
    "DATASETS",
    "ENTRIES",
    "Entry",
    "DataError",
    "ImageSet",
    "balanced_counts",
    "balanced_subset",
    "check_name",
    "class_counts",
    "entry",
    "family",
    "fetch",
    "load",
    "max_balanced",
    "split_size",
    "splits",
]
