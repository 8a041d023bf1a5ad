"""The experiment plan: which runs, tables and figures a validated config asks for, and what they cost.

This module is the one place that walks the config's experiment sections (``table1``, ``celeba``,
``toy2d``, ``ablation``, ``fig4``). The DAG (workflow/rules/common.smk maps these entries to file
names), the feasibility check, the config's method checks, cost and ``python -m ganem plan`` all read
the lists below, so the plan counts exactly the jobs ``snakemake <target>`` would run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ganem import cost, data
from ganem.config import apply_overrides, base_method, resolved_params
from ganem.methods import get_method

CELEBA_N_LABELS = {"unsup": 0, "semi_100": 100}  # config key under celeba.settings (the paper's column) -> n_labels
DEFAULT_K = 10  # K of the ablation and of Fig. 4 when the config does not say (MNIST's classes)
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
    # The config key that asks for the run (error messages name it); not part of the run's identity,
    # so a run two sections ask for is still planned once.
    source: str = field(default="", compare=False)
    labels_key: str = field(default="", compare=False)  # the key to change when its labels cannot be met

    @property
    def methods_key(self) -> str:
        """The config key listing the run's method ('table1.mnist_unsup.methods', 'toy2d.methods')."""
        return f"{self.source.removesuffix('.datasets')}.methods"


def first_seed(config: dict[str, Any]) -> int:
    """The seed whose run a single-run figure shows: 0 when configured, else the smallest."""
    return 0 if 0 in config["seeds"] else min(config["seeds"])


def table1_runs(config: dict[str, Any]) -> list[Run]:
    return [Run(method, spec["dataset"], spec["n_labels"], k, seed, source=f"table1.{column}",
                labels_key=f"table1.{column}.n_labels")
            for column, spec in config["table1"].items()
            for method, ks in spec["methods"].items() for k in ks for seed in config["seeds"]]


def celeba_attributes(config: dict[str, Any]) -> list[str]:
    """The configured CelebA attributes (``all``: the 40 of list_attr_celeba.txt)."""
    from ganem.data import CELEBA_ATTRIBUTES  # local import: ganem.data pulls in torch

    attrs = (config.get("celeba") or {}).get("attributes", [])
    return list(CELEBA_ATTRIBUTES) if attrs == "all" else list(attrs)


def celeba_runs(config: dict[str, Any]) -> list[Run]:
    """Tables 2 and 3: K=2, one dataset celeba-<Attribute> per attribute."""
    spec = config.get("celeba") or {}
    return [Run(method, f"celeba-{attr}", CELEBA_N_LABELS[setting], 2, seed,
                source=f"celeba.settings.{setting}", labels_key=f"celeba.settings.{setting}")
            for setting, sspec in spec.get("settings", {}).items() for method in sspec["methods"]
            for attr in celeba_attributes(config) for seed in config["seeds"]]


def toy2d_runs(config: dict[str, Any]) -> list[Run]:
    spec = config.get("toy2d") or {}
    return [Run(method, dataset, 0, 2, seed, source="toy2d.datasets") for dataset in spec.get("datasets", [])
            for method in spec.get("methods", []) for seed in spec.get("seeds", [])]


def ablation_seeds(config: dict[str, Any], method: str) -> list[int]:
    """The seeds of one ablation row: its own under ``seeds_by_method`` (a row pruned after its first
    seeds), else the ablation's ``seeds``, else the top-level ones."""
    spec = config.get("ablation") or {}
    return spec.get("seeds_by_method", {}).get(method, spec.get("seeds", config["seeds"]))


def ablation_runs(config: dict[str, Any]) -> list[Run]:
    """The ablation's variants x seeds on one unsupervised cell."""
    spec = config.get("ablation") or {}
    return [Run(method, spec["dataset"], 0, spec.get("k", DEFAULT_K), seed, source="ablation")
            for method in spec.get("methods", []) for seed in ablation_seeds(config, method)]


