"""Issue 10's instruments: the collapse guard, the mechanism log, and the ablation table and figure."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from dag_failure import explain
from ganem.methods import RunContext
from ganem.model.diagnostics import CollapseGuard, d_outputs, g_input_gradients
from ganem.model.method import GANEM
from ganem.model.params import Params

REPO = Path(__file__).resolve().parent.parent
TINY = dict(em_iterations=3, mstep_batches=3, q_steps=4, batch_size=16, e_batch_size=16, monitor_fakes=20,
            mlp_hidden=16, noise="normal", mechanism_samples=50)


def test_collapse_guard_declares_a_cluster_dead_after_patience_iterations_below_one_tenth_of_uniform():
    guard = CollapseGuard(k=2, patience=2)  # threshold 1/(10*2) = 0.05
    assert guard.threshold == pytest.approx(0.05)
    assert guard.update(1, torch.tensor([0.5, 0.5])) == []
    assert guard.update(2, torch.tensor([0.97, 0.03])) == []       # cluster 1: one iteration below
    assert guard.update(3, torch.tensor([0.96, 0.04])) == [1]      # two: dead at iteration 3
    assert guard.update(4, torch.tensor([0.99, 0.01])) == []       # still dead, not declared twice
    assert guard.update(5, torch.tensor([0.90, 0.10])) == []       # recovers: the streak resets
    guard.update(6, torch.tensor([0.99, 0.01]))
    assert guard.update(7, torch.tensor([0.99, 0.01])) == [1]      # dies again
    assert guard.dead == [[3, 1], [7, 1]]
    again = CollapseGuard(k=2, patience=2)
    again.load_state_dict(guard.state_dict())
    assert again.dead == guard.dead and again.streak == guard.streak


def test_d_outputs_are_the_mean_sigmoid_of_each_unit():
    class Constant(nn.Module):
        def forward(self, x):
            return torch.tensor([[0.0, math.log(3.0)]]).repeat(len(x), 1)

    assert d_outputs(Constant(), torch.zeros(4, 1)) == [0.5, 0.75]


def test_g_input_gradients_by_hand():
    class LinearG(nn.Module):  # G(z, c) = [z, onehot(c)] @ W, with W = [[1], [2], [3], [5]]
        k = 2

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.tensor([[1.0], [2.0], [3.0], [5.0]]))

        def forward(self, z, c):
            onehot = c if c.is_floating_point() else nn.functional.one_hot(c, self.k).float()
            return torch.cat([z, onehot], 1) @ self.w

    # L_G = mean over the batch of G(z, c): per sample, dL/dz = (1, 2) and dL/dc = (3, 5)
    out = g_input_gradients(LinearG(), nn.Identity(), torch.randn(4, 2), torch.tensor([0, 1, 0, 1]),
                            lambda logits, c: logits.mean())
    assert out["g_grad_noise"] == pytest.approx(math.sqrt(5))
    assert out["g_grad_class"] == pytest.approx(math.sqrt(34))


def blobs(n=96):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.5
    x[:, 0] += (y.float() - 0.5) * 6
    return x, y.numpy()


def fit(run_dir, x, y, **overrides):
    torch.manual_seed(0)
    m = GANEM(Params(**{**TINY, **overrides}), RunContext(k=2, seed=0, run_dir=run_dir, device=torch.device("cpu"),
                                                          progress=False, monitor_labels=y))
    m.fit(x)
    return m.assign(x)


def test_mechanism_log_is_written_and_never_changes_the_training(tmp_path):
    torch.set_num_threads(1)
    x, y = blobs()
    with_log = fit(tmp_path / "a", x, y)
    without = fit(tmp_path / "b", x, y, mechanism_samples=0)
    np.testing.assert_array_equal(with_log.labels, without.labels)
    np.testing.assert_allclose(with_log.proba, without.proba, atol=0)
    rec = json.loads((tmp_path / "a" / "iterations.jsonl").read_text().splitlines()[-1])
    assert len(rec["d_real_units"]) == len(rec["d_fake_units"]) == 3  # K class units + the extra unit
    assert rec["g_grad_class"] > 0 and rec["g_grad_noise"] > 0
    assert rec["min_share"] == pytest.approx(min(rec["cluster_sizes"]) / len(x), abs=0.5)
    assert rec["dead_clusters"] == []
    assert "d_real_units" not in json.loads((tmp_path / "b" / "iterations.jsonl").read_text().splitlines()[-1])
    assert with_log.extras["n_dead_clusters"] == 0


def test_a_collapsed_run_is_counted_and_can_be_stopped(tmp_path, monkeypatch):
    # force collapse: every real image is assigned to cluster 0
    from ganem.model import em

    def all_in_zero(self, x, features=False):
        proba = torch.zeros(len(x), self.k)
        proba[:, 0] = 1
        return proba, None
    monkeypatch.setattr(em.GANEMTrainer, "predict", all_in_zero)
    x, y = blobs()
    a = fit(tmp_path / "go_on", x, y, em_iterations=4, collapse_patience=2)
    assert a.extras["dead_clusters"] == [[2, 1]] and a.extras["n_dead_clusters"] == 1
    assert len((tmp_path / "go_on" / "iterations.jsonl").read_text().splitlines()) == 4
    stopped = fit(tmp_path / "stop", x, y, em_iterations=4, collapse_patience=2, stop_on_collapse=True)
    assert stopped.extras["stopped_early"] and stopped.extras["em_iterations_done"] == 2
    assert len((tmp_path / "stop" / "iterations.jsonl").read_text().splitlines()) == 2


ABLATION = """
data_dir: data
download: false
device: cpu
seeds: [0, 1]
datasets:
  mnist5k: {unsup: {fit: all, score: all}, n_samples: 200}
methods:
  kmeans: {n_init: 2, max_iter: 50}
  tiny_paper: &paper {method: ganem, label: "paper", em_iterations: 2, mstep_batches: 2, q_steps: 2,
                      batch_size: 20, e_batch_size: 20, monitor_fakes: 20, mechanism_samples: 20}
  tiny_paper_adam: {<<: *paper, label: "paper + Adam", optimizer: adam}
ablation:
  dataset: mnist5k
  ends: [tiny_paper]
  methods: [kmeans, tiny_paper, tiny_paper_adam]
table1: {}
"""


@pytest.mark.slow
def test_ablation_dag_builds_its_table_and_figure(tmp_path):
    config = tmp_path / "ablation.yaml"
    config.write_text(ABLATION)
    done = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
                           "results/ablation.md", "figures/ablation_curves.png", "--configfile", str(config),
                           "--cores", "2"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, explain(done, tmp_path)
    table = pd.read_csv(tmp_path / "results" / "ablation.csv").set_index("method")
    assert list(table.index) == ["kmeans", "tiny_paper", "tiny_paper_adam"]
    assert (table["n_seeds"] == 2).all() and table["error_mean"].between(0, 100).all()
    assert table.loc["tiny_paper_adam", "changes"] == "optimizer=adam"
    assert table.loc["tiny_paper", "changes"] == "(this end)"
    assert table.loc["tiny_paper", "error_by_iteration"].startswith("1: ")
    assert table.loc["tiny_paper", "g_class_ratio_by_iteration"].startswith("1: ")
    md = (tmp_path / "results" / "ablation.md").read_text()
    # the config as the DAG was given it, relative to the working directory
    assert f"Built from `{config.name}`" in md and "paper + Adam (`tiny_paper_adam`)" in md
    assert (tmp_path / "figures" / "ablation_curves.png").stat().st_size > 0
