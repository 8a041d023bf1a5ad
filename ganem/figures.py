"""The paper's figures (2, 3, 4) and the suite's own (error per iteration, spread over seeds, toy 2-D,
CelebA per attribute), each written as PNG and PDF from finished run folders.

Every function reads only files a run folder holds (metrics.json, samples.png, predictions.npy,
labels.npy, features.npy, iterations.jsonl, generated.npy + generated_labels.npy); nothing is
recomputed from a model. A figure whose inputs were not run is not drawn at all: the workflow does
not make it a target (see workflow/rules/common.smk and docs/outputs.md).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ganem.tables.ablation import SERIES, read_logs, series  # noqa: E402
from ganem.config import resolve_method  # noqa: E402
from ganem.io import atomic_path  # noqa: E402
from ganem.plan import DEFAULT_K  # noqa: E402
from ganem.tables import STAND_INS, TABLE1_COLUMNS, method_index, read_runs, title  # noqa: E402
from ganem.tables.common import method_label  # noqa: E402

SETTING_WORDS = {"unsup": "unsupervised"}
DPI = 150


# ------------------------------------------------------------------------------------------ helpers
def run_dir(path: str | Path) -> Path:
    """A run folder from either the folder or its metrics.json."""
    path = Path(path)
    return path.parent if path.name == "metrics.json" else path


def load_record(path: str | Path) -> dict:
    folder = run_dir(path)
    metrics = folder / "metrics.json"
    if not metrics.is_file():
        raise FileNotFoundError(f"{metrics} not found: the run in {folder} has not finished")
    return json.loads(metrics.read_text())


def _need(folder: Path, name: str, why: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; {why}")
    return path


def describe(rec: dict) -> str:
    """'GAN-EM on mnist5k (stand-in), unsupervised, K=10, seed 0: error 4.20% (hungarian, split all)'."""
    data = rec["dataset"] + (" (stand-in)" if rec["dataset"] in STAND_INS else "")
    setting = "unsupervised" if not rec.get("n_labels") else f"{rec['n_labels']} labels"
    split = (rec.get("split") or {}).get("score", "?")
    name = method_label(rec["method"], rec.get("base_method"), rec.get("label"))
    return (f"{name} on {data}, {setting}, K={rec['k']}, "
            f"seed {rec['seed']}: error {rec['error']:.2f}% ({rec.get('scoring_rule', '?')}, split {split})")


def save(fig, png: str | Path, pdf: str | Path) -> None:
    """Write the figure as PNG and PDF, each atomically (a crash leaves no half-written file)."""
    for path, kwargs in ((Path(png), {"dpi": DPI}), (Path(pdf), {})):
        with atomic_path(path, suffix=path.suffix) as tmp:
            fig.savefig(tmp, bbox_inches="tight", **kwargs)
    plt.close(fig)


def class_name(dataset: str, label: int) -> str:
    if dataset.startswith("celeba-"):
        attr = dataset.removeprefix("celeba-")
        return attr if label == 1 else f"no {attr}"
    if dataset.startswith(("mnist", "svhn", "fashion")):
        return f"digit {label}" if not dataset.startswith("fashion") else f"class {label}"
    return f"class {label}"


def row_labels(folder: Path, rec: dict) -> list[str]:
    """One label per sample row (= per class c of the generator / cluster of the E-net).

    Semi-supervised rows are the classes themselves. Unsupervised rows are clusters: each is labelled
    with its size and its majority true class among the scored images (predictions.npy, labels.npy).
    """
    k = int(rec["k"])
    if rec.get("n_labels"):
        return [class_name(rec["dataset"], c) for c in range(k)]
    pred_path, true_path = folder / "predictions.npy", folder / "labels.npy"
    if not (pred_path.is_file() and true_path.is_file()):
        return [f"cluster {c}" for c in range(k)]
    pred, true = np.load(pred_path), np.load(true_path)
    labels = []
    for c in range(k):
        members = true[pred == c]
        if len(members) == 0:
            labels.append(f"cluster {c}: empty")
            continue
        values, counts = np.unique(members, return_counts=True)
        top = int(np.argmax(counts))
        labels.append(f"cluster {c} (n={len(members)}): {100 * counts[top] / len(members):.0f}% "
                      f"{class_name(rec['dataset'], int(values[top]))}")
    return labels


# ------------------------------------------------------------------------------- Figs. 2 and 3
def samples_figure(run: str | Path, png: str | Path, pdf: str | Path, title: str = "") -> None:
    """A run's samples.png (one row per class/cluster, fixed noise) with each row labelled."""
    from PIL import Image

    folder = run_dir(run)
    rec = load_record(folder)
    image = np.asarray(Image.open(_need(folder, "samples.png", "neural runs write one row of samples per class")))
    k = int(rec["k"])
    h, w = image.shape[:2]
    fig, ax = plt.subplots(figsize=(7.5, max(1.2, 7.5 * h / w) + 0.8))
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
    ax.set_yticks([(i + 0.5) * h / k for i in range(k)])
    ax.set_yticklabels(row_labels(folder, rec), fontsize=7 if k > 10 else 8)
    ax.set_xticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title((title + "\n" if title else "") + describe(rec), fontsize=9)
    save(fig, png, pdf)


