"""GAN-EM's computation options (compile, bf16, channels_last, optimizer kernels) and the windowed
NaN guard, on the device under test: the CPU by default, the GPU under `pytest -m device --device
cuda` (benchmarks/gpu_check.sh).  An option changes speed, not results: same labels, probabilities
within float tolerance of the default run (bf16: within bf16's precision)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ganem.methods import RunContext
from ganem.model import em as em_module
from ganem.model.method import GANEM, Params
from ganem.training import NonFiniteLoss

TINY = dict(em_iterations=2, mstep_batches=3, q_steps=4, batch_size=16, e_batch_size=16, monitor_fakes=20,
            mlp_hidden=16, noise="normal")
IMAGES = dict(em_iterations=1, mstep_batches=2, q_steps=2, batch_size=8, e_batch_size=8, monitor_fakes=10,
              noise_dim=4, assign_batch_size=16)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def points(n=120):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.5
    x[:, 0] += (y.float() - 0.5) * 6
    return x


def digits(n=32):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def fit(tmp_path, device, x, name, **params):
    ctx = RunContext(k=2, seed=0, run_dir=tmp_path / name, device=device, progress=False)
    method = GANEM(Params(**params), ctx)
    method.fit(x)
    return method.assign(x)


def test_same_seed_same_predictions(tmp_path, device):
    a, b = fit(tmp_path, device, points(), "a", **TINY), fit(tmp_path, device, points(), "b", **TINY)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.proba, b.proba, rtol=0, atol=1e-6)


@pytest.mark.parametrize("option", [{"optimizer_impl": "foreach"}, {"optimizer_impl": "single"},
                                    {"optimizer_impl": "fused", "optimizer": "adam"}, {"channels_last": True},
                                    {"compile": "default"}])
def test_speed_options_keep_the_result(tmp_path, device, option):
    base = {**IMAGES, "optimizer": option.get("optimizer", "rmsprop")}
    ref = fit(tmp_path, device, digits(), "ref", **base)
    got = fit(tmp_path, device, digits(), "opt", **{**base, **option})
    np.testing.assert_array_equal(ref.labels, got.labels)
    np.testing.assert_allclose(ref.proba, got.proba, rtol=0, atol=1e-4)


def test_bf16_autocast_trains_within_bf16_precision(tmp_path, device):
    ref = fit(tmp_path, device, digits(), "fp32", **IMAGES)
    got = fit(tmp_path, device, digits(), "bf16", **IMAGES, precision="bf16")
    assert np.isfinite(got.proba).all()
    np.testing.assert_allclose(ref.proba, got.proba, rtol=0, atol=0.05)


def test_nan_guard_names_the_step_on_the_device(tmp_path, device, monkeypatch):
    calls = {"n": 0}
    orig = em_module.losses.d_loss_paper

    def nan_on_fifth(*a, **kw):
        calls["n"] += 1
        out = orig(*a, **kw)
        return out * float("nan") if calls["n"] == 5 else out
    monkeypatch.setattr(em_module.losses, "d_loss_paper", nan_on_fifth)
    with pytest.raises(NonFiniteLoss, match=r"d_loss = nan at iteration 1, step 4"):
        fit(tmp_path, device, points(), "nan", **{**TINY, "mstep_batches": 10, "finite_check_every": 4})
    assert calls["n"] == 8  # the window of steps 4..7 ran to its end, nothing after it
