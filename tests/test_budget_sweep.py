"""The budget sweep: its plan (generated variants, seeds, equal-seconds GANMM), its checks, the
extrapolation on synthetic metrics, and the DAG from runs to results/budget.md and the figure."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dag_failure import explain
from ganem import cost, plan
from ganem.config import validate
from ganem.config_error import ConfigError
from ganem.tables import sweep
from ganem.tables.sweep import BOOTSTRAP, FIELDS, UPPER, entry_fits, extrapolate, saturating, sweep_frame

REPO = Path(__file__).resolve().parent.parent

SWEEP = """
data_dir: data
download: false
device: cpu
checkpoints: keep
seeds: [0, 1]
datasets:
  mnist5k: {unsup: {fit: all, score: all}, n_samples: 200}
methods:
  kmeans: {n_init: 2, max_iter: 50}
  tiny_ganem: {method: ganem, preset: authors, em_iterations: 1, mstep_batches: 2, q_steps: 2, batch_size: 20,
               e_batch_size: 20, monitor_fakes: 20, mechanism_samples: 0, lr_decay: 0.9}
  tiny_ganmm: {method: ganmm, pretrain_iterations: 1, iterations: 2, log_every: 1}
budget_sweep:
  entries:
    ganem: {label: "tiny GAN-EM", method: tiny_ganem, dataset: mnist5k, budgets: [1, 2, 3],
            seeds_by_budget: {3: [0]}}
  baselines: {mnist5k: [kmeans]}
