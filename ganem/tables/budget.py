"""A measured cell's training budget beside the paper's, so that a table never shows a number from a
tiny CPU budget as if it tested the paper's.

A run's budget comes from its metrics.json (the resolved method parameters and the number of fitted
images) through the method's own ``Method.budget``; the paper's budget is the same function on the
method's default ``Params`` (the paper's values; GANMM: the original code's) and the paper's number of
fitted images.  Methods fitted to convergence (K-means, GMM) have no budget.
"""
from __future__ import annotations

import math

from ganem.data import split_size
from ganem.methods import METHODS, get_method, make_params

# Images the paper fits per dataset: App. B.1 keeps 50,000 of MNIST's 60,000 training images (10,000
# for validation: the registry's 'train' split); SVHN: the official train split (the suite's reading
# of App. B.2, see docs/datasets.md).
PAPER_FIT_IMAGES = {name: split_size(name, "train") for name in ("mnist", "svhn")}
# A cell whose budget is below this fraction of the paper's cannot test the paper's number.
FAR_BELOW = 0.1
BELOW_PAPER_NOTE = "budget below paper: not a test of the paper's number"


def run_budget(method: str, params: dict, n_fit: int) -> float:
    """The budget of one run from its metrics.json ``params`` and ``n_fit``; NaN when it has none."""
    cls = get_method(method)
    value = cls.budget(make_params(cls.Params, params, f"methods.{method}"), int(n_fit))
    return math.nan if value is None else float(value)


def paper_budget(method: str, n_fit: int | None) -> float:
    """The budget of the paper's schedule (the method's default Params) on ``n_fit`` images."""
    if method not in METHODS or n_fit is None or (isinstance(n_fit, float) and math.isnan(n_fit)):
        return math.nan
    cls = get_method(method)
    value = cls.budget(cls.Params(), int(n_fit))
    return math.nan if value is None else float(value)


def below_paper(budget: float, paper: float) -> bool:
    """True when a measured budget is far below the paper's (both known)."""
    return not (math.isnan(budget) or math.isnan(paper)) and budget < FAR_BELOW * paper


def budget_text(method: str, budget: float, paper: float) -> str:
    """'40 of 390,500 G+D steps (0.010 % of the paper's)'; '' when the method has no budget."""
    if math.isnan(budget):
        return ""
    unit = get_method(method).budget_unit
    if math.isnan(paper):
        return f"{budget:,.0f} {unit}"
    return f"{budget:,.0f} of {paper:,.0f} {unit} ({100 * budget / paper:.3g} % of the paper's)"
