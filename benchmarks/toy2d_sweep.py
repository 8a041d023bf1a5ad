"""GAN-EM (MLP nets) against K-means and GMM on 2-D mixtures: the paper's central claim, small.

Datasets (K=2): ganem.data.toy's 1,000 points (data seed 0):
  moons        sklearn make_moons(noise=0.08)
  circles      sklearn make_circles(factor=0.5, noise=0.05)
  moons_apart  the same moons pulled apart (each half moved 0.6 along (-1, 1) / (1, -1))

Every (dataset, variant, seed) gets its own run folder (iterations.jsonl, samples.png, ...) and
one CSV row: dataset, variant, seed, error (Hungarian, %), plus the per-iteration errors.  The
true labels are used for scoring only (RunContext.monitor_labels).

    python benchmarks/toy2d_sweep.py --out results/dev/toy2d --seeds 0 1 2 3 4 \
        --variants paper authors authors+spectral authors+clip0.05 authors+q20 authors+q1000
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ganem.metrics import clustering_error  # noqa: E402
from ganem.methods.base import RunContext  # noqa: E402
from ganem.model.method import GANEM, Params  # noqa: E402

# The MLP settings proposed as the suite's default for toy data (config/config.yaml, datasets.toy.methods.ganem).
TOY_BASE = dict(
    em_iterations=10, p_epochs=5, q_steps=200, batch_size=64, e_batch_size=256,
    mlp_hidden=128, mlp_depth=2, noise_dim=2, noise="normal",
)

AUTHORS = dict(loss="authors", optimizer="adam", lr_d=2e-4, lr_g=6e-4, lr_e=6e-5,
               mstep_labels="balanced", estep_labels="balanced")
VARIANTS: dict[str, dict] = {
    "paper": {},  # the paper's losses (Eq. 1, 2) and optimiser (RMSprop 2e-4) on the toy budget
    "paper+spectral": dict(lipschitz="spectral"),
    "paper+clip0.05": dict(lipschitz="clip", clip_value=0.05),
    "paper+q20": dict(q_steps=20),
    "paper+q1000": dict(q_steps=1000),
    "paper+noise8": dict(noise_dim=8),
    "authors": AUTHORS,  # the authors' code's losses, Adam rates and balanced fakes
    "authors+spectral": {**AUTHORS, "lipschitz": "spectral"},
    "authors+clip0.05": {**AUTHORS, "lipschitz": "clip", "clip_value": 0.05},
    "authors+clip0.1": {**AUTHORS, "lipschitz": "clip", "clip_value": 0.1},
    "authors+q20": {**AUTHORS, "q_steps": 20},  # weaker E-step
    "authors+q1000": {**AUTHORS, "q_steps": 1000},  # stronger E-step
    "authors+lrE2e-4": {**AUTHORS, "lr_e": 2e-4},  # stronger E-step (rate)
    "authors+noise1": {**AUTHORS, "noise_dim": 1},
    "authors+noise8": {**AUTHORS, "noise_dim": 8},
    "authors+uniform": {**AUTHORS, "noise": "uniform01"},
    "authors+long": {**AUTHORS, "em_iterations": 30},
}


def make_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The suite's toy data (ganem.data.toy: 1,000 points, data seed 0, not standardised), so
    these numbers and the DAG's results/toy2d.csv score the same points; the run's seed varies
    only the methods."""
    from ganem.data.toy import generate

    return generate(name)


