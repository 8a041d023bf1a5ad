"""One run = one (method, dataset, K, seed, labels) cell: load, fit, assign, score, record.

Every Snakemake training rule calls this through ``python -m ganem run``. The order matters:
everything cheap that can be wrong (config, method parameters, data files) is checked before any
fitting starts, and ``metrics.json`` is written last, atomically, so a crashed or interrupted run
never leaves a file that looks complete.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganem import data, metrics
from ganem.config import (ALL_LABELS, dataset_settings, load_config, resolve_method, resolved_params, setting_name,
                          splits_for)
from ganem.io import atomic_path, atomic_save_npy, atomic_write_json
from ganem.config_error import ConfigError
from ganem.methods import Labelled, RunContext, get_method
from ganem.provenance import provenance, resolve_device
from ganem.trainer_support import seed_everything, tidy_checkpoint

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
    continue_from: Path | None = None  # a finished shorter run whose final checkpoint this run continues


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


# What a continued run takes over from the shorter run it continues: the state and the log so far.
CONTINUED_FILES = ("checkpoint.pt", "iterations.jsonl")


def check_continuation(spec: RunSpec, base_method: str) -> Path:
    """The shorter run ``--continue-from`` names, checked before any work: finished (its metrics.json),
    the same cell and seed, and a whole final checkpoint. A slim one lost its optimiser states, so the
    continuation would not be the longer run step for step (config ``checkpoints: keep`` keeps them).
    Which parameters may differ (only the run's length) is the method's resume check, at fit time."""
    source = Path(spec.continue_from)
    where = f"--continue-from {source}"
    if not (source / "metrics.json").is_file():
        raise ConfigError(f"{where}: no metrics.json there; the run continued from must be finished first")
    record = json.loads((source / "metrics.json").read_text())
    ours = {"base_method": base_method, "dataset": spec.dataset, "k": spec.k, "seed": spec.seed,
            "setting": setting_name(spec.n_labels)}
    differ = sorted(key for key, value in ours.items() if record.get(key) != value)
    if differ:
        raise ConfigError(f"{where}: that run differs from this one in {differ}; a run continues only a "
                          "shorter run of the same method, dataset, K, labels and seed")
    checkpoint = source / "checkpoint.pt"
    if not checkpoint.is_file():
        raise ConfigError(f"{where}: it has no checkpoint.pt; train it again with config checkpoints: keep")
    # mmap: read the small header, not the ~150 MB of weights (the fit loads them once, later)
    if torch.load(checkpoint, map_location="cpu", weights_only=False, mmap=True).get("slimmed"):
        raise ConfigError(f"{where}: its checkpoint was slimmed (optimiser states dropped), so a continuation "
                          "would not match the longer run; train it again with config checkpoints: keep")
    return source


def adopt(source: Path, out: Path) -> None:
    """Copy the shorter run's checkpoint and log into this run's folder, unless this run already has a
    checkpoint of its own (an interrupted continuation: it resumes from there)."""
    if (out / "checkpoint.pt").exists():
        return
    for name in CONTINUED_FILES:
        if (source / name).exists():
            with atomic_path(out / name) as tmp:
                shutil.copyfile(source / name, tmp)
    log.info("continuing %s from %s", out, source)


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


@dataclasses.dataclass
class _Cell:
    """One run between its checks and its record: what ``_start`` resolved and loaded."""
    spec: RunSpec
    config: dict
    variant: Any
    method_cls: type
    params: Any
    device: Any
    fit_set: data.ImageSet
    score_set: data.ImageSet
    fit_split: str
    score_split: str
    labelled: Labelled | None


def _start(spec: RunSpec) -> _Cell:
    """Check a run and load its data; only then create its folder (bad input leaves none)."""
    config, variant, method_cls, params, fit_split, score_split, device = prepare(spec)
    source = None if spec.continue_from is None else check_continuation(spec, variant.method)
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
    if source is not None:
        adopt(source, out)
    return _Cell(spec, config, variant, method_cls, params, device, fit_set, score_set, fit_split, score_split,
                 labelled)


def _method(cell: _Cell):
    """The method instance of a cell; the global RNGs are seeded with the run's seed first."""
    spec = cell.spec
    torch.set_num_threads(cell.config.get("threads_per_job", 1))
    seed_everything(spec.seed)
    ctx = RunContext(k=spec.k, seed=spec.seed, run_dir=Path(spec.out), device=cell.device, progress=spec.progress,
                     monitor_labels=cell.fit_set.y)
    log.info("fitting %s on %s/%s (%d images), K=%d, seed=%d", spec.method, spec.dataset, cell.fit_split,
             len(cell.fit_set.y), spec.k, spec.seed)
    return cell.method_cls(cell.params, ctx)


def _finish(cell: _Cell, method, fit_seconds: float, pack: dict | None = None) -> dict:
    """Assign, score and record one fitted run; metrics.json is written last. ``fit_seconds`` is this
    process's share; the seconds of the processes it resumed from (``Method.resumed_seconds``) are
    added, so a resumed or continued run reports all its training (None when unknown)."""
    spec, out = cell.spec, Path(cell.spec.out)
    resumed = method.resumed_seconds() / (len(pack["seeds"]) if pack else 1)  # a pack's clock is the pack's
    fit_seconds += resumed
    assign_start = time.perf_counter()
    assignment = method.assign(cell.score_set.x)
    seconds = fit_seconds + time.perf_counter() - assign_start

    scores = metrics.score(cell.score_set.y, assignment.labels, spec.k, cell.score_set.n_classes,
                           semi_supervised=bool(spec.n_labels))
    atomic_save_npy(out / "predictions.npy", assignment.labels.astype(np.int64))
    atomic_save_npy(out / "labels.npy", cell.score_set.y.astype(np.int64))
    if assignment.proba is not None:
        atomic_save_npy(out / "proba.npy", assignment.proba.astype(np.float32))
    if assignment.features is not None:
        atomic_save_npy(out / "features.npy", assignment.features.astype(np.float32))

    record = {
        "method": spec.method,
        "base_method": cell.variant.method,
        "label": cell.variant.label,
        "dataset": spec.dataset,
        "setting": setting_name(spec.n_labels),
        "k": spec.k,
        "seed": spec.seed,
        "n_labels": 0 if cell.labelled is None else int(len(cell.labelled.y)),
        **scores,
        "split": {"fit": cell.fit_split, "score": cell.score_split},
        "n_fit": int(len(cell.fit_set.y)),
        "n_classes": int(cell.score_set.n_classes),
        "seconds": _seconds(seconds),
        "fit_seconds": _seconds(fit_seconds),
        "resumed_seconds": _seconds(resumed),
        "continued_from": None if spec.continue_from is None else str(spec.continue_from),
        "method_extras": assignment.extras,
        "params": dataclasses.asdict(cell.params),
        "config": cell.config,
        "provenance": provenance(cell.device),
    }
    if pack is not None:
        record["pack"] = pack
    atomic_write_json(out / "metrics.json", record)
    tidy_checkpoint(out, cell.config.get("checkpoints", "slim"))
    return record


def _seconds(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def execute(spec: RunSpec) -> dict:
    """Run one cell end to end and return the metrics record (also written to metrics.json)."""
    cell = _start(spec)
    method = _method(cell)
    start = time.perf_counter()
    method.fit(cell.fit_set.x, cell.labelled)
    return _finish(cell, method, time.perf_counter() - start)


def execute_pack(specs: list[RunSpec]) -> list[dict]:
    """Several seeds of one cell in one process (``seeds_per_job``), each written to its own run
    folder exactly as ``execute`` would write it; ``fit_seconds`` is the pack's fit time shared
    evenly, and ``pack`` in metrics.json records the pack's seeds and total fit time."""
    if len({(s.method, s.dataset, s.k, s.n_labels) for s in specs}) != 1:
        raise ConfigError("a pack holds seeds of one cell: same --method, --dataset, --k and --n-labels")
    cells = [_start(spec) for spec in specs]  # every seed checked and loaded before any fitting
    methods = [_method(cell) for cell in cells]
    start = time.perf_counter()
    cells[0].method_cls.fit_seeds(methods, [c.fit_set.x for c in cells], [c.labelled for c in cells])
    total = time.perf_counter() - start
    pack = {"seeds": [spec.seed for spec in specs], "fit_seconds_total": round(total, 3)}
    return [_finish(cell, method, total / len(cells), pack) for cell, method in zip(cells, methods)]
