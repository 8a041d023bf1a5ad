"""The paper's DAG (config/config.yaml) proven end to end in miniature, from nothing.

`tests/miniature.py` generates the config from config/config.yaml (budgets of seconds, one seed,
two CelebA attributes) and the data in the real on-disk formats. One test runs `snakemake all` on
it and checks every target of `all`; another checks that the rules `snakemake -n all` plans under
config/config.yaml are exactly the rules the miniature ran, so no rule escapes it. The rest check
the plan of the paper config itself: it plans on any machine, stops with one line when a request
cannot be met, and fetches each dataset family once.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import miniature
from dag_failure import explain

REPO = Path(__file__).resolve().parent.parent
PAPER = ("--configfile", str(REPO / "config" / "config.yaml"))  # -d elsewhere: name the default config
FIGURES = ["fig2_mnist_unsup", "fig2_mnist_semi", "fig2_svhn", "fig3_hat", "fig3_glasses", "fig4_tsne",
           "error_per_iteration", "seed_spread", "toy2d", "table3_errors"]
TABLES = ["table1", "table2", "table3", "toy2d", "summary"]


def snakemake(workdir: Path, *args: str, hook: Path | None = None, timeout: int = 1800):
    env = dict(os.environ, OMP_NUM_THREADS="1", CI="true")
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (hook, REPO) if p is not None)
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def planned_rules(dry_run_stdout: str) -> dict[str, int]:
    """rule -> job count from the 'Job stats' table of `snakemake -n`."""
    table = dry_run_stdout.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    rows = (re.fullmatch(r"(\w+)\s+(\d+)", line.strip()) for line in table.splitlines())
    return {m[1]: int(m[2]) for m in rows if m and m[1] != "total"}


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    root = tmp_path_factory.mktemp("miniature")
    config, hook = miniature.build(root)
    return root, config, hook


@pytest.fixture(scope="module")
def paper_plan(tmp_path_factory):
    result = snakemake(tmp_path_factory.mktemp("paper"), "-n", "all", *PAPER, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return planned_rules(result.stdout)


def test_paper_config_plans_every_run(paper_plan):
    # 3 seeds x (7 + 1 + 1 + 1) Table 1 runs, 40 attributes x 3 x 3 CelebA runs, 3 x 3 x 5 toy runs
    assert paper_plan["run"] == 30 + 360 + 45
    assert paper_plan["run_variant"] == 4
    assert paper_plan["fetch_data"] == 4  # mnist, svhn, celeba (once for all 40 attributes), toy


@pytest.mark.slow
def test_miniature_paper_dag_from_nothing(mini, paper_plan):
    root, config, hook = mini
    work = root / "work"
    dry = snakemake(work, "-n", "all", "--configfile", str(config), hook=hook)
    assert dry.returncode == 0, dry.stderr[-3000:]
    mini_plan = planned_rules(dry.stdout)
    assert set(mini_plan) == set(paper_plan)  # a new rule in the paper DAG must run in the miniature

    done = snakemake(work, "all", "--configfile", str(config), "--cores", "2", hook=hook)
    assert done.returncode == 0, explain(done, work)
    assert f"{sum(mini_plan.values())} of {sum(mini_plan.values())} steps (100%) done" in done.stderr
    for name in TABLES:
        assert (work / "results" / f"{name}.md").stat().st_size > 0
    for name in FIGURES:
        for ext in ("png", "pdf"):
            assert (work / "figures" / f"{name}.{ext}").stat().st_size > 0, name
    runs = pd.read_csv(work / "results" / "runs.csv")
    assert len(runs) == mini_plan["run"] + mini_plan["run_variant"]
    assert runs["error"].between(0, 100).all()
    table1 = pd.read_csv(work / "results" / "table1.csv")
    measured = table1[table1["n_seeds"] > 0]
    assert set(zip(measured["column"], measured["method"], measured["K"])) == {
        ("mnist_unsup", "kmeans", 10), ("mnist_unsup", "gmm", 10), ("mnist_unsup", "ganmm", 10),
        ("mnist_unsup", "ganem", 10), ("mnist_unsup", "ganem", 20), ("mnist_unsup", "ganem", 30),
        ("mnist_unsup", "ganem_paper", 10),
        ("mnist_100", "ganem", 10), ("mnist_1000", "ganem", 10), ("svhn_1000", "ganem", 10)}
    # one CelebA fetch for all attributes; checkpoints slimmed after metrics.json
    assert sorted(p.name for p in (work / "data" / "manifests").glob("*.json")) == \
        ["celeba.json", "mnist.json", "svhn.json", "toy.json"]
    import torch

    for ckpt in (work / "results").rglob("checkpoint.pt"):
        assert not [k for k in torch.load(ckpt, weights_only=False) if k.startswith("opt")], ckpt
    again = snakemake(work, "-n", "all", "--configfile", str(config), hook=hook)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_infeasible_request_stops_the_plan_with_one_line(tmp_path):
    balanced = "fig4={dataset: mnist, k: 10, bottlenecks: [1000, 100, 2], supervised: {n_labels: 50000}}"
    result = snakemake(tmp_path, "-n", "all", *PAPER, "--config", balanced, timeout=600)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    lines = [line.strip() for line in output.splitlines() if "infeasible configuration:" in line]
    assert [line[line.index("infeasible"):] for line in lines] == ["infeasible configuration: fig4.supervised.n_labels=50000: class-balanced labels need 5000 "
                     "images of class 0, but mnist split 'train' has 4932 (per class [4932, 5678, 4968, 5101, "
                     "4859, 4506, 4951, 5175, 4842, 4988]); use at most 45065 or n_labels: all (every fitted "
                     "image with its own label, unbalanced)"], output[-3000:]
    assert not (tmp_path / "results").exists()


def test_unknown_dataset_in_a_target_path_plans_nothing(tmp_path):
    result = snakemake(tmp_path, "-n", "results/runs/kmeans/mnsit/unsup/K10/seed0/metrics.json", *PAPER, timeout=600)
    assert result.returncode != 0
    assert "unknown dataset 'mnsit'" in result.stderr + result.stdout
