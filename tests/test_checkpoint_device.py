"""A GAN-EM run resumes on any device: the checkpoint is read on the CPU and only the nets' weights
move to the run's device. The `meta` device stands in for a GPU on a CPU-only machine: a checkpoint
mapped onto it (as `map_location=<cuda device>` did) leaves RNG states that `torch.set_rng_state`
rejects ("RNG state must be a torch.ByteTensor")."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganem.methods import RunContext, make_params
from ganem.model.method import GANEM, Params


def _fit(run_dir: Path, device: str) -> GANEM:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g)
    params = make_params(Params, dict(em_iterations=1, mstep_batches=2, q_steps=2, batch_size=16, e_batch_size=16,
                                      mlp_hidden=8, noise="normal", monitor_fakes=8), "methods.ganem")
    method = GANEM(params, RunContext(k=2, seed=3, run_dir=run_dir, device=torch.device(device), progress=False))
    method.fit(x.to(device))
    return method


@pytest.mark.filterwarnings("ignore:for .*copying from a non-meta parameter")
def test_checkpoint_resumes_onto_another_device(tmp_path):
    _fit(tmp_path, "cpu")  # one EM iteration on the CPU writes checkpoint.pt (finished)
    resumed = _fit(tmp_path, "meta")  # same run, resumed on a non-CPU device: loads, restores, ends
    trainer = resumed.trainer
    assert trainer.iterations_done == 1
    assert trainer.w.device.type == "meta"
    assert next(trainer.E.parameters()).device.type == "meta"
    assert torch.get_rng_state().device.type == "cpu"
