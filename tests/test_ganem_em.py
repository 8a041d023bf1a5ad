"""Algorithm 1 (GAN-EM), its outputs, seeding, NaN guard, semi-supervision and the Params."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganem.config_error import ConfigError
from ganem.methods import Labelled, RunContext, get_method, make_params
from ganem.model import em as em_module
from ganem.model.method import GANEM
from ganem.model.params import Params
from ganem.trainer_support import NonFiniteLoss

TINY = dict(em_iterations=2, mstep_batches=3, q_steps=4, batch_size=16, e_batch_size=16,
            monitor_fakes=20, mlp_hidden=16, noise="normal")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def blobs(n=120, seed=0, gap=6.0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.5
    x[:, 0] += (y.float() - 0.5) * gap
    return x, y.numpy()


def fit(tmp_path, x, y=None, labelled=None, seed=0, name="run", k=2, **overrides):
    params = Params(**{**TINY, **overrides})
    ctx = RunContext(k=k, seed=seed, run_dir=tmp_path / name, device=torch.device("cpu"), progress=False,
                     monitor_labels=y)
    m = GANEM(params, ctx)
    m.fit(x, labelled)
    return m, m.assign(x)


def records(run_dir):
    return [json.loads(line) for line in (run_dir / "iterations.jsonl").read_text().splitlines()]


def test_registry_and_params_validation():
    assert get_method("ganem") is GANEM
    assert GANEM.supports_labels
    p = make_params(Params, {"loss": "authors", "adam_betas": [0.5, 0.9]}, "methods.ganem")
    assert p.loss == "authors" and p.adam_betas == (0.5, 0.9)
    with pytest.raises(ConfigError, match="unknown key"):
        make_params(Params, {"los": "paper"}, "methods.ganem")
    for bad in ({"loss": "wgan"}, {"mstep_labels": "phi2"}, {"lipschitz": "gp"}, {"q_steps": -1},
                {"semi_epsilon": 1.5}, {"bottleneck": 0}, {"batch_size": 0}, {"lr_g": 0.0}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            make_params(Params, bad, "methods.ganem")
    a = Params.authors()
    assert (a.optimizer, a.lr_g, a.lr_e, a.batch_size, a.e_batch_size, a.estep_labels) == \
        ("adam", 6e-4, 6e-5, 70, 200, "balanced")
    d = Params()
    assert (d.optimizer, d.lr_g, d.batch_size, d.e_batch_size, d.p_epochs, d.q_steps, d.estep_labels) == \
        ("rmsprop", 2e-4, 64, 256, 5, 1000, "phi")


def test_fit_writes_log_samples_checkpoint_and_clusters_blobs(tmp_path):
    x, y = blobs()
    m, a = fit(tmp_path, x, y, em_iterations=3, mstep_batches=200, q_steps=100, mlp_hidden=64, lr_d=1e-3,
               lr_g=1e-3, lr_e=1e-3, loss="authors")
    run = tmp_path / "run"
    assert (run / "samples.png").stat().st_size > 0
    gen, gen_c = np.load(run / "generated.npy"), np.load(run / "generated_labels.npy")  # toy figure
    assert gen.shape == (400, 2) and gen_c.shape == (400,) and set(gen_c.tolist()) == {0, 1}
    assert (run / "checkpoint.pt").exists()
    recs = records(run)
    assert [r["iteration"] for r in recs] == [1, 2, 3]
    for key in ("seconds", "d_loss", "g_loss", "e_loss", "phi", "cluster_sizes", "changed",
                "fake_accuracy", "monitor_error"):
        assert key in recs[-1]
    assert recs[0]["phi"] == [0.5, 0.5] and recs[0]["changed"] is None
    assert sum(recs[-1]["cluster_sizes"]) == len(x)
    assert a.proba.shape == (len(x), 2) and np.allclose(a.proba.sum(1), 1, atol=1e-5)
    assert (a.labels == a.proba.argmax(1)).all()
    assert a.features is None
    # two blobs 12 sd apart: GAN-EM (the authors' losses; the paper's Eq. 1 is unstable even here,
    # see docs/ganem.md) must find them
    assert recs[-1]["monitor_error"] < 5.0


def test_phi_is_the_mean_of_the_soft_w(tmp_path):
    x, _ = blobs()
    fit(tmp_path, x, em_iterations=1)
    w = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["w"]
    fit(tmp_path, x, em_iterations=2)  # resumes and runs iteration 2 with phi from that w
    phi2 = records(tmp_path / "run")[1]["phi"]
    np.testing.assert_allclose(phi2, (w.sum(0) / len(x)).numpy(), atol=1e-5)


def test_algorithm_1_step_schedule(tmp_path, monkeypatch):
    calls = []
    for name in ("_d_step", "_g_step", "_e_step"):
        orig = getattr(em_module.GANEMTrainer, name)

        def wrapped(self, *a, _orig=orig, _name=name):
            calls.append(_name)
            return _orig(self, *a)
        monkeypatch.setattr(em_module.GANEMTrainer, name, wrapped)
    x, _ = blobs(n=100)
    # p=2 epochs of floor(100/16)=6 batches: 12 (D, G) pairs, then q=3 E steps, per iteration
    fit(tmp_path, x, em_iterations=2, mstep_batches=None, p_epochs=2, q_steps=3)
    one = ["_d_step", "_g_step"] * 12 + ["_e_step"] * 3
    assert calls == one * 2


@pytest.mark.parametrize("how", ["uniform", "phi", "balanced"])
def test_fake_class_sampling(tmp_path, how):
    m, _ = fit(tmp_path, blobs()[0], em_iterations=0)
    gen = torch.Generator().manual_seed(0)
    phi = torch.tensor([0.9, 0.1])
    c = m.trainer.classes(4000, how, phi, gen)
    frac = float((c == 0).float().mean())
    assert frac == pytest.approx({"uniform": 0.5, "phi": 0.9, "balanced": 0.5}[how], abs=0.03)


def test_same_seed_same_predictions_other_seed_differs(tmp_path):
    x, _ = blobs()
    _, a = fit(tmp_path, x, seed=3, name="a")
    _, b = fit(tmp_path, x, seed=3, name="b")
    _, c = fit(tmp_path, x, seed=4, name="c")
    np.testing.assert_array_equal(a.proba, b.proba)
    assert not np.array_equal(a.proba, c.proba)
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    assert [strip(r) for r in records(tmp_path / "a")] == [strip(r) for r in records(tmp_path / "b")]


def test_lazy_w_is_chosen_where_it_reads_fewer_images_and_training_never_needs_all():
    cpu = Params.authors(mstep_batches=24, q_steps=24)  # config/cpu.yaml's ganem_authors_cpu schedule
    assert em_module.lazy_w(cpu, 50_000)  # 24 x 70 + 5,000 monitored images < 50,000
    assert not em_module.lazy_w(cpu, 5_000)  # the monitored subsample alone is every image
    assert not em_module.lazy_w(Params.authors(p_epochs=5), 50_000)  # 5 epochs read every image
    for needs_all in ({"estep_labels": "phi"}, {"mstep_labels": "phi"}, {"stop_on_collapse": True},
                      {"stop_changed_below": 0.01}):  # phi or every hard assignment feeds the training
        assert not em_module.lazy_w(Params.authors(mstep_batches=24, **needs_all), 50_000)
    assert em_module.lazy_w(Params(w_pass="lazy"), 10) and not em_module.lazy_w(Params(w_pass="full"), 10**6)


def test_lazy_w_equals_the_full_pass_for_every_image_read(tmp_path):
    """E is fixed during the M-step, so E(x[idx]) per batch is the all-image pass's w[idx]; only a
    kernel's blocking can change with the batch size, reordering each dot product: a first-order bound
    on a probability is (largest fan-in) x float32 eps, since every product term is O(1) in this
    N(0, 0.02)-initialised net."""
    x = torch.rand(150, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    m, _ = fit(tmp_path, x, k=3, em_iterations=2, batch_size=16, e_batch_size=16, noise_dim=4,
               mechanism_samples=0)
    t = m.trainer
    full, _ = t.predict(x)
    fan_in = max(mod.in_features for mod in t.E.modules() if isinstance(mod, torch.nn.Linear))
    tol = fan_in * torch.finfo(torch.float32).eps
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(3))
    for b in range(0, len(x), 16):  # the M-step's batches: one epoch of them
        lazy, _ = t.predict(x[idx[b:b + 16]])
        assert (lazy - full[idx[b:b + 16]]).abs().max() <= tol


def test_lazy_w_run_gives_the_full_pass_predictions_and_logs_a_fixed_subsample(tmp_path):
    x, y = blobs(n=200)
    lazy_kw = dict(em_iterations=3, loss="authors", w_pass="lazy", monitor_images=60)
    _, full = fit(tmp_path, x, y, name="full", **{**lazy_kw, "w_pass": "full"})
    _, lazy = fit(tmp_path, x, y, name="lazy", **lazy_kw)
    np.testing.assert_array_equal(full.labels, lazy.labels)  # same draws, same w: same training
    np.testing.assert_allclose(full.proba, lazy.proba, atol=1e-6)
    recs_full, recs_lazy = records(tmp_path / "full"), records(tmp_path / "lazy")
    assert all(r["monitored_images"] == 60 and sum(r["cluster_sizes"]) == 60 for r in recs_lazy)
    assert all("monitored_images" not in r and sum(r["cluster_sizes"]) == 200 for r in recs_full)
    assert [r["d_loss"] for r in recs_full] == pytest.approx([r["d_loss"] for r in recs_lazy], abs=1e-5)
    # resumed from its checkpoint (no w stored on the lazy path), the lazy run ends where it did
    fit(tmp_path, x, y, name="resumed", **{**lazy_kw, "em_iterations": 1})
    _, resumed = fit(tmp_path, x, y, name="resumed", **lazy_kw)
    np.testing.assert_array_equal(resumed.proba, lazy.proba)


def test_in_process_resume_is_exact_images_and_persistent_optimisers(tmp_path):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(40, 1, 28, 28, generator=g)
    small = dict(em_iterations=3, mstep_batches=2, q_steps=2, batch_size=8, e_batch_size=8, monitor_fakes=10,
                 reset_optimizers=False, optimizer="adam", noise_dim=4, lipschitz="spectral")
    _, ref = fit(tmp_path, x, name="ref", k=3, **small)
    fit(tmp_path, x, name="res", k=3, **{**small, "em_iterations": 1})
    _, res = fit(tmp_path, x, name="res", k=3, **small)
    np.testing.assert_array_equal(ref.proba, res.proba)
    assert [r["iteration"] for r in records(tmp_path / "res")] == [1, 2, 3]
    with pytest.raises(ValueError, match="different run"):
        fit(tmp_path, x, name="res", k=3, **{**small, "lr_g": 1e-3})


def _nan_at_call(monkeypatch, name, bad_call):
    """Make losses.<name> return NaN on its bad_call-th call; return the call counter."""
    calls = {"n": 0}
    orig = getattr(em_module.losses, name)

    def patched(*a, **kw):
        calls["n"] += 1
        out = orig(*a, **kw)
        return out * float("nan") if calls["n"] == bad_call else out
    monkeypatch.setattr(em_module.losses, name, patched)
    return calls


@pytest.mark.parametrize("every", [1, 2, 1000])
def test_nan_loss_stops_the_run_naming_iteration_and_step(tmp_path, monkeypatch, every):
    """The losses are read back once per finite_check_every steps, yet the error names the exact
    step, and the run stops at the end of that window (M-step of 8 steps, NaN at step 2)."""
    x, _ = blobs()
    fit(tmp_path, x, name="ok", em_iterations=1)
    calls = _nan_at_call(monkeypatch, "g_loss_paper", 3)
    with pytest.raises(NonFiniteLoss, match=r"g_loss = nan at iteration 1, step 2"):
        fit(tmp_path, x, name="nan", mstep_batches=8, finite_check_every=every)
    assert calls["n"] == {1: 3, 2: 4, 1000: 8}[every]  # steps run after the bad one: the rest of its window
    assert not (tmp_path / "nan" / "checkpoint.pt").exists()


def test_nan_in_the_e_step_names_its_step(tmp_path, monkeypatch):
    x, _ = blobs()
    _nan_at_call(monkeypatch, "e_loss", 4 + 2)  # iteration 2 (4 E-steps each), its E-step 1 = step 3 + 1
    with pytest.raises(NonFiniteLoss, match=r"e_loss = nan at iteration 2, step 4"):
        fit(tmp_path, x, name="nan_e", finite_check_every=50)


def test_exploding_learning_rate_is_caught(tmp_path):
    x, _ = blobs()
    with pytest.raises(NonFiniteLoss, match="at iteration"):
        fit(tmp_path, x * 1e30, em_iterations=3, loss="paper", lr_d=1e30, lr_g=1e30, lr_e=1e30)


def test_output_activation_from_the_data_range(tmp_path):
    g = torch.Generator().manual_seed(0)
    x01 = torch.rand(24, 1, 28, 28, generator=g)
    small = dict(em_iterations=1, mstep_batches=1, q_steps=1, batch_size=8, e_batch_size=8, monitor_fakes=10,
                 noise_dim=4)
    m, a = fit(tmp_path, x01, name="s", **small)
    assert a.extras["g_output"] == "sigmoid"
    m, a = fit(tmp_path, x01 * 2 - 1, name="t", **small)
    assert a.extras["g_output"] == "tanh"
    with pytest.raises(ValueError, match="neither"):
        fit(tmp_path, x01 * 5, name="u", **small)


def test_semi_supervised_trains_e_on_labels_until_epsilon(tmp_path):
    x, y = blobs()
    lab = Labelled(x=x[:20], y=torch.as_tensor(y[:20]))
    m, a = fit(tmp_path, x, y, labelled=lab, em_iterations=2, semi_epsilon=0.0, semi_max_steps=500)
    recs = records(tmp_path / "run")
    assert all(r["semi_error"] == 0.0 and not r["semi_cap_hit"] for r in recs)
    assert (a.labels[:20] == y[:20]).all()
    # impossible labels (random): the cap ends the training and is logged
    bad = Labelled(x=x[:20], y=torch.as_tensor(np.random.default_rng(0).integers(0, 2, 20)))
    m, a = fit(tmp_path, x, y, labelled=bad, name="cap", em_iterations=1, semi_max_steps=3, semi_batch_size=8)
    rec = records(tmp_path / "cap")[0]
    assert rec["semi_cap_hit"] and rec["semi_steps"] == 3
    assert a.extras["semi_cap_hits"] == 1


def test_supervised_reference_and_bottleneck_features(tmp_path):
    x, y = blobs()
    lab = Labelled(x=x, y=torch.as_tensor(y))
    m, a = fit(tmp_path, x, y, labelled=lab, supervised_reference=True, bottleneck=2, semi_epsilon=0.02)
    assert a.features.shape == (len(x), 2)
    assert (a.labels != y).mean() <= 0.02
    rec = records(tmp_path / "run")
    assert len(rec) == 1 and rec[0]["semi_error"] <= 0.02
    with pytest.raises(ValueError, match="labelled"):
        fit(tmp_path, x, name="nolab", supervised_reference=True)
    # em_iterations=0 + labels is the same purely supervised E-net
    m, a = fit(tmp_path, x, y, labelled=lab, name="zero", em_iterations=0, semi_epsilon=0.02, bottleneck=3)
    assert a.features.shape == (len(x), 3) and (a.labels != y).mean() <= 0.02


# --- the authors' runtime choices (issue 18): g_step_noise, bn_weight_init, adam_eps

RUNTIME = dict(g_step_noise="fresh", bn_weight_init="uniform01", adam_eps="legacy", optimizer="adam")


def test_runtime_choices_validation_and_the_authors_preset():
    a = Params.authors()
    assert (a.g_step_noise, a.bn_weight_init, a.adam_eps) == ("fresh", "uniform01", "legacy")
    d = Params()
    assert (d.g_step_noise, d.bn_weight_init, d.adam_eps) == ("reuse", "ones", "modern")
    with pytest.raises(ConfigError, match="adam_eps=legacy is an Adam update.*adam_eps: modern"):
        make_params(Params, {"adam_eps": "legacy"}, "methods.ganem")  # the default optimizer is RMSprop
    for bad in ({"g_step_noise": "new"}, {"bn_weight_init": "zeros"}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            make_params(Params, bad, "methods.ganem")


@pytest.mark.parametrize("how", ["reuse", "fresh"])
def test_g_step_noise_reuses_or_draws_its_own(tmp_path, monkeypatch, how):
    seen = {"d": [], "g": []}
    for name, key in (("_d_step", "d"), ("_g_step", "g")):
        orig = getattr(em_module.GANEMTrainer, name)

        def wrapped(self, *a, _orig=orig, _key=key):
            seen[_key].append(tuple(t.clone() for t in a[-2:]))  # (z, c)
            return _orig(self, *a)
        monkeypatch.setattr(em_module.GANEMTrainer, name, wrapped)
    x, _ = blobs(n=64)
    fit(tmp_path, x, em_iterations=1, mstep_batches=3, q_steps=1, mstep_labels="uniform", g_step_noise=how)
    assert len(seen["d"]) == len(seen["g"]) == 3
    # the training generator's sequence: randperm of the reals, then per step z, c (D), [z, c (G)]
    gen = torch.Generator().manual_seed(0)
    torch.randperm(64, generator=gen)
    for (zd, cd), (zg, cg) in zip(seen["d"], seen["g"]):
        assert torch.equal(zd, torch.randn(16, 2, generator=gen)) and torch.equal(cd, torch.randint(2, (16,), generator=gen))
        if how == "reuse":
            assert torch.equal(zg, zd) and torch.equal(cg, cd)
        else:  # a draw of its own, right after the D step's
            assert torch.equal(zg, torch.randn(16, 2, generator=gen))
            assert torch.equal(cg, torch.randint(2, (16,), generator=gen))
            assert not torch.equal(zg, zd)


def test_runtime_choices_same_seed_bit_identical_and_each_changes_the_run(tmp_path):
    g = torch.Generator().manual_seed(2)
    x = torch.rand(32, 1, 28, 28, generator=g)  # conv nets: BatchNorm in G, D and E
    small = dict(em_iterations=2, mstep_batches=2, q_steps=2, batch_size=8, e_batch_size=8, monitor_fakes=10,
                 noise_dim=4, reset_optimizers=False, mechanism_samples=10, assign_batch_size=32)
    _, a = fit(tmp_path, x, name="a", k=3, **small, **RUNTIME)
    _, b = fit(tmp_path, x, name="b", k=3, **small, **RUNTIME)
    np.testing.assert_array_equal(a.proba, b.proba)
    _, base = fit(tmp_path, x, name="base", k=3, **small, optimizer="adam")
    for key in ("g_step_noise", "bn_weight_init", "adam_eps"):
        _, one = fit(tmp_path, x, name=key, k=3, **small, optimizer="adam", **{key: RUNTIME[key]})
        assert not np.array_equal(one.proba, base.proba), key


def test_in_process_resume_is_exact_with_legacy_adam_and_fresh_g_noise(tmp_path):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(40, 1, 28, 28, generator=g)
    small = dict(em_iterations=3, mstep_batches=2, q_steps=2, batch_size=8, e_batch_size=8, monitor_fakes=10,
                 reset_optimizers=False, noise_dim=4, **RUNTIME)
    _, ref = fit(tmp_path, x, name="ref", k=3, **small)
    fit(tmp_path, x, name="res", k=3, **{**small, "em_iterations": 1})
    _, res = fit(tmp_path, x, name="res", k=3, **small)
    np.testing.assert_array_equal(ref.proba, res.proba)
    state = torch.load(tmp_path / "res" / "checkpoint.pt", weights_only=False)
    assert {s["host_step"] for s in state["opt"]["G"]["state"].values()} == {6}  # LegacyAdam kept across iterations


def test_a_checkpoint_from_before_a_field_existed_resumes_with_its_default(tmp_path):
    x, _ = blobs()
    fit(tmp_path, x, em_iterations=1)
    path = tmp_path / "run" / "checkpoint.pt"
    state = torch.load(path, weights_only=False)
    for key in ("g_step_noise", "bn_weight_init", "adam_eps"):
        del state["params"][key]
    torch.save(state, path)
    fit(tmp_path, x, em_iterations=2)  # resumes (reuse/ones/modern = what that run had)
    assert [r["iteration"] for r in records(tmp_path / "run")] == [1, 2]
    with pytest.raises(ValueError, match="g_step_noise"):
        fit(tmp_path, x, em_iterations=3, g_step_noise="fresh")


def test_a_checkpoint_of_another_format_version_is_refused_with_the_fix(tmp_path):
    x, _ = blobs()
    fit(tmp_path, x, em_iterations=1)
    path = tmp_path / "run" / "checkpoint.pt"
    state = torch.load(path, weights_only=False)
    state["version"] = em_module.CHECKPOINT_VERSION + 1
    torch.save(state, path)
    with pytest.raises(ValueError, match=rf"format version {em_module.CHECKPOINT_VERSION + 1}.*delete the run folder"):
        fit(tmp_path, x, em_iterations=2)
