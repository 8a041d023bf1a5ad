"""The experiment plan (ganem/plan.py): which runs each table and figure needs, without Snakemake.

workflow/rules/common.smk only turns these entries into file names, so what the DAG asks for is
tested here in milliseconds; tests/test_paper_dag.py checks the DAG built from them.
"""
import copy
from pathlib import Path

import pytest

from ganem import feasibility, plan
from ganem.config import load_config, parse_setting, setting_name

REPO = Path(__file__).resolve().parent.parent
PAPER = load_config(REPO / "config" / "config.yaml")
QUICK = load_config(REPO / "config" / "quick.yaml")


def test_fig2_shows_k10_else_the_smallest_k_of_the_first_configured_column():
    config = copy.deepcopy(QUICK)
    config["seeds"] = [3, 1]
    config["table1"] = {"mnist_1000": {"dataset": "mnist", "n_labels": 1000, "methods": {"ganem": [12, 10, 11]}},
                        "mnist_unsup": {"dataset": "mnist", "n_labels": 0, "methods": {"ganem": [14, 12]}}}
    assert plan.fig2_run(config, "mnist_semi") == plan.Run("ganem", "mnist", 1000, 10, 1)
    assert plan.fig2_run(config, "mnist_unsup") == plan.Run("ganem", "mnist", 0, 12, 1)
    assert plan.fig2_run(config, "svhn") is None


def test_a_figure_without_its_runs_is_not_enabled_and_names_what_enables_it():
    figures = plan.figures(QUICK)  # quick: no CelebA, no SVHN column, no ablation
    assert not figures["fig3_hat"].enabled and "Wearing_Hat" in figures["fig3_hat"].needs
    assert not figures["fig2_svhn"].enabled and figures["fig2_svhn"].needs == "GAN-EM in table1.svhn_1000"
    assert not figures["table3_errors"].enabled and not figures["ablation_curves"].enabled
    assert figures["seed_spread"].runs == plan.table1_runs(QUICK)
    assert {r.method for r in figures["error_per_iteration"].runs} <= {"ganem", "ganmm", "ganem_paper"}


def test_the_paper_plan_enables_every_figure_and_the_celeba_figure_reads_table3():
    figures = plan.figures(PAPER)
    assert all(f.enabled for name, f in figures.items() if name not in ("ablation_curves", "budget_curve"))
    assert figures["table3_errors"].tables == ["table3"] and figures["table3_errors"].runs == []
    assert figures["fig3_glasses"].runs == [plan.Run("ganem", "celeba-Eyeglasses", 0, 2, 0)]


def test_tables_follow_the_config_sections():
    assert plan.tables({"table1": {}}) == ["table1", "table2", "table3"]
    assert plan.tables(PAPER) == ["table1", "table2", "table3", "toy2d"]


def test_variant_settings_are_dataset_level_overrides():
    assert plan.variant_settings(PAPER, "bottleneck2", "mnist") == ["datasets.mnist.methods.ganem.bottleneck=2"]
    assert plan.variant_settings(PAPER, "supervised", "mnist") == [
        "datasets.mnist.methods.ganem.supervised_reference=true", "datasets.mnist.methods.ganem.bottleneck=100"]


@pytest.mark.parametrize("n_labels", [0, 100, "all"])
def test_parse_setting_inverts_setting_name(n_labels):
    assert parse_setting(setting_name(n_labels)) == n_labels


def test_feasibility_requests_are_the_plans_runs_grouped_by_config_key():
    requests = list(feasibility.requests(PAPER))
    runs = plan.targets(PAPER)["all"]
    assert {(r.dataset, r.n_labels) for r in requests} == {(r.dataset, r.n_labels) for r in runs}
    fig4 = [r for r in requests if r.key == "fig4"]
    assert {r.labels_key for r in fig4} == {"", "fig4.supervised.n_labels"}
    assert [r.ks for r in requests if r.key == "table1.mnist_unsup"] == [tuple(
        dict.fromkeys(k for ks in PAPER["table1"]["mnist_unsup"]["methods"].values() for k in ks))]
