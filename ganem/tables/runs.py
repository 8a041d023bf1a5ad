"""The per-run table: one row per run (the reviewers' single file).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ganem.io import atomic_write_text
from ganem.tables.common import method_index, read_runs


RUNS_FIELDS = ["method", "dataset", "setting", "K", "seed", "error", "nmi", "ari", "seconds", "commit", "device",
               "variant", "n_labels", "scoring_rule", "split", "n_scored", "dirty", "run"]

def variant_of(run: str | Path) -> str:
    """'bottleneck100' for results/variants/bottleneck100/ganem/..., '' for a plain results/runs/ run."""
    parts = Path(run).parts
    return parts[parts.index("variants") + 1] if "variants" in parts[:-1] else ""


def runs_frame(metrics_paths: list[Path]) -> pd.DataFrame:
    runs = read_runs(metrics_paths)
    runs["variant"] = [variant_of(r) for r in runs["run"]]
    method_rank = method_index()
    runs = runs.sort_values(["method", "dataset", "setting", "K", "variant", "seed"],
                            key=lambda s: s.map(method_rank) if s.name == "method" else s)
    return runs[RUNS_FIELDS].reset_index(drop=True)


def write_runs(metrics_paths: list[Path], csv_path: Path) -> pd.DataFrame:
    table = runs_frame(metrics_paths)
    atomic_write_text(csv_path, table.to_csv(index=False, float_format="%.4f"))
    return table
