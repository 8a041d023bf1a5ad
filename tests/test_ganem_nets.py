"""Networks of Tables 4-6 (with the documented fixes) and the MLP variant, built from K."""
import pytest
import torch
from torch import nn

from ganem.model.nets import (ConvClassifier, Generator, apply_spectral_norm, clip_weights,
                              image_family, n_parameters)


@pytest.mark.parametrize("shape,k,noise", [((1, 28, 28), 7, 62), ((3, 32, 32), 10, 62),
                                           ((3, 64, 64), 2, 298), ((2,), 3, 2)])
def test_shapes_and_k_outputs(shape, k, noise):
    g = Generator(shape, k, noise, "tanh")
    d = ConvClassifier(shape, k + 1)
    e = ConvClassifier(shape, k, bottleneck=5)
    z, c = torch.rand(4, noise), torch.arange(4) % k
    x = g(z, c)
    assert tuple(x.shape) == (4, *shape)
    assert tuple(d(x).shape) == (4, k + 1)  # K per-class units + the extra unit
    assert tuple(e(x).shape) == (4, k)
    assert tuple(e.features(x).shape) == (4, 5)  # the Sec. 5.4 bottleneck
    assert x.abs().max() <= 1


def test_table4_layers_and_the_authors_generator():
    g = Generator((1, 28, 28), 10, 62, "sigmoid")
    linears = [m for m in g.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(72, 128 * 7 * 7)]
    deconvs = [(m.in_channels, m.out_channels) for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert deconvs == [(128, 64), (64, 1)]
    assert any(isinstance(m, nn.LeakyReLU) for m in g.modules())
    ga = Generator((1, 28, 28), 10, 62, "sigmoid", arch="authors")
    assert [(m.in_features, m.out_features) for m in ga.modules() if isinstance(m, nn.Linear)] == \
        [(72, 1024), (1024, 128 * 7 * 7)]
    assert any(isinstance(m, nn.ReLU) for m in ga.modules())
    assert not any(isinstance(m, nn.LeakyReLU) for m in ga.modules())
    out = ga(torch.rand(3, 62), torch.arange(3))
    assert out.min() >= 0 and out.max() <= 1
    d = ConvClassifier((1, 28, 28), 11)
    convs = [(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding)
             for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [(1, 64, (4, 4), (2, 2), (1, 1)), (64, 128, (4, 4), (2, 2), (1, 1)),
                     (128, 256, (4, 4), (2, 2), (1, 1))]
    assert [(m.in_features, m.out_features) for m in d.modules() if isinstance(m, nn.Linear)] == \
        [(256 * 3 * 3, 1024), (1024, 11)]


def test_table6_generator_is_dcgan_and_d_ends_in_k_plus_1():
    g = Generator((3, 64, 64), 2, 298, "tanh")
    deconvs = [(m.out_channels, m.stride, m.padding) for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert deconvs == [(1024, (1, 1), (0, 0)), (512, (2, 2), (1, 1)), (256, (2, 2), (1, 1)),
                       (128, (2, 2), (1, 1)), (3, (2, 2), (1, 1))]
    d = ConvClassifier((3, 64, 64), 3)
    assert [m.out_channels for m in d.modules() if isinstance(m, nn.Conv2d)] == [128, 256, 512, 1024, 3]


def test_init_is_n0_002_with_zero_bias():
    torch.manual_seed(0)
    d = ConvClassifier((1, 28, 28), 11)
    big = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.numel() > 10000]
    for m in big:
        assert abs(m.weight.std().item() - 0.02) < 0.002
        assert m.bias.abs().max().item() == 0.0
    mlp = ConvClassifier((2,), 3, init="pytorch")  # PyTorch's default for the MLP ("auto" on vectors)
    assert mlp.trunk[0].bias.abs().max().item() > 0


def test_unsupported_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="28x28"):
        image_family((1, 30, 30))
    assert image_family((5,)) == "mlp"


def test_lipschitz_helpers():
    torch.manual_seed(0)
    g = Generator((2,), 2, 2, "linear", init="pytorch")
    clip_weights(g, 0.05)
    for m in g.modules():
        if isinstance(m, nn.Linear):
            assert m.weight.abs().max().item() <= 0.05 + 1e-7
    g2 = Generator((1, 28, 28), 3, 8, "sigmoid")
    n = n_parameters(g2)
    apply_spectral_norm(g2)
    assert n_parameters(g2) == n
    g2.train()
    for _ in range(20):  # power iterations converge
        g2(torch.rand(4, 8), torch.arange(4) % 3)
    lin = g2.net[0]
    sigma = torch.linalg.matrix_norm(lin.weight.detach(), ord=2).item()
    assert sigma == pytest.approx(1.0, abs=0.05)


def test_batchnorm_weight_init_ones_or_uniform01_from_the_seeded_rng():
    def bns(how, seed):
        torch.manual_seed(seed)
        nets = (Generator((1, 28, 28), 10, 62, "sigmoid", arch="authors", bn_weight_init=how),
                ConvClassifier((1, 28, 28), 11, bn_weight_init=how),
                ConvClassifier((1, 28, 28), 10, bottleneck=100, bn_weight_init=how))
        return [m for net in nets for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    ones, uni, again, other = bns("ones", 0), bns("uniform01", 0), bns("uniform01", 0), bns("uniform01", 1)
    assert len(uni) == 3 + 4 + 5  # G: FC 1024, FC 6272, ConvT; D, E: 3 conv + FC 1024; E's bottleneck
    for m in ones:
        assert torch.equal(m.weight, torch.ones_like(m.weight)) and not m.bias.any()
    for m, m2, m3 in zip(uni, again, other):
        assert 0 <= m.weight.min() and m.weight.max() < 1 and m.weight.std() > 0.2  # U(0,1): std 0.289
        assert not m.bias.any()
        assert torch.equal(m.weight, m2.weight) and not torch.equal(m.weight, m3.weight)
