"""The reproduction summary: every paper cell of Tables 1-3, what the suite measured, and a verdict.

Verdict rule (also printed at the end of results/summary.md):

    d  = measured mean - paper value                      (percentage points; < 0 = lower error)
    SE = sqrt(s_meas^2 / n_meas + s_paper^2 / n_paper)
         s_meas  = sample std (ddof=1) of the measured values over n_meas seeds
         s_paper = the paper's printed +- (0 where the paper prints none: Tables 2 and 3, some of Table 1)
         n_paper = n_meas (the paper does not say over how many runs its +- was taken)
    consistent  if |d| <= 2 SE
    better      if d < -2 SE    (measured error lower than the paper's)
    worse       if d > +2 SE

A cell gets no consistent/better/worse verdict when the measurement cannot support one:
``not comparable (budget below paper)`` (trained with under a tenth of the paper's budget, see
``ganem.tables.budget``), ``not comparable (stand-in)`` (measured on mnist5k instead of MNIST), ``not comparable (subset)``
(a class-balanced subset via n_samples, or CelebA with fewer than 12,000 images per class),
``not comparable (partial)`` (Table 2: not all 40 printed rows measured), ``undetermined (1 seed)``
(no spread to judge with), or ``not run`` with the reason ("not in this config", "method not in
this suite", ...).  The Markdown lists the measured cells first and counts the cells not run by reason.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ganem.config import base_method, dataset_settings
from ganem.methods import METHODS
from ganem.tables import (N_PAPER_ROWS, SETTING_HEADINGS, STAND_INS, TABLE1_COLUMNS,
                          celeba_configured, table2_frame, table3_frame, write_csv_and_markdown)
from ganem.tables.budget import BELOW_PAPER_NOTE, below_paper, budget_text
from ganem.tables.common import built_from, config_label

SUMMARY_FIELDS = ["table", "cell", "method", "setting", "K", "paper_mean", "paper_std", "measured_mean",
                  "measured_std", "n_seeds", "measured_on", "budget", "difference", "se", "verdict", "reason"]
CONSISTENT, BETTER, WORSE = "consistent", "better", "worse"
STAND_IN, SUBSET, PARTIAL, ONE_SEED, NOT_RUN = ("not comparable (stand-in)", "not comparable (subset)",
                                                "not comparable (partial)", "undetermined (1 seed)", "not run")
BUDGET_BELOW = "not comparable (budget below paper)"
SHIPPED_OFFLINE = {"mnist5k", "toy"}  # dataset families available without a download
CELEBA_FULL_PER_CLASS = 12_000  # Appendix B.3


def verdict(measured_mean: float, measured_std: float, n: int, paper_mean: float,
            paper_std: float | None) -> tuple[float, float, str]:
    """(difference, SE, verdict) by the rule in the module docstring; needs n >= 2."""
    if n < 2:
        raise ValueError("a verdict needs at least 2 seeds")
    s_m = 0.0 if measured_std is None or pd.isna(measured_std) else float(measured_std)
    s_p = 0.0 if paper_std is None or pd.isna(paper_std) else float(paper_std)
    d = float(measured_mean) - float(paper_mean)
    se = math.sqrt(s_m ** 2 / n + s_p ** 2 / n)
    if abs(d) <= 2 * se:
        return d, se, CONSISTENT
    return d, se, BETTER if d < 0 else WORSE


def _family(dataset: str) -> str:
    return dataset.split("-", 1)[0]


def comparability(config: dict, dataset: str) -> tuple[str, str] | None:
    """(verdict, reason) when a measurement on ``dataset`` under ``config`` is not the paper's protocol."""
    if dataset in STAND_INS:
        return STAND_IN, f"measured on stand-in {dataset} — not comparable"
    settings = dataset_settings(config, dataset) if config.get("datasets") is not None else {}
    n = settings.get("n_samples")
    if n is not None:
        return SUBSET, f"measured on a {n}-image subset of {dataset} (n_samples) — not comparable"
    per_class = (settings.get("options") or {}).get("max_per_class", CELEBA_FULL_PER_CLASS)
    if _family(dataset) == "celeba" and per_class < CELEBA_FULL_PER_CLASS:
        return SUBSET, f"CelebA with max_per_class={per_class} (paper: 12,000) — not comparable"
    return None


