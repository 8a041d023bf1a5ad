"""GAN-EM (MLP nets) against K-means and GMM on 2-D mixtures: the paper's central claim, small.

Datasets (K=2, n points, standardised to zero mean / unit variance per coordinate):
  moons        sklearn make_moons(noise=0.08)
  circles      sklearn make_circles(factor=0.5, noise=0.05)
  moons_apart  the same moons with the two halves pulled apart (upper moon shifted by (-1, +1))

Every (dataset, variant, seed) gets its own run folder (iterations.jsonl, samples.png, ...) and
one CSV row: dataset, variant, seed, error (Hungarian, %), plus the per-iteration errors.  The
true labels are used for scoring only (RunContext.monitor_labels).

    python benchmarks/toy2d_sweep.py --out results/dev/toy2d --seeds 0 1 2 3 4 \
        --variants default spectral clip0.05 estep_strong noise8
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

# The MLP settings proposed as the suite's default for toy data (quick.yaml snippet in docs/ganem.md).
TOY_BASE = dict(
    em_iterations=10, p_epochs=5, q_steps=200, batch_size=64, e_batch_size=256,
    mlp_hidden=128, mlp_depth=2, noise_dim=2, noise="normal",
)

VARIANTS: dict[str, dict] = {
    "default": {},  # the paper's losses/optimiser (RMSprop 2e-4) on the toy budget
    "authors": dict(loss="authors", optimizer="adam", lr_d=2e-4, lr_g=6e-4, lr_e=6e-5,
                    mstep_labels="balanced", estep_labels="balanced"),
    "spectral": dict(lipschitz="spectral"),
    "clip0.05": dict(lipschitz="clip", clip_value=0.05),
    "clip0.1": dict(lipschitz="clip", clip_value=0.1),
    "clip0.01": dict(lipschitz="clip", clip_value=0.01),
    "estep_weak": dict(q_steps=20),
    "estep_strong": dict(q_steps=1000),
    "noise1": dict(noise_dim=1),
    "noise8": dict(noise_dim=8),
    "normal": dict(noise="normal"),
    "own_units": dict(fake_units="own"),
    "no_extra": dict(extra_unit_weight=0.0),
    "balanced": dict(mstep_labels="balanced", estep_labels="balanced"),
    "adam": dict(optimizer="adam"),
    "long": dict(em_iterations=30),
}


def make_data(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_circles, make_moons

    if name == "moons":
        x, y = make_moons(n_samples=n, noise=0.08, random_state=seed)
    elif name == "circles":
        x, y = make_circles(n_samples=n, factor=0.5, noise=0.05, random_state=seed)
    elif name == "moons_apart":
        x, y = make_moons(n_samples=n, noise=0.08, random_state=seed)
        x = x + np.where(y[:, None] == 0, np.array([[-1.0, 1.0]]), 0.0)
    else:
        raise ValueError(f"unknown toy dataset {name!r}")
    x = (x - x.mean(0)) / x.std(0)
    return x.astype(np.float32), y.astype(np.int64)


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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/dev/toy2d")
    ap.add_argument("--datasets", nargs="+", default=["moons", "circles", "moons_apart"])
    ap.add_argument("--variants", nargs="+", default=["default"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", nargs="*", default=[], help="extra Params overrides key=json_value for every variant")
    args = ap.parse_args(argv)
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
                x, y = make_data(ds, args.n, seed)
                for name, err in baselines(x, y, seed).items():
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