table1: {}
"""


def sweep_config(**entries):
    config = yaml.safe_load(SWEEP)
    config["budget_sweep"]["entries"].update(entries)
    validate(config)
    return plan.with_budget_variants(config)


def test_a_budget_multiplies_the_schedule_and_names_its_own_run_folder():
    config = sweep_config(
        per_run={"method": "tiny_ganem", "dataset": "mnist5k", "budgets": [4], "decay": "per_run"},
        longer={"method": "tiny_ganem", "dataset": "mnist5k", "budgets": [4], "scale": "iteration_length"},
        gpu_fraction={"method": "tiny_ganem", "dataset": "mnist5k", "budgets": [0.5]})
    m = config["methods"]
    assert [m[f"budget_ganem_x{b}"]["em_iterations"] for b in (1, 2, 3)] == [1, 2, 3]
    assert m["budget_ganem_x3"]["lr_decay"] == 0.9 and m["budget_ganem_x3"]["mstep_batches"] == 2
    assert m["budget_per_run_x4"]["em_iterations"] == 4
    assert m["budget_per_run_x4"]["lr_decay"] ** 4 == pytest.approx(0.9, rel=4 * np.finfo(float).eps)
    assert (m["budget_longer_x4"]["em_iterations"], m["budget_longer_x4"]["mstep_batches"],
            m["budget_longer_x4"]["q_steps"], m["budget_longer_x4"]["lr_decay"]) == (1, 8, 8, 0.9)
    assert m["budget_gpu_fraction_x0p5"]["em_iterations"] == 1  # never below one whole iteration
    assert m["budget_ganem_x2"]["label"] == "tiny GAN-EM, 2x"
    runs = plan.budget_runs(config)
    assert [(r.method, r.seed) for r in runs if r.method.startswith("budget_ganem")] == [
        ("budget_ganem_x1", 0), ("budget_ganem_x1", 1), ("budget_ganem_x2", 0), ("budget_ganem_x2", 1),
        ("budget_ganem_x3", 0)]
    assert ("kmeans", 1) in [(r.method, r.seed) for r in runs]
    assert plan.with_budget_variants(config) == config  # idempotent: the CLI re-reads the resolved file
    assert set(plan.targets(config)["budget sweep"]) == set(runs)


def test_ganmm_at_equal_seconds_takes_the_iterations_that_match_ganem_s_estimate(monkeypatch):
    timings = {"families": {"mnist": {
        "mstep_ms": 400.0, "estep_ms": 300.0, "assign_ms_per_image": 0.4, "mstep_batch": 70, "estep_batch": 200,
        "ganmm_ms_per_gan": 1500.0, "ganmm_refresh_ms_per_image": 0.2}}}
    monkeypatch.setattr(cost, "stored_timings", lambda device: timings)
    big = {"method": "tiny_ganem", "dataset": "mnist5k", "budgets": [100, 300]}  # ~37 and ~110 s
    config = sweep_config(big=big, ganmm={"method": "tiny_ganmm", "dataset": "mnist5k", "budgets": [100, 300],
                                          "equal_seconds_to": "big"})

    def seconds(name, **change):
        methods = {**config["methods"], "_m": {**config["methods"][name], **change}}
        return cost.seconds(cost.run_steps({**config, "methods": methods}, "_m", "mnist5k", 0, 10), timings)
    for b in (100, 300):
        target = seconds(f"budget_big_x{b}")
        iterations = config["methods"][f"budget_ganmm_x{b}"]["iterations"]
        per_iteration = seconds(f"budget_ganmm_x{b}", iterations=iterations + 1) - seconds(f"budget_ganmm_x{b}")
        # rounded to whole iterations: within half an iteration's seconds of GAN-EM's
        assert abs(seconds(f"budget_ganmm_x{b}") - target) <= per_iteration / 2 * (1 + 1e-9)
    assert config["methods"]["budget_ganmm_x300"]["iterations"] > config["methods"]["budget_ganmm_x100"]["iterations"]
    with pytest.raises(ConfigError, match="pretraining and one iteration take"):  # 0.4 s of GAN-EM at b=1
        sweep_config(ganmm={"method": "tiny_ganmm", "dataset": "mnist5k", "budgets": [1], "equal_seconds_to": "ganem"})
    monkeypatch.setattr(cost, "stored_timings", lambda device: None)
    with pytest.raises(ConfigError, match="save-timings"):
        sweep_config(ganmm={"method": "tiny_ganmm", "dataset": "mnist5k", "budgets": [1], "equal_seconds_to": "ganem"})


def test_a_longer_budget_continues_the_longest_shorter_run_that_differs_only_in_length():
    config = sweep_config(
        between={"method": "tiny_ganem", "dataset": "mnist5k", "budgets": [2.5], "seeds": [0]},
        per_run={"method": "tiny_ganem", "dataset": "mnist5k", "budgets": [4], "decay": "per_run"},
        longer={"method": "tiny_ganem", "dataset": "mnist5k", "budgets": [4], "scale": "iteration_length"},
        ganmm={"method": "tiny_ganmm", "dataset": "mnist5k", "budgets": [1, 2]})
    links = {(run.method, run.seed): (shorter.method, shorter.seed)
             for run, shorter in plan.continuations(config).items()}
    assert links == {  # by hand: em_iterations 1, 2, 3, and 2 for 2.5 (round half to even)
        ("budget_ganem_x2", 0): ("budget_ganem_x1", 0), ("budget_ganem_x2", 1): ("budget_ganem_x1", 1),
        ("budget_between_x2p5", 0): ("budget_ganem_x1", 0),
        ("budget_ganem_x3", 0): ("budget_ganem_x2", 0),  # of the two runs of length 2 the first listed
        ("budget_ganmm_x2", 0): ("budget_ganmm_x1", 0), ("budget_ganmm_x2", 1): ("budget_ganmm_x1", 1)}
    # per_run (another lr decay) and longer (longer EM iterations) train differently: from scratch
    off = yaml.safe_load(SWEEP)
    off["budget_sweep"]["continue"] = False
    validate(off)
    assert plan.continuations(plan.with_budget_variants(off)) == {}


def test_continued_runs_count_once_in_the_plan_and_need_whole_checkpoints():
    config = sweep_config()
    runs = [run for run in plan.budget_runs(config) if run.method.startswith("budget_ganem")]
    # mstep_batches 2 per EM iteration; seed 0 runs to 3 iterations, seed 1 to 2: 10 G+D steps, not 2+4+6+2+4
    assert plan.totals(config, runs, "cpu", None).gd_steps == 2 * (3 + 2)
    slim = yaml.safe_load(SWEEP)
    del slim["checkpoints"]
    with pytest.raises(ConfigError, match="set checkpoints: keep .now slim., or budget_sweep.continue: false"):
        validate(slim)


@pytest.mark.parametrize("entry, message", [
    ({"method": "kmeans", "dataset": "mnist5k", "budgets": [1]}, "put it under budget_sweep.baselines"),
    ({"method": "tiny_ganmm", "dataset": "mnist5k", "budgets": [1], "decay": "per_run"}, "GAN-EM options"),
    ({"method": "tiny_ganmm", "dataset": "mnist5k", "budgets": [1], "equal_seconds_to": "nope"},
     "is not a GAN-EM entry"),
    ({"method": "tiny_ganem", "dataset": "mnist5k", "budgets": [1], "seeds_by_budget": {2: [0]}},
     "not among its budgets"),
    ({"method": "tiny_ganem", "dataset": "mnistt", "budgets": [1]}, "mnistt"),
    ({"method": "tiny_ganem", "dataset": "mnist5k", "budgets": [0]}, "budgets"),
])
def test_a_bad_sweep_entry_is_one_clear_error(entry, message):
    config = yaml.safe_load(SWEEP)
    config["budget_sweep"]["entries"]["bad"] = entry
    with pytest.raises(ConfigError, match=message):
        validate(config)


def test_extrapolation_recovers_a_saturating_curve_and_says_when_it_cannot():
    rng = np.random.default_rng(0)
    a, c, alpha, paper = 5.0, 40.0, 0.7, 465.0
    budgets = [1, 3, 9, 27, 81]
    data = {b: list(saturating(b, a, c, alpha) + rng.normal(0, 0.3, 3)) for b in budgets}
    fit = extrapolate(data, paper)
    truth = saturating(paper, a, c, alpha)
    assert fit["verdict"] == "prediction" and fit["reason"] == ""
    assert fit["low"] <= fit["prediction"] <= fit["high"] and fit["high"] - fit["low"] < 20
    assert fit["prediction"] == pytest.approx(truth, abs=1.0)  # 0.3-point seed noise over 5 budgets
    two = extrapolate({1: [50.0, 52.0], 3: [40.0, 45.0]}, paper)  # three parameters, two budgets
    assert two["verdict"] == "cannot say" and "2 budget(s)" in two["reason"]
    # three budgets, seed spread as large as the effect: the bootstrap interval is far too wide
    noisy = extrapolate({1: [75.0, 45.0, 60.0], 3: [60.0, 30.0, 50.0], 9: [55.0, 20.0, 40.0]}, paper,
                        max_interval=20)
    assert noisy["verdict"] == "cannot say" and "wider than 20" in noisy["reason"]
    # a budget with one seed: the bootstrap cannot see its spread, so no interval is claimed
    lone = extrapolate({1: [40.0, 37.0, 34.0], 3: [28.0, 19.0, 17.0], 9: [23.6]}, paper)
    assert lone["verdict"] == "cannot say" and "9 have one seed" in lone["reason"]
    assert math.isnan(lone["prediction"])
    # means that stop falling after 3x: the best fit takes alpha to its bound (b^-5), a shape the
    # three budgets do not fix, so it says so rather than predicting the 3x error for the paper's budget
    flat = extrapolate({1: [40.0, 38.0], 3: [22.0, 21.0], 9: [22.0, 21.0]}, paper)
    assert flat["verdict"] == "cannot say" and "alpha = 5" in flat["reason"]
    assert flat["alpha"] == pytest.approx(UPPER[2], rel=1e-3)
    assert BOOTSTRAP >= 1000


def test_the_table_does_not_depend_on_the_order_of_its_metrics(tmp_path):
    config = sweep_config()
    paths = []
    for dataset, seed, error in (("mnist5k", 1, 48.0), ("mnist", 0, 46.0), ("mnist5k", 0, 47.0)):
        path = tmp_path / f"{dataset}{seed}.json"
        path.write_text(json.dumps({"method": "kmeans", "dataset": dataset, "seed": seed, "error": error}))
        paths.append(path)
    frame = sweep_frame(config, paths)
    assert list(zip(frame["dataset"], frame["seed"])) == [("mnist", 0), ("mnist5k", 0), ("mnist5k", 1)]
    pd.testing.assert_frame_equal(frame, sweep_frame(config, paths[::-1]))


def test_the_figure_draws_the_table_s_prediction_out_to_the_paper_s_budget(tmp_path, monkeypatch):
    import ganem.figures as figures

    rows = [{"entry": "ganem", "label": "GAN-EM", "method": f"ganem_x{b}", "base_method": "ganem",
             "dataset": "mnist5k", "budget": float(b), "seed": seed, "error": saturating(b, 20.0, 20.0, 1.0) + d,
             "nmi": 0.5, "seconds": 60.0 * b, "steps": 840.0 * b, "steps_unit": "G+D steps"}
            for b in (1, 3, 9) for seed, d in ((0, -0.5), (1, 0.5))]
    frame = pd.DataFrame(rows, columns=FIELDS)
    fit = entry_fits(frame, 10)["ganem"]
    assert fit["verdict"] == "prediction" and fit["unit_steps"] == 840.0
    assert fit["at"] == pytest.approx(sweep.paper_point("ganem", 10)[0] / 840.0)
    assert fit["prediction"] == pytest.approx(saturating(fit["at"], 20.0, 20.0, 1.0), abs=0.1)
    monkeypatch.setattr(sweep, "sweep_frame", lambda config, paths: frame)
    drawn = {}
    monkeypatch.setattr(figures, "save", lambda fig, png, pdf: drawn.update(fig=fig))
    figures.budget_figure({"budget_sweep": {"k": 10}}, [], tmp_path / "b.png", tmp_path / "b.pdf")
    curve = next(line for line in drawn["fig"].axes[0].get_lines() if line.get_linestyle() == ":")
    assert curve.get_xdata()[-1] == pytest.approx(fit["at"] * 840.0)  # out to the paper's budget
    assert curve.get_ydata()[-1] == pytest.approx(fit["prediction"])


@pytest.mark.slow
def test_budget_dag_builds_table_with_fit_line_and_figure(tmp_path):
    config = tmp_path / "budget.yaml"
    config.write_text(SWEEP)
    done = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
                           "results/budget.md", "figures/budget_curve.png", "--configfile", str(config),
                           "--cores", "2"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, explain(done, tmp_path)
    table = pd.read_csv(tmp_path / "results" / "budget.csv")
    assert len(table) == 5 + 2  # 2 + 2 + 1 GAN-EM runs, K-means on both seeds
    ganem = table[table["entry"] == "ganem"]
    assert list(ganem["budget"]) == [1, 1, 2, 2, 3] and list(ganem["steps"]) == [2, 2, 4, 4, 6]
    assert (ganem["steps_unit"] == "G+D steps").all() and table["error"].between(0, 100).all()
    assert table.loc[table["entry"] == "kmeans", "budget"].isna().all()
    runs = tmp_path / "results" / "runs"
    assert (runs / "budget_ganem_x3" / "mnist5k").is_dir()
    # x2 and x3 continued the shorter runs' checkpoints; their seconds include the shorter runs'
    x2, x3 = (pd.read_json(runs / f"budget_ganem_x{b}/mnist5k/unsup/K10/seed0/metrics.json", typ="series")
              for b in (2, 3))
    assert x3["continued_from"] == "results/runs/budget_ganem_x2/mnist5k/unsup/K10/seed0"
    assert x3["fit_seconds"] > x3["resumed_seconds"] > 0 and x3["resumed_seconds"] <= x2["fit_seconds"]
    assert x3["method_extras"]["em_iterations_done"] == 3
    md = (tmp_path / "results" / "budget.md").read_text()
    assert "## Extrapolation to the paper's budget" in md
    fit_line = next(line for line in md.splitlines() if line.startswith("| `ganem` |"))
    assert "4.20 (paper)" in fit_line and ("prediction" in fit_line or "cannot say" in fit_line)
    assert "195,250" in fit_line  # 390,500 paper G+D steps / 2 per b
    assert (tmp_path / "figures" / "budget_curve.png").stat().st_size > 0


def test_the_sweep_runs_table_1_s_cpu_settings():
    """config/budget.yaml's base entries are config/cpu.yaml's (the issue asks for Table 1's GAN-EM at
    the CPU schedule); a setting changed in one file and not the other fails here."""
    from ganem.config import load_config, resolved_params

    budget, cpu = (load_config(REPO / "config" / name) for name in ("budget.yaml", "cpu.yaml"))
    for method in ("ganem_authors_cpu", "ganmm_cpu"):
        assert resolved_params(budget, method, "mnist5k") == resolved_params(cpu, method, "mnist5k"), method
