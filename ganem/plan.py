"""Which runs each target of the DAG needs, and what they cost: ``python -m ganem plan``.

The run lists are the ones the Snakefile builds (workflow/rules/common.smk maps these tuples to run
folders), so the plan counts exactly the jobs ``snakemake <target>`` would run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganem import cost
from ganem.config import resolved_params

CELEBA_N_LABELS = {"unsup": 0, "semi_100": 100}  # config key under celeba.settings -> n_labels
FIG4_DEFAULT_BOTTLENECKS = [1000, 100, 2]  # Sec. 5.4
FIG4_DEFAULT_SUPERVISED_BOTTLENECK = 100


@dataclass(frozen=True)
class Run:
    method: str
    dataset: str
    n_labels: int
    k: int
    seed: int
    variant: str | None = None  # Fig. 4 runs: 'supervised' or 'bottleneck<k>' (GAN-EM parameters differ)


def first_seed(config: dict[str, Any]) -> int:
    """The seed whose run a single-run figure shows: 0 when configured, else the smallest."""
    return 0 if 0 in config["seeds"] else min(config["seeds"])


def table1_runs(config: dict[str, Any]) -> list[Run]:
    return [Run(method, spec["dataset"], spec["n_labels"], k, seed)
            for spec in config["table1"].values()
            for method, ks in spec["methods"].items() for k in ks for seed in config["seeds"]]


def celeba_attributes(config: dict[str, Any]) -> list[str]:
    from ganem.data import CELEBA_ATTRIBUTES

    attrs = (config.get("celeba") or {}).get("attributes", [])
    return list(CELEBA_ATTRIBUTES) if attrs == "all" else list(attrs)


def celeba_runs(config: dict[str, Any]) -> list[Run]:
    """Tables 2 and 3: K=2, one dataset celeba-<Attribute> per attribute."""
    spec = config.get("celeba") or {}
    return [Run(method, f"celeba-{attr}", CELEBA_N_LABELS[setting], 2, seed)
            for setting, sspec in spec.get("settings", {}).items() for method in sspec["methods"]
            for attr in celeba_attributes(config) for seed in config["seeds"]]


def toy2d_runs(config: dict[str, Any]) -> list[Run]:
    spec = config.get("toy2d") or {}
    return [Run(method, dataset, 0, 2, seed) for dataset in spec.get("datasets", [])
            for method in spec.get("methods", []) for seed in spec.get("seeds", [])]


def ablation_seeds(config: dict[str, Any], method: str) -> list[int]:
    """The seeds of one ablation row: its own under ``seeds_by_method`` (a row pruned after its first
    seeds), else the ablation's ``seeds``, else the top-level ones."""
    spec = config.get("ablation") or {}
    return spec.get("seeds_by_method", {}).get(method, spec.get("seeds", config["seeds"]))


def ablation_runs(config: dict[str, Any]) -> list[Run]:
    """The ablation's variants x seeds on one unsupervised cell."""
    spec = config.get("ablation") or {}
    return [Run(method, spec["dataset"], 0, spec.get("k", 10), seed) for method in spec.get("methods", [])
            for seed in ablation_seeds(config, method)]


@dataclass(frozen=True)
class Pack:
    """Seeds of one cell trained in one job (``seeds_per_job``)."""
    method: str
    dataset: str
    n_labels: int | str
    k: int
    seeds: tuple[int, ...]


def seed_packs(config: dict[str, Any]) -> list[Pack]:
    """The runs of ``all`` whose method steps seeds together, S = ``seeds_per_job`` seeds of a cell to
    a job, in seed order; a cell's last pack may be smaller, and a single seed left over stays a plain
    run. Fig. 4's variant runs (one seed each) are never packed. [] when S = 1."""
    from ganem.config import resolve_method
    from ganem.methods import get_method

    size = int(config.get("seeds_per_job", 1))
    if size < 2:
        return []
    cells: dict[tuple, list[int]] = {}
    for run in targets(config).get("all", []):
        if run.variant is None and get_method(resolve_method(config, run.method).method).steps_seeds_together:
            cells.setdefault((run.method, run.dataset, run.n_labels, run.k), []).append(run.seed)
    packs = []
    for (method, dataset, n_labels, k), seeds in cells.items():
        seeds = sorted(set(seeds))
        packs += [Pack(method, dataset, n_labels, k, tuple(seeds[i:i + size])) for i in range(0, len(seeds), size)
                  if len(seeds[i:i + size]) > 1]
    return packs


def fig4_panels(config: dict[str, Any]) -> list[tuple[str, Run]]:
    """[(panel title, run)] of Fig. 4 in the paper's order; [] when the config has no fig4."""
    spec = config.get("fig4")
    if not spec:
        return []
    dataset, k = spec["dataset"], spec.get("k", 10)
    seed = spec.get("seed", first_seed(config))
    panels = []
    if spec.get("supervised"):
        sup = spec["supervised"]
        dim = sup.get("bottleneck", FIG4_DEFAULT_SUPERVISED_BOTTLENECK)
        panels.append((f"supervised reference, k={dim}", Run("ganem", dataset, sup["n_labels"], k, seed, "supervised")))
    for dim in spec.get("bottlenecks", FIG4_DEFAULT_BOTTLENECKS):
        panels.append((f"unsupervised, k={dim}", Run("ganem", dataset, 0, k, seed, f"bottleneck{dim}")))
    return panels


