# Shared by every rule file: config validation, the resolved config file the CLI reads, and the
# file names of the runs, tables and figures ganem/plan.py lists for this config. Rules call
# `python -m ganem ...`; no logic here beyond naming files.
import hashlib
import json
import os
import shlex
import sys
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError

from ganem import data, feasibility, gpu_pin, plan
from ganem.config import ConfigError, normalise_cli_values, parse_setting, run_settings, setting_name, validate
from ganem.job_resources import gpu_pin_command, training_resources

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


def run_resources(method, wildcards, attempt=1):
    """threads, mem_mb, runtime (minutes, from the run's cost) and gpu of one training job
    (ganem/job_resources.py), the same under every executor."""
    return training_resources(config, method, wildcards.dataset, parse_setting(wildcards.setting),
                              int(wildcards.k), attempt)


def metrics_of(run):
    """metrics.json of a ganem.plan.Run: its run folder, or its variant folder (Fig. 4)."""
    where = (run.dataset, run.n_labels, run.k, run.seed)
    folder = run_dir(run.method, *where) if run.variant is None else variant_dir(run.variant, *where)
    return f"{folder}/metrics.json"


# Which runs, tables and figures each target needs is decided in ganem/plan.py (unit-tested;
# `python -m ganem plan` counts and prices the same lists); below they only become file names.
def table1_runs():
    """metrics.json of every run the configured Table 1 columns need."""
    return [metrics_of(run) for run in plan.table1_runs(config)]


def first_seed():
    return plan.first_seed(config)


def celeba_runs():
    """metrics.json of every CelebA run (K=2, one dataset celeba-<Attribute> per attribute)."""
    return [metrics_of(run) for run in plan.celeba_runs(config)]


def variant_dir(variant, dataset, n_labels, k, seed):
    """Fig. 4 runs differ from the Table 1 runs only in GAN-EM parameters, so they live apart."""
    return f"results/variants/{variant}/ganem/{dataset}/{setting_name(n_labels)}/K{k}/seed{seed}"


def fig4_panel_args():
    """`--panel LABEL METRICS` options of `python -m ganem figure tsne`, in panel order."""
    return " ".join(f"--panel {shlex.quote(title)} {metrics_of(run)}" for title, run in plan.fig4_panels(config))


def variant_overrides(variant, dataset):
    """The `--set` options that turn a plain GAN-EM run into a Fig. 4 variant."""
    return " ".join(f"--set {item}" for item in plan.variant_settings(config, variant, dataset))


def ablation_runs():
    """metrics.json of every run of the ablation (its variants x seeds on one unsupervised cell)."""
    return [metrics_of(run) for run in plan.ablation_runs(config)]


def all_runs():
    """Every run the config enables (Table 1, CelebA, toy 2-D, ablation, Fig. 4 variants), each once."""
    return [metrics_of(run) for run in plan.targets(config)["all"]]


FIG2_PANELS = plan.FIG2_PANELS
FIG3_PANELS = plan.FIG3_PANELS
FIGURES = plan.figures(config)
TABLE_FILES = {  # plan.tables() entry -> the files its rule writes
    "table1": ["results/table1.csv", "results/table1.md"],
    "table2": ["results/table2.csv", "results/table2.md"],
    "table3": ["results/table3.csv", "results/table3.md"],
    "toy2d": ["results/toy2d.csv", "results/toy2d_summary.csv", "results/toy2d.md"],
    "ablation": ["results/ablation.csv", "results/ablation.md"],
    "budget": ["results/budget.csv", "results/budget.md"],
}


def figure_inputs(name):
    """Inputs of a figure; a WorkflowError naming the missing config when it is not a target."""
    figure = FIGURES[name]
    if not figure.enabled:
        raise WorkflowError(f"figures/{name}.png is not a target of this config: it needs {figure.needs}. "
                            "`all` does not ask for it; add that to the config to draw it.")
    return [metrics_of(run) for run in figure.runs] + [TABLE_FILES[t][0] for t in figure.tables]


def figure_targets():
    return [f"figures/{name}.{ext}" for name, figure in FIGURES.items() if figure.enabled for ext in ("png", "pdf")]


def table_targets():
    return [path for table in plan.tables(config) for path in TABLE_FILES[table]]


def summary_inputs(wildcards):
    """Tables 1-3 (without a celeba section, Tables 2 and 3 hold paper values only)."""
    return {"table1": "results/table1.csv", "table2": "results/table2.csv", "table3": "results/table3.csv"}


def all_targets():
    return table_targets() + ["results/summary.csv", "results/summary.md", "results/runs.csv"] + figure_targets()