def _not_run_reason(config: dict, method: str, configured: bool, paper_dataset: str) -> str:
    if method not in METHODS:
        return "method not in this suite (paper value only)"
    if configured:
        return "configured, but no finished run was found"
    reason = "not in this config"
    if not config.get("download", True) and _family(paper_dataset) not in SHIPPED_OFFLINE:
        reason += f"; no data offline (download: false, and {paper_dataset} is not shipped offline)"
    return reason


def _judge(config, measured_mean, measured_std, n, paper_mean, paper_std, dataset, method, configured,
           paper_dataset, budget=np.nan, paper_budget=np.nan) -> dict:
    """Verdict and reason of one paper cell.  Order: not run; a budget far below the paper's (the
    number cannot test the paper's, whatever the data); stand-in or subset data; one seed; the rule."""
    out = {"measured_mean": measured_mean if n else np.nan, "measured_std": measured_std if n else np.nan,
           "n_seeds": int(n), "measured_on": dataset if n else "", "difference": np.nan, "se": np.nan,
           "budget": budget_text(base_method(config, method), budget, paper_budget) if n else ""}
    if not n:
        return {**out, "verdict": NOT_RUN,
                "reason": _not_run_reason(config, base_method(config, method), configured, paper_dataset)}
    out["difference"] = float(measured_mean) - float(paper_mean)
    not_comparable = comparability(config, dataset)
    if below_paper(budget, paper_budget):
        also = f"; {not_comparable[1]}" if not_comparable else ""
        return {**out, "verdict": BUDGET_BELOW, "reason": BELOW_PAPER_NOTE + also}
    if not_comparable:
        return {**out, "verdict": not_comparable[0], "reason": not_comparable[1]}
    if n < 2:
        return {**out, "verdict": ONE_SEED, "reason": "one seed: no spread to judge the difference with"}
    d, se, v = verdict(measured_mean, measured_std, n, paper_mean, paper_std)
    return {**out, "difference": d, "se": se, "verdict": v, "reason": ""}


def _table1_cells(config: dict, table1: pd.DataFrame) -> list[dict]:
    rows = []
    # a paper cell whose method ran only as variants (ganem_authors_cpu) is judged by those rows
    variants = table1[(table1["method"] != table1["base_method"]) & (table1["n_seeds"] > 0)]
    covered = set(zip(variants["base_method"], variants["column"], variants["K"]))
    for _, r in table1[table1["paper_mean"].notna()].iterrows():
        col, method = r["column"], r["method"]
        if not r["n_seeds"] and (method, col, r["K"]) in covered:
            continue
        k = None if pd.isna(r["K"]) else int(r["K"])
        spec = config.get("table1", {}).get(col, {})
        configured = k is not None and k in spec.get("methods", {}).get(method, [])
        paper_dataset = TABLE1_COLUMNS[col][0]
        cell = {"table": "Table 1", "cell": f"{config_label(config, method)} / {TABLE1_COLUMNS[col][2]} / "
                f"K={'n.s.' if k is None else k}", "method": method, "setting": col, "K": k,
                "paper_mean": r["paper_mean"], "paper_std": r["paper_std"]}
        cell.update(_judge(config, r["error_mean"], r["error_std"], int(r["n_seeds"]), r["paper_mean"],
                           r["paper_std"], r["dataset"], method, configured, paper_dataset,
                           r["budget"], r["paper_budget"]))
        rows.append(cell)
    return rows


