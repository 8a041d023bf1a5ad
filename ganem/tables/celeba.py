"""Tables 2 and 3: CelebA, K=2 per attribute.

- Table 3: one row per (printed paper row, setting, method); the paper's 40 printed rows are kept as
  printed and mapped explicitly to CelebA attributes (``paper_values/table3.csv``), plus a row for
  every run attribute the paper does not print.
- Table 2 (averages): one row per (method, setting) the paper prints or this config runs.
"""
from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ganem.config import base_method
from ganem.plan import CELEBA_N_LABELS as CELEBA_SETTINGS
from ganem.plan import celeba_attributes
from ganem.tables.budget import paper_budget
from ganem.tables.common import (_cell, _ordered, _rank, budget_lines, budget_notes, budget_warning,
                                 built_from, config_label, method_rank, paper_values, read_runs,
                                 write_csv_and_markdown)


SETTING_HEADINGS = {"unsup": "unsupervised", "semi_100": "semi-supervised (100 labels)"}
TABLE3_FIELDS = ["paper_row", "celeba_attribute", "setting", "method", "error_mean", "error_std", "n_seeds",
                 "paper_error", "dataset", "scoring_rule", "position", "paper_source", "budget", "paper_budget"]
TABLE2_FIELDS = ["method", "setting", "error_mean", "error_std", "n_attributes", "paper_error", "n_seeds",
                 "error_mean_paper_rows", "error_std_paper_rows", "n_paper_rows", "n_seeds_paper_rows", "paper_source",
                 "budget", "paper_budget"]
N_PAPER_ROWS = 40

def celeba_setting(n_labels: int) -> str:
    """The Table 2/3 setting of a CelebA run: 0 labels -> 'unsup', 100 -> 'semi_100'."""
    return "unsup" if not n_labels else f"semi_{int(n_labels)}"


def percent(fraction: str) -> float:
    """A fraction as printed in Table 3 ('0.4103') -> percent (41.03), exactly (no float noise)."""
    return float(Decimal(fraction.strip()) * 100)


def paper_table3() -> pd.DataFrame:
    """The paper's Table 3 in long form: position, paper_row, celeba_attribute, setting, paper_error (%)."""
    with resources.files("ganem.paper_values").joinpath("table3.csv").open() as f:
        raw = pd.read_csv(f, dtype=str, keep_default_na=False)
    rows = [{"position": int(r["position"]), "paper_row": r["paper_row"], "celeba_attribute": r["celeba_attribute"],
             "setting": setting, "paper_error": percent(r[setting]), "paper_source": r["source"]}
            for _, r in raw.iterrows() for setting in CELEBA_SETTINGS]
    return pd.DataFrame(rows)


def celeba_configured(config: dict) -> dict[str, list[str]]:
    """setting -> methods the config runs on CelebA ({} when it has no celeba section)."""
    settings = (config.get("celeba") or {}).get("settings", {}) or {}
    return {s: list(spec.get("methods", [])) for s, spec in settings.items()}


def read_celeba_runs(metrics_paths: list[Path]) -> pd.DataFrame:
    runs = read_runs(metrics_paths)
    stray = runs.loc[~runs["dataset"].str.startswith("celeba-"), "run"].tolist() if len(runs) else []
    if stray:
        raise ValueError(f"runs that are not CelebA attribute runs (celeba-<Attribute>): {stray}")
    wrong_k = runs.loc[runs["K"] != 2, "run"].tolist() if len(runs) else []
    if wrong_k:
        raise ValueError(f"Tables 2 and 3 use K=2 per attribute; these runs have another K: {wrong_k}")
    runs["attribute"] = runs["dataset"].str.removeprefix("celeba-")
    runs["setting"] = [celeba_setting(n) for n in runs["n_labels"]]
    return runs


def _celeba_pairs(config: dict, runs: pd.DataFrame) -> list[tuple[str, str]]:
    """(setting, method) pairs that get rows: configured or measured."""
    pairs = {(s, m) for s, methods in celeba_configured(config).items() for m in methods}
    pairs |= set(zip(runs["setting"], runs["method"]))
    settings = _ordered({s for s, _ in pairs} | set(CELEBA_SETTINGS), list(CELEBA_SETTINGS))
    return [(s, m) for s in settings
            for m in sorted({m for s2, m in pairs if s2 == s}, key=lambda m: method_rank(config, m))]


