"""LegacyAdam (adam_eps: legacy) against PyTorch 0.4/1.0's Adam formula computed by hand:

    m <- b1 m + (1-b1) g,  v <- b2 v + (1-b2) g^2,  p <- p - lr sqrt(1-b2^t)/(1-b1^t) m/(sqrt(v)+eps)

b1 = 0.5, b2 = 0.75 and gradients in {0.5, 1, -1, 2} keep every m, v and bias correction an exact
binary fraction (written out below); only the square roots, the divisions and LegacyAdam's
eps / sqrt(1 - b2^t) round, so the float32 result matches the float64 hand value to a few float32
ulps (rtol 1e-6 ~ 8 eps_32).
"""
from __future__ import annotations

import math

import pytest
import torch

from ganem.model.legacy_adam import LegacyAdam

LR, B1, B2, EPS = 0.1, 0.5, 0.75, 0.1
RTOL = 1e-6
# 1 - b1^t and 1 - b2^t for t = 1, 2, 3
BC1 = {1: 0.5, 2: 0.75, 3: 0.875}
BC2 = {1: 0.25, 2: 0.4375, 3: 0.578125}


def legacy_update(t, m, v):
    return LR * math.sqrt(BC2[t]) / BC1[t] * m / (math.sqrt(v) + EPS)


def modern_update(t, m, v):
    return LR / BC1[t] * m / (math.sqrt(v) / math.sqrt(BC2[t]) + EPS)


# Parameter a: gradients 1, -1, 2 (steps t = 1, 2, 3).  m_t, v_t by hand:
A_MV = [(1, 0.5, 0.25), (2, -0.25, 0.4375), (3, 0.875, 1.328125)]
# Parameter b: gradients 0.5, none (skipped: its own step count stays 1), 0.5 (its t = 2):
B_MV = [(1, 0.25, 0.0625), None, (2, 0.375, 0.109375)]
A_GRADS, B_GRADS = [1.0, -1.0, 2.0], [0.5, None, 0.5]


def run(opt_cls, steps=3, **kw):
    a, b = torch.tensor([1.0], requires_grad=True), torch.tensor([-2.0], requires_grad=True)
    opt = opt_cls([a, b], lr=LR, betas=(B1, B2), eps=EPS, **kw)
    out = []
    for i in range(steps):
        a.grad = torch.tensor([A_GRADS[i]])
        b.grad = None if B_GRADS[i] is None else torch.tensor([B_GRADS[i]])
        opt.step()
        out.append((a.item(), b.item()))
    return out, opt


def hand(update):
    a, b, out = 1.0, -2.0, []
    for am, bm in zip(A_MV, B_MV):
        a -= update(*am)
        if bm is not None:
            b -= update(*bm)
        out.append((a, b))
    return out


IMPLS = [{"foreach": False}, {"foreach": True}, {"fused": True}]  # optimizer_impl single, foreach, fused


@pytest.mark.parametrize("impl", IMPLS, ids=["single", "foreach", "fused"])
def test_legacy_adam_matches_the_0_4_formula_by_hand_for_three_steps(impl):
    got, opt = run(LegacyAdam, **impl)
    want = hand(legacy_update)
    # step 1 of a, by hand: 0.1 * sqrt(0.25)/0.5 * 0.5/(sqrt(0.25) + 0.1) = 0.1 * 0.5/0.6 = 1/12
    assert want[0][0] == pytest.approx(1 - 1 / 12, rel=1e-15)
    for g, w in zip(got, want):
        assert g == pytest.approx(w, rel=RTOL)
    a, b = opt.param_groups[0]["params"]
    assert opt.state[a]["host_step"] == 3 and opt.state[b]["host_step"] == 2  # per-parameter step counts
    assert float(opt.state[a]["step"]) == 3 and float(opt.state[b]["step"]) == 2  # Adam's own agree
    assert opt.state[a]["exp_avg"].item() == 0.875 and opt.state[a]["exp_avg_sq"].item() == 1.328125
    assert opt.state[b]["exp_avg"].item() == 0.375 and opt.state[b]["exp_avg_sq"].item() == 0.109375


def test_modern_adam_is_the_other_formula_and_they_differ_by_it():
    got_modern, _ = run(torch.optim.Adam, foreach=False)
    for g, w in zip(got_modern, hand(modern_update)):
        assert g == pytest.approx(w, rel=RTOL)
    got_legacy, _ = run(LegacyAdam, foreach=False)
    # step 1 of a: legacy 1/12 = 0.08333, modern 0.1/0.5 * 0.5/(0.5/0.5 + 0.1) = 1/11 = 0.09091
    assert 1 - got_legacy[0][0] == pytest.approx(1 / 12, rel=RTOL)
    assert 1 - got_modern[0][0] == pytest.approx(1 / 11, rel=RTOL)
    # with eps = 0 the two formulas are the same update
    zero = dict(lr=LR, betas=(B1, B2), eps=0.0)
    pa, pb = torch.tensor([1.0, -2.0], requires_grad=True), torch.tensor([1.0, -2.0], requires_grad=True)
    oa, ob = LegacyAdam([pa], **zero), torch.optim.Adam([pb], foreach=False, **zero)
    for g in ([1.0, 0.5], [-1.0, 0.5], [2.0, 0.5]):
        pa.grad, pb.grad = torch.tensor(g), torch.tensor(g)
        oa.step(), ob.step()
    torch.testing.assert_close(pa, pb, rtol=RTOL, atol=0)


def test_state_dict_round_trip_continues_bit_identically():
    _, ref = run(LegacyAdam, steps=3, fused=True)
    _, first = run(LegacyAdam, steps=2, fused=True)
    a, b = (p.detach().clone().requires_grad_() for p in first.param_groups[0]["params"])
    resumed = LegacyAdam([a, b], lr=LR, betas=(B1, B2), eps=EPS, fused=True)
    resumed.load_state_dict(first.state_dict())
    a.grad, b.grad = torch.tensor([A_GRADS[2]]), torch.tensor([B_GRADS[2]])
    resumed.step()
    ra, rb = ref.param_groups[0]["params"]
    assert torch.equal(a, ra) and torch.equal(b, rb)
