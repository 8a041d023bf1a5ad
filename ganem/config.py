"""Loading, overriding and validating the suite's configuration.

One validation path serves both entry points: the Snakefile calls ``validate`` when the DAG is
built (so a bad config fails before any job runs) and ``python -m ganem run`` calls it again for
the config it resolves. Structural checks come from the JSON schema in
``ganem/schemas/config.schema.yaml`` (package data); semantic ones (known datasets, labels versus
images) are below.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ganem.config_error import ConfigError
from ganem.gpu_pin import JOBS_PER_GPU_DEFAULT
from ganem.methods import METHODS, get_method, make_params

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "config.yaml"

__all__ = ["ConfigError", "load_config", "apply_overrides", "parse_value", "normalise_cli_values", "validate",
           "method_params", "run_settings", "resolve_method", "Variant", "dataset_settings", "setting_name", "splits_for",
           "ALL_LABELS", "parse_n_labels"]

# YAML 1.1 (PyYAML) reads 2e-4 as the *string* "2e-4" (it wants a dot: 2.0e-4).  On the command
# line that is never what anyone means, so `--set` values that look like numbers become numbers.
ALL_LABELS = "all"  # n_labels: every fitted image labelled (Fig. 4a's supervised reference), not balanced
_INTEGER = re.compile(r"[-+]?\d+")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """Read a YAML config, apply ``key.sub=value`` overrides, validate, return the dict."""
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(f"config file {path} not found; pass --config with an existing YAML file "
                          f"(the suite ships config/config.yaml and config/quick.yaml)")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from err
    config = apply_overrides(config, overrides or [])
    validate(config, source=str(path))
    from ganem.plan import with_budget_variants  # plan imports this module

    return with_budget_variants(config)


def apply_overrides(config: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``config`` with ``a.b.c=value`` assignments applied (value parsed as YAML)."""
    config = copy.deepcopy(config)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. --set methods.gmm.n_init=3")
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: {part!r} is not a section")
        node[leaf] = parse_value(raw)
    return config


def parse_value(raw: str) -> Any:
    """A ``--set`` value: YAML, except that anything shaped like a number (2e-4 too) is a number."""
    value = yaml.safe_load(raw)
    return _number(value) if isinstance(value, str) else value


def _number(text: str) -> Any:
    """int or float when ``text`` is shaped like one, else ``text`` unchanged."""
    t = text.strip()
    if _INTEGER.fullmatch(t):
        return int(t)
    return float(t) if _NUMBER.fullmatch(t) else text


def normalise_cli_values(value: Any) -> Any:
    """Snakemake parses nested ``--config`` values (``seeds=[0,1,2]``) with YAML's BaseLoader, which
    leaves every scalar a string; turn number- and boolean-shaped strings back into values."""
    if isinstance(value, dict):
        return {k: normalise_cli_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_cli_values(v) for v in value]
    if isinstance(value, str):
        if value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return _number(value)
    return value