# ---------------------------------------------------------------------------------------------
# The budget sweep (config ``budget_sweep``, docs/configuration.md): each entry runs one method or
# variant at multiples b of its configured schedule.  Every (entry, b) becomes a generated variant
# ``budget_<entry>_x<b>`` under ``methods`` (``with_budget_variants``), so its runs get folders of
# their own and the run rule, the cost model and the CLI treat them like any other variant.
# ---------------------------------------------------------------------------------------------
def budget_variant_name(entry: str, budget: float) -> str:
    return f"budget_{entry}_x{format(budget, 'g').replace('.', 'p')}"


def _scaled(count: int, budget: float) -> int:
    """A schedule count times b, to the nearest whole step (at least 1)."""
    return max(1, round(count * budget))


def _budget_values(config: dict[str, Any], entry: dict[str, Any], budget: float) -> dict[str, Any]:
    """The parameter values of one entry at budget b, from its base method's resolved values.

    GAN-EM, ``scale: iterations``: em_iterations x b, the same per-iteration schedule; the lr decay
    per iteration unchanged (``decay: per_iteration``: a longer run ends with a smaller lr) or
    decay^(1/b) (``per_run``: every run ends at the base run's final lr).  ``scale: iteration_length``:
    the same EM iterations, each with b times the M-step batches and E-steps (the decay is unchanged:
    the same iterations decay the same).  GANMM: main-loop iterations x b, or with ``equal_seconds_to``
    the iteration count whose estimated seconds (ganem/cost.py, the sweep's timing file) equal those
    of the named GAN-EM entry at the same b."""
    from ganem.config import resolve_method

    base = resolve_method(config, entry["method"]).method
    params = resolved_params(config, entry["method"], entry["dataset"])
    values = dict(params.to_dict())
    if base == "ganem":
        if entry.get("scale", "iterations") == "iterations":
            values["em_iterations"] = _scaled(params.em_iterations, budget)
            if entry.get("decay", "per_iteration") == "per_run":
                values["lr_decay"] = params.lr_decay ** (1 / budget)
        else:
            if params.mstep_batches is not None:
                values["mstep_batches"] = _scaled(params.mstep_batches, budget)
            else:
                values["p_epochs"] = _scaled(params.p_epochs, budget)
            values["q_steps"] = _scaled(params.q_steps, budget)
    elif "equal_seconds_to" in entry:
        values["iterations"] = _equal_seconds_iterations(config, entry, budget, values)
    else:
        values["iterations"] = _scaled(params.iterations, budget)
    return {"method": base, **values}


def _equal_seconds_iterations(config: dict[str, Any], entry: dict[str, Any], budget: float,
                              values: dict[str, Any]) -> int:
    """GANMM's main-loop iterations whose estimated seconds equal the GAN-EM entry's at budget b.
    Seconds are linear in the iterations (pretraining is fixed), so two evaluations give the line."""
    from ganem.config_error import ConfigError

    sweep = config["budget_sweep"]
    device = sweep.get("timings", "cpu")
    timings = cost.stored_timings(device)
    if timings is None:
        raise ConfigError(f"budget_sweep.entries: equal_seconds_to needs timings/{device}.json; write it "
                          f"with `python -m ganem plan --save-timings` on that device")
    ref = sweep["entries"][entry["equal_seconds_to"]]
    probe = {**config, "methods": {**config["methods"], "_ref": _budget_values(config, ref, budget)}}
    target = cost.seconds(cost.run_steps(probe, "_ref", ref["dataset"], 0, sweep.get("k", DEFAULT_K), device), timings)

    def secs(iterations: int) -> float | None:
        probe["methods"]["_ganmm"] = {**values, "method": "ganmm", "iterations": iterations}
        return cost.seconds(cost.run_steps(probe, "_ganmm", entry["dataset"], 0, sweep.get("k", DEFAULT_K), device),
                            timings)
    one, two = secs(1), secs(2)
    if target is None or one is None or two is None:
        raise ConfigError(f"budget_sweep.entries: timings/{device}.json has no GAN-EM or GANMM timing for "
                          f"{entry['dataset']}; measure both with `python -m ganem plan --save-timings`")
    if target < one:
        raise ConfigError(f"budget_sweep.entries: at b={budget:g} GANMM's pretraining and one iteration take an "
                          f"estimated {one:.0f} s, more than the {target:.0f} s of {entry['equal_seconds_to']}; "
                          "raise that entry's budget or lower GANMM's pretrain_iterations")
    return round(1 + (target - one) / (two - one))


