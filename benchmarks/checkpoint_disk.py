"""Disk the checkpoints of a config's runs need: whole (while a run trains) and after the
``checkpoints`` cleanup (slim: optimiser states dropped; remove: nothing).

The run list is the DAG's own (``snakemake --summary all`` under the config); for every neural run
the script builds the method's nets and optimisers at the config's settings for the dataset's image
shape and K, takes one optimiser step on zero gradients (so the optimiser states exist, as after
training) and measures ``torch.save`` of the weights, the optimiser states and w. Nothing is trained.

    python benchmarks/checkpoint_disk.py                                   # config/config.yaml
    python benchmarks/checkpoint_disk.py --configfile config/quick.yaml
"""
from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import torch
import yaml

from ganem import data
from ganem.config import base_method, method_params
from ganem.cost import fit_images
from ganem.methods import RunContext, get_method, make_params

REPO = Path(__file__).resolve().parent.parent
RUN = re.compile(r"results/(?:runs|variants/(?P<variant>[^/]+))/(?P<method>[^/]+)/(?P<dataset>[^/]+)/[^/]+/K(?P<k>\d+)/")


def planned_runs(configfile: Path) -> Counter:
    """(method, dataset, K, variant) -> number of runs, from the DAG's summary."""
    with tempfile.TemporaryDirectory() as work:
        out = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", work,
                              "--configfile", str(configfile), "--summary", "all"],
                             capture_output=True, text=True, check=True).stdout
    runs = Counter()
    for line in out.splitlines():
        m = RUN.match(line)
        if m and line.split("\t")[0].endswith("metrics.json"):
            runs[(m["method"], m["dataset"], int(m["k"]), m["variant"])] += 1
    return runs


def _nbytes(obj) -> int:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.tell()


def _step_all(optimizers) -> None:
    for opt in optimizers:
        for group in opt.param_groups:
            for p in group["params"]:
                p.grad = torch.zeros_like(p)
        opt.step()


def checkpoint_bytes(config: dict, method: str, dataset: str, k: int, variant: str | None) -> tuple[int, int]:
    """(whole checkpoint, slim checkpoint) bytes of one run."""
    entry = data.entry(dataset)  # image shape and network family from the dataset registry
    values = method_params(config, method, dataset)
    if variant and variant.startswith("bottleneck"):
        values["bottleneck"] = int(variant.removeprefix("bottleneck"))
    base = base_method(config, method)  # a variant (methods.<name>.method) runs its base method
    cls = get_method(base)
    params = make_params(cls.Params, values, f"methods.{method}")
    x = torch.zeros(2, *entry.shape) - (1.0 if entry.net in ("svhn", "celeba") else 0.0)  # the data's range
    w = torch.zeros(fit_images(config, dataset, 0), k)  # w holds one row per fitted image
    with tempfile.TemporaryDirectory() as run_dir:
        ctx = RunContext(k=k, seed=0, run_dir=Path(run_dir), device=torch.device("cpu"), progress=False)
        if base == "ganem":
            from ganem.model.em import GANEMTrainer

            t = GANEMTrainer(params, ctx)
            t.prepare(x)
            t.begin_iteration(0, torch.full((k,), 1.0 / k))  # the optimisers of the first EM iteration
            _step_all(t.opt.values())
            slim = {"G": t.G.state_dict(), "D": t.D.state_dict(), "E": t.E.state_dict(), "w": w}
            return _nbytes({**slim, "opt": {n: o.state_dict() for n, o in t.opt.items()}}), _nbytes(slim)
        from baselines.ganmm.train import GANMMTrainer

        t = GANMMTrainer(params, ctx)
        t._build(x, torch.Generator().manual_seed(0))
        optimizers = [t.opt_c, *t.opt_g, *t.opt_d]
        _step_all(optimizers)
        slim = {"G": [g.state_dict() for g in t.G], "D": [d.state_dict() for d in t.D], "C": t.C.state_dict()}
        return _nbytes({**slim, "opt": [o.state_dict() for o in optimizers]}), _nbytes(slim)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", type=Path, default=REPO / "config" / "config.yaml")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = yaml.safe_load(args.configfile.read_text())
    runs = planned_runs(args.configfile)
    sizes: dict[tuple, tuple[int, int]] = {}
    total_whole = total_slim = 0
    print(f"{'method':8} {'dataset family':16} {'K':>3} {'runs':>5} {'whole MB':>9} {'slim MB':>8}")
    groups = Counter()
    for (method, dataset, k, variant), n in sorted(runs.items(), key=str):
        if base_method(config, method) not in ("ganem", "ganmm"):
            continue
        family = dataset.split("-", 1)[0]
        key = (method, family, k, variant)
        if key not in sizes:
            sizes[key] = checkpoint_bytes(config, method, dataset, k, variant)
        groups[key] += n
    for key, n in groups.items():
        whole, slim = sizes[key]
        total_whole += n * whole
        total_slim += n * slim
        print(f"{key[0]:8} {key[1] + (' ' + key[3] if key[3] else ''):16} {key[2]:>3} {n:>5} "
              f"{whole / 1e6:>9.1f} {slim / 1e6:>8.1f}")
    print(f"total: {total_whole / 1e9:.1f} GB kept whole, {total_slim / 1e9:.1f} GB slim, 0 removed "
          f"({sum(groups.values())} neural runs)")


if __name__ == "__main__":
    main()
