"""GAN-EM's losses against values worked out by hand (explicit numbers, small tensors)."""
import math

import pytest
import torch

from ganem.model import losses

sp = lambda v: math.log1p(math.exp(v))  # softplus(v) = -log(sigmoid(-v))  # noqa: E731


def test_g_loss_paper_eq1_by_hand():
    # K = 2; logits (l_0, l_1, l_extra) of two fakes generated for classes c = (1, 0)
    logits = torch.tensor([[0.0, 1.0, 2.0], [math.log(3.0), -5.0, 0.0]])
    c = torch.tensor([1, 0])
    # Eq. 1 only: -1/2 * mean(exp(l_c)) = -1/2 * (e^1 + 3) / 2
    expected = -0.5 * (math.e + 3.0) / 2
    assert losses.g_loss_paper(logits, c, extra_weight=0.0).item() == pytest.approx(expected, rel=1e-6)
    # with the extra (real) unit, weight 0.5: - 0.5 * 1/2 * mean(exp(l_extra)) = -0.25 * (e^2 + 1) / 2
    expected_x = expected - 0.25 * (math.e ** 2 + 1.0) / 2
    assert losses.g_loss_paper(logits, c, extra_weight=0.5).item() == pytest.approx(expected_x, rel=1e-6)


def test_g_loss_paper_clamps_the_logit_before_exp():
    logits = torch.tensor([[200.0, 0.0, -1e4]], requires_grad=True)
    loss = losses.g_loss_paper(logits, torch.tensor([0]), extra_weight=1.0, clamp=30.0)
    assert math.isfinite(loss.item())
    assert loss.item() == pytest.approx(-0.5 * math.exp(30.0) - 0.5 * math.exp(-1e4), rel=1e-6)
    loss.backward()
    assert logits.grad[0, 0].item() == 0.0  # clamped: no gradient once D is that sure
    # without the clamp exp(200) overflows float32
    assert math.isinf(losses.g_loss_paper(logits.detach(), torch.tensor([0]), 0.0, clamp=None).item())


def test_d_loss_paper_eq2_by_hand():
    # K = 2. One real image with w = (0.25, 0.75), logits (1, -1, 0.5);
    # one fake of class 0 with logits (-2, 3, 1).
    real = torch.tensor([[1.0, -1.0, 0.5]])
    w = torch.tensor([[0.25, 0.75]])
    fake = torch.tensor([[-2.0, 3.0, 1.0]])
    c = torch.tensor([0])
    real_part = 0.25 * sp(-1.0) + 0.75 * sp(1.0)   # sum_i w_i * -log D_i(x)
    fake_all = sp(-2.0) + sp(3.0)                   # sum_i -log(1 - D_i(G))
    extra = sp(-0.5) + sp(1.0)                      # extra unit: real -> 1, fake -> 0
    got = losses.d_loss_paper(real, w, fake, c, extra_weight=0.0, fake_units="all").item()
    assert got == pytest.approx(real_part + fake_all, rel=1e-6)
    got = losses.d_loss_paper(real, w, fake, c, extra_weight=1.0, fake_units="all").item()
    assert got == pytest.approx(real_part + fake_all + extra, rel=1e-6)
    got = losses.d_loss_paper(real, w, fake, c, extra_weight=2.0, fake_units="own").item()
    assert got == pytest.approx(real_part + sp(-2.0) + 2 * extra, rel=1e-6)


def test_d_loss_paper_is_a_batch_mean_and_finite_for_huge_logits():
    real = torch.tensor([[1.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
    w = torch.tensor([[0.25, 0.75], [0.5, 0.5]])
    fake = torch.tensor([[-2.0, 3.0, 1.0], [0.0, 0.0, 0.0]])
    one = lambda i: losses.d_loss_paper(real[i:i + 1], w[i:i + 1], fake[i:i + 1], extra_weight=1.0)  # noqa: E731
    both = losses.d_loss_paper(real, w, fake, extra_weight=1.0)
    assert both.item() == pytest.approx((one(0).item() + one(1).item()) / 2, rel=1e-6)
    big = torch.tensor([[1e4, -1e4, 1e4]])
    assert math.isfinite(losses.d_loss_paper(big, torch.tensor([[0.5, 0.5]]), big).item())


def test_d_loss_authors_by_hand():
    # K = 2; real logits (1, -1, 0.5) with w = (0.25, 0.75); fake logits (-2, 3, 1)
    real = torch.tensor([[1.0, -1.0, 0.5]])
    w = torch.tensor([[0.25, 0.75]])
    fake = torch.tensor([[-2.0, 3.0, 1.0]])
    # real: targets [1, 1, 0], weights [w0, w1, 2], mean over 3 columns
    real_loss = (0.25 * sp(-1.0) + 0.75 * sp(1.0) + 2.0 * sp(0.5)) / 3
    # fake: targets [0, 0, 1] (the extra unit is a *fake* unit), unweighted
    fake_loss = (sp(-2.0) + sp(3.0) + sp(-1.0)) / 3
    assert losses.d_loss_authors(real, w, fake).item() == pytest.approx(real_loss + fake_loss, rel=1e-6)


def test_g_loss_authors_by_hand():
    fake = torch.tensor([[-2.0, 3.0, 1.0], [0.5, 0.0, -1.0]])
    c = torch.tensor([0, 1])
    # targets [onehot(c), 0]: row 0 -> [1, 0, 0], row 1 -> [0, 1, 0]
    row0 = sp(2.0) + sp(3.0) + sp(1.0)
    row1 = sp(0.5) + sp(0.0) + sp(-1.0)
    assert losses.g_loss_authors(fake, c).item() == pytest.approx((row0 + row1) / 6, rel=1e-6)


def test_e_loss_eq5_by_hand():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    c = torch.tensor([0, 2])
    ce0 = -(2.0 - math.log(math.exp(2.0) + 2.0))
    ce1 = math.log(3.0)
    assert losses.e_loss(logits, c).item() == pytest.approx((ce0 + ce1) / 2, rel=1e-6)


def test_fake_units_must_be_known():
    with pytest.raises(ValueError, match="fake_units"):
        losses.d_loss_paper(torch.zeros(1, 3), torch.ones(1, 2) / 2, torch.zeros(1, 3), fake_units="some")