def with_budget_variants(config: dict[str, Any]) -> dict[str, Any]:
    """The config with every budget-sweep run's generated variant under ``methods`` (idempotent)."""
    sweep = config.get("budget_sweep")
    if not sweep:
        return config
    methods = dict(config["methods"])
    for name, entry in sweep["entries"].items():
        label = entry.get("label", name)
        for budget in entry["budgets"]:
            methods[budget_variant_name(name, budget)] = {
                "label": f"{label}, {format(budget, 'g')}x", **_budget_values(config, entry, budget)}
    return {**config, "methods": methods}


def budget_seeds(config: dict[str, Any], entry: dict[str, Any], budget: float) -> list[int]:
    """An entry's seeds at budget b: ``seeds_by_budget`` (keys as written, e.g. 9), else its
    ``seeds``, else the sweep's, else the top-level ones."""
    sweep = config["budget_sweep"]
    default = entry.get("seeds", sweep.get("seeds", config["seeds"]))
    by_budget = {float(b): seeds for b, seeds in entry.get("seeds_by_budget", {}).items()}
    return by_budget.get(float(budget), default)


def budget_runs(config: dict[str, Any]) -> list[Run]:
    """The budget sweep's runs: every entry x budget x seed (as its generated variant), then the
    flat baselines (``baselines: {dataset: [kmeans, ...]}``) on the sweep's seeds."""
    sweep = config.get("budget_sweep")
    if not sweep:
        return []
    k = sweep.get("k", DEFAULT_K)
    runs = [Run(budget_variant_name(name, b), entry["dataset"], 0, k, seed, source=f"budget_sweep.entries.{name}")
            for name, entry in sweep["entries"].items() for b in entry["budgets"]
            for seed in budget_seeds(config, entry, b)]
    runs += [Run(method, dataset, 0, k, seed, source=f"budget_sweep.baselines.{dataset}")
             for dataset, methods in sweep.get("baselines", {}).items()
             for method in methods for seed in sweep.get("seeds", config["seeds"])]
    return runs


def continuations(config: dict[str, Any]) -> dict[Run, Run]:
    """The budget sweep's runs that continue a shorter run, each mapped to the run it continues.

    A run whose parameters differ from a shorter run's of the same dataset, K and seed only in the
    method's ``continues_on`` key (GAN-EM's em_iterations under ``scale: iterations, decay:
    per_iteration``; GANMM's main-loop iterations) is that run trained further: nothing in either
    training loop depends on the total length. So it starts from the longest such run's final
    checkpoint (``python -m ganem run --continue-from``) and each seed's longest budget is trained once.
    Entries may share a chain (fourx_iterations' 4x sits between ganem_mnist5k's 3x and 9x).
    ``budget_sweep.continue: false`` trains every budget from scratch."""
    sweep = config.get("budget_sweep")
    if not sweep or not sweep.get("continue", True):
        return {}
    methods = with_budget_variants(config)["methods"]
    chains: dict[tuple, list[tuple[int, Run]]] = {}
    for name, entry in sweep["entries"].items():
        for budget in entry["budgets"]:
            values = dict(methods[budget_variant_name(name, budget)])
            length_key = get_method(values["method"]).continues_on
            if length_key is None:
                continue
            length = values.pop(length_key)
            values.pop("label", None)
            for seed in budget_seeds(config, entry, budget):
                run = Run(budget_variant_name(name, budget), entry["dataset"], 0, sweep.get("k", DEFAULT_K), seed)
                cell = (run.dataset, run.k, seed, json.dumps(values, sort_keys=True, default=str))
                chains.setdefault(cell, []).append((length, run))
    links = {}
    for chain in chains.values():  # in config order: of equally long shorter runs the first listed
        for length, run in chain:
            shorter = [pair for pair in chain if pair[0] < length]
            if shorter:
                longest = max(pair[0] for pair in shorter)
                links[run] = next(before for n, before in shorter if n == longest)
    return links


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
    from ganem.methods import get_method  # local import: the method registry pulls in torch

    size = int(config.get("seeds_per_job", 1))
    if size < 2:
        return []
    cells: dict[tuple, list[int]] = {}
    for run in targets(config).get("all", []):
        if run.variant is None and get_method(base_method(config, run.method)).steps_seeds_together:
            cells.setdefault((run.method, run.dataset, run.n_labels, run.k), []).append(run.seed)
    packs = []
    for (method, dataset, n_labels, k), seeds in cells.items():
        seeds = sorted(set(seeds))
        packs += [Pack(method, dataset, n_labels, k, tuple(seeds[i:i + size])) for i in range(0, len(seeds), size)
                  if len(seeds[i:i + size]) > 1]
    return packs


