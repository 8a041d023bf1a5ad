"""GAN-EM's three networks: the conditional generator G, the discriminator D (K+1 outputs) and
the E-net (K outputs, optional bottleneck layer), for the paper's three image shapes and for
vector data.

Architectures (all built from K, never a hard-coded 10):

* 28x28 (MNIST, Table 4 / App. B.1).  ``arch="authors"`` adds the authors' code's G
  (FC 1024-BN-ReLU, FC 128*7*7-BN-ReLU, ConvT-BN-ReLU, ConvT), ReLU instead of LeakyReLU in G.
* 32x32 (SVHN, Table 5).  The table's "Input 28x28" for D and E is a typo: the input is 32x32.
* 64x64 (CelebA, Table 6).  The table's G is five 4x4 stride-1 padding-0 deconvolutions, which
  make 4 -> 7 -> 10 -> 13 -> 16 pixels, not 64; we use the DCGAN generator the table otherwise
  follows (4x4 s1 p0 from 1x1 to 4x4, then s2 p1 upsamplings 4 -> 8 -> 16 -> 32 -> 64).  Its D and
  E end with "4x4 Conv f:3 s1 d0, BN lRelu, FC(3)/FC(2)"; we use the DCGAN ending instead: a
  4x4 s1 p0 convolution from the 4x4x1024 map straight to the K+1 (D) or K (E) logits.
* vectors (N, D): small MLPs (``mlp_hidden`` units, ``mlp_depth`` hidden layers, LeakyReLU 0.2,
  no BatchNorm), for the 2-D toy mixtures.

Initialisation (``init``): "dcgan" as the authors' code -- every Conv/ConvTranspose/Linear weight
N(0, 0.02), bias 0 -- or "pytorch" (PyTorch's default Kaiming-uniform).  BatchNorm
(``bn_weight_init``): weight 1, bias 0 (PyTorch >= 1.2's default), or weight ~ U(0, 1), bias 0, as
PyTorch <= 1.1 initialised it -- the runtime the authors' code ran on.  On the small MLPs, N(0, 0.02) makes G's output vary by
~1e-4 across z at the start and G collapses to a point or a line (measured on two moons), so the
suite's "auto" uses dcgan for images and pytorch for vectors.

The bottleneck (Sec. 5.4) is a layer of k units inserted right before the E-net's output layer:
Linear(k) (or, for 64x64, the 4x4 conv with k filters), BatchNorm, LeakyReLU(0.2) for images;
Linear(k), LeakyReLU(0.2) for vectors.  ``features()`` returns its activations.
"""
from __future__ import annotations

import torch
from torch import nn

LRELU = 0.2


def init_weights(module: nn.Module) -> None:
    """N(0, 0.02) weights and zero biases for Conv/ConvTranspose/Linear layers (authors' code)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def init_batchnorm(module: nn.Module, how: str) -> None:
    """BatchNorm weight (gamma) of every BN layer: "ones" (PyTorch >= 1.2) or "uniform01" (U(0, 1),
    PyTorch <= 1.1's reset_parameters, drawn from the global torch RNG that the run's seed sets); bias 0."""
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            if how == "uniform01":
                nn.init.uniform_(m.weight)
            else:
                nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def image_family(shape: tuple[int, ...]) -> str:
    """Which table's networks fit this sample shape: 'mnist', 'svhn', 'celeba' or 'mlp'."""
    if len(shape) == 1:
        return "mlp"
    if len(shape) != 3:
        raise ValueError(f"GAN-EM expects (C,H,W) images or (D,) vectors, got sample shape {shape}")
    c, h, w = shape
    if h != w or h not in (28, 32, 64):
        raise ValueError(
            f"no GAN-EM architecture for {c}x{h}x{w} images: the paper's Tables 4-6 cover 28x28 "
            "(MNIST), 32x32 (SVHN) and 64x64 (CelebA); resize the data to one of these")
    return {28: "mnist", 32: "svhn", 64: "celeba"}[h]


def _act(kind: str) -> nn.Module:
    return nn.ReLU() if kind == "relu" else nn.LeakyReLU(LRELU)


