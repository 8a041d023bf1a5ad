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


DETERMINISM_PROBE = """
import sys, torch
from ganem.methods import RunContext
from ganem.model.em import GANEMTrainer
from ganem.model.params import Params
from ganem.trainer_support import seed_everything
seed_everything(0)
print(torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
      "torch._inductor.config" in sys.modules)
if sys.argv[1] == "compile":
    t = GANEMTrainer(Params(compile="default", mlp_hidden=8), RunContext(k=2, seed=0, run_dir=sys.argv[2], device=torch.device("cpu")))
    t.prepare(torch.rand(8, 2))
    import torch._inductor.config as inductor_config
    print(inductor_config.deterministic)
"""


@pytest.mark.parametrize("mode", ["plain", "compile"])
def test_training_runs_under_deterministic_kernels_and_only_a_compiling_run_loads_inductor(tmp_path, mode):
    """seed_everything turns deterministic algorithms on (warn only) without the ~2 s import of
    TorchInductor; a run that compiles sets Inductor's own determinism flag as well."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", DETERMINISM_PROBE, mode, str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[:3] == ["True", "True", "False"]
    assert out[3:] == ([] if mode == "plain" else ["True"])