def fig4_seed(config: dict[str, Any]) -> int:
    """The seed of Fig. 4's runs (and of its t-SNE): ``fig4.seed``, else first_seed()."""
    return config["fig4"].get("seed", first_seed(config))


def fig4_panels(config: dict[str, Any]) -> list[tuple[str, Run]]:
    """[(panel title, run)] of Fig. 4 in the paper's order; [] when the config has no fig4."""
    spec = config.get("fig4")
    if not spec:
        return []
    dataset, k, seed = spec["dataset"], spec.get("k", DEFAULT_K), fig4_seed(config)
    panels = []
    if spec.get("supervised"):
        sup = spec["supervised"]
        dim = sup.get("bottleneck", FIG4_DEFAULT_SUPERVISED_BOTTLENECK)
        panels.append((f"supervised reference, k={dim}", Run("ganem", dataset, sup["n_labels"], k, seed, "supervised",
                                                                   source="fig4",
                                                                   labels_key="fig4.supervised.n_labels")))
    for dim in spec.get("bottlenecks", FIG4_DEFAULT_BOTTLENECKS):
        panels.append((f"unsupervised, k={dim}", Run("ganem", dataset, 0, k, seed, f"bottleneck{dim}", source="fig4")))
    return panels


def variant_params(config: dict[str, Any], variant: str) -> dict[str, Any]:
    """The GAN-EM parameters that turn a plain run into a Fig. 4 variant."""
    if variant == "supervised":
        dim = config["fig4"]["supervised"].get("bottleneck", FIG4_DEFAULT_SUPERVISED_BOTTLENECK)
        return {"supervised_reference": True, "bottleneck": dim}
    return {"bottleneck": int(variant.removeprefix("bottleneck"))}


def variant_settings(config: dict[str, Any], variant: str, dataset: str) -> list[str]:
    """``KEY=VALUE`` overrides that turn a plain GAN-EM run into a Fig. 4 variant: dataset-level keys,
    so they win over any global or family ``methods.ganem`` setting (the DAG passes them as ``--set``)."""
    key = f"datasets.{dataset}.methods.ganem"
    return [f"{key}.{name}={str(value).lower()}" for name, value in variant_params(config, variant).items()]


def targets(config: dict[str, Any]) -> dict[str, list[Run]]:
    """The runs of each table/figure group and of ``all`` (each run once)."""
    groups = {"table1": table1_runs(config), "table2+3 (CelebA)": celeba_runs(config),
              "toy2d": toy2d_runs(config), "ablation": ablation_runs(config),
              "fig4": [run for _, run in fig4_panels(config)], "budget sweep": budget_runs(config)}
    groups = {name: runs for name, runs in groups.items() if runs}
    groups["all"] = list(dict.fromkeys(run for runs in groups.values() for run in runs))
    return groups


