"""GANMM's p(.|x) refresh: ms per main-loop iteration with proba_refresh=lazy against full.

After every classifier update GANMM needs p(i|x) for the images its epsilon-mixed critic batches
read.  ``full`` recomputes all n images (a cost that grows with n), ``lazy`` only the images the
stream reads in that iteration (the same numbers, up to float rounding).  This times the trainer's
own ``main_iteration`` (the original's networks and settings, late-training num_chose) for both,
their repeats interleaved, on random images of a family's shape.

    python benchmarks/ganmm_refresh.py --family celeba --k 2 --n 4000 --out results/dev/ganmm_refresh.csv
    python benchmarks/ganmm_refresh.py --family mnist --k 10 --n 50000 --device cuda --out ganmm_refresh_cuda.csv
"""
from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path

import torch

from baselines.ganmm.method import Params
from baselines.ganmm.train import GANMMTrainer
from ganem.methods import RunContext
from ganem.benchmark_cli import benchmark_arguments, write_rows
from ganem.step_timing import FAMILY_SHAPES, device_name, interleaved_ms, random_images

FIELDS = ["device", "device_name", "threads", "family", "k", "n", "lazy_ms", "full_ms", "full_over_lazy",
          "images_read_per_iteration"]


def main(argv=None) -> int:
    ap = benchmark_arguments(__doc__.splitlines()[0])
    ap.add_argument("--family", default="celeba", choices=[f for f in FAMILY_SHAPES if f != "mlp"])
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--n", type=int, default=4000, help="images (full's cost grows with it)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    x = random_images(args.family, args.n)
    trainers, fns = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("lazy", "full"):
            ctx = RunContext(k=args.k, seed=0, run_dir=Path(tmp) / mode, device=device, progress=False)
            trainer = GANMMTrainer(dataclasses.replace(Params(), proba_refresh=mode), ctx)
            xd = trainer.setup(x)
            late = trainer.p.num_chose_schedule[-1][0]
            counter = iter(range(late, late + 10**9))
            trainers[mode] = trainer
            fns[mode] = (lambda t=trainer, xd=xd, c=counter: t.main_iteration(xd, next(c)))
        ms = interleaved_ms(fns, device, steps=1, repeats=args.repeats, warmup=1)
    lazy = trainers["lazy"]
    read = lazy.window["drawn"] / max(lazy.window["critic_batches"], 1) * lazy.p.critic_iters * args.k
    row = {"device": device.type, "device_name": device_name(device), "threads": args.threads,
           "family": args.family, "k": args.k, "n": args.n, "lazy_ms": round(ms["lazy"], 1),
           "full_ms": round(ms["full"], 1), "full_over_lazy": round(ms["full"] / ms["lazy"], 2),
           "images_read_per_iteration": round(read)}
    print(",".join(str(row[k]) for k in FIELDS))
    write_rows(args.out, FIELDS, [row])
    return 0


if __name__ == "__main__":
    sys.exit(main())