# -------------------------------------------------------------------------------------- Fig. 4
def _tsne(x: np.ndarray, seed: int) -> np.ndarray:
    from openTSNE import TSNE

    perplexity = float(min(30.0, max(2.0, (len(x) - 1) / 3.0 - 1.0)))
    return np.asarray(TSNE(perplexity=perplexity, n_jobs=1, random_state=seed, verbose=False).fit(x))


def tsne_figure(panels: list[tuple[str, str | Path]], png: str | Path, pdf: str | Path,
                max_points: int = 5000, seed: int = 0) -> None:
    """Fig. 4: t-SNE (openTSNE) of the E-net features of each run, coloured by the true class.

    Each panel title carries the run's own clustering/classification error (on all its scored
    images); at most ``max_points`` images (a seeded random subset) are embedded per panel.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 4.4), squeeze=False, layout="constrained")
    rng = np.random.default_rng(seed)
    classes_seen = set()
    for i, (ax, (label, run)) in enumerate(zip(axes[0], panels)):
        folder = run_dir(run)
        rec = load_record(folder)
        feats = np.load(_need(folder, "features.npy", "GAN-EM writes it when methods.ganem.bottleneck is set"))
        true = np.load(_need(folder, "labels.npy", "every run writes the true labels of its scored images"))
        if len(feats) != len(true):
            raise ValueError(f"{folder}: features.npy has {len(feats)} rows but labels.npy {len(true)}")
        idx = rng.choice(len(true), size=min(len(true), max_points), replace=False)
        emb = _tsne(feats[idx].reshape(len(idx), -1).astype(np.float64), seed)
        colours = plt.get_cmap("tab10")
        for c in np.unique(true[idx]):
            m = true[idx] == c
            ax.scatter(emb[m, 0], emb[m, 1], s=2, color=colours(int(c) % 10), label=str(c), rasterized=True)
            classes_seen.add(int(c))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"({chr(97 + i)}) {label}\n{feats.shape[1]}-d features, error {rec['error']:.2f}%\n"
                     f"({rec.get('scoring_rule', '?')}, {rec['dataset']}/{rec['split']['score']}, "
                     f"{len(idx)} of {len(true)} pts)", fontsize=8)
    handles = [plt.Line2D([], [], marker="o", ls="", color=plt.get_cmap("tab10")(c % 10), label=str(c))
               for c in sorted(classes_seen)]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, title="true class",
               title_fontsize=8)
    fig.suptitle("Fig. 4: t-SNE of the E-net bottleneck features, coloured by true class", fontsize=10)
    save(fig, png, pdf)


# ----------------------------------------------------------------- beyond the paper: iterations
def iteration_records(runs: list[str | Path]) -> tuple[pd.DataFrame, list[str]]:
    """Long frame (method, dataset, setting, K, seed, iteration, monitor_error) and runs without it."""
    rows, missing = [], []
    for run in runs:
        folder = run_dir(run)
        rec = load_record(folder)
        log = folder / "iterations.jsonl"
        found = False
        if log.is_file():
            for line in log.read_text().splitlines():
                if not line.strip():
                    continue
                it = json.loads(line)
                if it.get("monitor_error") is not None:
                    found = True
                    rows.append({"method": rec["method"], "dataset": rec["dataset"],
                                 "setting": rec.get("setting", "unsup"), "K": rec["k"], "seed": rec["seed"],
                                 "iteration": it["iteration"], "monitor_error": it["monitor_error"]})
        if not found:
            missing.append(str(folder))
    return pd.DataFrame(rows, columns=["method", "dataset", "setting", "K", "seed", "iteration",
                                       "monitor_error"]), missing


def iterations_figure(runs: list[str | Path], png: str | Path, pdf: str | Path) -> None:
    """Error per iteration (iterations.jsonl monitor_error), mean over seeds and a ±1 std band.

    One panel per (method, dataset/setting); one line per K. monitor_error is the clustering error
    of the current assignment on the fitted images, so for semi-supervised runs it is not the test
    error of Table 1.
    """
    data, missing = iteration_records(runs)
    records = [load_record(r) for r in runs]
    frame = list(dict.fromkeys((rec["method"], rec["dataset"], rec.get("setting", "unsup")) for rec in records))
    label = {rec["method"]: method_label(rec["method"], rec.get("base_method"), rec.get("label")) for rec in records}
    rank = method_index()
    panels = sorted(frame, key=lambda p: (rank.get(p[0], len(rank)), p[2] != "unsup"))  # one per (method, column)
    ncols = min(len(panels), 3)
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows + 0.6), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (method, dataset, setting) in zip(axes.flat, panels):
        sub = data[(data["method"] == method) & (data["dataset"] == dataset) & (data["setting"] == setting)]
        ax.set_title(f"{label[method]}: {dataset}, {SETTING_WORDS.get(setting, setting)}",
                     fontsize=9)
        if sub.empty:
            ax.text(0.5, 0.5, "no monitor_error in iterations.jsonl", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8)
            continue
        for k, grp in sub.groupby("K"):
            stats = grp.groupby("iteration")["monitor_error"].agg(["mean", "std", "count"]).reset_index()
            n = grp["seed"].nunique()
            line, = ax.plot(stats["iteration"], stats["mean"], lw=1.2, marker=".", label=f"K={k} (n={n} seeds)")
            band = stats["std"].fillna(0)
            ax.fill_between(stats["iteration"], stats["mean"] - band, stats["mean"] + band,
                            color=line.get_color(), alpha=0.2, lw=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("iteration (method's own unit)", fontsize=8)
        ax.set_ylabel("error on fitted images (%)", fontsize=8)
        ax.legend(fontsize=7)
    note = "Mean over seeds, band = ±1 sample std."
    if missing:
        note += f" {len(missing)} run(s) had no monitor_error: " + ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
    fig.suptitle("Error per iteration (monitor_error of iterations.jsonl)\n" + note, fontsize=9)
    save(fig, png, pdf)


# ------------------------------------------------------------- beyond the paper: seed spread
def spread_figure(metrics: list[str | Path], png: str | Path, pdf: str | Path,
                  table1_csv: str | Path | None = None) -> None:
    """Final error of every seed per method (and K), one panel per Table 1 column, with the paper's
    mean ± std beside it: the variance the paper's ± summarises."""
    import seaborn as sns

    runs = read_runs([Path(m) for m in metrics])
    if runs.empty:
        raise ValueError("no runs given to the seed-spread figure")
    heading = {}
    paper = pd.DataFrame()
    if table1_csv is not None:
        t1 = pd.read_csv(table1_csv, dtype={"K": "Int64"})
        for _, r in t1[t1["n_seeds"] > 0].iterrows():
            heading[(r["dataset"], int(r["n_labels"]))] = r["column"]
        paper = t1[t1["paper_mean"].notna()]
    runs["column"] = [heading.get((d, int(n))) for d, n in zip(runs["dataset"], runs["n_labels"])]
    runs["panel"] = [(c, d, int(n)) for c, d, n in zip(runs["column"], runs["dataset"], runs["n_labels"])]
    rank = method_index()
    runs = runs.sort_values(["method", "K"], key=lambda s: s.map(rank) if s.name == "method" else s)
    runs["entry"] = [f"{lab}\nK={k}" for lab, k in zip(runs["label"], runs["K"])]
    panels = list(dict.fromkeys(runs["panel"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(max(3.5, 1.1 * runs.groupby("panel")["entry"].nunique().max())
                                                       * len(panels), 4.4), squeeze=False, layout="constrained")
    for ax, (column, dataset, n_labels) in zip(axes[0], panels):
        sub = runs[runs["panel"] == (column, dataset, n_labels)]
        order = list(dict.fromkeys(sub["entry"]))
        with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib 3.11's deprecated vert=
            warnings.simplefilter("ignore", matplotlib.MatplotlibDeprecationWarning)
            sns.boxplot(data=sub, x="entry", y="error", order=order, ax=ax, color="0.9", showfliers=False, width=0.5)
        sns.stripplot(data=sub, x="entry", y="error", order=order, ax=ax, color="C0", size=5, jitter=0.15)
        if column is not None and not paper.empty:
            for x, entry in enumerate(order):
                m, k = sub.loc[sub["entry"] == entry, ["method", "K"]].iloc[0]
                p = paper[(paper["column"] == column) & (paper["method"] == m) & (paper["K"] == k)]
                if len(p):
                    std = p["paper_std"].iloc[0]
                    ax.errorbar(x + 0.3, p["paper_mean"].iloc[0], yerr=None if pd.isna(std) else std,
                                fmt="D", color="C3", ms=5, capsize=3, label="paper mean ± std" if x == 0 else None)
        title = TABLE1_COLUMNS[column][2] if column in TABLE1_COLUMNS else \
            f"{dataset}, {'unsupervised' if not n_labels else f'{n_labels} labels'}"
        if dataset in STAND_INS:
            title += f"\nmeasured on {dataset} (stand-in)"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("final error (%)")
        ax.tick_params(axis="x", labelsize=8)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle("Final error of each seed (dots), box = quartiles; red = the paper's mean ± std", fontsize=9)
    save(fig, png, pdf)


# ---------------------------------------------------------------------------------- toy 2-D
GENERATED, GENERATED_LABELS = "generated.npy", "generated_labels.npy"


def toy2d_figure(metrics: list[str | Path], png: str | Path, pdf: str | Path) -> None:
    """Per toy dataset (row): the true classes, each method's clusters (its first seed, error in the
    title) and, when the GAN-EM run wrote generated.npy + generated_labels.npy, its generated points
    coloured by the class they were generated for."""
    from ganem import data

    runs = read_runs([Path(m) for m in metrics])
    if runs.empty:
        raise ValueError("no toy runs given")
    rank = method_index()
    methods = sorted(set(runs["method"]), key=lambda m: rank.get(m, 99))
    datasets = list(dict.fromkeys(runs.sort_values("dataset")["dataset"]))
    first = runs.sort_values("seed").drop_duplicates(["dataset", "method"]).set_index(["dataset", "method"])
    has_generated = {d: (d, "ganem") in first.index and
                     (Path(first.loc[(d, "ganem"), "run"]) / GENERATED).is_file() for d in datasets}
    n_cols = 1 + len(methods) + int(any(has_generated.values()))
    fig, axes = plt.subplots(len(datasets), n_cols, figsize=(2.8 * n_cols, 2.8 * len(datasets) + 0.4), squeeze=False,
                             layout="constrained")
    cmap = plt.get_cmap("tab10")
    for i, dataset in enumerate(datasets):
        points = data.load(dataset, "all", ".")
        x, y = points.x.numpy(), points.y
        axes[i][0].scatter(x[:, 0], x[:, 1], c=cmap(y % 10), s=3, rasterized=True)
        axes[i][0].set_title(f"{dataset}: true classes", fontsize=8)
        for j, method in enumerate(methods, start=1):
            ax = axes[i][j]
            if (dataset, method) not in first.index:
                ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
                continue
            r = first.loc[(dataset, method)]
            pred = np.load(Path(r["run"]) / "predictions.npy")
            if len(pred) != len(x):
                raise ValueError(f"{r['run']}: {len(pred)} predictions for {len(x)} points of {dataset}")
            ax.scatter(x[:, 0], x[:, 1], c=cmap(pred % 10), s=3, rasterized=True)
            ax.set_title(f"{r['label']} clusters (seed {int(r['seed'])})"
                         f"\nerror {r['error']:.1f}%", fontsize=8)
        if n_cols > 1 + len(methods):
            ax = axes[i][-1]
            if has_generated[dataset]:
                folder = Path(first.loc[(dataset, "ganem"), "run"])
                gen = np.load(folder / GENERATED)
                gl = np.load(_need(folder, GENERATED_LABELS, "it goes with generated.npy"))
                ax.scatter(x[:, 0], x[:, 1], color="0.85", s=2, rasterized=True)
                ax.scatter(gen[:, 0], gen[:, 1], c=cmap(gl.astype(int) % 10), s=3, rasterized=True)
                ax.set_title(f"GAN-EM generated points per class\n(seed {int(first.loc[(dataset, 'ganem'), 'seed'])}; "
                             "grey = real)", fontsize=8)
            else:
                ax.axis("off")
                ax.text(0.5, 0.5, f"no {GENERATED} in this\nGAN-EM run", ha="center", va="center",
                        transform=ax.transAxes, fontsize=8)
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("2-D mixtures: clusters of each method (first seed); colours are cluster ids", fontsize=9)
    save(fig, png, pdf)


# ------------------------------------------------------------------ CelebA per attribute
def celeba_figure(table3_csv: str | Path, png: str | Path, pdf: str | Path) -> None:
    """Table 3 as a dot plot: per printed row, the paper's GAN-EM error and each measured method
    (mean ± std over seeds), one panel per setting."""
    t3 = pd.read_csv(table3_csv, keep_default_na=True)
    t3["paper_row"] = t3["paper_row"].fillna("")
    settings = list(dict.fromkeys(t3["setting"]))
    rows = t3[["position", "paper_row", "celeba_attribute"]].drop_duplicates().sort_values("position")
    labels = [p if p == a else (f"{p} (= {a})" if p else f"{a} (not printed)")
              for p, a in zip(rows["paper_row"], rows["celeba_attribute"])]
    ypos = {(p, a): i for i, (p, a) in enumerate(zip(rows["paper_row"], rows["celeba_attribute"]))}
    fig, axes = plt.subplots(1, len(settings), figsize=(5.0 * len(settings), 0.22 * len(rows) + 1.5),
                             squeeze=False, sharey=True, layout="constrained")
    for ax, setting in zip(axes[0], settings):
        sub = t3[t3["setting"] == setting]
        paper = sub[sub["paper_error"].notna()]
        ax.scatter(paper["paper_error"], [ypos[(p, a)] for p, a in zip(paper["paper_row"], paper["celeba_attribute"])],
                   marker="D", color="C3", s=14, label="paper (GAN-EM)", zorder=3)
        for j, (method, grp) in enumerate(sub[sub["n_seeds"] > 0].groupby("method")):
            ys = np.array([ypos[(p, a)] for p, a in zip(grp["paper_row"], grp["celeba_attribute"])]) + 0.15 * (j + 1)
            ax.errorbar(grp["error_mean"], ys, xerr=grp["error_std"].fillna(0), fmt="o", ms=3, capsize=2,
                        color=f"C{j}", label=f"measured {title(method)}")
        ax.axvline(50, color="0.6", lw=0.8, ls=":")
        ax.set_title(f"CelebA, {setting}", fontsize=9)
        ax.set_xlabel("error (%)  (50 = chance for K=2)")
        ax.legend(fontsize=7, loc="lower left")
    axes[0][0].set_yticks(range(len(labels)))
    axes[0][0].set_yticklabels(labels, fontsize=7)
    axes[0][0].invert_yaxis()
    fig.suptitle("Table 3 per attribute: paper vs measured (mean ± std over seeds)", fontsize=9)
    save(fig, png, pdf)


# ----------------------------------------------------------------- beyond the paper: the ablation
def ablation_figure(config: dict, metrics: list[str | Path], png: str | Path, pdf: str | Path) -> None:
    """Per EM iteration, one line per variant (mean over seeds), the four ``ganem.tables.ablation.SERIES``:
    the error, the smallest cluster share (with the collapse guard's 1/(10K) line), the class signal
    D gives (its class units on reals minus on fakes) and the size of G's gradient through its class
    input relative to its noise input. Methods without EM iterations (K-means) appear as a dashed
    line in the error panel."""
    spec = config["ablation"]
    k = spec.get("k", DEFAULT_K)
    records = [load_record(m) | {"_folder": run_dir(m)} for m in metrics]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), layout="constrained")
    for i, name in enumerate(spec["methods"]):
        runs = [r for r in records if r["method"] == name]
        logs = read_logs([r["_folder"] for r in runs])
        label = f"{resolve_method(config, name).label or name} (n={len(runs)})"
        color = plt.get_cmap("tab10")(i % 10)
        if not logs:
            if runs:
                axes[0, 0].axhline(np.mean([r["error"] for r in runs]), color=color, ls="--", lw=1, label=label)
            continue
        for ax, (key, (_, ylabel, log_scale)) in zip(axes.flat, SERIES.items()):
            values = series(logs, key)
            if values.empty:
                continue
            ax.plot(values.index, values.values, color=color, lw=1.3, label=label)
            ax.set_ylabel(ylabel, fontsize=8)
            ax.set_xlabel("EM iteration", fontsize=8)
            if log_scale:
                ax.set_yscale("log")
    axes[0, 1].axhline(1 / (10 * k), color="k", ls=":", lw=1)
    for ax in axes.flat:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    fig.suptitle(f"Ablation on {spec['dataset']}, K={k}: mean over seeds per EM iteration "
                 "(dotted: the collapse guard's 1/(10K))", fontsize=10)
    save(fig, png, pdf)