def _out_act(output: str) -> nn.Module:
    return {"sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "linear": nn.Identity()}[output]


class Generator(nn.Module):
    """G(z, c): noise z (B, noise_dim) and class ids c (B,) -> samples; c enters as a one-hot."""

    def __init__(self, shape: tuple[int, ...], k: int, noise_dim: int, output: str,
                 arch: str = "paper", mlp_hidden: int = 128, mlp_depth: int = 2, init: str = "dcgan",
                 bn_weight_init: str = "ones"):
        super().__init__()
        self.k, self.noise_dim, self.shape = k, noise_dim, tuple(shape)
        family = image_family(self.shape)
        n_in = noise_dim + k
        self.unflatten: tuple[int, ...] | None = None
        if family == "mlp":
            layers: list[nn.Module] = []
            width = n_in
            for _ in range(mlp_depth):
                layers += [nn.Linear(width, mlp_hidden), nn.LeakyReLU(LRELU)]
                width = mlp_hidden
            layers += [nn.Linear(width, shape[0]), _out_act(output)]
            self.net = nn.Sequential(*layers)
        elif family in ("mnist", "svhn"):
            c_out = shape[0]
            act = "relu" if arch == "authors" else "lrelu"
            s = 7 if family == "mnist" else 4
            layers = []
            width = n_in
            if arch == "authors":  # the authors' code's extra FC 1024 layer
                layers += [nn.Linear(width, 1024), nn.BatchNorm1d(1024), _act(act)]
                width = 1024
            layers += [nn.Linear(width, 128 * s * s), nn.BatchNorm1d(128 * s * s), _act(act),
                       nn.Unflatten(1, (128, s, s)),
                       nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), _act(act)]
            if family == "svhn":
                layers += [nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), _act(act),
                           nn.ConvTranspose2d(32, c_out, 4, 2, 1)]
            else:
                layers += [nn.ConvTranspose2d(64, c_out, 4, 2, 1)]
            layers += [_out_act(output)]
            self.net = nn.Sequential(*layers)
        else:  # celeba: DCGAN generator (Table 6 fixed, see module docstring)
            c_out = shape[0]
            layers = [nn.Unflatten(1, (n_in, 1, 1))]
            width = n_in
            for i, f in enumerate((1024, 512, 256, 128)):
                stride, pad = (1, 0) if i == 0 else (2, 1)
                layers += [nn.ConvTranspose2d(width, f, 4, stride, pad), nn.BatchNorm2d(f), nn.LeakyReLU(LRELU)]
                width = f
            layers += [nn.ConvTranspose2d(width, c_out, 4, 2, 1), _out_act(output)]
            self.net = nn.Sequential(*layers)
        if init == "dcgan":
            init_weights(self)
        init_batchnorm(self, bn_weight_init)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``c``: class ids (B,), or a float (B, K) one-hot (to take gradients with respect to it)."""
        onehot = c.to(z.dtype) if c.is_floating_point() else nn.functional.one_hot(c, self.k).to(z.dtype)
        return self.net(torch.cat([z, onehot], dim=1))


class ConvClassifier(nn.Module):
    """The shared trunk of D and the E-net, with ``n_out`` logits and an optional bottleneck.

    D: ``n_out = K + 1`` (K per-class units + the extra real/fake unit of Sec. 4.3.2).
    E-net: ``n_out = K``, ``bottleneck = k`` inserts the Sec. 5.4 layer before the output.
    """

    def __init__(self, shape: tuple[int, ...], n_out: int, bottleneck: int | None = None,
                 mlp_hidden: int = 128, mlp_depth: int = 2, init: str = "dcgan", bn_weight_init: str = "ones"):
        super().__init__()
        family = image_family(tuple(shape))
        self.bottleneck_dim = bottleneck
        if family == "mlp":
            layers: list[nn.Module] = []
            width = shape[0]
            for _ in range(mlp_depth):
                layers += [nn.Linear(width, mlp_hidden), nn.LeakyReLU(LRELU)]
                width = mlp_hidden
            self.trunk = nn.Sequential(*layers)
            self.bottleneck = (nn.Sequential(nn.Linear(width, bottleneck), nn.LeakyReLU(LRELU))
                               if bottleneck else None)
            self.head = nn.Linear(bottleneck or width, n_out)
        elif family in ("mnist", "svhn"):
            c_in, h = shape[0], shape[1]
            layers = []
            width = c_in
            for f in (64, 128, 256):
                layers += [nn.Conv2d(width, f, 4, 2, 1), nn.BatchNorm2d(f), nn.LeakyReLU(LRELU)]
                width = f
                h = (h + 2 - 4) // 2 + 1
            layers += [nn.Flatten(), nn.Linear(256 * h * h, 1024), nn.BatchNorm1d(1024), nn.LeakyReLU(LRELU)]
            self.trunk = nn.Sequential(*layers)
            self.bottleneck = (nn.Sequential(nn.Linear(1024, bottleneck), nn.BatchNorm1d(bottleneck),
                                             nn.LeakyReLU(LRELU)) if bottleneck else None)
            self.head = nn.Linear(bottleneck or 1024, n_out)
        else:  # celeba: Table 6 trunk, DCGAN ending
            layers = []
            width = shape[0]
            for f in (128, 256, 512, 1024):
                layers += [nn.Conv2d(width, f, 4, 2, 1), nn.BatchNorm2d(f), nn.LeakyReLU(LRELU)]
                width = f
            self.trunk = nn.Sequential(*layers)  # -> (B, 1024, 4, 4)
            if bottleneck:
                self.bottleneck = nn.Sequential(nn.Conv2d(1024, bottleneck, 4, 1, 0), nn.Flatten(),
                                                nn.BatchNorm1d(bottleneck), nn.LeakyReLU(LRELU))
                self.head = nn.Linear(bottleneck, n_out)
            else:
                self.bottleneck = None
                self.head = nn.Sequential(nn.Conv2d(1024, n_out, 4, 1, 0), nn.Flatten())
        if init == "dcgan":
            init_weights(self)
        init_batchnorm(self, bn_weight_init)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The activations right before the output layer (the bottleneck's when there is one)."""
        h = self.trunk(x)
        return self.bottleneck(h) if self.bottleneck is not None else h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def apply_spectral_norm(module: nn.Module) -> None:
    """Spectral normalisation of every Linear/Conv/ConvTranspose weight (a Lipschitz constraint)."""
    from torch.nn.utils.parametrizations import spectral_norm

    for name, child in list(module.named_children()):
        if isinstance(child, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            setattr(module, name, spectral_norm(child))
        else:
            apply_spectral_norm(child)


@torch.no_grad()
def clip_weights(module: nn.Module, value: float) -> None:
    """WGAN-style weight clipping of every Linear/Conv/ConvTranspose weight to [-value, value].

    Biases and BatchNorm parameters are left alone (clipping BN's scale to 0.01 would switch the
    layer off); Sec. 4.4 names weight clipping without a value or a list of layers.
    """
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            m.weight.clamp_(-value, value)


def n_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())

