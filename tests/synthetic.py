"""Synthetic run folders in the layout ``python -m ganem run`` writes, for the table and figure tests.

Only the files the aggregation and figure code read are written (metrics.json, predictions.npy,
labels.npy, and on request samples.png, features.npy, iterations.jsonl, generated*.npy), with
small sizes so that the tests stay fast.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def run_path(root: Path, method: str, dataset: str, k: int, seed: int, n_labels: int = 0,
             variant: str | None = None) -> Path:
    setting = "unsup" if not n_labels else f"labels{n_labels}"
    base = root / "results" / ("runs" if variant is None else f"variants/{variant}")
    return base / method / dataset / setting / f"K{k}" / f"seed{seed}"


def write_run(root: Path, method: str, dataset: str, k: int, seed: int, error: float, *, n_labels: int = 0,
              n: int = 60, n_classes: int | None = None, variant: str | None = None, samples: bool = False,
              features: int | None = None, iterations: list[float] | None = None,
              generated: bool = False, config: dict | None = None, n_fit: int | None = None,
              params: dict | None = None, base_method: str | None = None,
              label: str | None = None) -> Path:
    """Write one finished run; returns its metrics.json path.  ``n_fit`` (default n) and ``params``
    (default: the method's defaults) set the run's training budget (ganem.tables.budget)."""
    folder = run_path(root, method, dataset, k, seed, n_labels, variant)
    folder.mkdir(parents=True, exist_ok=True)
    n_classes = n_classes or min(k, 10)
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % n_classes
    pred = labels.copy() % k
    flip = rng.random(n) < error / 100
    pred[flip] = rng.integers(0, k, flip.sum())
    np.save(folder / "labels.npy", labels.astype(np.int64))
    np.save(folder / "predictions.npy", pred.astype(np.int64))
    if samples:
        from PIL import Image

        side = 64 if dataset.startswith("celeba") else 28
        img = (rng.random((k * (side + 2) + 2, 10 * (side + 2) + 2, 3)) * 255).astype(np.uint8)
        Image.fromarray(img).save(folder / "samples.png")
    if features:
        centres = rng.normal(size=(n_classes, features)) * 4
        np.save(folder / "features.npy", (centres[labels] + rng.normal(size=(n, features))).astype(np.float32))
    if iterations is not None:
        lines = [json.dumps({"iteration": i + 1, "monitor_error": e + rng.normal()}) for i, e in enumerate(iterations)]
        (folder / "iterations.jsonl").write_text("\n".join(lines) + "\n")
    if generated:
        np.save(folder / "generated.npy", rng.normal(size=(40, 2)).astype(np.float32))
        np.save(folder / "generated_labels.npy", (np.arange(40) % k).astype(np.int64))
    semi = bool(n_labels)
    record = {
        "method": method, "base_method": base_method or method, "label": label, "dataset": dataset,
        "setting": "unsup" if not n_labels else f"labels{n_labels}",
        "k": k, "seed": seed, "n_labels": n_labels, "error": error,
        "scoring_rule": "classification" if semi else ("hungarian" if k == n_classes else "majority"),
        "nmi": 0.5, "ari": 0.4, "n": n, "split": {"fit": "all", "score": "test" if semi else "all"},
        "n_fit": n if n_fit is None else n_fit, "n_classes": n_classes, "seconds": 1.5, "fit_seconds": 1.0, "method_extras": {},
        "params": params or {}, "config": config or {},
        "provenance": {"git": {"commit": "abc123", "dirty": False},
                       "device": {"type": "cpu", "name": "x86_64", "torch_threads": 1}},
    }
    (folder / "metrics.json").write_text(json.dumps(record))
    return folder / "metrics.json"
