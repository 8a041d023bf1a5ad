"""The ablation table: method variants on one cell, each described by what it changes.

Each row is one variant of the config's ``ablation.methods`` (mean ± sample std over its seeds):
final error and NMI, how often its clusters emptied, the dead clusters of the collapse guard, the
error at a few EM iterations, and -- so a reader never has to diff two configs -- its parameters as
the difference from the nearer of ``ablation.ends`` (the paper's text, the authors' code).
Parameters come from the config (the same resolution the runs use), never from a table of names.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ganem.io import atomic_write_text

FIELDS = ["method", "label", "compared_with", "changes", "n_seeds", "error_mean", "error_std", "errors",
          "nmi_mean", "runs_ending_with_empty_cluster", "iterations_with_empty_cluster", "dead_clusters",
          "error_by_iteration", "minutes_per_run"]
IGNORED = {"preset"}  # a name for a set of values, not a value: the values themselves are compared


def resolved_params(config: dict, name: str, dataset: str) -> dict:
    """A method's (or variant's) full parameter dict for ``dataset``, as a run would resolve it."""
    from ganem.config import method_params, resolve_method
    from ganem.methods import get_method, make_params

    cls = get_method(resolve_method(config, name).method)
    params = make_params(cls.Params, method_params(config, name, dataset), f"methods.{name}")
    return params.to_dict() if hasattr(params, "to_dict") else vars(params)


def differences(params: dict, reference: dict) -> dict:
    """The keys whose value differs from ``reference`` (``IGNORED`` keys left out)."""
    return {k: v for k, v in params.items() if k not in IGNORED and reference.get(k) != v}


def describe_variant(config: dict, name: str) -> tuple[str, str]:
    """(end it is nearest to, its changes from that end as 'key=value, ...') for an ablation row."""
    from ganem.config import resolve_method

    spec = config["ablation"]
    base = resolve_method(config, name).method
    ends = [e for e in spec.get("ends", []) if resolve_method(config, e).method == base]
    if not ends:
        return "", ""
    params = resolved_params(config, name, spec["dataset"])
    diffs = {end: differences(params, resolved_params(config, end, spec["dataset"])) for end in ends}
    end = min(ends, key=lambda e: len(diffs[e]))  # the nearer end; the first listed on a tie
    changes = ", ".join(f"{k}={v}" for k, v in sorted(diffs[end].items()))
    return end, changes or "(this end)"


def _iterations(folder: Path) -> list[dict]:
    log = folder / "iterations.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def ablation_frame(config: dict, metrics_paths: list[Path], checkpoints: tuple[int, ...] = (1, 9, 17, 25, 33)
                   ) -> pd.DataFrame:
    """One row per variant of ``config['ablation']['methods']``, in that order."""
    from ganem.config import resolve_method

    spec = config["ablation"]
    records = [json.loads(Path(p).read_text()) | {"_folder": Path(p).parent} for p in metrics_paths]
    rows = []
    for name in spec["methods"]:
        runs = sorted((r for r in records if r["method"] == name), key=lambda r: r["seed"])
        errors = [r["error"] for r in runs]
        logs = [_iterations(r["_folder"]) for r in runs]
        empty_final = sum(0 in (log[-1].get("cluster_sizes") or [1]) for log in logs if log)
        empty_iters = [sum(0 in (it.get("cluster_sizes") or [1]) for it in log) for log in logs if log]
        curve = []
        for it in checkpoints:
            at = [x["monitor_error"] for log in logs for x in log
                  if x["iteration"] == it and x.get("monitor_error") is not None]
            if at:
                curve.append(f"{it}: {np.mean(at):.1f}")
        end, changes = describe_variant(config, name)
        rows.append({
            "method": name, "label": resolve_method(config, name).label or name,
            "compared_with": end, "changes": changes, "n_seeds": len(runs),
            "error_mean": float(np.mean(errors)) if errors else np.nan,
            "error_std": float(np.std(errors, ddof=1)) if len(errors) > 1 else np.nan,
            "errors": _fmt(errors),
            "nmi_mean": float(np.mean([r["nmi"] for r in runs])) if runs else np.nan,
            "runs_ending_with_empty_cluster": empty_final if logs and any(logs) else np.nan,
            "iterations_with_empty_cluster": float(np.mean(empty_iters)) if empty_iters else np.nan,
            "dead_clusters": sum((r.get("method_extras") or {}).get("n_dead_clusters", 0) for r in runs)
            if any(logs) else np.nan,
            "error_by_iteration": "; ".join(curve),
            "minutes_per_run": float(np.mean([r["seconds"] for r in runs]) / 60) if runs else np.nan,
        })
    return pd.DataFrame(rows, columns=FIELDS)


def ablation_markdown(table: pd.DataFrame, config: dict, config_path: str) -> str:
    spec = config["ablation"]
    lines = [f"# Ablation: GAN-EM variants on {spec['dataset']}, K={spec.get('k', 10)}, unsupervised", "",
             f"Built from `{config_path}` (`snakemake all --configfile {config_path}`). Error: Hungarian-matched "
             "clustering error (%) on the fitted images, mean ± sample std over seeds (per-seed values beside). "
             "Empty: runs whose final clustering left a cluster empty / mean EM iterations with an empty cluster. "
             "Dead: clusters the collapse guard declared dead (share < 1/(10K) for `collapse_patience` "
             "iterations), summed over seeds. Error by iteration: mean over seeds at those EM iterations.", "",
             "| variant | differs from | changes | n | error | per seed | NMI | empty (final / iters) | dead "
             "| error by EM iteration | min/run |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        err = "-" if pd.isna(r["error_mean"]) else f"{r['error_mean']:.2f}" + (
            "" if pd.isna(r["error_std"]) else f" ± {r['error_std']:.2f}")
        empty = "-" if pd.isna(r["runs_ending_with_empty_cluster"]) else \
            f"{int(r['runs_ending_with_empty_cluster'])} / {r['iterations_with_empty_cluster']:.1f}"
        dead = "-" if pd.isna(r["dead_clusters"]) else str(int(r["dead_clusters"]))
        nmi = "-" if pd.isna(r["nmi_mean"]) else f"{r['nmi_mean']:.2f}"
        minutes = "-" if pd.isna(r["minutes_per_run"]) else f"{r['minutes_per_run']:.1f}"
        lines.append(f"| {r['label']} (`{r['method']}`) | {r['compared_with'] or '-'} | {r['changes'] or '-'} "
                     f"| {r['n_seeds']} | {err} | {r['errors'] or '-'} | {nmi} | {empty} | {dead} "
                     f"| {r['error_by_iteration'] or '-'} | {minutes} |")
    return "\n".join(lines) + "\n"


def write_ablation(config: dict, metrics_paths: list[Path], csv: Path, md: Path, config_path: str) -> pd.DataFrame:
    table = ablation_frame(config, metrics_paths)
    atomic_write_text(csv, table.to_csv(index=False))
    atomic_write_text(md, ablation_markdown(table, config, config_path))
    return table
