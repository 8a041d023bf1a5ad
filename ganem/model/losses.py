"""GAN-EM's losses, all computed from logits (softplus / BCE-with-logits) so nothing overflows.

Notation: D returns K+1 logits per image, ``l[:, :K]`` the per-class units D_i = sigmoid(l_i) of
Sec. 3.1 and ``l[:, K]`` the extra unit of Sec. 4.3.2.  ``w`` (B, K) are the E-step's soft
assignments of the real images of the batch; ``c`` (B,) the classes the fakes were generated for.
Every loss is a mean over the batch (of the per-image sums written below), i.e. a Monte-Carlo
estimate of the expectations in the equations.

Two variants (``Params.loss``):

* ``paper``: Eq. 1 for G and Eq. 2 (as a loss to minimise) for D, plus the extra unit.
  The paper's extra unit "only distinguishes all fake data from all real data" (Sec. 4.3.2);
  we give it target 1 for real and 0 for fake, weight ``extra_weight`` (default 1, i.e. the same
  weight as one class unit on a fake and as the whole w-weighted sum on a real), and G is trained
  against it with the same Eq. 1 form.  ``extra_weight=0`` gives the paper's equations alone.
* ``authors``: what github.com/zhaowt61/GAN-EM does: BCE per column, averaged over the K+1
  columns; the extra unit is a *fake* unit (target 1 for fakes, 0 for reals, weight 2 on reals);
  G uses the non-saturating BCE to [onehot(c), 0].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _class_logit(logits: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    return logits.gather(1, c.view(-1, 1)).squeeze(1)


def g_loss_paper(fake_logits: torch.Tensor, c: torch.Tensor, extra_weight: float = 1.0,
                 clamp: float | None = 30.0) -> torch.Tensor:
    """Eq. 1: L_G = -1/2 E_{c,z} exp(sigma^{-1}(D_c(G(z,c)))) = -1/2 E exp(l_c).

    sigma^{-1}(D_c) is the logit l_c itself, so no sigmoid/log round trip is needed.  exp(l)
    overflows float32 above l ~ 88; the logit is clamped at ``clamp`` (30: exp(30) ~ 1e13) before
    the exponential, which also stops the gradient once D is that sure a fake is real.
    Plus ``extra_weight`` times the same form on the extra (real) unit, -1/2 E exp(l_K).
    """
    k = fake_logits.shape[1] - 1
    lc = _class_logit(fake_logits[:, :k], c)
    if clamp is not None:
        lc = lc.clamp(max=clamp)
    loss = -0.5 * torch.exp(lc)
    if extra_weight:
        le = fake_logits[:, k]
        if clamp is not None:
            le = le.clamp(max=clamp)
        loss = loss - extra_weight * 0.5 * torch.exp(le)
    return loss.mean()


def d_loss_paper(real_logits: torch.Tensor, w: torch.Tensor, fake_logits: torch.Tensor,
                 c: torch.Tensor | None = None, extra_weight: float = 1.0,
                 fake_units: str = "all") -> torch.Tensor:
    """Eq. 2 as a loss to minimise (the negative of the paper's objective):

    L_D = E_fake sum_i -log(1 - D_i(G(z,c)))  +  E_real sum_i -w_i log D_i(x)
        = E_fake sum_i softplus(l_i)          +  E_real sum_i w_i softplus(-l_i)

    ``fake_units="all"`` (Eq. 2 and its text: "all output units ... give a low probability to fake
    images"): a fake of class c pushes all K units down.  ``"own"`` (Eq. 18, K separate GANs):
    it pushes only unit c down.  The extra unit adds ``extra_weight * softplus(-l_K)`` per real
    and ``extra_weight * softplus(l_K)`` per fake (target 1 = real).
    """
    k = w.shape[1]
    real = (w * F.softplus(-real_logits[:, :k])).sum(1)
    if fake_units == "all":
        fake = F.softplus(fake_logits[:, :k]).sum(1)
    elif fake_units == "own":
        if c is None:
            raise ValueError("fake_units='own' needs the fakes' classes c")
        fake = F.softplus(_class_logit(fake_logits[:, :k], c))
    else:
        raise ValueError(f"fake_units must be 'all' or 'own', got {fake_units!r}")
    if extra_weight:
        real = real + extra_weight * F.softplus(-real_logits[:, k])
        fake = fake + extra_weight * F.softplus(fake_logits[:, k])
    return real.mean() + fake.mean()


def d_loss_authors(real_logits: torch.Tensor, w: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The authors' code's D loss (the code's version of Eq. 2; no equation number of its own).

    real: BCE-with-logits per column, targets [1..1, 0], column weights [w_1..w_K, 2];
    fake: targets [0..0, 1], unweighted; each averaged over the batch and the K+1 columns, summed.
    The extra unit is a "fake" unit here (target 1 for fakes), unlike the paper's wording.
    """
    b, k = w.shape
    ones, zeros = real_logits.new_ones(b, 1), real_logits.new_zeros(b, 1)
    real_t = torch.cat([real_logits.new_ones(b, k), zeros], 1)
    real_w = torch.cat([w, 2.0 * ones], 1)
    real = F.binary_cross_entropy_with_logits(real_logits, real_t, weight=real_w)
    bf = fake_logits.shape[0]
    fake_t = torch.cat([fake_logits.new_zeros(bf, k), fake_logits.new_ones(bf, 1)], 1)
    fake = F.binary_cross_entropy_with_logits(fake_logits, fake_t)
    return real + fake


def g_loss_authors(fake_logits: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """The authors' code's G loss (replaces Eq. 1): BCE(D(G(z,c)), [onehot(c), 0]), averaged over
    the batch and the K+1 columns -- the standard non-saturating GAN generator loss."""
    b, k1 = fake_logits.shape
    target = torch.cat([F.one_hot(c, k1 - 1).to(fake_logits.dtype), fake_logits.new_zeros(b, 1)], 1)
    return F.binary_cross_entropy_with_logits(fake_logits, target)


def e_loss(e_logits: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Eq. 5: L_E = E_{z, c~phi} CE(E(G(z,c)), onehot(c)); also the semi-supervised
    L_E = CE(E(x_real), u) of Sec. 5.3 when given real labelled images."""
    return F.cross_entropy(e_logits, c)
