"""Seconds per training iteration of GANMM (K GANs) and of GAN-EM (one conditional GAN) as K grows.

The paper (Sec. 4.3) argues that K GANs cost grows with K while one conditional GAN's does not.
This script measures, on the same images and device:

* ``ganmm``: one main-loop iteration of GANMM over all K GANs (the classifier's E-step: K steps,
  then per GAN one G step + critic_iters critic steps on epsilon-mixed batches), with the original
  architecture and settings (batch 50, 5 critic steps), at the late-training num_chose (iteration
  ``--ganmm-iteration``, default 2000: num_chose = 48, the value of 99% of the original 200,000).
* ``ganmm_batched``: the same with ``batched=True`` (the K GANs as stacked parameters, one vmapped
  call per step; same algorithm and random numbers).
* ``ganem_mstep``: one M-step step of GAN-EM (one D step on a real batch + one G step; Params
  defaults: batch 64), the unit GAN-EM repeats p epochs x N / batch times per EM iteration.

The two "iterations" are different units of work: the CSV also gives the real images each one
consumes and the trainable parameter count, so per-image costs can be compared.

    python benchmarks/cost_per_iteration.py --out results/dev/cost_per_iteration.csv
    python benchmarks/cost_per_iteration.py --device cuda --n-repeats 20

Columns: method, K, seconds_per_iteration (wall, mean over n_repeats after warm-up), device,
n_repeats, cpu_seconds_per_iteration (process CPU time; robust on a shared machine),
real_images_per_iteration, n_parameters, threads, data.
"""
from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import torch

FIELDS = ["method", "K", "seconds_per_iteration", "device", "n_repeats", "cpu_seconds_per_iteration",
          "real_images_per_iteration", "n_parameters", "threads", "data"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, n_warmup: int, n_repeats: int, device: torch.device) -> tuple[float, float]:
    for _ in range(n_warmup):
        fn()
    _sync(device)
    wall = cpu = 0.0
    for _ in range(n_repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        _sync(device)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
    return wall / n_repeats, cpu / n_repeats


def load_images(data: str, n: int, seed: int) -> torch.Tensor:
    if data == "random":
        return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    from ganem.data import load

    return load(data, "all", "data").x[:n]


def measure_ganmm(x: torch.Tensor, k: int, device: torch.device, n_warmup: int, n_repeats: int,
                  iteration: int, **params) -> dict:
    from baselines.ganmm.method import Params
    from baselines.ganmm.train import GANMMTrainer
    from ganem.methods import RunContext

    p = Params(pretrain_iterations=0, **params)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = RunContext(k=k, seed=0, run_dir=Path(tmp), device=device, progress=False)
        trainer = GANMMTrainer(p, ctx)
        xd = trainer.setup(x)
        counter = [iteration]

        def step():
            trainer.main_iteration(xd, counter[0])
            counter[0] += 1

        wall, cpu = _timed(step, n_warmup, n_repeats, device)
    n_params = trainer.n_parameters()
    return {"seconds_per_iteration": wall, "cpu_seconds_per_iteration": cpu,
            "real_images_per_iteration": k * p.critic_iters * p.batch_size, "n_parameters": n_params}


def measure_ganem_mstep(x: torch.Tensor, k: int, device: torch.device, n_warmup: int, n_repeats: int) -> dict:
    """GAN-EM's M-step step: one D step + one G step (ganem.model, Params defaults).

    Uses GANEMTrainer's internals (_build, _make_optimizers, noise, classes, _d_step, _g_step) as
    of this writing; if ganem.model changes them, this is the one function to update.
    """
    from ganem.methods import RunContext
    from ganem.model.em import GANEMTrainer
    from ganem.model.method import Params

    p = Params()
    with tempfile.TemporaryDirectory() as tmp:
        ctx = RunContext(k=k, seed=0, run_dir=Path(tmp), device=device, progress=False)
        trainer = GANEMTrainer(p, ctx)
        gen = torch.Generator().manual_seed(0)
        xd = x.to(device)
        trainer._build(xd)
        trainer._make_optimizers(0)
        trainer.G.train(), trainer.D.train()
        n = len(xd)
        w = torch.full((n, k), 1.0 / k, device=device)
        phi = w.mean(0)

        def step():
            idx = torch.randint(n, (p.batch_size,), generator=gen).to(device)
            z = trainer.noise(p.batch_size, gen)
            c = trainer.classes(p.batch_size, p.mstep_labels, phi, gen)
            trainer._d_step(xd[idx], w[idx], z, c)
            trainer._g_step(z, c)

        wall, cpu = _timed(step, n_warmup, n_repeats, device)
    n_params = sum(q.numel() for net in (trainer.G, trainer.D, trainer.E) for q in net.parameters())
    return {"seconds_per_iteration": wall, "cpu_seconds_per_iteration": cpu,
            "real_images_per_iteration": p.batch_size, "n_parameters": n_params}


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/dev/cost_per_iteration.csv")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--ks", default="10,20,30")
    ap.add_argument("--data", default="mnist5k", help="a dataset name for ganem.data.load, or 'random'")
    ap.add_argument("--n", type=int, default=5000, help="number of images (the first n)")
    ap.add_argument("--n-repeats", type=int, default=None,
                    help="timed iterations per (method, K); default 2 on CPU, 20 on CUDA (GAN-EM: x10)")
    ap.add_argument("--n-warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ganmm-iteration", type=int, default=2000,
                    help="main-loop iteration number the GANMM timing starts at (sets num_chose)")
    ap.add_argument("--methods", default="ganmm,ganmm_batched,ganem_mstep")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    reps = args.n_repeats or (20 if device.type == "cuda" else 2)
    x = load_images(args.data, args.n, 0)
    rows = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for k in [int(v) for v in args.ks.split(",")]:
        for method in args.methods.split(","):
            if method in ("ganmm", "ganmm_batched"):
                res = measure_ganmm(x, k, device, args.n_warmup, reps, args.ganmm_iteration,
                                    batched=method == "ganmm_batched")
                n_rep = reps
            elif method == "ganem_mstep":
                n_rep = reps * 10
                try:
                    res = measure_ganem_mstep(x, k, device, 3, n_rep)
                except (ImportError, AttributeError, TypeError) as err:  # ganem.model API changed
                    print(f"[cost] GAN-EM not measured: {err!r}; update measure_ganem_mstep()", flush=True)
                    continue
            else:
                ap.error(f"unknown method {method!r}")
            row = {"method": method, "K": k, "device": str(device), "n_repeats": n_rep,
                   "threads": args.threads, "data": f"{args.data}[:{len(x)}]", **res}
            row["seconds_per_iteration"] = round(row["seconds_per_iteration"], 4)
            row["cpu_seconds_per_iteration"] = round(row["cpu_seconds_per_iteration"], 4)
            rows.append(row)
            print({key: row[key] for key in FIELDS}, flush=True)
            with out.open("w", newline="") as f:  # rewritten after every row: partial results survive
                writer = csv.DictWriter(f, fieldnames=FIELDS)
                writer.writeheader()
                writer.writerows(rows)
    return rows


if __name__ == "__main__":
    main()
