"""ms per GAN-EM M-step step and E-step step, the suite's against a bare PyTorch loop (the floor).

For each network family (28x28, 32x32, 64x64 images and the MLP for points) this times

* ``suite``: the trainer's own step (``GANEMTrainer.mstep_step`` / ``estep_step`` plus the NaN
  guard and the loss accumulation the EM loop does per step), and
* ``bare``: a plain loop over the same nets, losses and optimisers (the nets are built by the
  trainer, so architecture and initialisation are identical; noise is drawn on the device, no
  checks, no accumulation): what the step cannot go below,

and the assignment pass w = E(x) (the trainer's ``predict`` against a loop under
``torch.inference_mode``), and reports their ratio, the step's FLOPs (torch.utils.flop_counter), the GFLOP/s achieved, and the
device's measured matmul rate (float32, n x n) beside it.  One row per family x step kind.

    python benchmarks/step_cost.py --out results/dev/step_cost_cpu.csv                 # CPU, 1 thread
    python benchmarks/step_cost.py --device cuda --out step_cost_cuda.csv --set compile=reduce-overhead
    python benchmarks/step_cost.py --families mnist --set channels_last=true --set optimizer_impl=foreach

``--set key=value`` sets a GAN-EM Params field (methods.ganem) for both loops, e.g. the computation
options (compile, precision, channels_last, optimizer_impl) or the batch sizes.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from ganem.methods import make_params
from ganem.model import losses
from ganem.model.method import Params
from ganem.benchmark_cli import assignments, benchmark_arguments, write_rows
from ganem.step_timing import (FAMILY_SHAPES, device_name, ganem_trainer, interleaved_ms, median_ms, suite_steps)

FIELDS = ["device", "device_name", "threads", "family", "step", "batch", "suite_ms", "bare_ms", "ratio",
          "gflop_per_step", "suite_gflops", "matmul_gflops", "options"]


def bare_steps(trainer, x, params, device):
    """(M-step step, E-step step) as a bare loop would write them, over the trainer's nets."""
    G, D, E, k = trainer.fG, trainer.fD, trainer.fE, trainer.k
    opt = {"D": trainer.opt["D"], "G": trainer.opt["G"], "E": trainer.opt["E"]}
    amp = dict(device_type=device.type, dtype=torch.bfloat16, enabled=params.precision == "bf16")
    w = torch.full((params.batch_size, k), 1.0 / k, device=device)
    n = len(x)

    def noise(bs):
        return torch.rand(bs, trainer.noise_dim, device=device)

    def m_step():
        idx = torch.randint(n, (params.batch_size,), device=device)
        z, c = noise(params.batch_size), torch.randint(k, (params.batch_size,), device=device)
        with torch.autocast(**amp):
            with torch.no_grad():
                fake = G(z, c)
            real_logits, fake_logits = D(x[idx]).float(), D(fake).float()
        if params.loss == "authors":
            d_loss = losses.d_loss_authors(real_logits, w, fake_logits)
        else:
            d_loss = losses.d_loss_paper(real_logits, w, fake_logits, c, params.extra_unit_weight, params.fake_units)
        opt["D"].zero_grad(set_to_none=True)
        d_loss.backward()
        opt["D"].step()
        D.requires_grad_(False)
        with torch.autocast(**amp):
            fake_logits = D(G(z, c)).float()
        if params.loss == "authors":
            g_loss = losses.g_loss_authors(fake_logits, c)
        else:
            g_loss = losses.g_loss_paper(fake_logits, c, params.extra_unit_weight, params.g_logit_clamp)
        opt["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        D.requires_grad_(True)
        opt["G"].step()

    phi = torch.full((k,), 1.0 / k, device=device)

    def e_step():
        z = noise(params.e_batch_size)
        c = (torch.multinomial(phi, params.e_batch_size, replacement=True) if params.estep_labels == "phi"
             else torch.randint(k, (params.e_batch_size,), device=device))
        with torch.autocast(**amp):
            with torch.no_grad():
                fake = G(z, c)
            logits = E(fake).float()
        loss = losses.e_loss(logits, c)
        opt["E"].zero_grad(set_to_none=True)
        loss.backward()
        opt["E"].step()

    @torch.inference_mode()
    def assign():
        E.eval()
        for i in range(0, n, params.assign_batch_size):
            torch.softmax(E(x[i:i + params.assign_batch_size]), dim=1)

    return m_step, e_step, assign


def flops(fn) -> float:
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops()


def matmul_gflops(device: torch.device, n: int, repeats: int) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    ms = median_ms(lambda: a @ b, device, steps=3 if device.type == "cpu" else 50, repeats=repeats)
    return 2 * n ** 3 / (ms / 1000) / 1e9


def main(argv=None) -> int:
    ap = benchmark_arguments(__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="+", default=list(FAMILY_SHAPES), choices=list(FAMILY_SHAPES))
    ap.add_argument("--kinds", nargs="+", default=["mstep", "estep", "assign"], choices=["mstep", "estep", "assign"],
                    help="which steps to time (64x64 E-steps take tens of seconds each on a CPU core)")
    ap.add_argument("--steps", type=int, default=3, help="steps per timed repeat")
    ap.add_argument("--matmul-n", type=int, default=1024)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="a GAN-EM Params value for both loops (repeatable)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    params = make_params(Params, assignments(args.overrides), "--set")
    rate = matmul_gflops(device, args.matmul_n, args.repeats)
    rows = []
    for family in args.families:
        with tempfile.TemporaryDirectory() as tmp:
            trainer, x, w, phi_draw, gen = ganem_trainer(family, device, params, args.k, Path(tmp))
            suite_m, suite_e, finish = suite_steps(trainer, x, w, phi_draw, gen)
            bare_m, bare_e, bare_assign = bare_steps(trainer, x, params, device)
            for step, suite, bare, batch in (("mstep", suite_m, bare_m, params.batch_size),
                                             ("estep", suite_e, bare_e, params.e_batch_size),
                                             ("assign", lambda: trainer.predict(x), bare_assign, len(x))):
                if step not in args.kinds:
                    continue
                steps = 1 if step == "assign" else args.steps  # one pass over the images
                ms = interleaved_ms({"suite": suite, "bare": bare}, device, steps, args.repeats, warmup=1)
                gflop = flops(bare) / 1e9
                rows.append({"device": device.type, "device_name": device_name(device), "threads": args.threads,
                             "family": family, "step": step, "batch": batch, "suite_ms": round(ms["suite"], 3),
                             "bare_ms": round(ms["bare"], 3), "ratio": round(ms["suite"] / ms["bare"], 3),
                             "gflop_per_step": round(gflop, 3),
                             "suite_gflops": round(gflop / (ms["suite"] / 1000), 2),
                             "matmul_gflops": round(rate, 1), "options": " ".join(args.overrides)})
                print(",".join(str(rows[-1][f]) for f in FIELDS), file=sys.stderr, flush=True)
            finish()
    write_rows(args.out, FIELDS, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