def table3_frame(config: dict, metrics_paths: list[Path]) -> pd.DataFrame:
    """Every printed Table 3 cell (GAN-EM, both settings) with the measured per-attribute mean +- std,
    plus rows for the other methods run and for run attributes the paper does not print (Smiling)."""
    runs = read_celeba_runs(metrics_paths)
    if len(runs):
        measured = runs.groupby(["method", "attribute", "setting"]).agg(
            error_mean=("error", "mean"),
            error_std=("error", lambda e: e.std(ddof=1) if len(e) > 1 else np.nan),
            n_seeds=("seed", "nunique"), dataset=("dataset", "first"),
            scoring_rule=("scoring_rule", "first"), budget=("budget", "max"), n_fit=("n_fit", "max"),
            base_method=("base_method", "first")).reset_index()
        # the paper fits the same balanced attribute set (max_per_class 12,000) with its own schedule
        measured["paper_budget"] = [paper_budget(m, n) for m, n in zip(measured["base_method"], measured["n_fit"])]
    else:
        measured = pd.DataFrame(columns=["method", "attribute", "setting", "error_mean", "error_std", "n_seeds",
                                         "dataset", "scoring_rule", "budget", "paper_budget"])
    paper = paper_table3()
    printed_attrs = set(paper["celeba_attribute"])
    configured_attrs = celeba_attributes(config)
    run_pairs = _celeba_pairs(config, runs)  # configured or measured
    all_pairs = sorted(set(run_pairs) | {(s, "ganem") for s in CELEBA_SETTINGS},
                       key=lambda sm: (_rank(sm[0], CELEBA_SETTINGS), method_rank(config, sm[1]), sm))
    rows = []
    for setting, method in all_pairs:
        printed_for = base_method(config, method) == "ganem"  # the paper prints GAN-EM's cells only
        for _, p in paper[paper["setting"] == setting].iterrows():
            rows.append({"paper_row": p["paper_row"], "celeba_attribute": p["celeba_attribute"],
                         "setting": setting, "method": method, "position": p["position"],
                         "paper_error": p["paper_error"] if printed_for else np.nan,
                         "paper_source": p["paper_source"] if printed_for else ""})
        if (setting, method) in run_pairs:  # attributes run that the paper does not print (Smiling)
            ran = set(runs.loc[(runs["setting"] == setting) & (runs["method"] == method), "attribute"])
            extra = _ordered((set(configured_attrs) | ran) - printed_attrs, configured_attrs)
            for i, attr in enumerate(extra, start=N_PAPER_ROWS + 1):
                rows.append({"paper_row": "", "celeba_attribute": attr, "setting": setting, "method": method,
                             "position": i, "paper_error": np.nan, "paper_source": "not printed in the paper"})
    table = pd.DataFrame(rows).merge(measured.rename(columns={"attribute": "celeba_attribute"}),
                                     on=["method", "celeba_attribute", "setting"], how="left")
    table["n_seeds"] = table["n_seeds"].fillna(0).astype(int)
    table["dataset"] = table["dataset"].fillna("celeba-" + table["celeba_attribute"])
    return table[TABLE3_FIELDS]


def _weighted_average(per: pd.DataFrame, weights: pd.Series) -> tuple[float, float, int, int]:
    """per: seeds x attributes errors. -> (mean of per-attribute means, std over complete seeds of the
    per-seed average, number of complete seeds, total weight) with attribute weights ``weights``."""
    w = weights.reindex(per.columns).fillna(0)
    w = w[w > 0]
    if w.empty:
        return np.nan, np.nan, 0, 0
    per = per[w.index]
    mean = float((per.mean(axis=0) * w).sum() / w.sum())
    complete = per.dropna(axis=0, how="any")
    seed_avgs = (complete * w).sum(axis=1) / w.sum()
    std = float(seed_avgs.std(ddof=1)) if len(seed_avgs) > 1 else np.nan
    return mean, std, int(len(complete)), int(w.sum())


def _largest_budget(runs: pd.DataFrame) -> dict:
    """budget and paper_budget of the run with the largest budget among ``runs`` (one attribute's run
    stands for the (method, setting) row of Table 2; NaN for methods without a budget)."""
    if runs["budget"].isna().all():
        return {"budget": np.nan, "paper_budget": np.nan}
    top = runs.loc[runs["budget"].idxmax()]
    return {"budget": top["budget"], "paper_budget": paper_budget(top["base_method"], top["n_fit"])}


