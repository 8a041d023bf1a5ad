"""Disk: once a run's metrics.json is written its checkpoint is slimmed (optimiser states dropped),
removed or kept, as `checkpoints` says; a slim checkpoint still resumes a longer run."""
from __future__ import annotations

import torch

from ganem.run import RunSpec, execute
from ganem.trainer_support import Checkpointer

BUDGET = ("methods.ganem.em_iterations=1", "datasets.toy.methods.ganem.em_iterations=1",
          "datasets.toy.methods.ganem.p_epochs=1", "datasets.toy.methods.ganem.q_steps=2",
          "datasets.toy.methods.ganem.mlp_hidden=8", "methods.ganem.monitor_fakes=10", "device=cpu")


def _run(out, *overrides):
    return execute(RunSpec(method="ganem", dataset="toy-moons", k=2, seed=0, out=out, progress=False,
                           overrides=BUDGET + overrides))


KEEP_OPT = "methods.ganem.reset_optimizers=false"  # otherwise no optimiser state is saved at all


def test_default_slims_the_checkpoint_and_a_longer_run_resumes_from_it(tmp_path):
    _run(tmp_path / "run", KEEP_OPT)
    state = Checkpointer(tmp_path / "run").load()
    assert state is not None and state["iteration"] == 1
    assert not [key for key in state if key.startswith("opt")]  # optimiser states dropped
    record = _run(tmp_path / "run", KEEP_OPT, "datasets.toy.methods.ganem.em_iterations=2")
    assert record["method_extras"]["em_iterations_done"] == 2


def test_remove_and_keep(tmp_path):
    _run(tmp_path / "removed", "checkpoints=remove")
    assert not (tmp_path / "removed" / "checkpoint.pt").exists()
    _run(tmp_path / "kept", KEEP_OPT, "checkpoints=keep")
    assert "opt" in torch.load(tmp_path / "kept" / "checkpoint.pt", weights_only=False)
