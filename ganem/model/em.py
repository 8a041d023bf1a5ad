"""Algorithm 1 of the paper (GAN-EM), with checkpoint/resume, NaN guard and the per-iteration log.

    w <- 1/K
    for iteration = 1..n:
        phi_i <- N_i / N = sum_x w_i(x) / N                      (M-step, prior)
        p epochs over the real data, per real batch:            (M-step, GAN)
            one D step on L_D (real batch weighted by its w, fake batch), then one G step on L_G
        q steps on fresh fakes G(z, c), c ~ phi: min L_E        (E-step)
        [semi-supervised: train E on the labelled images until error <= epsilon]
        w <- softmax(E(x_real))
    predict: w = E(x_real)

All sampling (batch order, noise, fake classes) draws from one torch.Generator seeded with the
run's seed; its state and every other RNG state go into checkpoint.pt after each EM iteration, so
a killed run that restarts from the checkpoint ends bit-identical to an uninterrupted one.
Monitoring (E-net accuracy on fresh fakes, the sample grid) uses separate generators so that it
never changes the training.
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from ganem.io import atomic_path, atomic_save_npy
from ganem.methods.base import Assignment, Labelled, RunContext
from ganem.model import losses
from ganem.model.diagnostics import CollapseGuard, d_outputs, g_input_gradients
from ganem.model.legacy_adam import LegacyAdam
from ganem.model.nets import ConvClassifier, Generator, apply_spectral_norm, clip_weights, image_family
from ganem.model.params import COMPUTATION_KEYS, Params
from ganem.trainer_support import (Checkpointer, FiniteGuard, IterationLog, enable_determinism, progress,
                                   resolve_output, rng_state, save_sample_grid, seed_everything, set_rng_state)

CHECKPOINT_VERSION = 1


def mstep_steps(params: Params, n: int) -> int:
    """G+D steps of one M-step on n real images: mstep_batches, else p_epochs whole batches."""
    if params.mstep_batches is not None:
        return params.mstep_batches
    return params.p_epochs * max(n // params.batch_size, 1)


def lazy_w(params: Params, n: int) -> bool:
    """Whether the M-step computes w = E(x) per real batch instead of one pass over all n images.

    E is fixed, in eval mode, from the end of one EM iteration's E-step to the next M-step's end, so
    the per-batch value equals the all-image pass's (to the kernels' float rounding) and the training's
    random draws are untouched.  auto takes the lazy path only where it reads fewer images (the M-step's
    batches plus the monitoring subsample, against n) and nothing in the training reads w on every image:
    phi = sum(w)/N (Algorithm 1's prior) is drawn from when either label rule is ``phi``, and the collapse
    stop and stop_changed_below act on every image's assignment; those keep the full pass.
    """
    if params.w_pass != "auto":
        return params.w_pass == "lazy"
    needs_all = "phi" in (params.mstep_labels, params.estep_labels) or params.stop_on_collapse \
        or params.stop_changed_below is not None
    read = mstep_steps(params, n) * params.batch_size + min(params.monitor_images, n)
    return not needs_all and read < n


def resolve_noise_dim(params: Params, shape: tuple[int, ...], k: int) -> int:
    if params.noise_dim is not None:
        return params.noise_dim
    family = image_family(shape)
    return {"mnist": 62, "svhn": 62, "celeba": max(300 - k, 1), "mlp": 2}[family]


class GANEMTrainer:
    def __init__(self, params: Params, ctx: RunContext):
        self.p, self.ctx = params, ctx
        self.k = ctx.k
        self.device = torch.device(ctx.device)
        self.run_dir = Path(ctx.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log = IterationLog(self.run_dir / "iterations.jsonl")
        self.ckpt = Checkpointer(self.run_dir)
        self.G: Generator | None = None
        self.semi_cap_hits = 0
        self.iterations_done = 0
        self.stopped_early = False
        self.guard = CollapseGuard(self.k, params.collapse_patience)
        # fit seconds of the earlier processes this run resumed from (their checkpoint's fit_seconds;
        # NaN for a checkpoint written before it recorded them), so a run's seconds count all its training;
        # fit_steps starts this process's clock (fit_start)
        self.resumed_seconds = 0.0

    # ------------------------------------------------------------------ setup
    def _build(self, x: torch.Tensor) -> None:
        p, k = self.p, self.k
        self.shape = tuple(x.shape[1:])
        self.output = resolve_output(p.output, x, "methods.ganem.output")
        self.value_range = (-1.0, 1.0) if self.output == "tanh" else (0.0, 1.0)
        self.noise_dim = resolve_noise_dim(p, self.shape, k)
        init = p.init if p.init != "auto" else ("pytorch" if len(self.shape) == 1 else "dcgan")
        mlp = dict(mlp_hidden=p.mlp_hidden, mlp_depth=p.mlp_depth, init=init, bn_weight_init=p.bn_weight_init)
        self.G = Generator(self.shape, k, self.noise_dim, self.output, arch=p.arch, **mlp).to(self.device)
        self.D = ConvClassifier(self.shape, k + 1, **mlp).to(self.device)
        self.E = ConvClassifier(self.shape, k, bottleneck=p.bottleneck, **mlp).to(self.device)
        if p.lipschitz == "spectral":
            apply_spectral_norm(self.G)
            self.G.to(self.device)
        elif p.lipschitz == "clip":
            clip_weights(self.G, p.clip_value)
        if p.channels_last and len(self.shape) == 3:
            for net in (self.G, self.D, self.E):
                net.to(memory_format=torch.channels_last)
        # the callables the training steps use: the nets themselves, or torch.compile'd views of them
        # (same parameters; state_dict, eval/train and the monitoring keep using the plain modules)
        if p.compile == "none":
            self.fG, self.fD, self.fE = self.G, self.D, self.E
        else:
            mode = None if p.compile == "default" else p.compile
            enable_determinism(compiling=True)  # TorchInductor's own flag too (seed_everything sets only ATen's)
            self.fG, self.fD, self.fE = (torch.compile(net, mode=mode) for net in (self.G, self.D, self.E))
        self.opt: dict[str, torch.optim.Optimizer] = {}

    def _forward(self, net, *inputs) -> torch.Tensor:
        """One forward pass of a training step, under bf16 autocast when precision=bf16; the
        output comes back as float32 so every loss is computed in float32."""
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.p.precision == "bf16"):
            out = net(*inputs)
        return out.float()

    def _make_optimizers(self, iteration: int) -> None:
        p = self.p
        decay = p.lr_decay ** iteration
        # auto: fused Adam (measured 10-12 % faster per step on a CPU core, docs/performance.md),
        # PyTorch's own choice for RMSprop (it has no fused kernel)
        auto = {"fused": True} if p.optimizer == "adam" else {}
        impl = {"auto": auto, "single": {"foreach": False}, "foreach": {"foreach": True},
                "fused": {"fused": True}}[p.optimizer_impl]
        for name, net, lr in (("D", self.D, p.lr_d), ("G", self.G, p.lr_g), ("E", self.E, p.lr_e)):
            if name in self.opt and not p.reset_optimizers:
                for group in self.opt[name].param_groups:
                    group["lr"] = lr * decay
                continue
            if p.optimizer == "adam":
                adam = LegacyAdam if p.adam_eps == "legacy" else torch.optim.Adam  # PyTorch 0.4/1.0's or today's
                self.opt[name] = adam(net.parameters(), lr=lr * decay, betas=p.adam_betas, **impl)
            else:
                self.opt[name] = torch.optim.RMSprop(net.parameters(), lr=lr * decay, alpha=p.rmsprop_alpha,
                                                     **impl)

    # ------------------------------------------------------------------ sampling
    def noise(self, n: int, gen: torch.Generator) -> torch.Tensor:
        if self.p.noise == "normal":
            z = torch.randn(n, self.noise_dim, generator=gen)
        else:
            z = torch.rand(n, self.noise_dim, generator=gen)
            if self.p.noise == "uniform11":
                z = 2 * z - 1
        return self._to_device(z)

    def _to_device(self, t: torch.Tensor) -> torch.Tensor:
        """A CPU draw onto the device without a host sync: a plain host-to-GPU copy from pageable
        memory waits for the GPU; from pinned memory (PyTorch's caching host allocator) with
        non_blocking it is queued.  The draws stay on the CPU generator, so every device sees the
        same random numbers."""
        if self.device.type != "cuda":
            return t.to(self.device)
        return t.pin_memory().to(self.device, non_blocking=True)

    def classes(self, n: int, how: str, phi: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Classes of n fakes; ``phi`` is the CPU float64 prior (``_draw_prior``: one copy per iteration)."""
        if how == "uniform":
            c = torch.randint(self.k, (n,), generator=gen)
        elif how == "phi":
            c = torch.multinomial(phi, n, replacement=True, generator=gen)
        else:  # balanced: n // K per class, the remainder to the first classes (code: 70 = 7 x 10)
            c = torch.arange(n) % self.k
        return self._to_device(c)

    @staticmethod
    def _draw_prior(phi: torch.Tensor) -> torch.Tensor:
        """phi as the CPU float64 tensor torch.multinomial draws from: read back once per EM
        iteration, not once per step (a device-to-host copy waits for the GPU)."""
        return phi.detach().cpu().double()

    # ------------------------------------------------------------------ steps
    def mstep_step(self, x: torch.Tensor, w: torch.Tensor | None, idx: torch.Tensor, phi_draw: torch.Tensor,
                   gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """One M-step step on the real batch x[idx]: one D step (Eq. 2), then one G step (Eq. 1) on
        the D step's noise and classes (g_step_noise=reuse) or on a draw of its own, taken right
        after the D step (fresh, as the authors' code does).  w None: the lazy w, E(x[idx]) now
        (``lazy_w``).  Returns the two losses as device tensors (no host sync)."""
        bs = len(idx)
        z = self.noise(bs, gen)
        c = self.classes(bs, self.p.mstep_labels, phi_draw, gen)
        w_real = self.predict(x[idx])[0] if w is None else w[idx]
        d_loss = self._d_step(x[idx], w_real, z, c)
        if self.p.g_step_noise == "fresh":
            z = self.noise(bs, gen)
            c = self.classes(bs, self.p.mstep_labels, phi_draw, gen)
        return d_loss, self._g_step(z, c)

    def estep_step(self, phi_draw: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """One E-step step on e_batch_size fresh fakes G(z, c), c drawn by estep_labels."""
        z = self.noise(self.p.e_batch_size, gen)
        c = self.classes(self.p.e_batch_size, self.p.estep_labels, phi_draw, gen)
        return self._e_step(z, c)

    def _d_step(self, x_real, w_real, z, c) -> torch.Tensor:
        with torch.no_grad():
            fake = self._forward(self.fG, z, c)
        real_logits, fake_logits = self._forward(self.fD, x_real), self._forward(self.fD, fake)
        if self.p.loss == "authors":
            loss = losses.d_loss_authors(real_logits, w_real, fake_logits)
        else:
            loss = losses.d_loss_paper(real_logits, w_real, fake_logits, c, self.p.extra_unit_weight,
                                       self.p.fake_units)
        self.opt["D"].zero_grad(set_to_none=True)
        loss.backward()
        self.opt["D"].step()
        return loss.detach()

    def _g_loss(self, fake_logits, c) -> torch.Tensor:
        if self.p.loss == "authors":
            return losses.g_loss_authors(fake_logits, c)
        return losses.g_loss_paper(fake_logits, c, self.p.extra_unit_weight, self.p.g_logit_clamp)  # Eq. 1

    def _g_step(self, z, c) -> torch.Tensor:
        self.D.requires_grad_(False)  # D's weight gradients are not needed for G's step (speed)
        loss = self._g_loss(self._forward(lambda z_, c_: self.fD(self.fG(z_, c_)), z, c), c)
        self.opt["G"].zero_grad(set_to_none=True)
        loss.backward()
        self.D.requires_grad_(True)
        self.opt["G"].step()
        if self.p.lipschitz == "clip":
            clip_weights(self.G, self.p.clip_value)
        return loss.detach()

    def e_train_mode(self) -> None:
        self.E.train(not self.p.enet_eval_quirk)

    def _e_step(self, z, c) -> torch.Tensor:
        with torch.no_grad():
            fake = self._forward(self.fG, z, c)
        loss = losses.e_loss(self._forward(self.fE, fake), c)
        self.opt["E"].zero_grad(set_to_none=True)
        loss.backward()
        self.opt["E"].step()
        return loss.detach()

    @torch.no_grad()
    def predict(self, x: torch.Tensor, features: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Softmax of the E-net (eval mode) over x in batches; optionally the bottleneck features."""
        self.E.eval()
        probs, feats = [], []
        for i in range(0, len(x), self.p.assign_batch_size):
            xb = x[i:i + self.p.assign_batch_size].to(self.device)
            h = self.E.features(xb)
            probs.append(torch.softmax(self.E.head(h), dim=1))
            if features:
                feats.append(h.flatten(1).cpu())
        proba = torch.cat(probs) if probs else torch.zeros(0, self.k, device=self.device)
        return proba, (torch.cat(feats) if features and feats else None)

    def _labelled_error(self, xl: torch.Tensor, yl: torch.Tensor) -> float:
        proba, _ = self.predict(xl)
        return float((proba.argmax(1) != yl).float().mean())

    def _train_labelled(self, xl, yl, gen, iteration) -> dict[str, Any]:
        """Sec. 5.3 / App. B.1: train E on the labelled real images until its error on them is
        <= semi_epsilon, at most semi_max_steps steps (the cap is logged when hit)."""
        p = self.p
        steps = 0
        guard = FiniteGuard(iteration, p.finite_check_every)  # read back once per window, not per step
        loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        err = self._labelled_error(xl, yl)
        while err > p.semi_epsilon and steps < p.semi_max_steps:
            self.e_train_mode()
            perm = torch.randperm(len(xl), generator=gen).to(self.device)
            for i in range(0, len(xl), p.semi_batch_size):
                idx = perm[i:i + p.semi_batch_size]
                if len(idx) < 2 and len(xl) >= 2:  # BatchNorm needs 2 samples; skip a last singleton
                    continue
                loss = losses.e_loss(self.E(xl[idx]), yl[idx])
                self.opt["E"].zero_grad(set_to_none=True)
                loss.backward()
                self.opt["E"].step()
                guard.add(steps, {"semi": loss.detach()})
                loss_sum += loss.detach()
                steps += 1
                if steps >= p.semi_max_steps:
                    break
            guard.check()  # before the error on the labelled images: a NaN loss is named first
            err = self._labelled_error(xl, yl)
        cap_hit = err > p.semi_epsilon
        if cap_hit:
            self.semi_cap_hits += 1
            print(f"[ganem] iteration {iteration}: labelled training stopped at semi_max_steps="
                  f"{p.semi_max_steps} with error {err:.4f} > semi_epsilon={p.semi_epsilon}", flush=True)
        return {"semi_steps": steps, "semi_error": err, "semi_cap_hit": cap_hit,
                "semi_loss": float(loss_sum) / steps if steps else None}

    # ------------------------------------------------------------------ checkpoint
    def _state(self, iteration: int, w, prev_labels, gen, finished: bool) -> dict[str, Any]:
        return {
            "version": CHECKPOINT_VERSION, "iteration": iteration, "finished": finished,
            "params": self.p.to_dict(), "n": self.n, "shape": self.shape, "k": self.k,
            "G": self.G.state_dict(), "D": self.D.state_dict(), "E": self.E.state_dict(),
            "w": None if w is None else w.detach().cpu(),
            "prev_labels": None if prev_labels is None else prev_labels.cpu(),
            "rng": rng_state(gen), "semi_cap_hits": self.semi_cap_hits,
            "stopped_early": self.stopped_early, "guard": self.guard.state_dict(),
            "fit_seconds": self.resumed_seconds + time.perf_counter() - self.fit_start,
            # optimiser states only where a resume reads them: under reset_optimizers the next EM
            # iteration re-creates the optimisers (they would triple a CelebA checkpoint for nothing)
            **({} if self.p.reset_optimizers else {"opt": {name: o.state_dict() for name, o in self.opt.items()}}),
        }

    def _check_compatible(self, state: dict[str, Any], n: int) -> None:
        if state.get("version") != CHECKPOINT_VERSION:
            raise ValueError(
                f"{self.ckpt.path} has checkpoint format version {state.get('version')!r}, this code reads "
                f"version {CHECKPOINT_VERSION}; delete the run folder to start afresh (or resume it with "
                "the commit that wrote it)")
        ours = self.p.to_dict()
        # a field added after the checkpoint was written: its default is the behaviour that run had
        theirs = {**Params().to_dict(), **state["params"]}
        for key in ("em_iterations",) + COMPUTATION_KEYS:
            ours.pop(key, None), theirs.pop(key, None)
        if ours != theirs or state["n"] != n or tuple(state["shape"]) != self.shape or state["k"] != self.k:
            diff = sorted(key for key in ours if ours.get(key) != theirs.get(key))
            raise ValueError(
                f"{self.ckpt.path} was written by a different run (differs in {diff or 'data/K'}); "
                "delete the run folder to start afresh")

    # ------------------------------------------------------------------ Algorithm 1
    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Build the nets for x's shape; x on the device in the layout the steps read. The first
        thing ``fit_steps`` does; public so that step timings (ganem.step_timing) set up as a run does."""
        x = x.to(self.device, torch.float32)
        self._build(x)
        if self.p.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def begin_iteration(self, iteration: int, phi: torch.Tensor) -> torch.Tensor:
        """Start EM iteration ``iteration`` (0-based) with class prior phi: its optimisers
        (``reset_optimizers``); returns phi as ``mstep_step``/``estep_step`` draw classes from it."""
        self._make_optimizers(iteration)
        return self._draw_prior(phi)

    def fit(self, x: torch.Tensor, labelled: Labelled | None = None) -> None:
        for _ in self.fit_steps(x, labelled):
            pass

    def fit_steps(self, x: torch.Tensor, labelled: Labelled | None = None) -> Iterator[None]:
        """Algorithm 1 as a generator that pauses after every M-step and E-step step, so that
        ``fit_interleaved`` can step several seeds' trainers in one loop; ``fit`` runs it to the end."""
        p, k = self.p, self.k
        self.fit_start = time.perf_counter()
        gen = seed_everything(self.ctx.seed)
        x = self.prepare(x)
        n = self.n = len(x)
        xl = yl = None
        if labelled is not None:
            xl, yl = labelled.x.to(self.device, torch.float32), labelled.y.to(self.device, torch.long)
        if p.supervised_reference and labelled is None:
            raise ValueError("supervised_reference=True needs labelled images (all fitted images, Fig. 4a)")
        n_iter = 0 if p.supervised_reference else p.em_iterations

        # w: the soft assignment the M-step reads, (n, K); None on the lazy path once E has been trained
        # (``lazy_w``).  w_mon: w on the monitored images (all of them, or a fixed random subsample on
        # the lazy path), which the log, the collapse guard and phi's log entry read.
        lazy = lazy_w(p, n)
        mon = self._monitor_index(n) if lazy else None
        w = torch.full((n, k), 1.0 / k, device=self.device)
        w_mon = w if mon is None else w[mon]
        prev_labels = None
        start = 0
        state = self.ckpt.load()  # on the CPU; the nets' load_state_dict moves weights to the device
        if state is not None:
            self._check_compatible(state, n)
            if n_iter and state["iteration"] > n_iter:  # a budget lowered: those predictions are not this run's
                raise ValueError(f"{self.ckpt.path} is at EM iteration {state['iteration']}, past em_iterations="
                                 f"{n_iter}; delete it (or the run folder) to start afresh")
            self.G.load_state_dict(state["G"])
            self.D.load_state_dict(state["D"])
            self.E.load_state_dict(state["E"])
            if not p.reset_optimizers and "opt" in state:  # a slim checkpoint has none: fresh optimisers
                self._make_optimizers(state["iteration"])
                for name, o in self.opt.items():
                    o.load_state_dict(state["opt"][name])
            if lazy:
                w, w_mon = None, self.predict(x[mon])[0]
            else:
                w = self.predict(x)[0] if state["w"] is None else state["w"].to(self.device)
                w_mon = w
            prev_labels = None if state["prev_labels"] is None else state["prev_labels"].to(self.device)
            if prev_labels is not None and len(prev_labels) != len(w_mon):  # w_pass changed: other images
                prev_labels = None
            set_rng_state(state["rng"], gen)
            self.semi_cap_hits = state["semi_cap_hits"]
            self.stopped_early = state["stopped_early"]
            self.resumed_seconds = float(state.get("fit_seconds", float("nan")))
            if "guard" in state:
                self.guard.load_state_dict(state["guard"])
            start = state["iteration"]
            self.log.truncate(start)
            print(f"[ganem] resuming {self.run_dir} after EM iteration {start}", flush=True)
        else:
            self.log.truncate(0)

        # fixed noise for the sample grid: one row per class (a generator of its own)
        grid_gen = torch.Generator().manual_seed(self.ctx.seed + 7919)
        ncol = 10
        self.grid_z = self.noise(k * ncol, grid_gen)
        self.grid_c = torch.arange(k, device=self.device).repeat_interleave(ncol)

        if p.supervised_reference:
            if start == 0:
                w = self._fit_supervised(x, xl, yl, gen)
            self.iterations_done = 0
            self.w = w
            return

        n_batches = max(n // p.batch_size, 1)
        steps_m = mstep_steps(p, n)
        bar = progress(range(start, n_iter), total=n_iter, desc="GAN-EM", enabled=self.ctx.progress)
        if start:
            bar.update(start)
        iteration = start
        for it in range(start, n_iter):
            if self.stopped_early:
                break
            iteration = it + 1
            t0 = time.time()
            # Algorithm 1, line 4: phi_i = N_i / N from the soft w (lazy path: the monitored subsample's
            # estimate, for the log only -- lazy_w holds no label rule that draws from phi)
            phi = w_mon.sum(0) / len(w_mon)
            phi_draw = self.begin_iteration(it, phi)
            guard = FiniteGuard(iteration, p.finite_check_every)
            sums = {"d_loss": 0.0, "g_loss": 0.0, "e_loss": 0.0}
            inner = progress(total=steps_m + p.q_steps, desc=f"iter {iteration}", enabled=self.ctx.progress,
                             leave=False)
            # ---- M-step: p epochs (or mstep_batches batches), one D then one G step per real batch
            self.G.train(), self.D.train()
            step = 0
            d_acc = torch.zeros((), device=self.device)
            g_acc = torch.zeros((), device=self.device)
            while step < steps_m:
                perm = torch.randperm(n, generator=gen).to(self.device)
                for b in range(n_batches):
                    if step >= steps_m:
                        break
                    idx = perm[b * p.batch_size:(b + 1) * p.batch_size]
                    d_loss, g_loss = self.mstep_step(x, w, idx, phi_draw, gen)
                    guard.add(step, {"d_loss": d_loss, "g_loss": g_loss})
                    d_acc += d_loss
                    g_acc += g_loss
                    step += 1
                    inner.update(1)
                    yield
            guard.check()
            sums["d_loss"] = float(d_acc) / max(steps_m, 1)
            sums["g_loss"] = float(g_acc) / max(steps_m, 1)
            # ---- E-step: q steps on fresh fakes, c ~ phi
            self.G.train(not p.estep_g_eval)
            self.e_train_mode()
            e_acc = torch.zeros((), device=self.device)
            for q in range(p.q_steps):
                e_loss = self.estep_step(phi_draw, gen)
                guard.add(steps_m + q, {"e_loss": e_loss})
                e_acc += e_loss
                inner.update(1)
                yield
            guard.check()
            inner.close()
            sums["e_loss"] = float(e_acc) / max(p.q_steps, 1)
            labelled_info = None
            if xl is not None:
                labelled_info = self._train_labelled(xl, yl, gen, iteration)
            # ---- w = E(x_real): on every image, or (lazy) on the monitored ones; the M-step computes its own
            if lazy:
                w, w_mon = None, self.predict(x[mon])[0]
            else:
                w, _ = self.predict(x)
                w_mon = w
            labels = w_mon.argmax(1)
            changed = None if prev_labels is None else float((labels != prev_labels).float().mean())
            dead = self.guard.update(iteration, w_mon.sum(0) / len(w_mon))
            self._log_iteration(iteration, t0, sums, w_mon, changed, phi=phi, labelled_info=labelled_info,
                                extra={"dead_clusters": dead, **self._mechanism(x, iteration)}, mon=mon)
            if dead:
                print(f"[ganem] EM iteration {iteration}: cluster(s) {dead} dead (share < 1/(10K) = "
                      f"{self.guard.threshold:.4f} for {p.collapse_patience} iterations)", flush=True)
                if p.stop_on_collapse:
                    self.stopped_early = True
                    print(f"[ganem] stopping after EM iteration {iteration}: stop_on_collapse", flush=True)
            if p.stop_changed_below is not None and changed is not None and changed < p.stop_changed_below:
                self.stopped_early = True
                print(f"[ganem] stopping after EM iteration {iteration}: {changed:.4f} of the hard "
                      f"assignments changed (< stop_changed_below={p.stop_changed_below})", flush=True)
            prev_labels = labels
            finished = self.stopped_early or iteration == n_iter
            if finished and w is None:  # the final assignment is always on every image
                w, _ = self.predict(x)
            if x.dim() == 4 or finished:  # 2-D scatter (matplotlib) only at the end: it is slow
                self._save_samples(x, w)
            self.ckpt.save(self._state(iteration, w, prev_labels, gen, finished))
            bar.update(1)
        bar.close()
        if n_iter == 0 and start == 0 and xl is not None:
            w = self._fit_supervised(x, xl, yl, gen)  # em_iterations=0 with labels: as supervised_reference
        self.iterations_done = iteration if n_iter else 0
        self.w = self.predict(x)[0] if w is None else w

    def _fit_supervised(self, x: torch.Tensor, xl: torch.Tensor, yl: torch.Tensor,
                        gen: torch.Generator) -> torch.Tensor:
        """The purely supervised E-net (Fig. 4a's reference, or em_iterations=0 with labels): one
        round of label steps, w = E(x), logged and checkpointed as a finished iteration 1."""
        t0 = time.time()
        self._make_optimizers(0)
        info = self._train_labelled(xl, yl, gen, 1)
        w, _ = self.predict(x)
        self._log_iteration(1, t0, {}, w, None, labelled_info=info)
        self.ckpt.save(self._state(1, w, w.argmax(1), gen, finished=True))
        return w

    # ------------------------------------------------------------------ outputs
    def _balanced_noise(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """n noise vectors and class-balanced classes (0, 1, ..., K-1, 0, ...) from a generator of their
        own, so monitoring never draws from the training's random numbers."""
        z = self.noise(n, torch.Generator().manual_seed(seed))
        return z, torch.arange(n, device=self.device) % self.k

    @torch.no_grad()
    def _eval_fakes(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """G(z, c) in eval mode (BatchNorm running statistics), G's mode restored afterwards."""
        was_training = self.G.training
        self.G.eval()
        fakes = self.G(z, c)
        self.G.train(was_training)
        return fakes

    def _mechanism(self, x: torch.Tensor, iteration: int) -> dict[str, Any]:
        """D's outputs on reals and fakes and G's input gradients (ganem/model/diagnostics.py), on a
        fixed subset of the reals and fresh class-balanced fakes from a generator of their own."""
        m = min(self.p.mechanism_samples, len(x))
        if m == 0:
            return {}
        real = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(self.ctx.seed))[:m].to(x.device)]
        z, c = self._balanced_noise(m, self.ctx.seed * 1_000_033 + iteration)
        return {"d_real_units": d_outputs(self.D, real), "d_fake_units": d_outputs(self.D, self._eval_fakes(z, c)),
                **g_input_gradients(self.G, self.D, z, c, self._g_loss)}

    def _monitor_index(self, n: int) -> torch.Tensor:
        """The lazy path's monitored images: a fixed random subsample of monitor_images (all n when
        that is more), sorted, from a generator of its own (labels are unknown to the method, so not
        class-balanced; the training's draws are untouched)."""
        m = min(self.p.monitor_images, n)
        pick = torch.randperm(n, generator=torch.Generator().manual_seed(self.ctx.seed + 104729))[:m]
        return pick.sort().values.to(self.device)

    def _log_iteration(self, iteration, t0, sums, w, changed, phi=None, labelled_info=None, extra=None,
                       mon=None) -> None:
        """One line of iterations.jsonl; w is on every image, or on the images ``mon`` indexes."""
        from ganem.metrics import clustering_error

        labels = w.argmax(1)
        record: dict[str, Any] = {
            "iteration": iteration,
            "seconds": round(time.time() - t0, 3),
            **{key: round(v, 6) for key, v in sums.items()},
            "phi": None if phi is None else [round(float(v), 5) for v in phi],
            "cluster_sizes": torch.bincount(labels, minlength=self.k).tolist(),
            "changed": changed,
            "fake_accuracy": self._fake_accuracy(iteration),
            "lr_factor": self.p.lr_decay ** (iteration - 1),
            "min_share": round(float(w.sum(0).min() / len(w)), 6),
            **(extra or {}),
        }
        if labelled_info:
            record.update(labelled_info)
        if mon is not None:
            record["monitored_images"] = len(mon)
        if self.ctx.monitor_labels is not None:
            truth = np.asarray(self.ctx.monitor_labels)
            record["monitor_error"] = clustering_error(truth if mon is None else truth[mon.cpu().numpy()],
                                                       labels.cpu().numpy(), n_clusters=self.k)
        self.log.append(record)

    @torch.no_grad()
    def _fake_accuracy(self, iteration: int) -> float:
        z, c = self._balanced_noise(self.p.monitor_fakes, self.ctx.seed * 1_000_003 + iteration)
        proba, _ = self.predict(self._eval_fakes(z, c))
        return round(float((proba.argmax(1) == c).float().mean()), 5)

    @torch.no_grad()
    def _save_samples(self, x: torch.Tensor, w: torch.Tensor) -> None:
        fakes = self._eval_fakes(self.grid_z, self.grid_c)
        path = self.run_dir / "samples.png"
        if x.dim() == 4:
            save_sample_grid(fakes, nrow=len(fakes) // self.k, path=path, value_range=self.value_range)
        else:  # vector data: the generated points and their classes (read by the toy figure)
            fakes = self._more_fakes()
            atomic_save_npy(self.run_dir / "generated.npy", fakes[0].astype(np.float32))
            atomic_save_npy(self.run_dir / "generated_labels.npy", fakes[1].astype(np.int64))
            if x.shape[1] == 2:
                _scatter(x.cpu().numpy(), w.argmax(1).cpu().numpy(), fakes, path)

    @torch.no_grad()
    def _more_fakes(self) -> tuple[np.ndarray, np.ndarray]:
        z, c = self._balanced_noise(200 * self.k, self.ctx.seed + 7919)
        return self._eval_fakes(z, c).cpu().numpy(), c.cpu().numpy()

    def assign(self, x: torch.Tensor) -> Assignment:
        if self.G is None:
            raise RuntimeError("assign() before fit()")
        proba, feats = self.predict(x.to(torch.float32), features=self.p.bottleneck is not None)
        proba_np = proba.cpu().numpy()
        return Assignment(
            labels=proba_np.argmax(1).astype(np.int64),
            proba=proba_np,
            features=None if feats is None else feats.numpy(),
            extras={"em_iterations_done": self.iterations_done, "stopped_early": self.stopped_early,
                    "semi_cap_hits": self.semi_cap_hits, "g_output": self.output,
                    "noise_dim": self.noise_dim, "dead_clusters": self.guard.dead,
                    "n_dead_clusters": len(self.guard.dead)},
        )


def fit_interleaved(trainers: list[GANEMTrainer], xs: list[torch.Tensor],
                    labelled: list[Labelled | None]) -> None:
    """Train several seeds' trainers in one process, one step of each in turn (``seeds_per_job``).

    Each trainer keeps its own sampling generator, and the process-wide RNGs (Python, NumPy, torch,
    which seed_everything sets and the nets' initialisation draws from) are swapped in and out around
    every step, so each seed's run is bit-identical on CPU to the same seed trained alone. On a GPU
    each trainer issues its work on a CUDA stream of its own, so the seeds' small kernels can overlap.
    """
    loops = [t.fit_steps(x, lab) for t, x, lab in zip(trainers, xs, labelled)]
    streams = [torch.cuda.Stream(device=t.device) if t.device.type == "cuda" else None for t in trainers]
    for stream in streams:
        if stream is not None:
            stream.wait_stream(torch.cuda.current_stream(stream.device))
    states = [rng_state() for _ in loops]
    active = list(range(len(loops)))
    while active:
        for i in list(active):
            set_rng_state(states[i])
            with torch.cuda.stream(streams[i]) if streams[i] is not None else nullcontext():
                try:
                    next(loops[i])
                except StopIteration:
                    active.remove(i)
            states[i] = rng_state()
    for stream in streams:
        if stream is not None:
            torch.cuda.current_stream(stream.device).wait_stream(stream)


def _scatter(x: np.ndarray, labels: np.ndarray, fakes: tuple[np.ndarray, np.ndarray], path: Path) -> None:
    """2-D data: real points coloured by cluster (left), fakes coloured by class (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 4), sharex=True, sharey=True)
    axes[0].scatter(x[:, 0], x[:, 1], c=labels, s=3, cmap="tab10", vmin=0, vmax=9)
    axes[0].set_title("real, coloured by cluster")
    axes[1].scatter(fakes[0][:, 0], fakes[0][:, 1], c=fakes[1], s=3, cmap="tab10", vmin=0, vmax=9)
    axes[1].set_title("G(z, c), coloured by c")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=80)
    plt.close(fig)
