"""GAN-EM's computation options (compile, bf16, channels_last, optimizer kernels) and the windowed
NaN guard, on the device under test: the CPU by default, the GPU under `pytest -m device --device
cuda` (benchmarks/gpu_check.sh).  An option changes speed, not results: same losses, probabilities
within float tolerance of the default run (bf16: losses within bf16's precision)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganem.methods import RunContext
from ganem.model import em as em_module
from ganem.model.method import GANEM, Params
from ganem.trainer_support import NonFiniteLoss

TINY = dict(em_iterations=2, mstep_batches=3, q_steps=4, batch_size=16, e_batch_size=16, monitor_fakes=20,
            mlp_hidden=16, noise="normal")
IMAGES = dict(em_iterations=1, mstep_batches=2, q_steps=2, batch_size=8, e_batch_size=8, monitor_fakes=10,
              noise_dim=4, assign_batch_size=16)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


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


def losses_of(tmp_path, name):
    records = [json.loads(line) for line in (tmp_path / name / "iterations.jsonl").read_text().splitlines()]
    return np.array([[r["d_loss"], r["g_loss"], r["e_loss"]] for r in records])


# Tolerances: the optimiser kernels compute the same update (rounding only); other conv algorithms
# (channels_last, compiled kernels) change the gradients' rounding (~1e-4 relative), which RMSprop's
# per-parameter normalisation turns into full-size differences of near-zero-gradient updates, so
# after a few steps the probabilities of these barely trained nets (all near 0.5) differ by up to
# ~0.02 and the logged losses by ~1 % (measured on CPU).
@pytest.mark.parametrize("option,atol", [({"optimizer_impl": "foreach"}, 1e-3), ({"optimizer_impl": "single"}, 1e-3),
                                         ({"optimizer_impl": "fused", "optimizer": "adam"}, 1e-3),
                                         ({"channels_last": True}, 0.05), ({"compile": "default"}, 0.05)])
def test_speed_options_keep_the_result(tmp_path, device, option, atol):
    base = {**IMAGES, "optimizer": option.get("optimizer", "rmsprop")}
    if option.get("optimizer_impl") == "fused":  # Adam's default (auto) is fused: compare with the loop
        base["optimizer_impl"] = "single"
    ref = fit(tmp_path, device, digits(), "ref", **base)
    got = fit(tmp_path, device, digits(), "opt", **{**base, **option})
    np.testing.assert_allclose(losses_of(tmp_path, "opt"), losses_of(tmp_path, "ref"), rtol=atol)
    np.testing.assert_allclose(got.proba, ref.proba, rtol=0, atol=atol)
    if atol < 0.01:
        np.testing.assert_array_equal(got.labels, ref.labels)


def test_bf16_autocast_steps_within_bf16_precision(tmp_path, device):
    """The first M-step and E-step from the same nets: bf16 keeps 8 bits of mantissa (~0.4 %), so the
    losses agree to a few percent (later steps drift further: different weights, different fakes).
    A whole bf16 run ends with finite probabilities."""
    from ganem.step_timing import ganem_trainer

    out = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)  # the nets' initialisation
        params = Params(**{**IMAGES, "precision": precision})
        trainer, x, w, phi_draw, gen = ganem_trainer("mnist", device, params, 2, tmp_path / precision)
        d_loss, g_loss = trainer.mstep_step(x, w, torch.arange(8, device=device), phi_draw, gen)
        out[precision] = torch.stack([d_loss, g_loss, trainer.estep_step(phi_draw, gen)]).cpu().numpy()
    assert np.isfinite(out["bf16"]).all()
    np.testing.assert_allclose(out["bf16"], out["fp32"], rtol=0.05)  # measured on CPU: up to 4 % (E-step)
    assert np.isfinite(fit(tmp_path, device, digits(), "run", **IMAGES, precision="bf16").proba).all()


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