def _table2_cells(config: dict, table2: pd.DataFrame) -> list[dict]:
    rows = []
    configured = celeba_configured(config)
    for _, r in table2[table2["paper_error"].notna()].iterrows():
        method, setting = r["method"], r["setting"]
        cell = {"table": "Table 2", "cell": f"{config_label(config, method)} / CelebA average / "
                f"{SETTING_HEADINGS.get(setting, setting)}", "method": method, "setting": setting, "K": 2,
                "paper_mean": r["paper_error"], "paper_std": np.nan}
        n_rows = int(r["n_paper_rows"]) if not pd.isna(r["n_paper_rows"]) else 0
        n = int(r["n_seeds_paper_rows"]) if n_rows and not pd.isna(r["n_seeds_paper_rows"]) else 0
        judged = _judge(config, r["error_mean_paper_rows"], r["error_std_paper_rows"], n, r["paper_error"], None,
                        "celeba", method, method in configured.get(setting, []), "celeba",
                        r["budget"], r["paper_budget"])
        if n_rows and n_rows < N_PAPER_ROWS and judged["verdict"] not in (SUBSET, BUDGET_BELOW):
            judged.update(verdict=PARTIAL, se=np.nan,
                          reason=f"only {n_rows} of the paper's {N_PAPER_ROWS} printed rows measured")
        elif n_rows:
            judged["reason"] = ("average over the paper's 40 printed rows (Male twice, no Smiling); "
                                + judged["reason"]).rstrip("; ")
        if n_rows:
            judged["measured_on"] = f"celeba-* ({n_rows}/{N_PAPER_ROWS} printed rows)"
        rows.append({**cell, **judged})
    return rows


def _table3_cells(config: dict, table3: pd.DataFrame) -> list[dict]:
    rows = []
    configured = celeba_configured(config)
    attrs = config.get("celeba", {}).get("attributes", []) if config.get("celeba") else []
    for _, r in table3[table3["paper_error"].notna()].iterrows():
        method, setting, attr = r["method"], r["setting"], r["celeba_attribute"]
        is_configured = method in configured.get(setting, []) and (attrs == "all" or attr in attrs)
        label = r["paper_row"] if r["paper_row"] == attr else f"{r['paper_row']} (= {attr})"
        cell = {"table": "Table 3", "cell": f"{config_label(config, method)} / {label} / "
                f"{SETTING_HEADINGS.get(setting, setting)}", "method": method, "setting": setting, "K": 2,
                "paper_mean": r["paper_error"], "paper_std": np.nan}
        rows.append({**cell, **_judge(config, r["error_mean"], r["error_std"], int(r["n_seeds"]), r["paper_error"],
                                      None, r["dataset"], method, is_configured, "celeba", r["budget"],
                                      r["paper_budget"])})
    return rows


TABLES = ("Table 1", "Table 2", "Table 3")


def summary_frame(config: dict, table1: pd.DataFrame | None, table2: pd.DataFrame | None = None,
                  table3: pd.DataFrame | None = None, tables: tuple[str, ...] = TABLES) -> pd.DataFrame:
    """One row per paper cell of `tables` (default Tables 1-3). Tables 2/3 default to the paper values
    with nothing measured. One table alone is its verdicts without the other tables' runs."""
    cells = {"Table 1": lambda: _table1_cells(config, table1),
             "Table 2": lambda: _table2_cells(config, table2_frame(config, []) if table2 is None else table2),
             "Table 3": lambda: _table3_cells(config, table3_frame(config, []) if table3 is None else table3)}
    rows = [row for name in tables for row in cells[name]()]
    frame = pd.DataFrame(rows, columns=SUMMARY_FIELDS)
    frame["K"] = frame["K"].astype("Int64")
    return frame


def _fmt(v, digits=2) -> str:
    return "" if v is None or pd.isna(v) else f"{v:.{digits}f}"


