# Shared by every rule file: config validation, the resolved config file the CLI reads, and the
# functions that list which runs each target needs. Rules call `python -m ganem ...`; no logic here
# beyond naming files.
import hashlib
import json
import os
import shlex
import sys
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError

from ganem import data, feasibility, gpu_pin, plan
from ganem.config import ConfigError, method_params, normalise_cli_values, parse_n_labels, resolve_method, run_settings, setting_name, validate
from ganem.resources import gpu_pin_command, is_neural, training_resources

# `--config seeds=[0,1,2]` arrives as strings (Snakemake reads nested --config values with YAML's
# BaseLoader): numbers and booleans become values again before validation.
config.update(normalise_cli_values(dict(config)))
# The JSON schema (ganem/schemas/config.schema.yaml, package data) plus the semantic checks, in one pass that
# names the offending key: the same validation `python -m ganem run` applies.
try:
    validate(config, source="config")
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}") from None
# Every run's request (labels per class, n_samples, K) against the datasets' known split sizes.
try:
    feasibility.check(config)
except ConfigError as err:
    raise WorkflowError(f"infeasible configuration: {err}") from None

# The budget sweep's runs are generated variants under `methods` (ganem/plan.py), added before the
# resolved config file is written, so every rule and the CLI see the same ones.
try:
    config.update(plan.with_budget_variants(dict(config)))
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}") from None

PY = sys.executable  # the interpreter running Snakemake (the suite's .venv)


def gpu_slots():
    """GPU slots of this run (ganem.gpu_pin.local_slots): on the local executor (no --jobs for a
    cluster: Snakemake's own test, `_nodes` unset) the `gpu` resource defaults to visible GPUs x
    jobs_per_gpu and jobs are pinned; a cluster executor, or a job Snakemake runs on a node, gets
    neither."""
    if workflow.resource_settings.nodes is not None or not workflow.is_main_process:
        return gpu_pin.Slots(0, None, "cluster executor: it places GPU jobs itself")
    given = workflow.global_resources.get("gpu").value
    try:
        return gpu_pin.local_slots(config, dict(os.environ), gpu_pin.torch_device_count, given)
    except ValueError as err:
        raise WorkflowError(str(err)) from None


_slots = gpu_slots()
if _slots.gpu is not None:
    workflow.register_resource("gpu", _slots.gpu)
print(f"ganem: GPU slots: {_slots.why}", file=sys.stderr)
GPU_PIN = gpu_pin_command(_slots.jobs_per_gpu, PY)  # training jobs: `{GPU_PIN} --gpus {resources.gpu} -- ...`


def config_source():
    """The config file(s) this DAG was built from, as tables name them ('config/quick.yaml'), plus the
    keys set with --config, so a reader knows which command rebuilds a table."""
    inside = lambda f: not os.path.relpath(f).startswith("..")  # noqa: E731
    files = [os.path.relpath(f) if inside(f) else str(f) for f in workflow.configfiles]
    overrides = sorted(workflow.config_settings.config or {})  # the --config keys only
    return " + ".join(files) + (f" with --config {', '.join(overrides)}" if overrides else "")


CONFIG_SOURCE = shlex.quote(config_source())

# The CLI reads the same resolved config Snakemake sees (after --configfile and --config).
_config_text = yaml.safe_dump(dict(config), sort_keys=True)
CONFIG_FILE = f".snakemake/ganem-config/{hashlib.sha256(_config_text.encode()).hexdigest()[:16]}.yaml"
Path(CONFIG_FILE).parent.mkdir(parents=True, exist_ok=True)
if not Path(CONFIG_FILE).exists():
    Path(CONFIG_FILE).write_text(_config_text)
# A table or figure built under one config never answers a request under another: the resolved
# config (its file is named by its digest) and its source are a param of every table and figure rule,
# and Snakemake reruns a job whose params changed (a default rerun trigger). Without it a table built
# by `make quick` would satisfy `snakemake results/table1.csv` under config/config.yaml whenever the
# paper config's runs are a subset of those already on disk.
BUILT_FROM = f"{CONFIG_FILE} {CONFIG_SOURCE}"


def run_dir(method, dataset, n_labels, k, seed):
    return f"results/runs/{method}/{dataset}/{setting_name(n_labels)}/K{k}/seed{seed}"