def table2_frame(config: dict, metrics_paths: list[Path]) -> pd.DataFrame:
    """Average CelebA error per (method, setting), two ways, beside the paper's Table 2.

    ``error_mean``: mean over the real attributes measured (each once) of the per-attribute mean over
    seeds; ``error_std``: sample std over seeds of the per-seed average (seeds present for every
    attribute). ``*_paper_rows``: the same over the paper's 40 printed rows (Male counted twice, as
    'gender' and 'Male'; Smiling absent) -- the average the paper's Table 2 used.
    """
    runs = read_celeba_runs(metrics_paths)
    paper = paper_values("table2")
    printed = paper_table3()
    row_weights = printed[printed["setting"] == "unsup"]["celeba_attribute"].value_counts()
    measured = {}
    for (method, setting), grp in runs.groupby(["method", "setting"]):
        per = grp.pivot_table(index="seed", columns="attribute", values="error", aggfunc="mean")
        all_w = pd.Series(1, index=per.columns)
        mean, std, n_seeds, n_attr = _weighted_average(per, all_w)
        pmean, pstd, p_seeds, n_rows = _weighted_average(per, row_weights)
        measured[(method, setting)] = {"error_mean": mean, "error_std": std, "n_attributes": n_attr,
                                       "n_seeds": n_seeds, "error_mean_paper_rows": pmean,
                                       "error_std_paper_rows": pstd, "n_paper_rows": n_rows,
                                       "n_seeds_paper_rows": p_seeds, **_largest_budget(grp)}
    keys = {(m, s) for m, s in zip(paper["method"], paper["setting"])}
    keys |= {(m, s) for s, m in _celeba_pairs(config, runs)}  # configured or measured
    rows = []
    for method, setting in sorted(keys, key=lambda ms: (method_rank(config, ms[0]), _rank(ms[1], CELEBA_SETTINGS), ms)):
        p = paper[(paper["method"] == base_method(config, method)) & (paper["setting"] == setting)]
        row = {"method": method, "setting": setting,
               "paper_error": float(p["paper_error"].iloc[0]) if len(p) else np.nan,
               "paper_source": p["source"].iloc[0] if len(p) else "",
               "n_attributes": 0, "n_seeds": 0, "n_paper_rows": 0, "n_seeds_paper_rows": 0}
        row.update(measured.get((method, setting), {}))
        rows.append(row)
    table = pd.DataFrame(rows)
    for col in TABLE2_FIELDS:
        if col not in table:
            table[col] = np.nan
    return table[TABLE2_FIELDS]


PAPER_SCHEDULE = "the method's default Params on the same attribute's images; one attribute's run per row"


def _closing(lines: list[str], config: dict, budgets: list[str]) -> str:
    """The seeds line and the budget paragraph that end Tables 2 and 3, and the joined Markdown."""
    lines = lines + [f"- Seeds configured: {config['seeds']}."] + budget_lines(budgets, PAPER_SCHEDULE)
    return "\n".join(lines).rstrip("\n") + "\n"


def _celeba_budget_notes(table: pd.DataFrame, config: dict) -> list[str]:
    """One budget line per (method, setting): the attribute run with the largest budget."""
    measured = table[table["n_seeds"] > 0].sort_values("budget", na_position="first")
    per = measured.groupby(["method", "setting"], sort=False).tail(1)
    return budget_notes(per, lambda r: SETTING_HEADINGS.get(r["setting"], r["setting"]), config)


def table3_markdown(table: pd.DataFrame, config: dict, source: str = "") -> str:
    pairs = list(dict.fromkeys(zip(table["setting"], table["method"])))
    header = ["#", "Paper row", "CelebA attribute"]
    for setting, method in pairs:
        header.append(f"{config_label(config, method)} {setting}: measured")
        if base_method(config, method) == "ganem" and setting in CELEBA_SETTINGS:
            header.append(f"GAN-EM {setting}: paper")
    budgets = _celeba_budget_notes(table, config)
    lines = ["# Table 3: error (%) on the 40 CelebA attributes (K=2 each), measured beside the paper", "",
             built_from(source, config), ""] + budget_warning(budgets)
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    keyed = table.set_index(["paper_row", "celeba_attribute", "setting", "method"])
    rows = table[["position", "paper_row", "celeba_attribute"]].drop_duplicates().sort_values("position")
    for _, r in rows.iterrows():
        cells = [str(r["position"]) if r["paper_row"] else "-", r["paper_row"] or "(not printed)", r["celeba_attribute"]]
        for setting, method in pairs:
            key = (r["paper_row"], r["celeba_attribute"], setting, method)
            row = keyed.loc[key] if key in keyed.index else None
            cells.append("-" if row is None else _cell(row["error_mean"], row["error_std"], row["n_seeds"]))
            if base_method(config, method) == "ganem" and setting in CELEBA_SETTINGS:
                cells.append("-" if row is None or pd.isna(row["paper_error"]) else f"{row['paper_error']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Measured: mean (± sample std) over n seeds, per attribute; a printed row that maps to the same "
              "attribute as another (gender and Male) shows the same measurement. Paper: Table 3's fractions x 100 "
              "(transcribed in ganem/paper_values/table3.csv with the row-to-attribute mapping). `-`: not run.", "",
              "- Paper rows are kept as printed: `gender` -> Male (so Male is printed twice, with different numbers), "
              "`hat` -> Wearing_Hat, `glass` -> Eyeglasses, spaces and the leading underscore of `_Blond_Hair` -> the "
              "CelebA names. Smiling is not printed in the paper; it is listed below the 40 rows when run.",
              "- The paper's text (Sec. 5.2) quotes glasses at 29.89 while its Table 3 prints 0.2983 (29.83).",
              "- Each attribute is a class-balanced 2-class set (see ganem/data/celeba.py); scored with the "
              "Hungarian rule (unsupervised) or plain classification error (semi-supervised), on all its images."]
    return _closing(lines, config, budgets)