def tables(config: dict[str, Any]) -> list[str]:
    """The tables ``all`` builds. Tables 2 and 3 always: without a celeba section they carry the
    paper's values and say "not in this config" in every measured cell, so a reader of ``make quick``
    sees what is missing."""
    return (["table1", "table2", "table3"] + (["toy2d"] if config.get("toy2d") else [])
            + (["ablation"] if config.get("ablation") else []) + (["budget"] if config.get("budget_sweep") else []))


# Figures. A figure whose runs this config does not enable is NOT a target: ``all`` does not ask for
# it, and asking for it by name fails at DAG time with ``Figure.needs`` (never a silent skip, never a
# placeholder image). Single-run figures show the run of first_seed().
FIG2_PANELS = {  # panel -> (Table 1 columns to take GAN-EM from, first configured wins; title)
    "mnist_unsup": (["mnist_unsup"], "Fig. 2: GAN-EM samples, MNIST unsupervised"),
    "mnist_semi": (["mnist_100", "mnist_1000"], "Fig. 2: GAN-EM samples, MNIST semi-supervised"),
    "svhn": (["svhn_1000"], "Fig. 2b: GAN-EM samples, SVHN semi-supervised"),
}
FIG3_PANELS = {  # panel -> (CelebA attribute, title)
    "hat": ("Wearing_Hat", "Fig. 3a: GAN-EM samples after clustering CelebA on 'hat' (Wearing_Hat)"),
    "glasses": ("Eyeglasses", "Fig. 3b: GAN-EM samples after clustering CelebA on 'glasses' (Eyeglasses)"),
}


@dataclass(frozen=True)
class Figure:
    """One figure of ``all``: the runs it shows (or the tables it draws from) and what enables it."""

    runs: list[Run]
    tables: list[str]
    needs: str  # the config that enables it, for the error when it is asked for without that

    @property
    def enabled(self) -> bool:
        return bool(self.runs or self.tables)


def fig2_run(config: dict[str, Any], panel: str) -> Run | None:
    """The GAN-EM run a Fig. 2 panel shows: K=10 if run, else the smallest K; None when not run."""
    for column in FIG2_PANELS[panel][0]:
        spec = config["table1"].get(column)
        if spec and "ganem" in spec["methods"]:
            ks = spec["methods"]["ganem"]
            k = DEFAULT_K if DEFAULT_K in ks else min(ks)
            return Run("ganem", spec["dataset"], spec["n_labels"], k, first_seed(config))
    return None


def fig3_run(config: dict[str, Any], panel: str) -> Run | None:
    """The unsupervised GAN-EM run of the panel's attribute a Fig. 3 panel shows; None when not run."""
    attr = FIG3_PANELS[panel][0]
    spec = config.get("celeba") or {}
    if "ganem" in spec.get("settings", {}).get("unsup", {}).get("methods", []) and attr in celeba_attributes(config):
        return Run("ganem", f"celeba-{attr}", 0, 2, first_seed(config))
    return None


