"""One run = one (method, dataset, K, seed, labels) cell: load, fit, assign, score, record.

Every Snakemake training rule calls this through ``python -m ganem run``. The order matters:
everything cheap that can be wrong (config, method parameters, data files) is checked before any
fitting starts, and ``metrics.json`` is written last, atomically, so a crashed or interrupted run
never leaves a file that looks complete.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np
import torch

from ganem import data, metrics
from ganem.config import (ALL_LABELS, dataset_settings, load_config, resolve_method, resolved_params, setting_name,
                          splits_for)
from ganem.io import atomic_save_npy, atomic_write_json
from ganem.errors import ConfigError
from ganem.methods import Labelled, RunContext, get_method
from ganem.provenance import provenance, resolve_device
from ganem.training import seed_everything, tidy_checkpoint

log = logging.getLogger("ganem.run")


@dataclasses.dataclass(frozen=True)
class RunSpec:
    method: str
    dataset: str
    k: int
    seed: int
    out: Path
    config_path: Path | None = None
    data_dir: str | None = None
    n_samples: int | None = None
    n_labels: int | str = 0  # 0 = unsupervised, N class-balanced labels, or "all" (every fitted image)
    overrides: tuple[str, ...] = ()
    progress: bool = True


def prepare(spec: RunSpec):
    """Resolve and check everything before any expensive work; returns what ``execute`` needs."""
    overrides = list(spec.overrides)
    if spec.data_dir is not None:
        overrides.append(f"data_dir={spec.data_dir}")
    if spec.n_samples is not None:
        overrides.append(f"datasets.{spec.dataset}.n_samples={spec.n_samples}")
    config = load_config(spec.config_path, overrides)
    if spec.k < 2:
        raise ConfigError(f"--k {spec.k}: K must be at least 2")
    if spec.seed < 0:
        raise ConfigError(f"--seed {spec.seed}: seeds are non-negative integers")
    try:
        data.check_name(spec.dataset)
    except data.DataError as err:
        raise ConfigError(str(err)) from err
    variant = resolve_method(config, spec.method, where="--method")
    method_cls = get_method(variant.method)
    params = resolved_params(config, spec.method, spec.dataset)
    if spec.n_labels and not method_cls.supports_labels:
        raise ConfigError(f"--n-labels {spec.n_labels}: method {spec.method!r} is unsupervised only")
    fit_split, score_split = splits_for(config, spec.dataset, spec.n_labels)
    device = resolve_device(config.get("device", "auto"))  # before any data is read: a GPU job without one stops here
    return config, variant, method_cls, params, fit_split, score_split, device


def load_images(config: dict, dataset: str, split: str, seed: int) -> data.ImageSet:
    """Load a split and, when ``n_samples`` is set, its class-balanced subset drawn with the seed."""
    settings = dataset_settings(config, dataset)
    options = settings.get("options", {})
    kwargs = {"celeba_max_per_class": options["max_per_class"]} if "max_per_class" in options else {}
    images = data.load(dataset, split, config["data_dir"], **kwargs)
    n = settings.get("n_samples")
    if n is not None and n < len(images.y):
        try:
            idx = data.balanced_subset(images.y, n, seed)
        except ValueError as err:
            raise ConfigError(f"datasets.{dataset}.n_samples={n}: {err}") from err
        images = dataclasses.replace(images, x=images.x[torch.from_numpy(idx)], y=images.y[idx])
    return images


def draw_labelled(images: data.ImageSet, n_labels: int | str, seed: int) -> Labelled:
    """The labelled subset of a semi-supervised run: class-balanced, drawn with the run's seed; or
    with ``all``, every image with its own label (as unbalanced as the split)."""
    if n_labels == ALL_LABELS:
        return Labelled(x=images.x, y=torch.from_numpy(images.y))
    try:
        idx = data.balanced_subset(images.y, n_labels, seed)
    except ValueError as err:
        raise ConfigError(f"--n-labels {n_labels}: {err}") from err
    return Labelled(x=images.x[torch.from_numpy(idx)], y=torch.from_numpy(images.y[idx]))


def execute(spec: RunSpec) -> dict:
    """Run one cell end to end and return the metrics record (also written to metrics.json)."""
    config, variant, method_cls, params, fit_split, score_split, device = prepare(spec)
    out = Path(spec.out)
    (out / "metrics.json").unlink(missing_ok=True)  # a rerun that fails must not leave the old one

    fit_set = load_images(config, spec.dataset, fit_split, spec.seed)
    score_set = fit_set if score_split == fit_split else load_images(config, spec.dataset, score_split, spec.seed)
    if spec.k < fit_set.n_classes:
        raise ConfigError(f"--k {spec.k}: {spec.dataset} has {fit_set.n_classes} classes; the suite scores "
                          f"K >= number of classes")
    if spec.n_labels and spec.k != fit_set.n_classes:
        raise ConfigError(f"--k {spec.k}: a semi-supervised run needs K = {fit_set.n_classes} (the classes)")
    labelled = draw_labelled(fit_set, spec.n_labels, spec.seed) if spec.n_labels else None
    out.mkdir(parents=True, exist_ok=True)  # only now: bad data or arguments leave no run folder

    torch.set_num_threads(config.get("threads_per_job", 1))
    seed_everything(spec.seed)
    ctx = RunContext(k=spec.k, seed=spec.seed, run_dir=out, device=device, progress=spec.progress,
                     monitor_labels=fit_set.y)
    method = method_cls(params, ctx)
    log.info("fitting %s on %s/%s (%d images), K=%d, seed=%d", spec.method, spec.dataset, fit_split,
             len(fit_set.y), spec.k, spec.seed)
    start = time.perf_counter()
    method.fit(fit_set.x, labelled)
    fit_seconds = time.perf_counter() - start
    assignment = method.assign(score_set.x)
    seconds = time.perf_counter() - start

    scores = metrics.score(score_set.y, assignment.labels, spec.k, score_set.n_classes,
                           semi_supervised=bool(spec.n_labels))
    atomic_save_npy(out / "predictions.npy", assignment.labels.astype(np.int64))
    atomic_save_npy(out / "labels.npy", score_set.y.astype(np.int64))
    if assignment.proba is not None:
        atomic_save_npy(out / "proba.npy", assignment.proba.astype(np.float32))
    if assignment.features is not None:
        atomic_save_npy(out / "features.npy", assignment.features.astype(np.float32))

    record = {
        "method": spec.method,
        "base_method": variant.method,
        "label": variant.label,
        "dataset": spec.dataset,
        "setting": setting_name(spec.n_labels),
        "k": spec.k,
        "seed": spec.seed,
        "n_labels": 0 if labelled is None else int(len(labelled.y)),
        **scores,
        "split": {"fit": fit_split, "score": score_split},
        "n_fit": int(len(fit_set.y)),
        "n_classes": int(score_set.n_classes),
        "seconds": round(seconds, 3),
        "fit_seconds": round(fit_seconds, 3),
        "method_extras": assignment.extras,
        "params": dataclasses.asdict(params),
        "config": config,
        "provenance": provenance(device),
    }
    atomic_write_json(out / "metrics.json", record)
    tidy_checkpoint(out, config.get("checkpoints", "slim"))
    return record