def table2_markdown(table: pd.DataFrame, config: dict, source: str = "") -> str:
    settings = _ordered(set(table["setting"]), list(CELEBA_SETTINGS))
    header = ["Method"]
    for s in settings:
        header += [f"{SETTING_HEADINGS.get(s, s)}: measured (40 real attributes)",
                   f"{SETTING_HEADINGS.get(s, s)}: measured (paper's 40 printed rows)",
                   f"{SETTING_HEADINGS.get(s, s)}: paper"]
    budgets = budget_notes(table.assign(n_seeds=table["n_attributes"]),
                           lambda r: SETTING_HEADINGS.get(r["setting"], r["setting"]), config)
    lines = ["# Table 2: average error (%) over the CelebA attributes, measured beside the paper", "",
             built_from(source, config), ""] + budget_warning(budgets)
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    keyed = table.set_index(["method", "setting"])
    for method in sorted(set(table["method"]), key=lambda m: method_rank(config, m)):
        cells = [config_label(config, method)]
        for s in settings:
            if (method, s) not in keyed.index:
                cells += ["-", "-", "-"]
                continue
            r = keyed.loc[(method, s)]
            if r["n_attributes"]:
                cells.append(_cell(r["error_mean"], r["error_std"], r["n_seeds"]) + f" [{int(r['n_attributes'])} attr.]")
                cells.append(_cell(r["error_mean_paper_rows"], r["error_std_paper_rows"], r["n_seeds_paper_rows"])
                             + f" [{int(r['n_paper_rows'])}/40 rows]")
            else:
                cells += ["-", "-"]
            cells.append("-" if pd.isna(r["paper_error"]) else f"{r['paper_error']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "How each average is formed:", "",
              "- **Paper**: the value printed in Table 2 (ganem/paper_values/table2.csv). For GAN-EM it equals the "
              "mean of the 40 rows printed in Table 3 (42.093 and 28.819), which count the Male attribute twice "
              "(as `gender` and as `Male`, with different numbers) and omit Smiling; the other methods' averages "
              "are quoted without per-attribute numbers.",
              "- **Measured (40 real attributes)**: mean over the CelebA attributes run (each once; `all` = the 40 of "
              "list_attr_celeba.txt, Smiling included) of each attribute's mean over seeds; ± is the sample std over "
              "seeds of the per-seed average (seeds run for every attribute), n = those seeds.",
              "- **Measured (paper's 40 printed rows)**: the same average over the paper's printed rows mapped to "
              "attributes (Male weighted twice, Smiling left out), the like-for-like comparison with the paper; "
              "`k/40 rows` says how many printed rows were measured.",
              "- `-`: not reported by the paper / not run by this suite (VAE, AAE, CatGAN, VaDE and PixelGAN are "
              "quoted from the paper only)."]
    return _closing(lines, config, budgets)


def write_table3(config: dict, metrics_paths: list[Path], csv_path: Path, md_path: Path,
                 source: str = "") -> pd.DataFrame:
    table = table3_frame(config, metrics_paths)
    write_csv_and_markdown(table, table3_markdown(table, config, source), csv_path, md_path)
    return table


def write_table2(config: dict, metrics_paths: list[Path], csv_path: Path, md_path: Path,
                 source: str = "") -> pd.DataFrame:
    table = table2_frame(config, metrics_paths)
    write_csv_and_markdown(table, table2_markdown(table, config, source), csv_path, md_path)
    return table
