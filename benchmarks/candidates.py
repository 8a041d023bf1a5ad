"""Each speed option of GAN-EM against the default, timed in one process with interleaved repeats.

A candidate is one or more GAN-EM Params values (``channels_last=true``, ``optimizer_impl=foreach``,
``compile=default`` ...).  For each, two trainers are built on the same family (the default and the
candidate; ``--base`` values apply to both) and their suite steps (``ganem.step_timing.suite_steps``:
the step the EM loop runs) are timed in turn, A B A B ..., so that load from other jobs falls on both
alike.  The ratio candidate / default is the option's effect; below 1 is faster.

    python benchmarks/candidates.py --out results/dev/candidates_cpu.csv
    python benchmarks/candidates.py --candidate optimizer_impl=fused --base optimizer=adam --out fused.csv
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

from ganem.methods import make_params
from ganem.model.method import Params
from ganem.benchmark_cli import assignments, benchmark_arguments, write_rows
from ganem.step_timing import FAMILY_SHAPES, device_name, ganem_trainer, interleaved_ms, suite_steps

DEFAULT_CANDIDATES = ["channels_last=true", "optimizer_impl=foreach", "compile=default"]
FIELDS = ["device", "device_name", "threads", "family", "candidate", "base", "step", "default_ms", "candidate_ms",
          "ratio", "repeats"]


def main(argv=None) -> int:
    ap = benchmark_arguments(__doc__.splitlines()[0], repeats=5)
    ap.add_argument("--family", default="mnist", choices=list(FAMILY_SHAPES))
    ap.add_argument("--candidate", action="append", default=None, metavar="KEY=VALUE[,KEY=VALUE]",
                    help=f"a candidate (repeatable; default: {' '.join(DEFAULT_CANDIDATES)})")
    ap.add_argument("--base", action="append", default=[], metavar="KEY=VALUE", help="values for both trainers")
    ap.add_argument("--steps", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    base = assignments(args.base)
    rows = []
    for candidate in args.candidate or DEFAULT_CANDIDATES:
        option = assignments(candidate.split(","))
        with tempfile.TemporaryDirectory() as tmp:
            steps = {}
            for name, values in (("default", base), ("candidate", {**base, **option})):
                params = make_params(Params, values, name)
                trainer, x, w, phi_draw, gen = ganem_trainer(args.family, device, params, 10, Path(tmp) / name)
                steps[name] = suite_steps(trainer, x, w, phi_draw, gen)
            for i, step in enumerate(("mstep", "estep")):
                ms = interleaved_ms({name: fns[i] for name, fns in steps.items()}, device, args.steps, args.repeats)
                rows.append({"device": device.type, "device_name": device_name(device), "threads": args.threads,
                             "family": args.family, "candidate": candidate, "base": " ".join(args.base),
                             "step": step, "default_ms": round(ms["default"], 2),
                             "candidate_ms": round(ms["candidate"], 2),
                             "ratio": round(ms["candidate"] / ms["default"], 3), "repeats": args.repeats})
                print(",".join(str(rows[-1][f]) for f in FIELDS), file=sys.stderr, flush=True)
            for fns in steps.values():
                fns[2]()
    write_rows(args.out, FIELDS, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
