"""GANMM's three networks (one generator and one critic per cluster, one shared classifier).

28x28 (MNIST) follows the authors' TF code (eyounx/GANMM ``nets/nets_for_mnist.py``, built on
the WGAN-GP ``tflib`` ops), with ``dim`` = their ``DIM`` = 64:

* G: z ~ N(0, 1)^128 -> Linear(4*4*4dim) -> BN -> ReLU -> (4dim, 4, 4)
  -> Deconv5x5/2 (2dim) -> BN -> ReLU -> crop 8x8 to 7x7
  -> Deconv5x5/2 (dim) -> BN -> ReLU -> Deconv5x5/2 (C) -> sigmoid         (4 -> 8|7 -> 14 -> 28)
* critic: Conv5x5/2 (dim) -> LReLU(0.2) -> Conv5x5/2 (2dim) -> BN -> LReLU
  -> Conv5x5/2 (4dim) -> BN -> LReLU -> Linear(1)                          (28 -> 14 -> 7 -> 4)
  (no BN on the first layer, as in the code; the anchors' summary says "with BN" for all three.)
* classifier ("MNN"): Conv5x5/2 (dim) -> ReLU -> Conv5x5/2 (2dim) -> ReLU -> Linear(K) logits
  (the softmax is applied by the caller; see ``GANMM.Params.classifier_double_softmax``).

64x64 (CelebA) is not in the original; it is the same design with one more stage, DCGAN-style:
G 4 -> 8 -> 16 -> 32 -> 64 with widths 8dim/4dim/2dim/dim, critic 64 -> 32 -> 16 -> 8 -> 4 with
widths dim/2dim/4dim/8dim, classifier conv dim/2dim/4dim (64 -> 32 -> 16 -> 8). 32x32 works too
(the 28x28 design without the crop).

All BatchNorms use batch statistics in every call and keep no running statistics, exactly like the
tflib ``Batchnorm`` (which has no inference mode): sampling a generator always normalises over the
batch of samples being drawn.  Real and fake batches go through the critic in separate calls, so
their BN statistics are separate (as in the TF graph).

Initialisation reproduces tflib's: conv/deconv "He" uniform init with std sqrt(4 / (fan_in +
fan_out)) (fan_out of a strided conv divided by stride^2, fan_in of a deconv divided by stride^2),
linear layers Glorot uniform, biases 0, BN scale 1 and offset 0.
"""
from __future__ import annotations

import math

import torch
from torch import nn

LRELU = 0.2
KERNEL = 5
STRIDE = 2


def image_family(shape: tuple[int, ...]) -> int:
    """Number of stride-2 stages for a (C, H, W) sample shape: 3 for 28x28/32x32, 4 for 64x64."""
    if len(shape) != 3:
        raise ValueError(
            f"GANMM's networks take images (C, H, W); got sample shape {tuple(shape)}. The original's "
            "UCI MLP networks are not part of this reimplementation.")
    c, h, w = shape
    if h != w or h not in (28, 32, 64):
        raise ValueError(
            f"no GANMM architecture for {c}x{h}x{w} images: supported sizes are 28x28 (the original, "
            "MNIST), 32x32 and 64x64 (CelebA); resize the data to one of these")
    return 4 if h == 64 else 3


def _uniform_(t: torch.Tensor, std: float, gen: torch.Generator | None) -> None:
    bound = std * math.sqrt(3.0)
    with torch.no_grad():
        t.copy_(torch.rand(t.shape, generator=gen) * (2 * bound) - bound)


def tflib_init(module: nn.Module, gen: torch.Generator | None = None) -> None:
    """tflib's initialisation (see module docstring), drawn from ``gen`` on the CPU."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            s = m.stride[0] * m.stride[1]
            fan_in, fan_out = m.in_channels * k, m.out_channels * k / s
            _uniform_(m.weight, math.sqrt(4.0 / (fan_in + fan_out)), gen)
        elif isinstance(m, nn.ConvTranspose2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            s = m.stride[0] * m.stride[1]
            fan_in, fan_out = m.in_channels * k / s, m.out_channels * k
            _uniform_(m.weight, math.sqrt(4.0 / (fan_in + fan_out)), gen)
        elif isinstance(m, nn.Linear):
            _uniform_(m.weight, math.sqrt(2.0 / (m.in_features + m.out_features)), gen)
        else:
            continue
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def _bn2d(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-5, track_running_stats=False)


def _deconv(c_in: int, c_out: int) -> nn.ConvTranspose2d:
    # 'SAME' stride-2 transposed convolution: H -> 2H.
    return nn.ConvTranspose2d(c_in, c_out, KERNEL, STRIDE, padding=2, output_padding=1)


def _conv(c_in: int, c_out: int) -> nn.Conv2d:
    # 'SAME' stride-2 convolution: H -> ceil(H / 2).
    return nn.Conv2d(c_in, c_out, KERNEL, STRIDE, padding=2)


class Crop(nn.Module):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, : self.size, : self.size]


class Generator(nn.Module):
    def __init__(self, shape: tuple[int, ...], noise_dim: int = 128, dim: int = 64,
                 output: str = "sigmoid"):
        super().__init__()
        stages = image_family(shape)
        c_out, size = shape[0], shape[1]
        top = dim * 2 ** (stages - 1)  # 4dim for 28/32, 8dim for 64
        self.noise_dim = noise_dim
        self.fc = nn.Sequential(nn.Linear(noise_dim, 4 * 4 * top), nn.BatchNorm1d(4 * 4 * top, track_running_stats=False),
                                nn.ReLU(), nn.Unflatten(1, (top, 4, 4)))
        layers: list[nn.Module] = []
        width, h = top, 4
        for s in range(stages - 1):
            layers += [_deconv(width, width // 2), _bn2d(width // 2), nn.ReLU()]
            width //= 2
            h *= 2
            if s == 0 and size == 28:
                layers.append(Crop(7))
                h = 7
        layers += [_deconv(width, c_out), {"sigmoid": nn.Sigmoid(), "tanh": nn.Tanh()}[output]]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z))


class Critic(nn.Module):
    def __init__(self, shape: tuple[int, ...], dim: int = 64):
        super().__init__()
        stages = image_family(shape)
        layers: list[nn.Module] = [_conv(shape[0], dim), nn.LeakyReLU(LRELU)]
        width, h = dim, math.ceil(shape[1] / 2)
        for _ in range(stages - 1):
            layers += [_conv(width, 2 * width), _bn2d(2 * width), nn.LeakyReLU(LRELU)]
            width *= 2
            h = math.ceil(h / 2)
        layers += [nn.Flatten(), nn.Linear(width * h * h, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


class Classifier(nn.Module):
    """Returns logits (B, K); the network's own output layer in the original is dense+softmax."""

    def __init__(self, shape: tuple[int, ...], k: int, dim: int = 64):
        super().__init__()
        stages = image_family(shape)
        n_conv = 2 if stages == 3 else 3
        layers: list[nn.Module] = []
        width_in, width, h = shape[0], dim, shape[1]
        for _ in range(n_conv):
            layers += [_conv(width_in, width), nn.ReLU()]
            width_in, width = width, 2 * width
            h = math.ceil(h / 2)
        layers += [nn.Flatten(), nn.Linear(width_in * h * h, k)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@torch.no_grad()
def clip_(module: nn.Module, value: float) -> None:
    """Clip every parameter of the critic to [-value, value]: the original clips every TF variable
    whose name contains 'Discriminator' (conv/linear weights and biases and BN scale/offset)."""
    for p in module.parameters():
        p.clamp_(-value, value)
