# Shared by every rule file: config validation, the resolved config file the CLI reads, and the
# functions that list which runs each target needs. Rules call `python -m ganem ...`; no logic here
# beyond naming files.
import hashlib
import json
import sys
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError

from ganem.config import ConfigError, method_params, setting_name, validate

# The JSON schema (workflow/schemas/config.schema.yaml) plus the semantic checks, in one pass that
# names the offending key: the same validation `python -m ganem run` applies.
try:
    validate(config, source="config")
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}") from None

PY = sys.executable  # the interpreter running Snakemake (the suite's .venv)
NEURAL = {"ganem", "ganmm"}

# The CLI reads the same resolved config Snakemake sees (after --configfile and --config).
_config_text = yaml.safe_dump(dict(config), sort_keys=True)
CONFIG_FILE = f".snakemake/ganem-config/{hashlib.sha256(_config_text.encode()).hexdigest()[:16]}.yaml"
Path(CONFIG_FILE).parent.mkdir(parents=True, exist_ok=True)
if not Path(CONFIG_FILE).exists():
    Path(CONFIG_FILE).write_text(_config_text)


def run_dir(method, dataset, n_labels, k, seed):
    return f"results/runs/{method}/{dataset}/{setting_name(n_labels)}/K{k}/seed{seed}"


def labels_of(setting):
    """'unsup' -> 0, 'labels100' -> 100 (the inverse of ganem.config.setting_name)."""
    return 0 if setting == "unsup" else int(setting.removeprefix("labels"))


def table1_runs():
    """metrics.json of every run the configured Table 1 columns need."""
    return [
        f"{run_dir(method, spec['dataset'], spec['n_labels'], k, seed)}/metrics.json"
        for spec in config["table1"].values()
        for method, ks in spec["methods"].items()
        for k in ks
        for seed in config["seeds"]
    ]


def all_targets():
    return ["results/table1.csv", "results/table1.md"]
