"""Registry of clustering methods: name -> class behind the ``Method`` interface.

Imports are lazy so that ``python -m ganem run --method kmeans`` does not import the GAN code.
"""
from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from ganem.methods.base import Assignment, Labelled, Method, RunContext

__all__ = ["METHODS", "Assignment", "Labelled", "Method", "RunContext", "get_method", "make_params"]

METHODS: dict[str, str] = {
    "kmeans": "baselines.kmeans:KMeans",
    "gmm": "baselines.gmm:GMM",
    "ganem": "ganem.model.method:GANEM",
    "ganmm": "baselines.ganmm.method:GANMM",
}


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key and the fix."""


def get_method(name: str) -> type[Method]:
    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; choose one of {sorted(METHODS)}")
    module, attr = METHODS[name].split(":")
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
