"""Can the data meet what the config asks for? Checked when the DAG is planned, before any job.

Every run the config enables asks a dataset split for something: K clusters against its classes,
a class-balanced subset (``n_samples``), class-balanced labels (``n_labels``). The registry knows
each split's images per class without reading it (``ganem.data.class_counts``; CelebA once its
attribute list is in ``data_dir``), so a request that cannot be met stops the plan with one line
naming the config key, the numbers and the fix, instead of failing hours later in a job.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from ganem import data, plan
from ganem.config import ALL_LABELS, dataset_settings, splits_for
from ganem.methods import ConfigError


@dataclass(frozen=True)
class Request:
    """What one group of runs asks of a dataset: ``key`` is the config key that asks."""

    key: str
    dataset: str
    n_labels: int | str
    ks: tuple[int, ...]
    labels_key: str  # the key to change when the labels cannot be met


def requests(config: dict[str, Any]) -> Iterator[Request]:
    """Every (dataset, labels, Ks) the enabled runs need (``ganem.plan.targets``), grouped by the config
    key that asks for them, in the plan's order."""
    groups: dict[tuple, list[int]] = {}
    for run in plan.targets(config).get("all", []):
        ks = groups.setdefault((run.source, run.dataset, run.n_labels, run.labels_key), [])
        if run.k not in ks:
            ks.append(run.k)
    for (key, dataset, n_labels, labels_key), ks in groups.items():
        yield Request(key, dataset, n_labels, tuple(ks), labels_key)


def check(config: dict[str, Any]) -> None:
    """Raise ConfigError (one line: key, numbers, fix) for the first request the data cannot meet."""
    for request in requests(config):
        check_request(config, request)


def _counts(config: dict[str, Any], dataset: str, split: str) -> np.ndarray | None:
    options = dataset_settings(config, dataset).get("options", {})
    try:
        counts = data.class_counts(dataset, split, config.get("data_dir"),
                                   celeba_max_per_class=options.get("max_per_class"))
    except data.DataError:
        return None  # a corrupt attribute file: the fetch rule reports it with its fix
    return None if counts is None else np.asarray(counts)


def _after_subset(config: dict[str, Any], dataset: str, split: str, counts: np.ndarray) -> np.ndarray:
    """Images per class once ``datasets.<dataset>.n_samples`` (a class-balanced subset) is drawn."""
    n = dataset_settings(config, dataset).get("n_samples")
    if n is None or n >= counts.sum():
        return counts
    if n > data.max_balanced(counts):
        raise ConfigError(
            f"datasets.{dataset}.n_samples={n}: a class-balanced subset of the {counts.sum()} images of split "
            f"{split!r} (per class {counts.tolist()}) can hold at most {data.max_balanced(counts)}; "
            f"lower n_samples to {data.max_balanced(counts)} or less")
    return data.balanced_counts(n, len(counts))


def check_request(config: dict[str, Any], request: Request) -> None:
    fit, score = splits_for(config, request.dataset, 0 if request.n_labels == 0 else 1)
    counts = {}
    for split in dict.fromkeys((fit, score)):
        found = _counts(config, request.dataset, split)
        if found is None:
            return  # not known before the data is fetched (CelebA): the runs check it themselves
        counts[split] = _after_subset(config, request.dataset, split, found)
    n_classes = len(counts[fit])
    for k in request.ks:
        if k < n_classes:
            raise ConfigError(f"{request.key}: K={k} is fewer than the {n_classes} classes of {request.dataset}; "
                              f"the suite scores K >= the number of classes: use K >= {n_classes}")
        if request.n_labels != 0 and k != n_classes:
            raise ConfigError(f"{request.key}: K={k} with labels; a semi-supervised run needs K = the "
                              f"{n_classes} classes of {request.dataset}")
    if request.n_labels in (0, ALL_LABELS):
        return
    most = data.max_balanced(counts[fit])
    if request.n_labels > most:
        need = data.balanced_counts(request.n_labels, n_classes)
        short = int(np.argmax(need > counts[fit]))
        all_hint = (" or n_labels: all (every fitted image with its own label, unbalanced)"
                    if request.labels_key.startswith("fig4") else "")
        raise ConfigError(
            f"{request.labels_key}={request.n_labels}: class-balanced labels need {need[short]} images of class "
            f"{short}, but {request.dataset} split {fit!r} has {counts[fit][short]} (per class "
            f"{counts[fit].tolist()}); use at most {most}{all_hint}")