def summary_markdown(frame: pd.DataFrame, config: dict, source: str = "", tables: tuple[str, ...] = TABLES,
                     csv_name: str = "results/summary.csv") -> str:
    measured = frame[frame["verdict"] != NOT_RUN]
    not_run = frame[frame["verdict"] == NOT_RUN]
    which = "Tables 1-3" if tables == TABLES else ", ".join(tables)
    lines = [f"# Reproduction summary: every paper cell of {which}", "", built_from(source, config), "",
             f"{len(measured)} of the paper's {len(frame)} cells measured under this config; "
             f"{len(not_run)} not run (counted by reason at the end).", "", "## Counts", ""]
    counts = frame.groupby(["table", "verdict"]).size().unstack(fill_value=0)
    header = ["Table"] + list(counts.columns)
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for table, row in counts.iterrows():
        lines.append("| " + " | ".join([table] + [str(int(v)) for v in row]) + " |")
    lines += ["", "## Measured cells", ""]
    if measured.empty:
        lines.append("None: this config runs none of the paper's cells.")
    else:
        lines += ["| Cell | Paper | Measured | n | Measured on | Budget (measured of paper's) | d | SE | Verdict | Note |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in measured.iterrows():
        paper = _fmt(r["paper_mean"]) + (f" ± {_fmt(r['paper_std'])}" if not pd.isna(r["paper_std"]) else "")
        value = _fmt(r["measured_mean"]) + (f" ± {_fmt(r['measured_std'])}" if not pd.isna(r["measured_std"]) else "")
        lines.append(f"| {r['table']}: {r['cell']} | {paper} | {value} | {r['n_seeds']} | {r['measured_on'] or '-'} | "
                     f"{r['budget'] or '-'} | {_fmt(r['difference']) or '-'} | {_fmt(r['se']) or '-'} | "
                     f"{r['verdict']} | {r['reason']} |")
    if not not_run.empty:
        lines += ["", "## Cells not run", "", "| Table | Cells | Reason |", "|---|---|---|"]
        for (table, reason), grp in not_run.groupby(["table", "reason"], sort=False):
            lines.append(f"| {table} | {len(grp)} | {reason} |")
        lines += ["", f"Every cell, run or not, is a row of {csv_name}."]
    lines += ["", "## How to read it", "",
              "Errors in percent. `measured` = mean ± sample std over n seeds of this suite's runs; "
              "`d` = measured − paper (negative = lower error than the paper). **Verdict rule.** "
              "SE = sqrt(s_meas²/n_meas + s_paper²/n_paper), with s_paper the paper's printed ± "
              "(taken as 0 where the paper prints none — all of Tables 2 and 3 and some Table 1 cells) and "
              "n_paper assumed equal to n_meas (the paper does not say over how many runs its ± is). "
              "`consistent` when |d| ≤ 2·SE, otherwise `better` (d < 0) or `worse` (d > 0). "
              f"A cell trained with a budget below a tenth of the paper's gets `{BUDGET_BELOW}` "
              f"({BELOW_PAPER_NOTE}); measurements on a stand-in (mnist5k for MNIST) or a subset get "
              "`not comparable`, one seed gets `undetermined`, cells without runs get `not run` and the reason. "
              "Table 2 is compared on the average over the paper's 40 printed Table 3 rows (Male twice, Smiling "
              "absent), as the paper formed it.", "",
              f"Seeds configured: {config['seeds']}. Sources: "
              + ", ".join(f"results/table{name[-1]}.csv" for name in tables)
              + " (paper values transcribed in ganem/paper_values/)."]
    return "\n".join(lines) + "\n"


def write_summary(config: dict, table1_csv: Path | None, table2_csv: Path | None, table3_csv: Path | None,
                  csv_path: Path, md_path: Path, source: str = "", tables: tuple[str, ...] = TABLES) -> pd.DataFrame:
    read = lambda p: None if p is None else pd.read_csv(p, dtype={"K": "Int64"}, keep_default_na=True)  # noqa: E731
    t3 = read(table3_csv)
    if t3 is not None:
        t3["paper_row"] = t3["paper_row"].fillna("")
    frame = summary_frame(config, read(table1_csv), read(table2_csv), t3, tables)
    write_csv_and_markdown(frame, summary_markdown(frame, config, source, tables, csv_path.as_posix()),
                           csv_path, md_path)
    return frame