def validate(config: dict[str, Any], source: str = "config") -> None:
    """Raise ConfigError naming the first problem and its fix; return None when the config is sound."""
    schema = yaml.safe_load(resources.files("ganem").joinpath("schemas/config.schema.yaml").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise ConfigError(f"{source}: {where}: {err.message}")
    _check_semantics(config, source)


def _check_semantics(config: dict[str, Any], source: str) -> None:
    from ganem import data  # local import: data pulls in torch
    from ganem import plan  # local import: plan reads this module (a cycle at import time)

    jobs_per_gpu = config.get("jobs_per_gpu", JOBS_PER_GPU_DEFAULT)
    if jobs_per_gpu and config.get("gpus_per_job", 0) > 1:
        raise ConfigError(f"{source}: jobs_per_gpu={jobs_per_gpu} pins each job to one GPU, so it "
                          f"needs gpus_per_job 0 or 1 (got {config['gpus_per_job']}); set gpus_per_job: 1 "
                          "or jobs_per_gpu: 0")
    _check_budget_sweep(config, source)  # before plan expands it into variants and runs
    expanded = plan.with_budget_variants(dict(config))  # the sweep's runs name generated variants
    if plan.continuations(expanded) and config.get("checkpoints", "slim") != "keep":
        raise ConfigError(f"{source}: budget_sweep: its longer budgets continue the shorter runs' final "
                          "checkpoints (budget_sweep.continue, default true), which needs the optimiser states "
                          f"in them; set checkpoints: keep (now {config.get('checkpoints', 'slim')}), or "
                          "budget_sweep.continue: false to train every budget from scratch")
    runs = plan.targets(expanded).get("all", [])
    used = {run.dataset for run in runs}
    for name in sorted(used):  # names first: a misspelt name is "unknown dataset", not "no semi splits"
        try:
            data.check_name(name)
        except data.DataError as err:
            raise ConfigError(f"{source}: {err}") from err
    for column, spec in config["table1"].items():
        if spec["n_labels"] and "semi" not in dataset_settings(config, spec["dataset"]):
            raise ConfigError(f"{source}: table1.{column} has n_labels={spec['n_labels']} but "
                              f"datasets.{spec['dataset']} has no 'semi' splits; add them")
        for method, ks in spec["methods"].items():
            _check_labels(config, source, f"table1.{column}", spec["dataset"], spec["n_labels"], ks)
    for name in sorted(used):
        settings = dataset_settings(config, name)
        for mode in ("unsup", "semi"):
            for role in ("fit", "score"):
                split = settings.get(mode, {}).get(role)
                if split is not None and split not in data.splits(name):
                    raise ConfigError(f"{source}: datasets.{name}.{mode}.{role}: unknown split {split!r} "
                                      f"for {name}; choose one of {list(data.splits(name))}")
    for name in config["methods"]:
        variant = resolve_method(config, name)
        make_params(get_method(variant.method).Params, variant.values, f"{source}: methods.{name}")
    for dataset, settings in config["datasets"].items():
        for name, values in settings.get("methods", {}).items():
            variant = resolve_method(config, name, where=f"{source}: datasets.{dataset}.methods")
            if set(values) & set(VARIANT_KEYS):
                raise ConfigError(f"{source}: datasets.{dataset}.methods.{name}: {sorted(VARIANT_KEYS)} belong "
                                  f"under methods.{name}, not in a dataset's overrides")
            make_params(get_method(variant.method).Params, {**variant.values, **values},
                        f"{source}: datasets.{dataset}.methods.{name}")
    for run in runs:
        resolve_method(expanded, run.method, where=f"{source}: {run.methods_key}")
    _check_compile_packing(config, source)
    for end in (config.get("ablation") or {}).get("ends", []):
        if end not in config["ablation"]["methods"]:
            raise ConfigError(f"{source}: ablation.ends: {end} is not among ablation.methods; add it there")
    for name in (config.get("ablation") or {}).get("seeds_by_method", {}):
        if name not in config["ablation"]["methods"]:
            raise ConfigError(f"{source}: ablation.seeds_by_method: {name} is not among ablation.methods; "
                              "add it there or remove its seeds")
    for run in runs:
        if run.n_labels and not get_method(base_method(expanded, run.method)).supports_labels:
            raise ConfigError(f"{source}: {run.methods_key}: method {run.method!r} cannot use labels; remove it there")


def _check_compile_packing(config: dict[str, Any], source: str) -> None:
    """compile: reduce-overhead captures CUDA graphs in one shared pool; seeds_per_job > 1 steps
    several seeds' graphs in turn in one process, which no GPU test has covered yet: refuse it."""
    if int(config.get("seeds_per_job", 1)) <= 1:
        return
    places = [(f"methods.{name}", values) for name, values in config["methods"].items()]
    places += [(f"datasets.{dataset}.methods.{name}", values) for dataset, settings in config["datasets"].items()
               for name, values in settings.get("methods", {}).items()]
    for where, values in places:
        if (values or {}).get("compile") == "reduce-overhead":
            raise ConfigError(f"{source}: {where}.compile: reduce-overhead (CUDA graphs) with seeds_per_job="
                              f"{config['seeds_per_job']} is untested; set seeds_per_job: 1 or compile: default")


def _check_budget_sweep(config: dict[str, Any], source: str) -> None:
    """What the schema cannot say about ``budget_sweep`` (ganem/plan.py expands it into runs)."""
    sweep = config.get("budget_sweep") or {}
    for name, entry in sweep.get("entries", {}).items():
        where = f"{source}: budget_sweep.entries.{name}"
        base = resolve_method(config, entry["method"], where=where).method
        if base not in ("ganem", "ganmm"):
            raise ConfigError(f"{where}: method {entry['method']!r} runs {base}, which has no training budget; "
                              "put it under budget_sweep.baselines")
        if base == "ganmm" and {"scale", "decay"} & set(entry):
            raise ConfigError(f"{where}: scale and decay are GAN-EM options; GANMM's budget scales its "
                              "main-loop iterations (or use equal_seconds_to)")
        if base == "ganem" and "equal_seconds_to" in entry:
            raise ConfigError(f"{where}: equal_seconds_to picks GANMM's iterations; remove it from a GAN-EM entry")
        ref = entry.get("equal_seconds_to")
        if ref is not None and (ref not in sweep["entries"]
                                or resolve_method(config, sweep["entries"][ref]["method"]).method != "ganem"):
            raise ConfigError(f"{where}: equal_seconds_to: {ref!r} is not a GAN-EM entry of budget_sweep.entries")
        for budget in entry.get("seeds_by_budget", {}):
            if float(budget) not in [float(b) for b in entry["budgets"]]:
                raise ConfigError(f"{where}: seeds_by_budget: {budget} is not among its budgets {entry['budgets']}")


def _check_labels(config, source, where, dataset, n_labels, ks) -> None:
    if not n_labels:
        return
    n_samples = dataset_settings(config, dataset).get("n_samples")
    if n_samples is not None and n_labels > n_samples:
        raise ConfigError(f"{source}: {where}: n_labels={n_labels} is more than the "
                          f"{n_samples} images of datasets.{dataset}.n_samples; lower n_labels or raise n_samples")
    for k in ks:
        if n_labels < k:
            raise ConfigError(f"{source}: {where}: n_labels={n_labels} cannot give every one of K={k} classes a label")


def dataset_settings(config: dict[str, Any], name: str) -> dict[str, Any]:
    """Settings for a dataset: its family's ("toy" for "toy-moons") overlaid by its own."""
    family = name.split("-", 1)[0]
    merged: dict[str, Any] = {}
    for key in (family, name) if family != name else (name,):
        merged = _deep_merge(merged, config["datasets"].get(key, {}))
    merged.setdefault("unsup", {"fit": "all", "score": "all"})
    return merged


# Keys of a `methods:` entry that name and label a variant rather than set a hyper-parameter.
VARIANT_KEYS = ("method", "label")


@dataclass(frozen=True)
class Variant:
    """A name that may appear wherever a method is run: a registered method (`ganem`), or a
    variant of one defined under `methods:` (`ganem_paper: {method: ganem, label: ..., <params>}`).
    Variants run in their own folders (results/runs/<name>/...), so two settings of one method can
    sit side by side in a table."""

    name: str
    method: str  # the registered method it runs
    values: dict[str, Any]  # its hyper-parameter values (config keys of the method's Params)
    label: str | None  # the row label in tables and figures (None: the method's own name)


def base_method(config: dict[str, Any], name: str) -> str:
    """The registered method a method or variant name runs (``ganem_paper`` -> ``ganem``): the one way
    the suite resolves it. A name the config does not define is its own base (a registered method,
    or a paper-only row of the tables such as DEC); ``resolve_method`` checks it is registered."""
    return ((config.get("methods") or {}).get(name) or {}).get("method", name)


def resolve_method(config: dict[str, Any], name: str, where: str = "methods") -> Variant:
    """The registered method and parameter values behind a method or variant name."""
    base = base_method(config, name)
    entry = {key: v for key, v in (config.get("methods", {}).get(name) or {}).items() if key != "method"}
    label = entry.pop("label", None)
    if base not in METHODS:
        if name == base:
            raise ConfigError(f"{where}: unknown method {name!r}; choose one of {sorted(METHODS)} or define a "
                              f"variant under methods (e.g. methods.{name}: {{method: ganem, ...}})")
        raise ConfigError(f"methods.{name}.method: unknown method {base!r}; choose one of {sorted(METHODS)}")
    if name in METHODS and base != name:
        raise ConfigError(f"methods.{name}.method: {name!r} is a registered method; give the variant another name")
    return Variant(name=name, method=base, values=entry, label=label)


def method_params(config: dict[str, Any], method: str, dataset: str) -> dict[str, Any]:
    """A method's (or variant's) hyper-parameter values for one dataset: its `methods:` entry, then
    the dataset-level (family, then dataset) overrides of its registered method, then those of the
    variant itself (so `datasets.toy.methods.ganem` budgets apply to every GAN-EM variant)."""
    variant = resolve_method(config, method)
    overrides = dataset_settings(config, dataset).get("methods", {})
    merged = _deep_merge(variant.values, overrides.get(variant.method, {}) if variant.method != method else {})
    return _deep_merge(merged, overrides.get(method, {}))


def run_settings(config: dict[str, Any], method: str, dataset: str) -> dict[str, Any]:
    """Every config value one run of `method` on `dataset` reads: its method_params and the dataset's
    settings (n_samples, splits, options). A param of the run rules, so Snakemake reruns a run whose
    folder (method/dataset/setting/K/seed) is the same under a config that trains it differently."""
    settings = {k: v for k, v in dataset_settings(config, dataset).items() if k != "methods"}  # in method_params
    return {"method": method_params(config, method, dataset), "dataset": settings}


def resolved_params(config: dict[str, Any], method: str, dataset: str) -> Any:
    """A method's (or variant's) Params for one dataset, built and checked: what a run trains with."""
    return make_params(get_method(base_method(config, method)).Params,
                       method_params(config, method, dataset), f"methods.{method} (dataset {dataset})")


def setting_name(n_labels: int | str) -> str:
    """The run-folder segment for a supervision setting: 'unsup', 'labels100' or 'labelsall'."""
    return "unsup" if n_labels == 0 else f"labels{n_labels}"


def parse_setting(setting: str) -> int | str:
    """'unsup' -> 0, 'labels100' -> 100, 'labelsall' -> 'all': the inverse of setting_name."""
    return 0 if setting == "unsup" else parse_n_labels(setting.removeprefix("labels"))


def parse_n_labels(text: str) -> int | str:
    """``--n-labels``: a count of class-balanced labels, or ``all`` (every fitted image, its own label)."""
    if text == ALL_LABELS:
        return ALL_LABELS
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--n-labels {text!r}: expected a whole number or 'all'") from None


def splits_for(config: dict[str, Any], dataset: str, n_labels: int) -> tuple[str, str]:
    """(fit split, score split) for an unsupervised or semi-supervised run on ``dataset``."""
    settings = dataset_settings(config, dataset)
    mode = "semi" if n_labels else "unsup"
    if mode not in settings:
        raise ConfigError(f"datasets.{dataset}.{mode} is not configured; add fit/score splits for it")
    return settings[mode]["fit"], settings[mode]["score"]


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
