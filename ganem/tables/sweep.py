"""The budget sweep's table (results/budget.csv and .md): error against training budget.

One CSV row per run of ``budget_sweep`` (ganem/plan.py lists them): its entry, budget multiple b,
seed, error, NMI, CPU seconds and training steps (the method's own budget unit: GAN-EM G+D steps,
GANMM main-loop iterations, from ``ganem.tables.budget.run_budget``).  The Markdown shows per entry
x budget the error mean ± sample std over seeds, each seed, NMI, CPU-hours per run and steps, the
baselines as flat values, and for every entry with budgets to fit an extrapolation to the paper's
budget: err(b) = a + c * b^(-alpha) fitted to the per-budget means, its 95 % interval from a
bootstrap over seeds (each budget's seeds resampled with replacement, the curve refitted), and
"cannot say" where the data do not constrain it: fewer than 3 budgets, a budget with one seed (the
bootstrap would see no spread there), a best fit pinned at a bound of its parameters (the means do not
fix the curve's shape), fits that fail, or an interval wider than ``budget_sweep.max_interval`` error
points.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ganem.io import atomic_write_text
from ganem.plan import DEFAULT_K

FIELDS = ["entry", "label", "method", "base_method", "dataset", "budget", "seed", "error", "nmi", "seconds",
          "steps", "steps_unit"]
BOOTSTRAP = 1000  # resamples of the extrapolation's interval
MAX_INTERVAL = 20.0  # default budget_sweep.max_interval (error points)
MIN_BUDGETS = 3  # a three-parameter curve needs three budgets
MAX_FAILED = 0.05  # share of bootstrap fits allowed to fail before the fit "cannot say"
MIN_SEEDS = 2  # seeds every budget needs for a bootstrap over seeds to see their spread
PARAMETERS = ("a", "c", "alpha")
LOWER = (0.0, 0.0, 1e-3)  # the fit's bounds: error >= 0, falling with budget, alpha > 0 ...
UPPER = (100.0, 1e4, 5.0)  # ... and alpha <= 5 (b^-5: flat from 3x on), beyond which a shape is not told apart


def _entry_of(config: dict) -> dict[str, tuple[str, float]]:
    """Generated variant name -> (entry, budget)."""
    from ganem.plan import budget_variant_name

    return {budget_variant_name(name, b): (name, float(b))
            for name, entry in config["budget_sweep"]["entries"].items() for b in entry["budgets"]}


def sweep_frame(config: dict, metrics_paths: list[Path]) -> pd.DataFrame:
    """One row per run (sweep entries first, then the baselines), sorted by entry, dataset, budget, seed,
    so the table does not depend on the order of ``metrics_paths``."""
    from ganem.config import resolve_method
    from ganem.methods import get_method
    from ganem.tables.budget import run_budget

    entries = config["budget_sweep"]["entries"]
    of = _entry_of(config)
    rows = []
    for path in metrics_paths:
        rec = json.loads(Path(path).read_text())
        base = resolve_method(config, rec["method"]).method
        entry, budget = of.get(rec["method"], (rec["method"], math.nan))
        label = entries[entry].get("label", entry) if entry in entries else \
            (resolve_method(config, rec["method"]).label or rec["method"])
        steps = run_budget(base, rec.get("params") or {}, rec.get("n_fit", 0)) if entry in entries else math.nan
        rows.append({"entry": entry, "label": label, "method": rec["method"], "base_method": base,
                     "dataset": rec["dataset"], "budget": budget, "seed": rec["seed"], "error": rec["error"],
                     "nmi": rec.get("nmi", math.nan), "seconds": rec.get("seconds", math.nan), "steps": steps,
                     "steps_unit": get_method(base).budget_unit if entry in entries else ""})
    order = {name: i for i, name in enumerate(entries)}
    frame = pd.DataFrame(rows, columns=FIELDS)
    frame["_order"] = frame["entry"].map(lambda e: order.get(e, len(order)))
    frame = frame.sort_values(["_order", "entry", "dataset", "budget", "seed"])
    return frame.drop(columns="_order").reset_index(drop=True)


def saturating(b, a, c, alpha):
    """err(b) = a + c * b^(-alpha): a the error the budget tends to, alpha how fast it gets there."""
    return a + c * np.power(b, -alpha)


def _fit(budgets: np.ndarray, means: np.ndarray) -> np.ndarray | None:
    import warnings

    from scipy.optimize import OptimizeWarning, curve_fit

    try:
        with warnings.catch_warnings():  # three budgets fit three parameters exactly: no covariance, expected
            warnings.simplefilter("ignore", OptimizeWarning)
            popt, _ = curve_fit(saturating, budgets, means, p0=(max(means.min() - 5, 0), 10.0, 0.5),
                                bounds=(LOWER, UPPER), maxfev=5000)
    except (RuntimeError, ValueError):
        return None
    return popt


def extrapolate(errors_by_budget: dict[float, list[float]], at: float, max_interval: float = MAX_INTERVAL,
                seed: int = 0) -> dict:
    """The fitted curve's prediction at budget ``at`` with a 95 % bootstrap interval over seeds, or
    a verdict "cannot say" with the reason.  Returns {verdict, prediction, low, high, a, c, alpha, reason}."""
    budgets = np.array(sorted(b for b, errs in errors_by_budget.items() if errs), dtype=float)
    out = {"verdict": "cannot say", "prediction": math.nan, "low": math.nan, "high": math.nan,
           "a": math.nan, "c": math.nan, "alpha": math.nan, "reason": ""}
    if len(budgets) < MIN_BUDGETS:
        out["reason"] = f"{len(budgets)} budget(s); the curve has 3 parameters"
        return out
    means = np.array([np.mean(errors_by_budget[b]) for b in budgets])
    popt = _fit(budgets, means)
    if popt is None:
        out["reason"] = "the curve does not fit the means"
        return out
    out.update(zip(PARAMETERS, map(float, popt)))
    few = [f"{b:g}" for b in budgets if len(errors_by_budget[b]) < MIN_SEEDS]
    pinned = [f"{name} = {value:.3g}" for name, value, low, high in zip(PARAMETERS, popt, LOWER, UPPER)
              if math.isclose(value, low, rel_tol=1e-3, abs_tol=1e-6) or math.isclose(value, high, rel_tol=1e-3)]
    if few:
        out["reason"] = (f"budget(s) {', '.join(few)} have one seed: the bootstrap over seeds sees no spread "
                         f"there (run {MIN_SEEDS} or more)")
        return out
    if pinned:
        out["reason"] = f"the best fit sits at its bound ({', '.join(pinned)}): the means do not fix the curve"
        return out
    out["prediction"] = float(saturating(at, *popt))
    rng = np.random.default_rng(seed)
    preds, failed = [], 0
    for _ in range(BOOTSTRAP):
        resampled = np.array([np.mean(rng.choice(errors_by_budget[b], size=len(errors_by_budget[b])))
                              for b in budgets])
        p = _fit(budgets, resampled)
        if p is None:
            failed += 1
        else:
            preds.append(saturating(at, *p))
    low, high = (np.percentile(preds, [2.5, 97.5]) if preds else (math.nan, math.nan))
    out.update(low=float(low), high=float(high))
    if failed > MAX_FAILED * BOOTSTRAP:
        out["reason"] = f"{failed} of {BOOTSTRAP} bootstrap fits failed"
    elif not high - low <= max_interval:
        out["reason"] = f"95 % interval {low:.1f}-{high:.1f} is wider than {max_interval:g} points"
    else:
        out["verdict"] = "prediction"
    return out


def entry_fits(runs: pd.DataFrame, k: int, max_interval: float = MAX_INTERVAL) -> dict[str, dict]:
    """Per sweep entry (rows of ``sweep_frame`` with a budget): ``extrapolate``'s result at the paper's
    budget, plus ``at`` (that budget in b: the paper's steps over the entry's steps at b = 1),
    ``unit_steps`` (steps at b = 1) and ``paper_error``. The table and the figure both read it."""
    fits = {}
    for entry, group in runs.groupby("entry", sort=False):
        unit_steps = group.loc[group["budget"] == group["budget"].min(), "steps"].iloc[0] / group["budget"].min()
        paper_steps, paper_error = paper_point(group["base_method"].iloc[0], k)
        at = paper_steps / unit_steps if unit_steps else math.nan
        fit = extrapolate({b: g["error"].tolist() for b, g in group.groupby("budget")}, at, max_interval) \
            if not math.isnan(at) else \
            {"verdict": "cannot say", "reason": "no paper budget", "prediction": math.nan, "low": math.nan,
             "high": math.nan, "a": math.nan, "c": math.nan, "alpha": math.nan}
        fits[entry] = {**fit, "at": at, "unit_steps": unit_steps, "paper_error": paper_error}
    return fits


def paper_point(base_method: str, k: int) -> tuple[float, float]:
    """(the paper's budget in the method's steps, the paper's MNIST error at K) from ganem/paper_values
    and the method's default Params on the paper's 50,000 images; NaNs when the paper has none."""
    from ganem.tables.budget import PAPER_FIT_IMAGES, paper_budget
    from ganem.tables.common import paper_values

    values = paper_values("table1")
    row = values[(values["method"] == base_method) & (values["column"] == "mnist_unsup") & (values["K"] == k)]
    error = float(row["paper_mean"].iloc[0]) if len(row) else math.nan
    return paper_budget(base_method, PAPER_FIT_IMAGES["mnist"]), error


def _fmt(value: float, spec: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def sweep_markdown(table: pd.DataFrame, config: dict, config_path: str) -> str:
    sweep = config["budget_sweep"]
    k = sweep.get("k", DEFAULT_K)
    lines = [f"# Budget sweep: error against training budget, K={k}, unsupervised", "",
             f"Built from `{config_path}` (`snakemake results/budget.md figures/budget_curve.png "
             f"--configfile {config_path}`). b: multiple of the entry's configured schedule (ganem/plan.py). "
             "Error: Hungarian-matched clustering error (%) on the fitted images, mean ± sample std over "
             "seeds (each seed beside). CPU-h: wall-clock hours per run at the config's threads_per_job. "
             "Steps: the method's budget unit per run.", "",
             "| entry | dataset | b | n | error | per seed | NMI | CPU-h / run | steps |",
             "|---|---|---|---|---|---|---|---|---|"]
    runs = table[table["budget"].notna()]
    for (entry, budget), group in runs.groupby(["entry", "budget"], sort=False):
        errors = group["error"].tolist()
        err = f"{np.mean(errors):.2f}" + (f" ± {np.std(errors, ddof=1):.2f}" if len(errors) > 1 else "")
        lines.append(f"| {group['label'].iloc[0]} (`{entry}`) | {group['dataset'].iloc[0]} | {budget:g} "
                     f"| {len(group)} | {err} | {', '.join(f'{e:.2f}' for e in errors)} "
                     f"| {_fmt(group['nmi'].mean(), '.3f')} | {_fmt(group['seconds'].mean() / 3600, '.2f')} "
                     f"| {_fmt(group['steps'].iloc[0], ',.0f')} {group['steps_unit'].iloc[0]} |")
    base = table[table["budget"].isna()]
    if len(base):
        lines += ["", "Baselines (no training budget; flat lines in the figure):", "",
                  "| method | dataset | n | error | NMI |", "|---|---|---|---|---|"]
        for (method, dataset), group in base.groupby(["method", "dataset"], sort=False):
            errors = group["error"].tolist()
            err = f"{np.mean(errors):.2f}" + (f" ± {np.std(errors, ddof=1):.2f}" if len(errors) > 1 else "")
            lines.append(f"| {group['label'].iloc[0]} | {dataset} | {len(group)} | {err} "
                         f"| {_fmt(group['nmi'].mean(), '.3f')} |")
    lines += ["", "## Extrapolation to the paper's budget", "",
              "err(b) = a + c·b^(-alpha) fitted to the per-budget means; 95 % interval from "
              f"{BOOTSTRAP} bootstrap resamples of each budget's seeds; \"cannot say\" with fewer than "
              f"{MIN_BUDGETS} budgets, a budget with fewer than {MIN_SEEDS} seeds, a best fit at a bound of "
              f"its parameters, over {MAX_FAILED:.0%} of the fits failing, or an interval "
              f"wider than {sweep.get('max_interval', MAX_INTERVAL):g} points. The paper's budget in b: the "
              "paper's steps (the method's default schedule on 50,000 images) over the entry's steps at b = 1.",
              "", "| entry | paper's budget (b) | paper's error | fit: a, c, alpha | predicted at the paper's "
              "budget | 95 % interval | verdict |", "|---|---|---|---|---|---|---|"]
    for entry, fit in entry_fits(runs, k, sweep.get("max_interval", MAX_INTERVAL)).items():
        verdict = fit["verdict"] + (f" ({fit['reason']})" if fit["reason"] else "")
        lines.append(f"| `{entry}` | {_fmt(fit['at'], ',.0f')} | {_fmt(fit['paper_error'], '.2f')} (paper) "
                     f"| {_fmt(fit['a'], '.2f')}, {_fmt(fit['c'], '.2f')}, {_fmt(fit['alpha'], '.3f')} "
                     f"| {_fmt(fit['prediction'], '.2f')} | {_fmt(fit['low'], '.2f')}-{_fmt(fit['high'], '.2f')} "
                     f"| {verdict} |")
    return "\n".join(lines) + "\n"


def write_sweep(config: dict, metrics_paths: list[Path], csv: Path, md: Path, config_path: str) -> pd.DataFrame:
    """The Markdown first, the CSV last (each atomically), as every table of the suite."""
    table = sweep_frame(config, metrics_paths)
    atomic_write_text(md, sweep_markdown(table, config, config_path))
    atomic_write_text(csv, table.to_csv(index=False))
    return table
