"""The 2-D toy mixtures: per-seed errors and their mean/std per dataset x method.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ganem.io import atomic_write_text
from ganem.tables.budget import budget_text
from ganem.tables.common import _cell, _ordered, built_from, method_index, method_order, read_runs


TOY_FIELDS = ["dataset", "method", "seed", "error", "nmi", "ari", "scoring_rule", "K", "run"]
TOY_SUMMARY_FIELDS = ["dataset", "method", "error_mean", "error_std", "n_seeds", "nmi_mean", "ari_mean", "budget",
                      "base_method", "label"]


def toy2d_frames(metrics_paths: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-seed rows, mean/std per dataset x method) of the toy-* runs."""
    runs = read_runs(metrics_paths)
    stray = runs.loc[~runs["dataset"].str.startswith("toy-"), "run"].tolist() if len(runs) else []
    if stray:
        raise ValueError(f"runs that are not toy-* runs: {stray}")
    method_rank = method_index()
    per_seed = runs.sort_values(["dataset", "method", "seed"], key=lambda s: s.map(method_rank)
                                if s.name == "method" else s)[TOY_FIELDS].reset_index(drop=True)
    if len(runs):
        summary = runs.groupby(["dataset", "method"]).agg(
            error_mean=("error", "mean"), error_std=("error", lambda e: e.std(ddof=1) if len(e) > 1 else np.nan),
            n_seeds=("seed", "nunique"), nmi_mean=("nmi", "mean"), ari_mean=("ari", "mean"),
            budget=("budget", "max"), base_method=("base_method", "first"), label=("label", "first")).reset_index()
        summary = summary.sort_values(["dataset", "method"], key=lambda s: s.map(method_rank)
                                      if s.name == "method" else s).reset_index(drop=True)
    else:
        summary = pd.DataFrame(columns=TOY_SUMMARY_FIELDS)
    return per_seed, summary[TOY_SUMMARY_FIELDS]


def toy2d_markdown(summary: pd.DataFrame, source: str = "") -> str:
    datasets = list(dict.fromkeys(summary["dataset"]))
    methods = _ordered(set(summary["method"]), method_order())
    label = dict(zip(summary["method"], summary["label"]))
    header = ["Dataset"] + [label[m] for m in methods]
    lines = ["# 2-D mixtures: clustering error (%), K=2, beyond the paper", "", built_from(source), "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    keyed = summary.set_index(["dataset", "method"])
    for d in datasets:
        cells = [d]
        for m in methods:
            r = keyed.loc[(d, m)] if (d, m) in keyed.index else None
            cells.append("-" if r is None else _cell(r["error_mean"], r["error_std"], r["n_seeds"]))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Mean (± sample std) over n seeds; Hungarian error on all 1,000 points of each mixture (the "
              "points are fixed; the seed varies only the method). Per-seed values: results/toy2d.csv."]
    budgets = summary[summary["budget"].notna()].groupby(["method", "base_method"], sort=False)["budget"].max()
    lines += [f"- Budget per {label[m]} run: {budget_text(base, b, float('nan'))} (the paper has no "
              "2-D experiment)." for (m, base), b in budgets.items()]
    return "\n".join(lines) + "\n"


def write_toy2d(metrics_paths: list[Path], csv_path: Path, summary_path: Path, md_path: Path,
                source: str = "") -> pd.DataFrame:
    per_seed, summary = toy2d_frames(metrics_paths)
    atomic_write_text(csv_path, per_seed.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(summary_path, summary.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(md_path, toy2d_markdown(summary, source))
    return summary
