"""GANMM (baselines/ganmm): networks, the epsilon-mixing batch, schedule, split, optimiser,
determinism and the NaN guard.  Resume-after-SIGKILL is in test_ganmm_resume.py."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.ganmm import optim, sampling
from baselines.ganmm import train as T
from baselines.ganmm.method import GANMM, ORIGINAL_SCHEDULE, Params
from baselines.ganmm.nets import Classifier, Critic, Generator, clip_, tflib_init
from ganem.config_error import ConfigError
from ganem.methods import RunContext, get_method, make_params
from ganem.trainer_support import NonFiniteLoss

# A tiny configuration: the original algorithm with narrow nets and small batches.
TINY = dict(iterations=4, pretrain_iterations=2, dim=4, batch_size=10, critic_iters=2, log_every=2,
            checkpoint_every=2, num_chose_schedule=[[0, 5], [2, 8]])


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread, as in the suite's jobs: faster on a shared 2-core machine, and the
    determinism checks compare runs with the same thread count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_data(n=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 28, 28, generator=g)
    x[: n // 2, :, :14] *= 0.1  # two crude "classes"
    y = np.r_[np.zeros(n // 2, int), np.ones(n - n // 2, int)]
    return x, y


def fit_tiny(tmp_path: Path, seed=0, k=2, **over):
    x, y = tiny_data()
    params = make_params(Params, {**TINY, **over}, "methods.ganmm")
    ctx = RunContext(k=k, seed=seed, run_dir=tmp_path, device=torch.device("cpu"), progress=False,
                     monitor_labels=y)
    m = GANMM(params, ctx)
    m.fit(x)
    return m, m.assign(x)


# ----------------------------------------------------------------------------- networks
@pytest.mark.parametrize("shape,act,lo,hi", [((1, 28, 28), "sigmoid", 0, 1), ((3, 64, 64), "tanh", -1, 1),
                                            ((3, 32, 32), "sigmoid", 0, 1)])
def test_net_shapes(shape, act, lo, hi):
    torch.manual_seed(0)
    G, D, C = Generator(shape, 128, 64, act), Critic(shape, 64), Classifier(shape, 7, 64)
    for net in (G, D, C):
        tflib_init(net, torch.Generator().manual_seed(0))
    x = G(torch.randn(4, 128))
    assert x.shape == (4, *shape)
    assert lo <= float(x.detach().min()) and float(x.detach().max()) <= hi
    assert D(x).shape == (4,)
    assert C(x).shape == (4, 7)


def test_original_mnist_architecture():
    """28x28: FC 4*4*256 -> deconvs 128, 64, 1 (5x5); critic conv 64/128/256 (5x5 s2) -> linear 1;
    classifier conv 64/128 -> dense K."""
    G, D, C = Generator((1, 28, 28)), Critic((1, 28, 28)), Classifier((1, 28, 28), 10)
    convs_t = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size) for m in convs_t] == [
        (256, 128, (5, 5)), (128, 64, (5, 5)), (64, 1, (5, 5))]
    assert G.fc[0].out_features == 4 * 4 * 256
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(m.out_channels, m.stride) for m in convs] == [(64, (2, 2)), (128, (2, 2)), (256, (2, 2))]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules()) == 2  # none on the first conv
    assert D.net[-1].in_features == 4 * 4 * 256 and D.net[-1].out_features == 1
    assert [m.out_channels for m in C.modules() if isinstance(m, torch.nn.Conv2d)] == [64, 128]
    assert C.net[-1].in_features == 7 * 7 * 128 and C.net[-1].out_features == 10


def test_clip_covers_every_critic_parameter():
    D = Critic((1, 28, 28), 8)
    clip_(D, 0.01)
    assert all(float(p.detach().abs().max()) <= 0.01 for p in D.parameters())


def test_tflib_init_std():
    g = Generator((1, 28, 28))
    tflib_init(g, torch.Generator().manual_seed(0))
    w = g.net[0].weight  # deconv 256 -> 128, 5x5, stride 2
    fan_in, fan_out = 256 * 25 / 4, 128 * 25
    assert float(w.detach().std()) == pytest.approx((4 / (fan_in + fan_out)) ** 0.5, rel=0.02)


# ----------------------------------------------------------------------------- optimiser
def test_tf_rmsprop_matches_tf1_formula():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = optim.TFRMSprop([w], lr=0.1)
    ms = torch.ones(2)
    ref = w.detach().clone()
    for step in range(3):
        g = torch.tensor([0.5, 3.0]) * (step + 1)
        w.grad = g.clone()
        opt.step()
        ms = 0.9 * ms + 0.1 * g * g
        ref = ref - 0.1 * g / torch.sqrt(ms + 1e-10)
        assert torch.allclose(w.detach(), ref)


# ----------------------------------------------------------------------------- schedule, split, stream
def test_num_chose_schedule():
    s = Params().num_chose_schedule
    assert s == ORIGINAL_SCHEDULE
    got = {t: sampling.num_chose_at(s, t) for t in (0, 499, 500, 999, 1000, 1999, 2000, 199_999)}
    assert got == {0: 25, 499: 25, 500: 40, 999: 40, 1000: 45, 1999: 45, 2000: 48, 199_999: 48}


@pytest.mark.parametrize("bad", [[[1, 25]], [[0, 25], [0, 30]], [[0, 51]], [[0, 0]], "x", []])
def test_schedule_validation(bad):
    with pytest.raises(ConfigError, match="num_chose"):
        make_params(Params, {"num_chose_schedule": bad}, "methods.ganmm")


def test_params_validation_and_registry():
    assert get_method("ganmm") is GANMM
    with pytest.raises(ConfigError, match="unknown key"):
        make_params(Params, {"lr": 1e-4}, "methods.ganmm")
    for bad in ({"iterations": -1}, {"batch_size": 1}, {"lr_g": 0}, {"optimizer": "adam"},
                {"clip_in_pretrain": "yes"}, {"output_activation": "relu"}):
        with pytest.raises(ConfigError):
            make_params(Params, bad, "methods.ganmm")
    p = make_params(Params, {"num_chose_schedule": [[0, 25], [500, 40]]}, "m")
    assert p.num_chose_schedule == ((0, 25), (500, 40))


def test_initial_split_equal_disjoint():
    gen = torch.Generator().manual_seed(0)
    split = sampling.initial_split(1234, 10, 50, gen)
    assert split.shape == (10, 2, 50)  # 1234 // 500 = 2 batches per chunk; 234 images in no chunk
    flat = split.flatten()
    assert len(set(flat.tolist())) == len(flat) == 1000
    assert flat.max() < 1234
    with pytest.raises(ValueError, match="at least K \\* batch_size"):
        sampling.initial_split(499, 10, 50, gen)


def test_epoch_stream_is_a_permutation_per_epoch():
    s = sampling.EpochStream(105, 10, torch.Generator().manual_seed(0))
    epoch = torch.cat([s.next() for _ in range(10)])  # 10 full batches, 5 images sit out
    assert len(set(epoch.tolist())) == 100
    nxt = s.next()
    assert len(nxt) == 10  # a new epoch started


# ----------------------------------------------------------------------------- epsilon mixing
def _stream(batches):
    it = iter(batches)
    return lambda: torch.tensor(next(it))


def test_mix_batch_composition_hand_made():
    # 6 images, K = 2; p(0|x) per image:
    p0 = torch.tensor([0.9, 0.8, 0.3, 0.2, 0.6, 0.1])
    lp = torch.log(torch.stack([p0, 1 - p0], 1))
    batches = [[0, 2, 3], [4, 5, 1], [3, 0, 2]]
    idx, drawn = sampling.mix_batch(_stream(batches), lambda j: lp[j], i=0, num_chose=3, batch_size=5,
                             gen=torch.Generator().manual_seed(0))
    # chosen in stream order: 0 (batch 1), 4, 1 (batch 2) -> enough after two stream batches
    assert drawn == 6
    assert idx[:3].tolist() == [0, 4, 1]
    assert set(idx[3:].tolist()) <= {2, 3, 5} and len(set(idx[3:].tolist())) == 2  # without replacement


def test_mix_batch_quirks():
    p0 = torch.tensor([0.9, 0.8, 0.3, 0.2, 0.7, 0.6])
    lp = torch.log(torch.stack([p0, 1 - p0], 1))
    gen = torch.Generator().manual_seed(0)
    # no argmax-0 image in the first stream batch: its highest-p(0|x) image (2) is "chosen" anyway
    idx, drawn = sampling.mix_batch(_stream([[2, 3], [0, 1]]), lambda j: lp[j], 0, 2, 3, gen)
    assert idx[:2].tolist() == [2, 0] and drawn == 4
    # a batch of argmax-0 images only: its lowest-p(0|x) image (5) joins the others
    idx, drawn = sampling.mix_batch(_stream([[0, 1, 4, 5]]), lambda j: lp[j], 0, 3, 4, gen)
    assert idx.tolist() == [0, 1, 4, 5] and drawn == 4
    # num_chose == batch_size: no epsilon part
    idx, _ = sampling.mix_batch(_stream([[0, 1, 2]]), lambda j: lp[j], 0, 2, 2, gen)
    assert idx.tolist() == [0, 1]


def test_mix_batch_epsilon_follows_p():
    """The epsilon image is drawn with probability proportional to p(i|x) among the others."""
    i = 1
    # images 0..3 have argmax 1 (chosen); images 4..7 have argmax 0 or 2 with p(1|x) = .05/.1/.2/.4
    p1 = torch.tensor([0.8, 0.7, 0.6, 0.9, 0.05, 0.1, 0.2, 0.4])
    other = (1 - p1)
    proba = torch.stack([other * 0.7, p1, other * 0.3], 1)
    proba[6] = torch.tensor([0.3, 0.2, 0.5])
    proba[7] = torch.tensor([0.1, 0.4, 0.5])
    assert (proba[:4].argmax(1) == i).all() and (proba[4:].argmax(1) != i).all()
    lp = proba.log()
    gen = torch.Generator().manual_seed(1)
    counts = np.zeros(8)
    n = 5000
    for _ in range(n):
        idx, _ = sampling.mix_batch(lambda: torch.arange(8), lambda j: lp[j], i, 4, 5, gen)
        assert idx[:4].tolist() == [0, 1, 2, 3]
        counts[int(idx[4])] += 1
    w = p1[4:].numpy() / p1[4:].sum().item()
    freq = counts[4:] / n
    assert counts[:4].sum() == 0
    np.testing.assert_allclose(freq, w, atol=0.03)  # ~4 standard errors at n = 5000


def test_mix_batch_two_epsilon_draws_are_distinct_and_weighted():
    p1 = torch.tensor([0.9, 0.45, 0.45, 0.3, 0.3, 0.01])
    lp = torch.log(torch.stack([1 - p1, p1], 1))
    gen = torch.Generator().manual_seed(2)
    hits = np.zeros(6)
    for _ in range(1000):
        idx, _ = sampling.mix_batch(lambda: torch.arange(6), lambda j: lp[j], 1, 1, 3, gen)
        rest = idx[1:].tolist()
        assert idx[0] == 0 and len(set(rest)) == 2 and 0 not in rest
        hits[rest] += 1
    assert hits[1] > hits[3] > hits[5] and hits[5] < 0.05 * 1000  # rarely the p=0.01 image


# ----------------------------------------------------------------------------- runs
def test_run_contract_files_and_assign(tmp_path):
    m, a = fit_tiny(tmp_path)
    assert a.labels.shape == (120,) and a.labels.dtype == np.int64
    np.testing.assert_allclose(a.proba.sum(1), 1, rtol=1e-5)
    assert (a.proba.argmax(1) == a.labels).all()
    recs = [json.loads(line) for line in (tmp_path / "iterations.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in recs] == [0, 2, 4]
    assert recs[0]["phase"] == "pretrain" and recs[1]["num_chose"] == 5 and recs[2]["num_chose"] == 8
    for key in ("seconds", "loss_d", "loss_g", "loss_c", "cluster_sizes", "changed", "monitor_error"):
        assert key in recs[-1]
    assert sum(recs[-1]["cluster_sizes"]) == 120
    assert (tmp_path / "samples.png").stat().st_size > 0
    assert (tmp_path / "checkpoint.pt").exists()
    # a finished run started again loads its checkpoint and trains no further
    m2, a2 = fit_tiny(tmp_path)
    np.testing.assert_array_equal(a.proba, a2.proba)
    assert len((tmp_path / "iterations.jsonl").read_text().splitlines()) == 3


def test_same_seed_same_predictions(tmp_path):
    _, a = fit_tiny(tmp_path / "a", seed=3)
    _, b = fit_tiny(tmp_path / "b", seed=3)
    _, c = fit_tiny(tmp_path / "c", seed=4)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.proba, b.proba)
    assert not np.array_equal(a.proba, c.proba)


def test_checkpoint_of_another_run_is_refused(tmp_path):
    fit_tiny(tmp_path, seed=0)
    with pytest.raises(ValueError, match="different run"):
        fit_tiny(tmp_path, seed=0, lr_g=1e-4)


def _poison_generator(monkeypatch):
    orig = T.GANMMTrainer._build

    def build(self, x, gen):
        orig(self, x, gen)
        with torch.no_grad():
            self.G[1].fc[0].weight.fill_(float("nan"))

    monkeypatch.setattr(T.GANMMTrainer, "_build", build)


def test_nan_guard_pretraining(tmp_path, monkeypatch):
    _poison_generator(monkeypatch)
    with pytest.raises(NonFiniteLoss, match=r"pretrain loss_\w\[1\]"):
        fit_tiny(tmp_path)
    assert not (tmp_path / "checkpoint.pt").exists()


def test_nan_guard_classifier_before_mixing(tmp_path, monkeypatch):
    """With no pretraining the first NaN is the classifier's loss on G_1's fakes; it must stop the
    run before those NaN probabilities reach the epsilon draw."""
    _poison_generator(monkeypatch)
    with pytest.raises(NonFiniteLoss, match="loss_c"):
        fit_tiny(tmp_path, pretrain_iterations=0)


def test_bad_inputs(tmp_path):
    x, _ = tiny_data()
    ctx = RunContext(k=2, seed=0, run_dir=tmp_path, device=torch.device("cpu"), progress=False)
    m = GANMM(make_params(Params, TINY, "m"), ctx)
    with pytest.raises(RuntimeError, match="before fit"):
        m.assign(x)
    with pytest.raises(ValueError, match="neither"):
        m.fit(x * 3)
    with pytest.raises(ValueError, match="images"):
        m.fit(x.view(len(x), -1))
    with pytest.raises(ValueError, match="at least"):
        GANMM(make_params(Params, TINY, "m"), RunContext(k=20, seed=0, run_dir=tmp_path / "k",
                                                        device=torch.device("cpu"), progress=False)).fit(x)


# ----------------------------------------------------------------------------- batched (vmap) computation
def test_batched_matches_loop(tmp_path):
    """Same algorithm and random numbers: only float rounding may differ, and RMSprop turns a rounding
    flip of a near-zero gradient's sign into a full step (lr * sign), so after training steps values
    differ by amounts no float bound covers (another SIMD width, other vmap'd kernels).  What must
    hold: the same log records, finite losses, and assignments that are distributions."""
    _, loop = fit_tiny(tmp_path / "loop", seed=5, k=3)
    _, bat = fit_tiny(tmp_path / "bat", seed=5, k=3, batched=True)
    assert bat.proba.shape == loop.proba.shape and bat.labels.shape == loop.labels.shape
    np.testing.assert_allclose(bat.proba.sum(1), 1, rtol=0, atol=8 * 2.0 ** -24)  # softmax of 3: a few ulp
    np.testing.assert_array_equal(bat.labels, bat.proba.argmax(1))
    la = [json.loads(s) for s in (tmp_path / "loop" / "iterations.jsonl").read_text().splitlines()]
    lb = [json.loads(s) for s in (tmp_path / "bat" / "iterations.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in la] == [r["iteration"] for r in lb] and [set(r) for r in la] == [set(r) for r in lb]
    assert np.isfinite([r["loss_d"] for r in lb]).all()
    assert [sum(r["cluster_sizes"]) for r in la] == [sum(r["cluster_sizes"]) for r in lb]


def test_batched_resume_is_exact(tmp_path):
    """A batched run stopped at its checkpoint (iteration 2) and continued to 4 equals a straight run."""
    _, straight = fit_tiny(tmp_path / "a", batched=True)
    fit_tiny(tmp_path / "b", batched=True, iterations=2)
    _, resumed = fit_tiny(tmp_path / "b", batched=True)
    np.testing.assert_array_equal(straight.proba, resumed.proba)
    with pytest.raises(ValueError, match="batched"):
        fit_tiny(tmp_path / "b", batched=False)
