"""Stand-alone GANMM run on one dataset split, beside K-means on the same images (dev experiments;
the suite's DAG uses ``python -m ganem run`` instead).

    python -m baselines.ganmm.experiment --dataset mnist5k --seed 0 --k 10 \
        --run-dir results/dev/ganmm_mnist5k_seed0 --set iterations=40 --set pretrain_iterations=10

Writes into --run-dir what the method writes (iterations.jsonl, samples.png, checkpoint.pt) plus
metrics.json: GANMM's error / NMI / ARI (ganem.metrics.score), K-means' on the same images, the
parameters, seconds, threads and versions.  Started again on the same folder, it resumes.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from ganem.config import parse_value
from ganem.io import atomic_write_json
from ganem.methods import RunContext, make_params


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="mnist5k")
    ap.add_argument("--split", default="all")
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a GANMM Param (value parsed as YAML), e.g. --set iterations=40")
    ap.add_argument("--no-kmeans", action="store_true")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    from baselines.ganmm.method import GANMM, Params
    from ganem.data import load
    from ganem.metrics import score

    values = {}
    for item in args.set:
        key, sep, raw = item.partition("=")
        if not sep:
            ap.error(f"--set {item!r}: expected KEY=VALUE")
        values[key] = parse_value(raw)
    params = make_params(Params, values, "methods.ganmm")

    data = load(args.dataset, args.split, args.data_dir)
    run_dir = Path(args.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(k=args.k, seed=args.seed, run_dir=run_dir, device=torch.device(args.device),
                     progress=not args.no_progress, monitor_labels=data.y)
    t0, c0 = time.time(), time.process_time()
    method = GANMM(params, ctx)
    method.fit(data.x)
    assignment = method.assign(data.x)
    seconds, cpu_seconds = time.time() - t0, time.process_time() - c0
    result = score(data.y, assignment.labels, args.k, data.n_classes)
    result["cluster_sizes"] = np.bincount(assignment.labels, minlength=args.k).tolist()

    metrics = {
        "method": "ganmm", "dataset": args.dataset, "split": args.split, "k": args.k, "seed": args.seed,
        "ganmm": result, "params": params.to_dict(),
        "fraction_of_original_iterations": params.iterations / 200_000,
        "seconds_this_session": round(seconds, 1),
        "cpu_seconds_this_session": round(cpu_seconds, 1),  # process CPU time (robust on a shared machine)
        "seconds_training_total": (json.loads((run_dir / "iterations.jsonl").read_text().splitlines()[-1])["seconds"]
                                   if (run_dir / "iterations.jsonl").exists() else None),
        "device": args.device, "threads": args.threads,
        "versions": {"torch": torch.__version__, "python": platform.python_version(), "numpy": np.__version__},
        "extras": assignment.extras,
    }
    if not args.no_kmeans:
        from sklearn.cluster import KMeans

        flat = data.x.reshape(len(data.x), -1).numpy()
        km = KMeans(n_clusters=args.k, n_init=10, random_state=args.seed).fit(flat)
        metrics["kmeans"] = score(data.y, km.labels_.astype(np.int64), args.k, data.n_classes)
    atomic_write_json(run_dir / "metrics.json", metrics)
    print(json.dumps({"ganmm_error": result["error"], "kmeans_error": metrics.get("kmeans", {}).get("error")}))
    return metrics


if __name__ == "__main__":
    main()