def budget_figure(config: dict, metrics: list[str | Path], png: str | Path, pdf: str | Path) -> None:
    """The budget sweep (results/budget.md): per entry, error (mean ± sample std over seeds) against
    training steps (log x; the method's own unit: GAN-EM G+D steps, GANMM iterations) and against
    CPU seconds per run (log x). Baselines (K-means, GMM) are flat dashed lines; the paper's error at
    the paper's budget (ganem/paper_values, the method's default schedule on 50,000 images) is a star
    in the steps panel. Where results/budget.md states a prediction, the fitted curve runs dotted from
    the smallest budget to the paper's, with the 95 % interval as a bar at the paper's budget."""
    from ganem.tables.sweep import MAX_INTERVAL, entry_fits, paper_point, saturating, sweep_frame

    table = sweep_frame(config, [Path(m) for m in metrics])
    k = config["budget_sweep"].get("k", DEFAULT_K)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), layout="constrained", sharey=True)
    runs = table[table["budget"].notna()]
    fits = entry_fits(runs, k, config["budget_sweep"].get("max_interval", MAX_INTERVAL))
    for i, (entry, group) in enumerate(runs.groupby("entry", sort=False)):
        color = plt.get_cmap("tab10")(i % 10)
        fit = fits[entry]
        if fit["verdict"] == "prediction":
            b = np.geomspace(group["budget"].min(), fit["at"], 200)
            axes[0].plot(b * fit["unit_steps"], saturating(b, fit["a"], fit["c"], fit["alpha"]), color=color,
                         ls=":", lw=1.2, label=f"fit a + c·b^-alpha, {group['label'].iloc[0]}")
            axes[0].errorbar([fit["at"] * fit["unit_steps"]], [fit["prediction"]], color=color, marker="D", ms=5,
                             yerr=[[fit["prediction"] - fit["low"]], [fit["high"] - fit["prediction"]]], capsize=4,
                             ls="none", label=f"predicted at the paper's budget (95 % interval), {entry}")
        by = group.groupby("budget")
        err = by["error"].agg(["mean", lambda e: np.std(e, ddof=1) if len(e) > 1 else 0.0])
        label = f"{group['label'].iloc[0]} (n={by.size().min()}-{by.size().max()})"
        for ax, x in zip(axes, (by["steps"].first(), by["seconds"].mean())):
            ax.errorbar(x.values, err.iloc[:, 0].values, yerr=err.iloc[:, 1].values, color=color, marker="o",
                        ms=4, capsize=3, lw=1.3, label=label)
    for base in sorted(set(runs["base_method"])):
        steps, error = paper_point(base, k)
        if not (np.isnan(steps) or np.isnan(error)):
            axes[0].plot([steps], [error], marker="*", ms=14, color="k", ls="none",
                         label=f"paper, {title(base)} (MNIST, its budget)")
    flat = table[table["budget"].isna()]
    for j, ((method, dataset), group) in enumerate(flat.groupby(["method", "dataset"], sort=False)):
        for ax in axes:
            ax.axhline(group["error"].mean(), color=plt.get_cmap("Dark2")(j % 8), ls="--", lw=1,
                       label=f"{group['label'].iloc[0]}, {dataset}" if ax is axes[0] else None)
    axes[0].set_xlabel("training steps per run (GAN-EM: G+D steps; GANMM: iterations), log", fontsize=9)
    axes[1].set_xlabel("CPU seconds per run (wall clock, config's threads), log", fontsize=9)
    axes[0].set_ylabel("clustering error (%)")
    for ax in axes:
        ax.set_xscale("log")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    fig.suptitle(f"Budget sweep, K={k}: error against budget, mean ± std over seeds", fontsize=10)
    save(fig, png, pdf)
