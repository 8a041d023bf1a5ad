"""GANMM's training loop (Yu & Zhou, IJCAI 2018; the authors' TF code eyounx/GANMM ``GANMM.py``).

    split the shuffled data into K equal chunks
    pretrain: repeat n_pretrain times, for GAN i = 1..K:
        one G step, then critic_iters critic steps on batches of chunk i (cycled in order)
    main loop, iteration t = 0 .. n_iter-1:
        E-step: draw one batch of fakes from every G_i, then one classifier step per batch, label i
        for GAN i = 1..K:
            one G step
            critic_iters critic steps, each on a batch of 50 real images built by ``mix_batch``:
                num_chose(t) images whose classifier argmax is i (in data-stream order) plus
                50 - num_chose(t) images drawn without replacement, with probability proportional
                to p(i|x), from the other images of the stream batches read meanwhile
            weight clipping of the critic after every critic step
    predict: argmax of the classifier's softmax

All training randomness is drawn from two CPU torch.Generators seeded with the run's seed (one for
weight init, data order and the epsilon draws; one for the noise z, moved to the device); their
states, the data streams' positions, the models and optimisers go into checkpoint.pt, so a killed
run restarts bit-identically.  The sample grid uses a generator of its own.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from ganem.methods.base import Assignment, RunContext
from ganem.trainer_support import (Checkpointer, FiniteGuard, IterationLog, progress, resolve_output, rng_state,
                                   save_sample_grid, seed_everything, set_rng_state)

from .nets import Classifier, Critic, Generator, clip_, tflib_init
from .optim import make_optimizer
from .sampling import EpochStream, initial_split, mix_batch, num_chose_at
from .stack import Stack

CHECKPOINT_VERSION = 1
GRID_COLUMNS = 10
# Iterations whose 2K+1 losses are read back in one NaN/inf check (and before every log and
# checkpoint): one host sync per window instead of 2K+1 per iteration.
FINITE_CHECK_EVERY = 100


def refresh_mode(p, device_type: str, k: int, n: int) -> str:
    """The p(.|x) refresh a run uses: proba_refresh, or for 'auto' the one that computes fewer
    classifier passes.  ``lazy`` computes only the images the stream reads, about
    K x critic_iters x batch_size x K per iteration (num_chose of a batch must have argmax i, about
    1 in K of the images read); ``full`` computes all n images in a few large batches.  On a CPU
    cost follows images, so lazy always wins; on a GPU full's few large batches beat lazy's many
    small ones unless lazy reads far fewer images (e.g. CelebA, K=2: ~1,000 of 24,000)."""
    if p.proba_refresh != "auto":
        return p.proba_refresh
    lazy_images = k * k * p.critic_iters * p.batch_size
    return "lazy" if device_type != "cuda" or 4 * lazy_images <= n else "full"


# ---------------------------------------------------------------------------------------- trainer
class GANMMTrainer:
    def __init__(self, params, ctx: RunContext):
        self.p, self.ctx = params, ctx
        self.k = int(ctx.k)
        self.device = torch.device(ctx.device)
        self.run_dir = Path(ctx.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log = IterationLog(self.run_dir / "iterations.jsonl")
        self.ckpt = Checkpointer(self.run_dir)
        self.C: Classifier | None = None
        self.iterations_done = 0
        self.pretrain_done = 0

    # ------------------------------------------------------------------ setup
    def _build(self, x: torch.Tensor, gen: torch.Generator) -> None:
        p, k = self.p, self.k
        self.shape = tuple(x.shape[1:])
        self.output = resolve_output(p.output_activation, x, "methods.ganmm.output_activation")
        self.value_range = (-1.0, 1.0) if self.output == "tanh" else (0.0, 1.0)
        self.G, self.D = [], []
        for _ in range(k):
            g = Generator(self.shape, p.noise_dim, p.dim, self.output)
            d = Critic(self.shape, p.dim)
            tflib_init(g, gen)
            tflib_init(d, gen)
            self.G.append(g.to(self.device))
            self.D.append(d.to(self.device))
        self.C = Classifier(self.shape, k, p.dim)
        tflib_init(self.C, gen)
        self.C.to(self.device)
        self.opt_c = make_optimizer(self.C.parameters(), p.lr_c, p.optimizer)
        if p.batched:
            # the K networks become one stacked set of parameters; the per-GAN modules are dropped
            self.Gs, self.Ds = Stack(self.G), Stack(self.D)
            self.G = self.D = None
            self.opt_gs = make_optimizer(self.Gs.parameters(), p.lr_g, p.optimizer)
            self.opt_ds = make_optimizer(self.Ds.parameters(), p.lr_d, p.optimizer)
        else:
            self.opt_g = [make_optimizer(g.parameters(), p.lr_g, p.optimizer) for g in self.G]
            self.opt_d = [make_optimizer(d.parameters(), p.lr_d, p.optimizer) for d in self.D]

    def n_parameters(self) -> int:
        nets = [self.Gs, self.Ds] if self.p.batched else self.G + self.D
        return sum(q.numel() for net in nets for q in net.parameters()) + sum(
            q.numel() for q in self.C.parameters())

    @torch.no_grad()
    def _sample_all(self, z: torch.Tensor) -> torch.Tensor:
        """z (K, B, noise_dim) -> fakes (K, B, C, H, W), G_i on z[i]."""
        if self.p.batched:
            return self.Gs(z)
        return torch.stack([g(z[i]) for i, g in enumerate(self.G)])

    def _fingerprint(self, x: torch.Tensor) -> dict[str, Any]:
        params = dataclasses.asdict(self.p)
        for key in ("iterations", "checkpoint_every", "assign_batch_size"):
            params.pop(key, None)
        xs = x.detach().double()
        return {"params": _plain(params), "k": self.k, "seed": int(self.ctx.seed), "shape": list(x.shape),
                "checksum": [round(float(xs.sum()), 3), round(float(xs.view(len(x), -1)[:, ::7].sum()), 3)]}

    # ------------------------------------------------------------------ sampling / steps
    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.p.noise_dim, generator=self.noise_gen).to(self.device)

    def _g_step(self, i: int, z: torch.Tensor) -> torch.Tensor:
        G, D = self.G[i], self.D[i]
        D.requires_grad_(False)  # only G's parameters are updated (TF's var_list)
        loss = -D(G(z)).mean()
        self.opt_g[i].zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g[i].step()
        D.requires_grad_(True)
        return loss.detach()

    def _d_step(self, i: int, real: torch.Tensor, z: torch.Tensor, clip: bool) -> torch.Tensor:
        G, D = self.G[i], self.D[i]
        with torch.no_grad():
            fake = G(z)
        # two separate critic calls: BatchNorm statistics of the fake and the real batch are separate
        loss = D(fake).mean() - D(real).mean()
        self.opt_d[i].zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d[i].step()
        if clip:
            clip_(D, self.p.clip_value)
        return loss.detach()

    def _c_steps(self) -> torch.Tensor:
        """The original's MNN training: one batch of fakes from each G (all drawn first), then one
        classifier step per batch with target = the generator's index."""
        fakes = self._sample_all(torch.stack([self._noise(self.p.batch_size) for _ in range(self.k)]))
        total = torch.zeros((), device=self.device)
        for i, fake in enumerate(fakes):
            logits = self.C(fake)
            target = torch.full((len(fake),), i, dtype=torch.long, device=self.device)
            if self.p.classifier_double_softmax:
                # the original feeds its softmax *output* to softmax_cross_entropy_with_logits
                loss = F.cross_entropy(torch.softmax(logits, 1), target)
            else:
                loss = F.cross_entropy(logits, target)
            self.opt_c.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_c.step()
            total = total + loss.detach()
        return total / self.k

    @torch.no_grad()
    def log_proba(self, x: torch.Tensor) -> torch.Tensor:
        out = [torch.log_softmax(self.C(x[j:j + self.p.assign_batch_size]), 1)
               for j in range(0, len(x), self.p.assign_batch_size)]
        return torch.cat(out) if out else torch.zeros(0, self.k, device=self.device)

    # ------------------------------------------------------------------ the classifier's p(.|x) on the data
    def _invalidate_cache(self, x: torch.Tensor) -> None:
        """Called after every classifier update: p(.|x) is then constant during the GAN phase."""
        if self.proba_mode == "full":
            self.cache = self.log_proba(x).cpu()
            self.valid = None
        else:
            self.valid = torch.zeros(len(x), dtype=torch.bool)

    def _cached_log_proba(self, x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        if self.valid is not None:
            missing = idx[~self.valid[idx]]
            if len(missing):
                self.cache[missing] = self.log_proba(x[missing.to(self.device)]).cpu()
                self.valid[missing] = True
        return self.cache[idx]

    def _all_log_proba(self, x: torch.Tensor) -> torch.Tensor:
        if self.valid is None:
            return self.cache
        return self._cached_log_proba(x, torch.arange(len(x)))

    # ------------------------------------------------------------------ checkpoint
    def _state(self, phase: str, x: torch.Tensor) -> dict[str, Any]:
        return {
            "version": CHECKPOINT_VERSION, "fingerprint": self._fingerprint_cache,
            "phase": phase, "pretrain_done": self.pretrain_done, "iteration": self.iterations_done,
            **self._gan_state(),
            "C": self.C.state_dict(), "opt_c": self.opt_c.state_dict(),
            "stream": self.stream.state_dict(), "split": self.split, "split_pos": list(self.split_pos),
            "rng": rng_state(self.gen), "noise_gen": self.noise_gen.get_state(),
            "window": self.window, "prev_labels": self.prev_labels, "elapsed": self._elapsed(),
        }

    def _restore(self, state: dict[str, Any]) -> str:
        if state.get("version") != CHECKPOINT_VERSION or state["fingerprint"] != self._fingerprint_cache:
            ours, theirs = self._fingerprint_cache, state.get("fingerprint") or {}
            diff = sorted(key for key in ours["params"] if ours["params"].get(key) != theirs.get("params", {}).get(key))
            other = [key for key in ("k", "seed", "shape", "checksum") if ours[key] != theirs.get(key)]
            raise ValueError(
                f"{self.ckpt.path} was written by a different run (differs in {diff + other}); delete it "
                "(or the run folder) to start afresh")
        if self.p.batched:
            for obj, key in ((self.Gs, "G"), (self.Ds, "D"), (self.opt_gs, "opt_g"), (self.opt_ds, "opt_d")):
                if key in state:  # a slim checkpoint (training.tidy_checkpoint) has no optimiser states
                    obj.load_state_dict(state[key])
        else:
            for net, sd in zip(self.G + self.D, state["G"] + state["D"]):
                net.load_state_dict(sd)
            for o, sd in zip(self.opt_g + self.opt_d, state.get("opt_g", []) + state.get("opt_d", [])):
                o.load_state_dict(sd)
        self.C.load_state_dict(state["C"])
        if "opt_c" in state:
            self.opt_c.load_state_dict(state["opt_c"])
        self.stream.load_state_dict(state["stream"])
        self.split = state["split"]
        self.split_pos = list(state["split_pos"])
        set_rng_state(state["rng"], self.gen)
        self.noise_gen.set_state(state["noise_gen"])
        self.window = state["window"]
        self.prev_labels = state["prev_labels"]
        self.elapsed_before = state["elapsed"]
        self.pretrain_done = state["pretrain_done"]
        self.iterations_done = state["iteration"]
        return state["phase"]

    def _gan_state(self) -> dict[str, Any]:
        if self.p.batched:  # stacked tensors (K, ...); the fingerprint keeps them from a loop-mode run
            return {"G": self.Gs.state_dict(), "D": self.Ds.state_dict(),
                    "opt_g": self.opt_gs.state_dict(), "opt_d": self.opt_ds.state_dict()}
        return {"G": [g.state_dict() for g in self.G], "D": [d.state_dict() for d in self.D],
                "opt_g": [o.state_dict() for o in self.opt_g], "opt_d": [o.state_dict() for o in self.opt_d]}

    def _save(self, phase: str, x: torch.Tensor) -> None:
        self._flush()
        self._save_samples()
        self.ckpt.save(self._state(phase, x))

    def _elapsed(self) -> float:
        return self.elapsed_before + (time.time() - self.t_start)

    # ------------------------------------------------------------------ logging
    def _new_window(self) -> dict[str, Any]:
        return {"n": 0, "loss_d": [0.0] * self.k, "loss_g": [0.0] * self.k, "loss_c": 0.0, "drawn": 0,
                "critic_batches": 0, "t0": self._elapsed()}

    def _log(self, x: torch.Tensor, iteration: int, phase: str, num_chose: int | None) -> dict[str, Any]:
        from ganem.metrics import clustering_error

        self._flush()
        w = self.window
        n = max(w["n"], 1)
        empty = w["n"] == 0  # e.g. pretrain_iterations = 0
        labels = self._all_log_proba(x).argmax(1)
        changed = (None if self.prev_labels is None
                   else round(float((labels != self.prev_labels).double().mean()), 6))
        now = self._elapsed()
        d = [v / n for v in w["loss_d"]]
        record: dict[str, Any] = {
            "iteration": iteration,
            "phase": phase,
            "seconds": round(now, 2),
            "seconds_per_iteration": round((now - w["t0"]) / n, 3),
            "loss_d": None if empty else round(float(np.mean(d)), 6),
            "loss_g": None if empty else round(float(np.mean(w["loss_g"])) / n, 6),
            "loss_c": None if empty or phase == "pretrain" else round(w["loss_c"] / n, 6),
            "wasserstein_per_gan": None if empty else [round(-v, 6) for v in d],
            "cluster_sizes": torch.bincount(labels, minlength=self.k).tolist(),
            "num_chose": num_chose,
            "changed": changed,
            "drawn_per_critic_batch": (round(w["drawn"] / w["critic_batches"], 1)
                                       if w["critic_batches"] else None),
        }
        if self.ctx.monitor_labels is not None:
            record["monitor_error"] = round(clustering_error(
                np.asarray(self.ctx.monitor_labels), labels.numpy(), n_clusters=self.k), 4)
        self.log.append(record)
        self.prev_labels = labels
        self.window = self._new_window()
        return record

    @torch.no_grad()
    def _save_samples(self) -> None:
        """One row per GAN: the first GRID_COLUMNS of a batch_size batch (BatchNorm uses batch
        statistics, so G is always sampled in batches of the training size), fixed noise."""
        fakes = self._sample_all(self.grid_z.expand(self.k, *self.grid_z.shape))[:, :GRID_COLUMNS]
        save_sample_grid(fakes.reshape(-1, *fakes.shape[2:]), nrow=GRID_COLUMNS, path=self.run_dir / "samples.png",
                         value_range=self.value_range)

    # ------------------------------------------------------------------ fit
    def setup(self, x: torch.Tensor) -> torch.Tensor:
        """Check the images, seed, build the K GANs and the classifier, the initial split and the
        data stream; return the images on the device.  (No checkpoint is read here.)"""
        p, k = self.p, self.k
        if x.dim() != 4:
            raise ValueError(f"GANMM takes images (N, C, H, W), got a tensor of shape {tuple(x.shape)}")
        if not bool(torch.isfinite(x).all()):
            raise ValueError("the images contain NaN or inf values")
        if self.ctx.monitor_labels is not None and len(self.ctx.monitor_labels) != len(x):
            raise ValueError(f"monitor_labels has {len(self.ctx.monitor_labels)} entries for {len(x)} images")
        self.gen = seed_everything(self.ctx.seed)
        x = x.to(self.device, torch.float32).contiguous()
        n = len(x)
        self._build(x, self.gen)
        # noise generators on the CPU whatever the device: a checkpoint's generator state then
        # restores on a CPU or a GPU alike (docs/paper-run.md); the noise is drawn there and moved
        self.noise_gen = torch.Generator().manual_seed(self.ctx.seed + 1)
        grid_gen = torch.Generator().manual_seed(self.ctx.seed + 7919)
        self.grid_z = torch.randn(p.batch_size, p.noise_dim, generator=grid_gen).to(self.device)
        self.split = initial_split(n, k, p.batch_size, self.gen)
        self.split_pos = [0] * k
        self.stream = EpochStream(n, p.batch_size, self.gen)
        self.proba_mode = refresh_mode(p, self.device.type, k, n)
        self.cache = torch.zeros(n, k)
        self.valid = torch.zeros(n, dtype=torch.bool)
        self.prev_labels = None
        self.elapsed_before = 0.0
        self.t_start = time.time()
        self.guard = FiniteGuard(0, FINITE_CHECK_EVERY)
        self.sums: torch.Tensor | None = None  # losses since the last _flush, on the device
        self.window = self._new_window()
        self._fingerprint_cache = self._fingerprint(x)
        return x

    def pretrain_iteration(self, x: torch.Tensor, it: int) -> None:
        """One pretraining iteration: for GAN i, one G step then critic_iters critic steps on the
        next batches of chunk i (cycled in order; no weight clipping unless clip_in_pretrain)."""
        p, k = self.p, self.k
        zg, zd, idx = self._plan(lambda i: self._next_chunk_batch(i))
        d_acc, g_acc = self._train_gans(x, zg, zd, idx, clip=p.clip_in_pretrain)
        self.guard.add(it, {f"pretrain loss_d[{i}]": d_acc[i] for i in range(k)}
                       | {f"pretrain loss_g[{i}]": g_acc[i] for i in range(k)}, iteration=0)
        self._accumulate(d_acc, g_acc, None)
        self.pretrain_done = it + 1

    def main_iteration(self, x: torch.Tensor, t: int) -> int:
        """Main-loop iteration t (0-based): the classifier's E-step, then for every GAN one G step
        and critic_iters critic steps on epsilon-mixed batches.  Returns num_chose."""
        p, k = self.p, self.k
        loss_c = self._c_steps()
        self.guard.add(0, {"loss_c": loss_c}, iteration=t + 1)
        nc = num_chose_at(p.num_chose_schedule, t)

        def batch(i: int) -> torch.Tensor:
            idx, drawn = mix_batch(self.stream.next, lambda j: self._cached_log_proba(x, j),
                                   i, nc, p.batch_size, self.gen)
            self.window["drawn"] += drawn
            self.window["critic_batches"] += 1
            return idx

        try:
            self._invalidate_cache(x)
            zg, zd, idx = self._plan(batch)
        except RuntimeError:  # the epsilon draws fail on a NaN classifier: name the NaN loss instead
            self.guard.check()
            raise
        d_acc, g_acc = self._train_gans(x, zg, zd, idx, clip=True)
        self.guard.add(p.critic_iters, {f"loss_d[{i}]": d_acc[i] for i in range(k)}
                       | {f"loss_g[{i}]": g_acc[i] for i in range(k)}, iteration=t + 1)
        self._accumulate(d_acc, g_acc, loss_c)
        self.iterations_done = t + 1
        return nc

    def _next_chunk_batch(self, i: int) -> torch.Tensor:
        idx = self.split[i, self.split_pos[i]]
        self.split_pos[i] = (self.split_pos[i] + 1) % self.split.shape[1]
        return idx

    def _plan(self, real_batch: Callable[[int], torch.Tensor]):
        """The noise and the real batches of one pass over the K GANs, drawn in the original's order
        (GAN by GAN: G noise, then per critic step its real batch and its noise).  Neither depends on
        the GANs' weights (the classifier is fixed during the pass), so drawing them first changes
        nothing, and the loop and the batched computation see the same numbers."""
        p, k = self.p, self.k
        zg = torch.empty(k, p.batch_size, p.noise_dim, device=self.device)
        zd = torch.empty(k, p.critic_iters, p.batch_size, p.noise_dim, device=self.device)
        idx = torch.empty(k, p.critic_iters, p.batch_size, dtype=torch.long)
        for i in range(k):
            zg[i] = self._noise(p.batch_size)
            for r in range(p.critic_iters):
                idx[i, r] = real_batch(i)
                zd[i, r] = self._noise(p.batch_size)
        return zg, zd, idx.to(self.device)

    def _train_gans(self, x, zg, zd, idx, clip: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Per GAN: one G step on zg[i], then critic steps r on (x[idx[i, r]], zd[i, r]).
        Returns the summed critic losses and the G losses, shape (K,)."""
        p, k = self.p, self.k
        d_acc = torch.zeros(k, device=self.device)
        g_acc = torch.zeros(k, device=self.device)
        if not p.batched:
            for i in range(k):
                g_acc[i] += self._g_step(i, zg[i])
                for r in range(p.critic_iters):
                    d_acc[i] += self._d_step(i, x[idx[i, r]], zd[i, r], clip)
            return d_acc, g_acc
        # batched: all K G steps at once, then critic step r of all K GANs at once
        self.Ds.requires_grad_(False)
        g_losses = -self.Ds(self.Gs(zg)).mean(1)
        self.opt_gs.zero_grad(set_to_none=True)
        g_losses.sum().backward()  # GAN i's parameters only get GAN i's gradient
        self.opt_gs.step()
        self.Ds.requires_grad_(True)
        g_acc += g_losses.detach()
        for r in range(p.critic_iters):
            with torch.no_grad():
                fake = self.Gs(zd[:, r])
            d_losses = self.Ds(fake).mean(1) - self.Ds(x[idx[:, r]]).mean(1)
            self.opt_ds.zero_grad(set_to_none=True)
            d_losses.sum().backward()
            self.opt_ds.step()
            if clip:
                self.Ds.clip_(p.clip_value)
            d_acc += d_losses.detach()
        return d_acc, g_acc

    def fit(self, x: torch.Tensor) -> None:
        p, k = self.p, self.k
        x = self.setup(x)
        phase = "pretrain"
        state = self.ckpt.load()  # on the CPU (Checkpointer.load says why)
        if state is not None:
            phase = self._restore(state)
            self.t_start = time.time()
            if phase == "pretrain":
                self.log.truncate(-1)
            else:
                self.log.truncate(self.iterations_done)
            print(f"[ganmm] resuming {self.run_dir}: {phase} phase, pretraining {self.pretrain_done}/"
                  f"{p.pretrain_iterations}, iteration {self.iterations_done}/{p.iterations}", flush=True)
            if self.iterations_done > p.iterations:
                raise ValueError(f"{self.ckpt.path} is at iteration {self.iterations_done}, past "
                                 f"iterations={p.iterations}; delete it to start afresh")
        else:
            self.log.truncate(-1)

        total = p.pretrain_iterations + p.iterations
        bar = progress(total=total, desc=f"GANMM K={k}", enabled=self.ctx.progress)
        bar.update(self.pretrain_done + self.iterations_done)

        # ---- pretraining: GAN i on chunk i of the initial split
        if phase == "pretrain":
            for it in range(self.pretrain_done, p.pretrain_iterations):
                self.pretrain_iteration(x, it)
                bar.update(1)
                if self.pretrain_done % p.checkpoint_every == 0 and self.pretrain_done < p.pretrain_iterations:
                    self._save("pretrain", x)
            self._invalidate_cache(x)
            self._log(x, 0, "pretrain", None)
            phase = "main"
            self._save("main", x)

        # ---- main loop (epsilon-EM)
        for t in range(self.iterations_done, p.iterations):
            nc = self.main_iteration(x, t)
            bar.update(1)
            last = self.iterations_done == p.iterations
            if self.iterations_done % p.log_every == 0 or last:
                rec = self._log(x, self.iterations_done, "main", nc)
                bar.set_postfix_str(f"sizes={rec['cluster_sizes']}" + (
                    f" err={rec['monitor_error']:.1f}" if "monitor_error" in rec else ""), refresh=False)
            if self.iterations_done % p.checkpoint_every == 0 or last:
                self._save("main", x)
        bar.close()

    def _accumulate(self, d_acc, g_acc, loss_c) -> None:
        """Add one iteration's losses to device sums (no host sync); ``_flush`` moves them into the
        window before it is logged or checkpointed."""
        if self.sums is None:
            self.sums = torch.zeros(2 * self.k + 1, device=self.device, dtype=torch.float64)
        self.sums[:self.k] += d_acc.double() / self.p.critic_iters
        self.sums[self.k:2 * self.k] += g_acc.double()
        if loss_c is not None:
            self.sums[-1] += loss_c.double()
        self.window["n"] += 1

    def _flush(self) -> None:
        """Check the pending losses for NaN/inf, then add the device sums to the window (one sync)."""
        self.guard.check()
        if self.sums is None:
            return
        sums, self.sums = self.sums.tolist(), None
        w = self.window
        for i in range(self.k):
            w["loss_d"][i] += sums[i]
            w["loss_g"][i] += sums[self.k + i]
        w["loss_c"] += sums[-1]

    # ------------------------------------------------------------------ assign
    def assign(self, x: torch.Tensor) -> Assignment:
        if self.C is None:
            raise RuntimeError("GANMM.assign() called before fit()")
        lp = self.log_proba(x.to(self.device, torch.float32)).cpu()
        proba = torch.softmax(lp, 1).numpy()
        return Assignment(
            labels=lp.argmax(1).numpy().astype(np.int64),
            proba=proba,
            extras={"iterations_done": self.iterations_done, "pretrain_done": self.pretrain_done,
                    "g_output": self.output, "proba_refresh": self.proba_mode},
        )


def _plain(value: Any) -> Any:
    """Tuples -> lists, recursively, so fingerprints compare equal after a torch.save round trip."""
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