def variant_params(config: dict[str, Any], variant: str) -> dict[str, Any]:
    """The GAN-EM parameters that turn a plain run into a Fig. 4 variant."""
    if variant == "supervised":
        dim = config["fig4"]["supervised"].get("bottleneck", FIG4_DEFAULT_SUPERVISED_BOTTLENECK)
        return {"supervised_reference": True, "bottleneck": dim}
    return {"bottleneck": int(variant.removeprefix("bottleneck"))}


def targets(config: dict[str, Any]) -> dict[str, list[Run]]:
    """The runs of each table/figure group and of ``all`` (each run once)."""
    groups = {"table1": table1_runs(config), "table2+3 (CelebA)": celeba_runs(config),
              "toy2d": toy2d_runs(config), "ablation": ablation_runs(config),
              "fig4": [run for _, run in fig4_panels(config)]}
    groups = {name: runs for name, runs in groups.items() if runs}
    groups["all"] = list(dict.fromkeys(run for runs in groups.values() for run in runs))
    return groups


def run_steps(config: dict[str, Any], run: Run, device_type: str) -> cost.RunSteps:
    if run.variant:
        from ganem.config import apply_overrides

        key = f"datasets.{run.dataset}.methods.ganem"
        config = apply_overrides(config, [f"{key}.{name}={str(value).lower() if isinstance(value, bool) else value}"
                                          for name, value in variant_params(config, run.variant).items()])
    return cost.run_steps(config, run.method, run.dataset, run.n_labels, run.k, device_type)


def params_per_family(config: dict[str, Any], runs: list[Run]) -> tuple[dict[str, Any], dict[str, Any]]:
    """({family: GAN-EM Params}, {family: GANMM Params}) of the first plain run of each family: what
    a timing of this config's steps uses (networks, widths and batch sizes as configured)."""
    found: dict[str, dict[str, Any]] = {"ganem": {}, "ganmm": {}}
    for run in runs:
        base = cost.base_method(config, run.method)
        if base in found and not run.variant:
            family = cost.FAMILY_OF_DATASET[run.dataset.split("-", 1)[0]]
            found[base].setdefault(family, resolved_params(config, run.method, run.dataset))
    return found["ganem"], found["ganmm"]


@dataclass
class Totals:
    runs: int = 0
    gd_steps: int = 0
    e_steps: int = 0
    ganmm_iterations: int = 0
    seconds: float | None = 0.0
    untimed: int = 0  # runs without a timing (k-means, GMM, a family not timed)


def totals(config: dict[str, Any], runs: list[Run], device_type: str, timings: dict[str, Any] | None) -> Totals:
    out = Totals()
    for run in runs:
        steps = run_steps(config, run, device_type)
        out.runs += 1
        out.gd_steps += steps.gd_steps
        out.e_steps += steps.e_steps
        out.ganmm_iterations += steps.ganmm_iterations
        s = cost.seconds(steps, timings) if timings is not None else None
        if s is None:
            out.untimed += 1
        elif out.seconds is not None:
            out.seconds += s
    if timings is None:
        out.seconds = None
    return out


def format_plan(config: dict[str, Any], groups: dict[str, list[Run]], now: dict[str, Any],
                gpu: dict[str, Any] | None) -> str:
    """The plan as a Markdown table: per target its runs, steps and hours on the timed device and
    on a GPU (from the stored timing file; "no GPU measurement yet" until one exists)."""
    now_label = f"hours, {now['device']} now ({now.get('device_name', '')}, {now.get('threads', '?')} thr.)"
    header = ["target", "runs", "G+D steps", "E-steps", "GANMM iterations", now_label]
    if now["device"] != "cuda":
        header.append("hours, GPU" + (f" ({gpu.get('device_name', 'cuda')}, stored)" if gpu else ""))
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    untimed = set()
    for name, runs in groups.items():
        here = totals(config, runs, now["device"], now)
        row = [name, str(here.runs), f"{here.gd_steps:,}", f"{here.e_steps:,}", f"{here.ganmm_iterations:,}",
               _hours(here)]
        if now["device"] != "cuda":
            row.append(_hours(totals(config, runs, "cuda", gpu)) if gpu else "no GPU measurement yet")
        if here.untimed:
            untimed.add(name)
        lines.append("| " + " | ".join(row) + " |")
    notes = ["Hours are one job at a time on one device (divide by parallel jobs); runs without a timing "
             "(k-means, GMM, the supervised reference) are left out of them and counted as (+n untimed)."]
    return "\n".join(lines + [""] + notes)


def _hours(t: Totals) -> str:
    text = "-" if t.seconds is None else f"{t.seconds / 3600:,.{1 if t.seconds >= 36_000 else 2}f}"
    return text + (f" (+{t.untimed} untimed)" if t.untimed else "")