def figures(config: dict[str, Any]) -> dict[str, Figure]:
    """Every figure the suite draws, in drawing order, with the runs it shows under this config."""
    from ganem.job_resources import is_neural  # local import: the method registry pulls in torch

    one = lambda run: [run] if run else []  # noqa: E731
    out = {f"fig2_{p}": Figure(one(fig2_run(config, p)), [], f"GAN-EM in table1.{' or table1.'.join(cols)}")
           for p, (cols, _) in FIG2_PANELS.items()}
    out |= {f"fig3_{p}": Figure(one(fig3_run(config, p)), [],
                                f"GAN-EM under celeba.settings.unsup with {attr} among celeba.attributes")
            for p, (attr, _) in FIG3_PANELS.items()}
    table1 = table1_runs(config)
    out |= {
        "fig4_tsne": Figure([run for _, run in fig4_panels(config)], [],
                            "a fig4 section (dataset, bottlenecks, supervised)"),
        "error_per_iteration": Figure([r for r in table1 if is_neural(config, r.method)], [],
                                      "GAN-EM or GANMM in a table1 column"),
        "seed_spread": Figure(table1, [], "at least one method in a table1 column"),
        "toy2d": Figure(toy2d_runs(config), [], "a toy2d section"),
        "ablation_curves": Figure(ablation_runs(config), [], "an ablation section"),
        "budget_curve": Figure(budget_runs(config), [], "a budget_sweep section"),
        "table3_errors": Figure([], ["table3"] if config.get("celeba") else [], "a celeba section"),
    }
    return out


def run_steps(config: dict[str, Any], run: Run, device_type: str) -> cost.RunSteps:
    if run.variant:
        config = apply_overrides(config, variant_settings(config, run.variant, run.dataset))
    return cost.run_steps(config, run.method, run.dataset, run.n_labels, run.k, device_type)


def params_per_family(config: dict[str, Any], runs: list[Run]) -> tuple[dict[str, Any], dict[str, Any]]:
    """({family: GAN-EM Params}, {family: GANMM Params}) of the first plain run of each family: what
    a timing of this config's steps uses (networks, widths and batch sizes as configured)."""
    found: dict[str, dict[str, Any]] = {"ganem": {}, "ganmm": {}}
    for run in runs:
        base = base_method(config, run.method)
        if base in found and not run.variant:
            family = data.entry(run.dataset).net
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
    """Runs, steps and seconds of ``runs``; a run that continues a shorter one counts only its own part."""
    out = Totals()
    links = continuations(config)
    for run in runs:
        steps = run_steps(config, run, device_type)
        if run in links:
            steps = _minus(steps, run_steps(config, links[run], device_type))
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


def _minus(steps: cost.RunSteps, before: cost.RunSteps) -> cost.RunSteps:
    """The work of a continued run beyond the run it continues (counts subtract; batch sizes stay)."""
    counts = {name: getattr(steps, name) - getattr(before, name) for name in steps.__dataclass_fields__
              if name not in ("family", "n_images", "gd_batch", "e_batch")}
    return replace(steps, **counts)


def format_plan(config: dict[str, Any], groups: dict[str, list[Run]], now: dict[str, Any],
                gpu: dict[str, Any] | None) -> str:
    """The plan as a Markdown table: per target its runs, steps and hours on the timed device and
    on a GPU (from the stored timing file; "no GPU measurement yet" until one exists)."""
    now_label = f"hours, {now['device']} now ({now.get('device_name', '')}, {now.get('threads', '?')} thr.)"
    header = ["target", "runs", "G+D steps", "E-steps", "GANMM iterations", now_label]
    if now["device"] != "cuda":
        header.append("hours, GPU" + (f" ({gpu.get('device_name', 'cuda')}, stored)" if gpu else ""))
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, runs in groups.items():
        here = totals(config, runs, now["device"], now)
        row = [name, str(here.runs), f"{here.gd_steps:,}", f"{here.e_steps:,}", f"{here.ganmm_iterations:,}",
               _hours(here)]
        if now["device"] != "cuda":
            row.append(_hours(totals(config, runs, "cuda", gpu)) if gpu else "no GPU measurement yet")
        lines.append("| " + " | ".join(row) + " |")
    notes = ["Hours are one job at a time on one device (divide by parallel jobs); runs without a timing "
             "(k-means, GMM, the supervised reference) are left out of them and counted as (+n untimed)."]
    return "\n".join(lines + [""] + notes)


def _hours(t: Totals) -> str:
    text = "-" if t.seconds is None else f"{t.seconds / 3600:,.{1 if t.seconds >= 36_000 else 2}f}"
    return text + (f" (+{t.untimed} untimed)" if t.untimed else "")