def baselines(x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    km = KMeans(2, n_init=10, random_state=seed).fit_predict(x)
    gmm = GaussianMixture(2, covariance_type="full", n_init=5, random_state=seed).fit(x).predict(x)
    return {"kmeans": clustering_error(y, km, n_clusters=2), "gmm": clustering_error(y, gmm, n_clusters=2)}


def run_ganem(x, y, seed, overrides, run_dir: Path) -> tuple[float, list[float], float]:
    params = Params(**{**TOY_BASE, **overrides})
    ctx = RunContext(k=2, seed=seed, run_dir=run_dir, device=torch.device("cuda" if torch.cuda.is_available() else "cpu"),
                     progress=False, monitor_labels=y)
    t0 = time.time()
    m = GANEM(params, ctx)
    m.fit(torch.from_numpy(x))
    a = m.assign(torch.from_numpy(x))
    curve = [r.get("monitor_error") for r in m.trainer.log.records()]
    return clustering_error(y, a.labels, n_clusters=2), curve, time.time() - t0


def summarise(csv_path: Path) -> str:
    """Markdown table: mean +- sd of the error per dataset and variant, each seed's error, and in
    how many runs GAN-EM is at the level of the better baseline (error <= min(K-means, GMM) + 2)."""
    import pandas as pd

    df = pd.read_csv(csv_path).drop_duplicates(["dataset", "variant", "seed"], keep="last")
    base = df[df.variant.isin(["kmeans", "gmm"])].groupby(["dataset", "seed"]).error.min()
    lines = ["| dataset | variant | error % mean +- sd | per seed (0..4) | runs <= best baseline + 2 |",
             "|---|---|---|---|---|"]
    for (ds, v), g in df.groupby(["dataset", "variant"], sort=False):
        g = g.sort_values("seed")
        ok = sum(e <= base.get((ds, s), np.nan) + 2 for s, e in zip(g.seed, g.error))
        lines.append(f"| {ds} | {v} | {g.error.mean():.1f} +- {g.error.std(ddof=1):.1f} | "
                     f"{' '.join(f'{e:.1f}' for e in g.error)} | "
                     f"{'' if v in ('kmeans', 'gmm') else f'{ok}/{len(g)}'} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/dev/toy2d")
    ap.add_argument("--datasets", nargs="+", default=["moons", "circles", "moons_apart"])
    ap.add_argument("--variants", nargs="+", default=["paper", "authors"], choices=sorted(VARIANTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-baselines", action="store_true", help="skip the K-means/GMM rows")
    ap.add_argument("--set", nargs="*", default=[], help="extra Params overrides key=json_value for every variant")
    ap.add_argument("--summarise", action="store_true", help="print the table of --out/sweep.csv and exit")
    args = ap.parse_args(argv)
    if args.summarise:
        print(summarise(Path(args.out) / "sweep.csv"))
        return
    torch.set_num_threads(args.threads)
    extra = {kv.split("=", 1)[0]: json.loads(kv.split("=", 1)[1]) for kv in args.set}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "sweep.csv"
    new = not csv_path.exists()
    with csv_path.open("a", newline="") as f:
        wr = csv.writer(f)
        if new:
            wr.writerow(["dataset", "variant", "seed", "error", "seconds", "curve", "overrides"])
        for ds in args.datasets:
            for seed in args.seeds:
                x, y = make_data(ds)
                for name, err in ({} if args.no_baselines else baselines(x, y, seed)).items():
                    wr.writerow([ds, name, seed, f"{err:.2f}", "", "", ""])
                for v in args.variants:
                    overrides = {**VARIANTS[v], **extra}
                    run_dir = out / "runs" / ds / v / f"seed{seed}"
                    if (run_dir / "checkpoint.pt").exists():  # fresh run each time the sweep is called
                        for p in run_dir.iterdir():
                            p.unlink()
                    err, curve, secs = run_ganem(x, y, seed, overrides, run_dir)
                    wr.writerow([ds, v, seed, f"{err:.2f}", f"{secs:.1f}",
                                 " ".join(f"{e:.1f}" for e in curve), json.dumps(overrides)])
                    f.flush()
                    print(f"{ds:12s} {v:14s} seed {seed}: {err:5.1f}%  ({secs:.0f}s)  curve {[round(e) for e in curve]}",
                          flush=True)


if __name__ == "__main__":
    main()