def manifest_of(dataset):
    """The data rule's manifest a run depends on: one per dataset family (every celeba-<Attribute> run
    waits for the one CelebA fetch). An unknown dataset in a target path stops the plan here."""
    try:
        return f"data/manifests/{data.family(dataset)}.json"
    except data.DataError as err:
        raise WorkflowError(f"{err} (in the target path {dataset!r})") from None


def manifest(wildcards):
    return manifest_of(wildcards.dataset)


def labels_of(setting):
    """'unsup' -> 0, 'labels100' -> 100, 'labelsall' -> 'all' (the inverse of ganem.config.setting_name)."""
    return 0 if setting == "unsup" else parse_n_labels(setting.removeprefix("labels"))


def run_resources(method, wildcards, attempt=1):
    """threads, mem_mb, runtime (minutes, from the run's cost) and gpu of one training job
    (ganem/resources.py), the same under every executor."""
    return training_resources(config, method, wildcards.dataset, labels_of(wildcards.setting),
                              int(wildcards.k), attempt)


def metrics_of(run):
    """metrics.json of a ganem.plan.Run: its run folder, or its variant folder (Fig. 4)."""
    where = (run.dataset, run.n_labels, run.k, run.seed)
    folder = run_dir(run.method, *where) if run.variant is None else variant_dir(run.variant, *where)
    return f"{folder}/metrics.json"


# Which runs each target needs is decided in ganem/plan.py (unit-tested; `python -m ganem plan`
# counts and prices the same lists); below they only become file names.
def table1_runs():
    """metrics.json of every run the configured Table 1 columns need."""
    return [metrics_of(run) for run in plan.table1_runs(config)]


def first_seed(seeds=None):
    """The seed whose run a single-run figure shows: 0 when configured, else the smallest."""
    return plan.first_seed(config if seeds is None else {"seeds": seeds})


def celeba_attributes():
    return plan.celeba_attributes(config)


def celeba_runs():
    """metrics.json of every CelebA run (K=2, one dataset celeba-<Attribute> per attribute)."""
    return [metrics_of(run) for run in plan.celeba_runs(config)]


def toy2d_runs():
    """metrics.json of every run of the 2-D toy experiment (K=2, unsupervised, its own seeds)."""
    return [metrics_of(run) for run in plan.toy2d_runs(config)]


def variant_dir(variant, dataset, n_labels, k, seed):
    """Fig. 4 runs differ from the Table 1 runs only in GAN-EM parameters, so they live apart."""
    return f"results/variants/{variant}/ganem/{dataset}/{setting_name(n_labels)}/K{k}/seed{seed}"


def fig4_panels():
    """[(panel title, metrics.json)] of Fig. 4 in the paper's order, [] when the config has no fig4."""
    return [(title, metrics_of(run)) for title, run in plan.fig4_panels(config)]


def fig4_panel_args():
    """`--panel LABEL METRICS` options of `python -m ganem figure tsne`, in panel order."""
    return " ".join(f"--panel {shlex.quote(label)} {path}" for label, path in fig4_panels())


def variant_overrides(variant, dataset):
    """The `--set` options that turn a plain GAN-EM run into a Fig. 4 variant (dataset-level keys,
    so they win over any global or family methods.ganem setting)."""
    key = f"datasets.{dataset}.methods.ganem"
    return " ".join(f"--set {key}.{name}={str(value).lower()}"
                    for name, value in plan.variant_params(config, variant).items())


def ablation_runs():
    """metrics.json of every run of the ablation (its variants x seeds on one unsupervised cell)."""
    return [metrics_of(run) for run in plan.ablation_runs(config)]


def budget_runs():
    """metrics.json of every run of the budget sweep (entries x budgets x seeds, then the baselines)."""
    return [metrics_of(run) for run in plan.budget_runs(config)]


def all_runs():
    """Every run the config enables (Table 1, CelebA, toy 2-D, ablation, Fig. 4 variants), each once."""
    return [metrics_of(run) for run in plan.targets(config)["all"]]


