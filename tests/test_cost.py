"""Step counts, run lists and cost estimates (ganem/cost.py, ganem/plan.py, `python -m ganem plan`),
checked against counts worked out by hand from the configs."""
import json
from pathlib import Path

import pytest

from ganem import cost, plan
from ganem.cli import main
from ganem.config import load_config

REPO = Path(__file__).resolve().parent.parent
PAPER = load_config(REPO / "config" / "config.yaml")
QUICK = load_config(REPO / "config" / "quick.yaml")
TIMINGS = {"device": "cpu", "families": {"mnist": {
    "mstep_ms": 10.0, "mstep_batch": 64, "estep_ms": 20.0, "estep_batch": 256, "assign_ms_per_image": 0.001,
    "ganmm_ms_per_gan": 30.0, "ganmm_refresh_ms_per_image": 0.002}}}


def test_ganem_steps_of_the_paper_run():
    # ganem_paper (a variant: the paper's text, batch 64): 50,000 images (train split) / 64 = 781
    # batches x 5 epochs x 100 EM iterations; 100 x 1000 E-steps
    steps = cost.run_steps(PAPER, "ganem_paper", "mnist", 0, 10)
    assert (steps.family, steps.n_images, steps.gd_steps, steps.e_steps) == ("mnist", 50_000, 390_500, 100_000)
    assert steps.assign_images == 100 * 50_000
    # ganem (preset authors: batch 70, E-batch 200): 714 batches x 5 x 100
    steps = cost.run_steps(PAPER, "ganem", "mnist", 0, 10)
    assert (steps.gd_steps, steps.gd_batch, steps.e_steps, steps.e_batch) == (357_000, 70, 100_000, 200)
    assert steps.assign_images == 100 * 50_000  # 5 epochs read every image: the full pass


def test_lazy_w_counts_the_images_the_m_step_and_the_monitor_read():
    # config/cpu.yaml's schedule on MNIST's 50,000: per EM iteration 24 x 70 M-step images and 5,000
    # monitored ones, plus the final assignment on every image (ganem.model.em.lazy_w)
    config = load_config(REPO / "config" / "budget.yaml")
    steps = cost.run_steps(config, "ganem_authors_cpu", "mnist", 0, 10)
    assert steps.assign_images == 35 * (24 * 70 + 5_000) + 50_000
    assert cost.run_steps(config, "ganem_authors_cpu", "mnist5k", 0, 10).assign_images == 35 * 5_000


def test_quick_ganem_uses_mstep_batches_and_the_subset():
    steps = cost.run_steps(QUICK, "ganem", "mnist5k", 100, 10)
    assert (steps.n_images, steps.gd_steps, steps.e_steps, steps.e_batch) == (4_000, 2 * 20, 2 * 20, 64)


def test_ganmm_passes_and_refresh_follow_the_device():
    gpu = cost.run_steps(PAPER, "ganmm", "mnist", 0, 10, "cuda")
    cpu = cost.run_steps(PAPER, "ganmm", "mnist", 0, 10, "cpu")
    assert gpu.ganmm_iterations == 200_000 and gpu.ganmm_gan_passes == 10 * (500 + 200_000)
    # auto refresh: lazy on a CPU; on a GPU full for MNIST K=10 (lazy would read 10*10*5*50 = 25,000
    # images of 50,000 per iteration) and lazy for CelebA K=2 (1,000 of 24,000)
    assert cpu.ganmm_refresh_images == 0 and gpu.ganmm_refresh_images == 200_000 * 50_000
    assert cost.run_steps(PAPER, "ganmm", "celeba-Eyeglasses", 0, 2, "cuda").ganmm_refresh_images == 0


def test_seconds_is_steps_times_timings():
    steps = cost.run_steps(PAPER, "ganem_paper", "mnist", 0, 10)
    assert cost.seconds(steps, TIMINGS) == pytest.approx(390_500 * 0.010 + 100_000 * 0.020 + 5e6 * 1e-6)
    half = cost.RunSteps("mnist", 100, gd_steps=2, gd_batch=32, e_steps=1, e_batch=512)
    assert cost.seconds(half, TIMINGS) == pytest.approx((2 * 10 * 0.5 + 1 * 20 * 2) / 1000)
    ganmm = cost.RunSteps("mnist", 50, ganmm_iterations=3, ganmm_gan_passes=6, ganmm_refresh_images=150)
    assert cost.seconds(ganmm, TIMINGS) == pytest.approx((6 * 30 + 150 * 0.002) / 1000)
    assert cost.seconds(cost.run_steps(PAPER, "kmeans", "mnist", 0, 10), TIMINGS) is None
    assert cost.seconds(cost.run_steps(PAPER, "ganem", "svhn", 1000, 10), TIMINGS) is None  # no svhn row


def test_estimate_reads_the_stored_file_of_the_planned_device(tmp_path, monkeypatch):
    monkeypatch.setattr(cost, "TIMINGS_DIR", tmp_path)
    cost._stored.cache_clear()
    assert cost.planned_device(PAPER) == "cuda" and cost.planned_device(QUICK) == "cpu"
    assert cost.estimate_run_seconds(QUICK, "ganem", "mnist5k", 0, 10) is None  # nothing measured yet
    (tmp_path / "cpu.json").write_text(json.dumps(TIMINGS))
    cost._stored.cache_clear()
    expected = (2 * 20 * 10 * 70 / 64 + 2 * 20 * 20 * 64 / 256 + 2 * 5000 * 0.001) / 1000  # authors preset: batch 70
    assert cost.estimate_run_seconds(QUICK, "ganem", "mnist5k", 0, 10) == pytest.approx(expected)
    assert cost.estimate_run_seconds(PAPER, "ganem", "mnist", 0, 10) is None  # no cuda.json
    cost._stored.cache_clear()


def test_run_lists_per_target():
    groups = plan.targets(QUICK)
    # table1: mnist_unsup 4 methods + mnist_100 ganem, 2 seeds each
    assert len(groups["table1"]) == 10 and len(groups["toy2d"]) == 3 * 3 * 3 and len(groups["fig4"]) == 3
    assert len(groups["all"]) == 40 and "table2+3 (CelebA)" not in groups
    paper = plan.targets(PAPER)
    assert len(paper["table2+3 (CelebA)"]) == 40 * 3 * 3  # 40 attributes x (ganem, ganmm unsup + ganem semi) x 3 seeds
    sup = [r for r in paper["fig4"] if r.variant == "supervised"][0]
    assert plan.run_steps(PAPER, sup, "cpu").gd_steps == 0  # the supervised reference runs no EM
    assert plan.variant_params(PAPER, "bottleneck2") == {"bottleneck": 2}


def test_plan_cli_prints_every_target_and_says_when_no_gpu_was_measured(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cost, "TIMINGS_DIR", tmp_path / "none")
    cost._stored.cache_clear()
    timings = tmp_path / "t.json"
    timings.write_text(json.dumps(TIMINGS))
    assert main(["plan", "--config", str(REPO / "config" / "quick.yaml"), "--timings", str(timings)]) == 0
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert set(rows) >= {"table1", "toy2d", "fig4", "all"}
    assert "no GPU measurement yet" in rows["all"] and "| 40 |" in rows["all"]
    assert main(["plan", "--config", str(REPO / "config" / "quick.yaml"), "--timings", str(tmp_path / "x")]) == 2
    assert "error:" in capsys.readouterr().err
    cost._stored.cache_clear()
