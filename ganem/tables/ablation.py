"""The ablation table: method variants on one cell, each described by what it changes.

Each row is one variant of the config's ``ablation.methods`` (mean ± sample std over its seeds):
final error and NMI, how often its clusters emptied, the dead clusters of the collapse guard, and the
per-EM-iteration ``SERIES`` (error and the mechanism: smallest cluster share, D's class signal, G's
class gradient) at a few iterations. So that a reader never has to diff two configs, each variant's
parameters are shown as the difference from the nearer of ``ablation.ends`` (the paper's text, the
authors' code). Parameters come from the config (the same resolution the runs use).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ganem.config import base_method, resolve_method, resolved_params
from ganem.io import atomic_write_text

IGNORED = {"preset"}  # a name for a set of values, not a value: the values themselves are compared
CHECKPOINTS = (1, 9, 17, 25, 33)  # EM iterations the table prints the series at


def _d_class_gap(it: dict) -> float | None:
    if it.get("d_real_units") is None or it.get("d_fake_units") is None:
        return None
    return float(np.mean(it["d_real_units"][:-1]) - np.mean(it["d_fake_units"][:-1]))


def _g_class_ratio(it: dict) -> float | None:
    return it["g_grad_class"] / it["g_grad_noise"] if it.get("g_grad_noise") else None


# Per-EM-iteration series of iterations.jsonl (ganem/model/diagnostics.py): name -> (value of one
# record or None, axis label, log scale). The table prints them at CHECKPOINTS, the figure whole.
SERIES = {
    "error": (lambda it: it.get("monitor_error"), "error on fitted images (%)", False),
    "min_share": (lambda it: it.get("min_share"), "smallest cluster share min_i phi_i", True),
    "d_class_gap": (_d_class_gap, "D class units: mean output on reals - on fakes", False),
    "g_class_ratio": (_g_class_ratio, "G: |dL_G/dc| / |dL_G/dz| per sample", True),
}
FIELDS = ["method", "label", "compared_with", "changes", "n_seeds", "error_mean", "error_std", "errors",
          "nmi_mean", "runs_ending_with_empty_cluster", "iterations_with_empty_cluster", "dead_clusters",
          "minutes_per_run"] + [f"{name}_by_iteration" for name in SERIES]


def read_logs(folders: list[Path]) -> list[list[dict]]:
    """The iterations.jsonl records of each run folder that has a non-empty one."""
    logs = [[json.loads(line) for line in (f / "iterations.jsonl").read_text().splitlines() if line.strip()]
            for f in folders if (f / "iterations.jsonl").is_file()]
    return [log for log in logs if log]


def series(logs: list[list[dict]], name: str) -> pd.Series:
    """Mean over runs, per EM iteration, of one of ``SERIES`` (records without it left out)."""
    value = SERIES[name][0]
    frame = pd.DataFrame([{"iteration": it["iteration"], "v": value(it)} for log in logs for it in log],
                         columns=["iteration", "v"]).dropna()
    return frame.groupby("iteration")["v"].mean()


def _param_values(config: dict, name: str, dataset: str) -> dict:
    """A method's (or variant's) full parameter dict for ``dataset``, as a run resolves it."""
    params = resolved_params(config, name, dataset)
    return params.to_dict() if hasattr(params, "to_dict") else vars(params)


def differences(params: dict, reference: dict) -> dict:
    """The keys whose value differs from ``reference`` (``IGNORED`` keys left out)."""
    return {k: v for k, v in params.items() if k not in IGNORED and reference.get(k) != v}


def describe_variant(config: dict, name: str) -> tuple[str, str]:
    """(end it is nearest to, its changes from that end as 'key=value, ...') for an ablation row."""
    spec = config["ablation"]
    base = base_method(config, name)
    ends = [e for e in spec.get("ends", []) if base_method(config, e) == base]
    if not ends:
        return "", ""
    params = _param_values(config, name, spec["dataset"])
    diffs = {end: differences(params, _param_values(config, end, spec["dataset"])) for end in ends}
    end = min(ends, key=lambda e: len(diffs[e]))  # the nearer end; the first listed on a tie
    changes = ", ".join(f"{k}={v}" for k, v in sorted(diffs[end].items()))
    return end, changes or "(this end)"


def ablation_frame(config: dict, metrics_paths: list[Path]) -> pd.DataFrame:
    """One row per variant of ``config['ablation']['methods']``, in that order."""
    spec = config["ablation"]
    records = [json.loads(Path(p).read_text()) | {"_folder": Path(p).parent} for p in metrics_paths]
    rows = []
    for name in spec["methods"]:
        runs = sorted((r for r in records if r["method"] == name), key=lambda r: r["seed"])
        errors = [r["error"] for r in runs]
        logs = read_logs([r["_folder"] for r in runs])
        by_iteration = {}
        for key in SERIES:
            values = series(logs, key)
            by_iteration[f"{key}_by_iteration"] = "; ".join(
                f"{it}: {values[it]:.3g}" for it in CHECKPOINTS if it in values.index)
        end, changes = describe_variant(config, name)
        rows.append({
            "method": name, "label": resolve_method(config, name).label or name,
            "compared_with": end, "changes": changes, "n_seeds": len(runs),
            "error_mean": float(np.mean(errors)) if errors else np.nan,
            "error_std": float(np.std(errors, ddof=1)) if len(errors) > 1 else np.nan,
            "errors": ", ".join(f"{e:.2f}" for e in errors),
            "nmi_mean": float(np.mean([r["nmi"] for r in runs])) if runs else np.nan,
            "runs_ending_with_empty_cluster": sum(0 in log[-1]["cluster_sizes"] for log in logs) if logs else np.nan,
            "iterations_with_empty_cluster": float(np.mean([sum(0 in it["cluster_sizes"] for it in log)
                                                            for log in logs])) if logs else np.nan,
            "dead_clusters": sum(r["method_extras"].get("n_dead_clusters", 0) for r in runs) if logs else np.nan,
            "minutes_per_run": float(np.mean([r["seconds"] for r in runs]) / 60) if runs else np.nan,
            **by_iteration,
        })
    return pd.DataFrame(rows, columns=FIELDS)


def _num(value, fmt: str) -> str:
    return "-" if pd.isna(value) else format(value, fmt)


def ablation_markdown(table: pd.DataFrame, config: dict, config_path: str) -> str:
    spec = config["ablation"]
    lines = [f"# Ablation: GAN-EM variants on {spec['dataset']}, K={spec.get('k', 10)}, unsupervised", "",
             f"Built from `{config_path}` (`snakemake results/ablation.md --configfile {config_path}`). Error: "
             "Hungarian-matched clustering error (%) on the fitted images, mean ± sample std over seeds (per "
             "seed beside). Empty: runs whose final clustering left a cluster empty / mean EM iterations with "
             "an empty cluster. Dead: clusters the collapse guard declared dead (share < 1/(10K) for "
             "`collapse_patience` iterations), summed over seeds. Series: mean over seeds at EM iterations "
             f"{', '.join(map(str, CHECKPOINTS))}.", "",
             "| variant | differs from | changes | n | error | per seed | NMI | empty (final / iters) | dead "
             "| error by EM iteration | min/run |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    mechanism = ["", "## The mechanism, per EM iteration (mean over seeds)", "",
                 "Smallest cluster share min_i phi_i (dead below 1/(10K)); D's class units, mean output on "
                 "reals minus on fakes (the class signal D gives G); G's per-sample gradient through its class "
                 "input over that through its noise input (ganem/model/diagnostics.py). Curves: "
                 "figures/ablation_curves.png.", "",
                 "| variant | smallest share | D class gap (reals - fakes) | G class / noise gradient |",
                 "|---|---|---|---|"]
    for _, r in table.iterrows():
        err = _num(r["error_mean"], ".2f") + ("" if pd.isna(r["error_std"]) else f" ± {r['error_std']:.2f}")
        empty = "-" if pd.isna(r["runs_ending_with_empty_cluster"]) else \
            f"{int(r['runs_ending_with_empty_cluster'])} / {r['iterations_with_empty_cluster']:.1f}"
        lines.append(f"| {r['label']} (`{r['method']}`) | {r['compared_with'] or '-'} | {r['changes'] or '-'} "
                     f"| {r['n_seeds']} | {err} | {r['errors'] or '-'} | {_num(r['nmi_mean'], '.2f')} | {empty} "
                     f"| {_num(r['dead_clusters'], '.0f')} | {r['error_by_iteration'] or '-'} "
                     f"| {_num(r['minutes_per_run'], '.1f')} |")
        if r["min_share_by_iteration"]:
            mechanism.append(f"| `{r['method']}` | {r['min_share_by_iteration']} | "
                             f"{r['d_class_gap_by_iteration']} | {r['g_class_ratio_by_iteration']} |")
    return "\n".join(lines + mechanism) + "\n"


def write_ablation(config: dict, metrics_paths: list[Path], csv: Path, md: Path, config_path: str) -> pd.DataFrame:
    """The Markdown first, the CSV last (each atomically), as every table of the suite."""
    table = ablation_frame(config, metrics_paths)
    atomic_write_text(md, ablation_markdown(table, config, config_path))
    atomic_write_text(csv, table.to_csv(index=False))
    return table
