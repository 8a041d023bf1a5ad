"""Table 1 (MNIST, SVHN): one row per (method, column, K), measured beside the paper's value.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ganem.tables.budget import PAPER_FIT_IMAGES, below_paper, paper_budget
from ganem.tables.common import (BELOW_MARK, STAND_INS, _cell, budget_lines, budget_notes, budget_warning,
                                 built_from, config_label, method_rank, paper_values, read_runs, summarise,
                                 write_csv_and_markdown)

TABLE1_COLUMNS = {  # column -> (paper's dataset, n_labels, heading)
    "mnist_unsup": ("mnist", 0, "MNIST (unsupervised)"),
    "mnist_100": ("mnist", 100, "MNIST (100 labels)"),
    "mnist_1000": ("mnist", 1000, "MNIST (1000 labels)"),
    "svhn_1000": ("svhn", 1000, "SVHN (1000 labels)"),
}
TABLE1_FIELDS = ["method", "column", "dataset", "K", "n_labels", "error_mean", "error_std", "n_seeds",
                 "paper_mean", "paper_std", "scoring_rule", "split", "budget", "paper_budget", "base_method"]

def table1_frame(config: dict, metrics_paths: list[Path]) -> pd.DataFrame:
    runs = read_runs(metrics_paths)
    column_of = {(spec["dataset"], spec["n_labels"]): col for col, spec in config["table1"].items()}
    runs["column"] = [column_of.get((d, n)) for d, n in zip(runs["dataset"], runs["n_labels"])]
    if runs["column"].isna().any():
        stray = runs.loc[runs["column"].isna(), "run"].tolist()
        raise ValueError(f"runs that belong to no table1 column of this config: {stray}")
    measured = summarise(runs, ["method", "column", "dataset", "K", "n_labels"]) if len(runs) else \
        pd.DataFrame(columns=["method", "column", "dataset", "K", "n_labels", "error_mean", "error_std",
                              "n_seeds", "scoring_rule", "split", "budget", "base_method"])
    paper = paper_values("table1")
    paper["dataset"] = [TABLE1_COLUMNS[c][0] for c in paper["column"]]
    paper["n_labels"] = [TABLE1_COLUMNS[c][1] for c in paper["column"]]
    measured["K"] = measured["K"].astype("Int64")
    table = paper[["method", "column", "K", "dataset", "n_labels", "paper_mean", "paper_std"]].merge(
        measured, on=["method", "column", "K"], how="outer", suffixes=("_paper", ""))
    table["dataset"] = table["dataset"].fillna(table["dataset_paper"])
    table["n_labels"] = table["n_labels"].fillna(table["n_labels_paper"]).astype(int)
    table["n_seeds"] = table["n_seeds"].fillna(0).astype(int)
    table["base_method"] = table["base_method"].fillna(table["method"])
    # a variant (ganem_authors_cpu) is compared with the paper's value of its method (ganem)
    printed = paper.set_index(["method", "column", "K"])
    for i in table.index[table["paper_mean"].isna() & (table["base_method"] != table["method"])]:
        key = (table.at[i, "base_method"], table.at[i, "column"], table.at[i, "K"])
        if key in printed.index:
            table.loc[i, ["paper_mean", "paper_std"]] = printed.loc[key, ["paper_mean", "paper_std"]].to_numpy()
    table["paper_budget"] = [paper_budget(m, PAPER_FIT_IMAGES[TABLE1_COLUMNS[c][0]]) if n else float("nan")
                             for m, c, n in zip(table["base_method"], table["column"], table["n_seeds"])]
    order = {c: i for i, c in enumerate(TABLE1_COLUMNS)}
    table["_rank"] = [(order[c], method_rank(config, m), -1 if pd.isna(k) else k)
                      for c, m, k in zip(table["column"], table["method"], table["K"])]
    table = table.sort_values("_rank").reset_index(drop=True)
    return table[TABLE1_FIELDS]


def table1_markdown(table: pd.DataFrame, config: dict, source: str = "") -> str:
    cols = list(TABLE1_COLUMNS)
    header = ["Method", "K"] + [f"{TABLE1_COLUMNS[c][2]}: {kind}" for c in cols for kind in ("measured", "paper")]
    budgets = budget_notes(table, lambda r: f"{TABLE1_COLUMNS[r['column']][2]}, K={int(r['K'])}", config)
    lines = ["# Table 1: error (%) on MNIST and SVHN, measured by this suite beside the paper's values", "",
             built_from(source, config), ""]
    lines += budget_warning(budgets)
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    keyed = table.set_index(["method", "K", "column"])
    rows = table[["method", "K"]].drop_duplicates()
    rows["_m"] = [(method_rank(config, m), -1 if pd.isna(k) else k) for m, k in zip(rows["method"], rows["K"])]
    rows = rows.sort_values("_m")
    for method, k in zip(rows["method"], rows["K"]):
        cells = [config_label(config, method), "n.s." if pd.isna(k) else str(int(k))]
        for c in cols:
            if (method, k, c) in keyed.index:
                r = keyed.loc[(method, k, c)]
                star = "†" if r["dataset"] in STAND_INS and r["n_seeds"] else ""
                star += BELOW_MARK if r["n_seeds"] and below_paper(r["budget"], r["paper_budget"]) else ""
                cells.append(_cell(r["error_mean"], r["error_std"], r["n_seeds"]) + star)
                cells.append(_cell(r["paper_mean"], r["paper_std"], 0))
            else:
                cells += ["-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Measured: mean (± sample std) over n seeds of this suite's runs; paper: the value printed in "
              "the paper's Table 1 (transcribed in ganem/paper_values/table1.csv). `-`: not run / not reported. "
              "K `n.s.`: not specified by the paper.", ""]
    measured = table[table["n_seeds"] > 0]
    for (column, dataset), grp in measured.groupby(["column", "dataset"]):
        rules = ", ".join(sorted(set(grp["scoring_rule"].dropna())))
        splits = ", ".join(sorted(set(grp["split"].dropna())))
        note = f"- {TABLE1_COLUMNS[column][2]}: measured on `{dataset}` (split `{splits}`), scored by {rules}"
        if dataset in STAND_INS:
            note = f"- † {TABLE1_COLUMNS[column][2]}: measured on `{dataset}`, {STAND_INS[dataset]} (split `{splits}`), scored by {rules}"
        lines.append(note + ".")
    lines += budget_lines(budgets, f"the method's default Params on the paper's {PAPER_FIT_IMAGES['mnist']:,} "
                          f"MNIST / {PAPER_FIT_IMAGES['svhn']:,} SVHN images")
    lines += ["- Scoring: `hungarian` = one-to-one cluster-to-class matching (K = classes), `majority` = "
              "1 - purity (K > classes), `classification` = plain error of the predicted class (semi-supervised).",
              f"- Seeds configured: {config['seeds']}. Every run's config, seed, commit, library versions and "
              "device are in its `metrics.json` under `results/runs/`."]
    return "\n".join(lines) + "\n"


def write_table1(config: dict, metrics_paths: list[Path], csv_path: Path, md_path: Path,
                 source: str = "") -> pd.DataFrame:
    table = table1_frame(config, metrics_paths)
    write_csv_and_markdown(table, table1_markdown(table, config, source), csv_path, md_path)
    return table
