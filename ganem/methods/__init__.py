"""Registry of clustering methods: name -> class behind the ``Method`` interface.

Imports are lazy so that ``python -m ganem run --method kmeans`` does not import the GAN code.
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Any

from ganem.config_error import ConfigError
from ganem.methods.base import Assignment, Labelled, Method, RunContext

__all__ = ["METHODS", "Registered", "Assignment", "Labelled", "Method", "RunContext", "get_method", "make_params"]

@dataclass(frozen=True)
class Registered:
    """Everything the suite needs to know about a method besides its module: adding a method is a
    module with a ``Method`` subclass plus one line here (config schema, DAG and tables read this)."""

    target: str  # "module:Class", imported only when the method is used
    title: str  # how tables and figures name it
    neural: bool = False  # trains networks: its DAG jobs declare a GPU and more memory


METHODS: dict[str, Registered] = {
    "kmeans": Registered("baselines.kmeans:KMeans", "K-means"),
    "gmm": Registered("baselines.gmm:GMM", "GMM"),
    "ganem": Registered("ganem.model.method:GANEM", "GAN-EM", neural=True),
    "ganmm": Registered("baselines.ganmm.method:GANMM", "GANMM", neural=True),
}


def get_method(name: str) -> type[Method]:
    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; choose one of {sorted(METHODS)}")
    module, attr = METHODS[name].target.split(":")
    return getattr(importlib.import_module(module), attr)


def make_params(params_cls: type, values: dict[str, Any] | None, where: str) -> Any:
    """Build a method's Params dataclass from config values; unknown keys are errors.

    ``where`` names the config section (e.g. ``methods.gmm``) for the error message.
    """
    values = dict(values or {})
    presets = getattr(params_cls, "PRESETS", None)
    if presets is not None and "preset" in values:  # a named starting point; the config's keys win
        if values["preset"] not in presets:
            raise ConfigError(f"{where}.preset: unknown preset {values['preset']!r}; choose one of "
                              f"{sorted(presets)}")
        values = {**presets[values["preset"]], **values}
    fields = {f.name: f for f in dataclasses.fields(params_cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {unknown}; valid keys are {sorted(fields)}"
        )
    for key, value in values.items():
        default = fields[key].default
        if isinstance(default, (int, float)) and not isinstance(default, bool) and isinstance(value, str):
            hint = (f" (YAML reads {value} as text: write it with a dot, e.g. {value.replace('e', '.0e', 1)})"
                    if "e" in value.lower() and "." not in value else "")
            raise ConfigError(f"{where}.{key}: expected a number, got the string {value!r}{hint}")
    try:
        params = params_cls(**values)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from err
    return params