# ---------------------------------------------------------------------------------------------
# Figures. Rule: a figure whose runs this config does not enable is NOT a target -- `all` does not
# ask for it, and asking for it by name fails at DAG time with the reason (never a silent skip,
# never a placeholder image). Single-run figures show the run of first_seed().
# ---------------------------------------------------------------------------------------------
FIG2_PANELS = {  # panel -> (Table 1 columns to take GAN-EM from, first configured wins; title)
    "mnist_unsup": (["mnist_unsup"], "Fig. 2: GAN-EM samples, MNIST unsupervised"),
    "mnist_semi": (["mnist_100", "mnist_1000"], "Fig. 2: GAN-EM samples, MNIST semi-supervised"),
    "svhn": (["svhn_1000"], "Fig. 2b: GAN-EM samples, SVHN semi-supervised"),
}
FIG3_PANELS = {  # panel -> (CelebA attribute, title)
    "hat": ("Wearing_Hat", "Fig. 3a: GAN-EM samples after clustering CelebA on 'hat' (Wearing_Hat)"),
    "glasses": ("Eyeglasses", "Fig. 3b: GAN-EM samples after clustering CelebA on 'glasses' (Eyeglasses)"),
}


def fig2_run(panel):
    """metrics.json of the GAN-EM run shown in a Fig. 2 panel (K=10 if run, else the smallest K)."""
    for column in FIG2_PANELS[panel][0]:
        spec = config["table1"].get(column)
        if spec and "ganem" in spec["methods"]:
            ks = spec["methods"]["ganem"]
            k = 10 if 10 in ks else min(ks)
            return f"{run_dir('ganem', spec['dataset'], spec['n_labels'], k, first_seed())}/metrics.json"
    return None


def fig3_run(panel):
    attr = FIG3_PANELS[panel][0]
    spec = config.get("celeba") or {}
    if "ganem" in spec.get("settings", {}).get("unsup", {}).get("methods", []) and attr in celeba_attributes():
        return f"{run_dir('ganem', f'celeba-{attr}', 0, 2, first_seed())}/metrics.json"
    return None


def neural_table1_runs():
    return [m for m in table1_runs() if is_neural(config, m.split("/")[2])]


FIGURE_NEEDS = {  # figure -> (inputs under this config, what enables it)
    **{f"fig2_{p}": (lambda p=p: fig2_run(p), f"GAN-EM in table1.{' or table1.'.join(FIG2_PANELS[p][0])}")
       for p in FIG2_PANELS},
    **{f"fig3_{p}": (lambda p=p: fig3_run(p), f"GAN-EM under celeba.settings.unsup with {FIG3_PANELS[p][0]} "
                                              "among celeba.attributes") for p in FIG3_PANELS},
    "fig4_tsne": (lambda: [m for _, m in fig4_panels()], "a fig4 section (dataset, bottlenecks, supervised)"),
    "error_per_iteration": (neural_table1_runs, "GAN-EM or GANMM in a table1 column"),
    "seed_spread": (table1_runs, "at least one method in a table1 column"),
    "toy2d": (toy2d_runs, "a toy2d section"),
    "ablation_curves": (ablation_runs, "an ablation section"),
    "budget_curve": (budget_runs, "a budget_sweep section"),
    "table3_errors": (lambda: ["results/table3.csv"] if config.get("celeba") else [], "a celeba section"),
}


def figure_inputs(name):
    """Inputs of a figure; a WorkflowError naming the missing config when it is not a target."""
    found, needs = FIGURE_NEEDS[name]
    found = found()
    if not found:
        raise WorkflowError(f"figures/{name}.png is not a target of this config: it needs {needs}. "
                            "`all` does not ask for it; add that to the config to draw it.")
    return found


def figure_targets():
    return [f"figures/{name}.{ext}" for name, (found, _) in FIGURE_NEEDS.items() if found()
            for ext in ("png", "pdf")]


def table_targets():
    # Tables 2 and 3 are always built: without a celeba section they carry the paper's values and
    # say "not in this config" in every measured cell, so a reader of `make quick` sees what is missing.
    targets = ["results/table1.csv", "results/table1.md",
               "results/table2.csv", "results/table2.md", "results/table3.csv", "results/table3.md"]
    if config.get("toy2d"):
        targets += ["results/toy2d.csv", "results/toy2d_summary.csv", "results/toy2d.md"]
    if config.get("ablation"):
        targets += ["results/ablation.csv", "results/ablation.md"]
    if config.get("budget_sweep"):
        targets += ["results/budget.csv", "results/budget.md"]
    return targets


def summary_inputs(wildcards):
    """Tables 1-3 (without a celeba section, Tables 2 and 3 hold paper values only)."""
    return {"table1": "results/table1.csv", "table2": "results/table2.csv", "table3": "results/table3.csv"}


def all_targets():
    return table_targets() + ["results/summary.csv", "results/summary.md", "results/runs.csv"] + figure_targets()
