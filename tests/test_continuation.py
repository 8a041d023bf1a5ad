"""A budget sweep trains each seed's longest budget once: a longer run continues a finished shorter
run's final checkpoint (``python -m ganem run --continue-from``) and must then be that longer run step
for step. These tests compare a continued run with the same longer run trained from scratch, in one
process (the same kernels), so the predictions must be equal bit for bit, not within a tolerance."""
from __future__ import annotations

import json
import shutil
import textwrap

import numpy as np
import pytest
import torch

from ganem.config_error import ConfigError
from ganem.run import RunSpec, adopt, execute
from ganem.trainer_support import Checkpointer, tidy_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# toy-moons, an MLP GAN-EM; optimiser states carried across EM iterations and a decaying lr, so that
# a continuation that lost either (or restarted the decay) would train differently
TOY = ("datasets.toy.methods.ganem.p_epochs=1", "datasets.toy.methods.ganem.q_steps=3",
       "datasets.toy.methods.ganem.mlp_hidden=8", "methods.ganem.monitor_fakes=10", "device=cpu",
       "methods.ganem.reset_optimizers=false", "methods.ganem.lr_decay=0.9", "checkpoints=keep")


def _run(out, iterations, *extra, continue_from=None, seed=0):
    return execute(RunSpec(method="ganem", dataset="toy-moons", k=2, seed=seed, out=out, progress=False,
                           continue_from=continue_from,
                           overrides=TOY + (f"datasets.toy.methods.ganem.em_iterations={iterations}",) + extra))


def _training_log(run_dir):
    """iterations.jsonl without the wall-clock fields."""
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in (run_dir / "iterations.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("w_pass", ["full", "lazy"])
def test_a_continued_run_is_the_longer_run_step_for_step(tmp_path, w_pass):
    extra = (f"methods.ganem.w_pass={w_pass}", "methods.ganem.monitor_images=40")
    fresh = _run(tmp_path / "fresh", 4, *extra)
    short = _run(tmp_path / "short", 2, *extra)
    continued = _run(tmp_path / "continued", 4, *extra, continue_from=tmp_path / "short")

    for name in ("predictions.npy", "proba.npy"):
        np.testing.assert_array_equal(np.load(tmp_path / "fresh" / name), np.load(tmp_path / "continued" / name))
    assert _training_log(tmp_path / "continued") == _training_log(tmp_path / "fresh")
    assert continued["method_extras"]["em_iterations_done"] == 4
    assert continued["continued_from"] == str(tmp_path / "short")
    # its seconds count the shorter run's training (recorded in the checkpoint it continued) too
    assert continued["resumed_seconds"] == round(Checkpointer(tmp_path / "short").load()["fit_seconds"], 3)
    assert 0 < continued["resumed_seconds"] <= short["fit_seconds"]  # fit start to its last checkpoint
    assert continued["fit_seconds"] > continued["resumed_seconds"]
    assert fresh["resumed_seconds"] == 0


def test_an_interrupted_continuation_resumes_its_own_checkpoint(tmp_path):
    _run(tmp_path / "short", 1)
    _run(tmp_path / "fresh", 3)
    (tmp_path / "continued").mkdir()
    adopt(tmp_path / "short", tmp_path / "continued")  # as --continue-from starts ...
    _run(tmp_path / "continued", 2)  # ... and as if killed after EM iteration 2 (a finished 2-iteration run)
    own = Checkpointer(tmp_path / "continued").load()
    record = _run(tmp_path / "continued", 3, continue_from=tmp_path / "short")
    assert own["iteration"] == 2 and record["resumed_seconds"] == round(own["fit_seconds"], 3)  # its own won
    np.testing.assert_array_equal(np.load(tmp_path / "fresh" / "proba.npy"),
                                  np.load(tmp_path / "continued" / "proba.npy"))


def test_continuing_a_slim_unfinished_or_other_run_is_refused_before_any_work(tmp_path):
    _run(tmp_path / "short", 1)
    with pytest.raises(ConfigError, match="differs from this one in \\['seed'\\]"):
        _run(tmp_path / "other", 2, continue_from=tmp_path / "short", seed=1)
    with pytest.raises(ConfigError, match="no metrics.json"):
        _run(tmp_path / "other", 2, continue_from=tmp_path / "nothing")
    tidy_checkpoint(tmp_path / "short", "slim")
    with pytest.raises(ConfigError, match="slimmed.*checkpoints: keep"):
        _run(tmp_path / "other", 2, continue_from=tmp_path / "short")
    assert not (tmp_path / "other").exists()  # refused before the run folder was made
    (tmp_path / "short" / "checkpoint.pt").unlink()
    with pytest.raises(ConfigError, match="no checkpoint.pt"):
        _run(tmp_path / "other", 2, continue_from=tmp_path / "short")


def test_a_checkpoint_past_the_run_s_length_is_refused(tmp_path):
    _run(tmp_path / "run", 2)
    with pytest.raises(ValueError, match="at EM iteration 2, past em_iterations=1"):
        _run(tmp_path / "run", 1)


def test_a_resumed_run_counts_the_seconds_of_the_process_it_resumed(tmp_path):
    short = _run(tmp_path / "run", 1)
    longer = _run(tmp_path / "run", 2)  # the same folder, more iterations: resumes
    assert 0 < longer["resumed_seconds"] <= short["fit_seconds"]
    assert longer["fit_seconds"] > longer["resumed_seconds"]


GANMM_CHILD = textwrap.dedent("""
    from pathlib import Path
    import numpy as np
    import torch
    from baselines.ganmm.method import GANMM, Params
    from ganem.methods import RunContext, make_params

    def fit(run_dir, iterations):
        g = torch.Generator().manual_seed(0)
        x = torch.rand(120, 1, 28, 28, generator=g)
        x[:60, :, :14] *= 0.1
        params = make_params(Params, dict(iterations=iterations, pretrain_iterations=4, dim=4, batch_size=10,
                                          critic_iters=2, log_every=2, checkpoint_every=3,
                                          num_chose_schedule=[[0, 5], [6, 8]]), "methods.ganmm")
        m = GANMM(params, RunContext(k=2, seed=3, run_dir=Path(run_dir), device=torch.device("cpu"),
                                     progress=False))
        m.fit(x)
        return m, m.assign(x)
""")


def test_a_continued_ganmm_run_is_the_longer_run_step_for_step(tmp_path):
    namespace: dict = {}
    exec(compile(GANMM_CHILD, "ganmm_child", "exec"), namespace)
    fit = namespace["fit"]
    _, fresh = fit(tmp_path / "fresh", 11)
    fit(tmp_path / "short", 7)  # ends off the log and checkpoint grid (every 2 and 3 iterations)
    (tmp_path / "continued").mkdir()
    adopt(tmp_path / "short", tmp_path / "continued")
    method, continued = fit(tmp_path / "continued", 11)
    np.testing.assert_array_equal(fresh.labels, continued.labels)
    np.testing.assert_array_equal(fresh.proba, continued.proba)
    assert method.resumed_seconds() > 0
