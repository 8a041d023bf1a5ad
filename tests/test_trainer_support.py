"""The plumbing both neural methods share (ganem/trainer_support.py)."""
import pytest
import torch

from ganem.trainer_support import resolve_output


@pytest.mark.parametrize("x, expected", [
    (torch.rand(4, 1, 28, 28), "sigmoid"),  # images in [0, 1]
    (torch.rand(4, 3, 32, 32) * 2 - 1, "tanh"),  # images in [-1, 1]
    (torch.randn(4, 2) * 5, "linear"),  # vectors (2-D toy points), whatever their range
])
def test_auto_output_follows_the_data(x, expected):
    assert resolve_output("auto", x, "methods.ganem.output") == expected


def test_an_explicit_output_wins_over_the_data():
    assert resolve_output("tanh", torch.rand(2, 1, 28, 28), "methods.ganmm.output_activation") == "tanh"


def test_images_outside_both_ranges_name_the_key_to_set():
    with pytest.raises(ValueError, match="methods.ganmm.output_activation"):
        resolve_output("auto", torch.full((2, 1, 4, 4), 3.0), "methods.ganmm.output_activation")
