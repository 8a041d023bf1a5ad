"""Config validation: every bad value is named, with its fix, before any job runs."""
from pathlib import Path

import pytest
import yaml

from ganem.config import ConfigError, apply_overrides, load_config, method_params, validate

REPO = Path(__file__).resolve().parent.parent


def tiny():
    return yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())


@pytest.mark.parametrize("path", ["config/config.yaml", "config/quick.yaml", "tests/configs/tiny.yaml"])
def test_shipped_configs_are_valid(path):
    load_config(REPO / path)


@pytest.mark.parametrize("override, message", [
    ("table1.mnist_unsup.dataset=mnist7", "unknown dataset 'mnist7'"),
    ("table1.mnist_unsup.methods={kmeans: [1]}", "less than the minimum of 2"),
    ("table1.mnist_unsup.methods={spectral: [10]}", "spectral"),
    ("seeds=[0, 1.5]", "seeds.1"),
    ("seeds=[]", "seeds"),
    ("table1.mnist_unsup.n_labels=500", "has no 'semi' splits"),
    ("datasets.mnist5k.unsup.fit=training", "unknown split 'training'"),
    ("methods.gmm.covariance_type=banana", "covariance_type"),
    ("methods.gmm.bogus=1", "unknown key(s) ['bogus']"),
    ("device=tpu", "device"),
    ("colour=blue", "colour"),
    ("gpus_per_job=2", "jobs_per_gpu=1 pins each job to one GPU, so it needs gpus_per_job 0 or 1"),
])
def test_bad_values_are_named(override, message):
    with pytest.raises(ConfigError, match=None) as err:
        validate(apply_overrides(tiny(), [override]))
    assert message in str(err.value)


def test_more_labels_than_images():
    cfg = apply_overrides(tiny(), ["table1.mnist_unsup.n_labels=500", "datasets.mnist5k.semi={fit: train, score: test}"])
    with pytest.raises(ConfigError, match="n_labels=500 is more than the 300 images"):
        validate(cfg)


def test_labels_for_unsupervised_method_in_semi_column():
    cfg = apply_overrides(tiny(), ["table1.mnist_unsup.n_labels=100", "datasets.mnist5k.semi={fit: train, score: test}"])
    with pytest.raises(ConfigError, match="cannot use labels"):
        validate(cfg)


def test_override_syntax_error():
    with pytest.raises(ConfigError, match="expected key=value"):
        apply_overrides(tiny(), ["seeds"])


def test_method_params_dataset_overrides_win():
    cfg = apply_overrides(tiny(), ["datasets.toy.methods={gmm: {covariance_type: full}}"])
    assert method_params(cfg, "gmm", "toy-moons")["covariance_type"] == "full"
    assert method_params(cfg, "gmm", "toy-moons")["max_iter"] == 20
    assert method_params(cfg, "gmm", "mnist5k")["covariance_type"] == "diag"


def test_missing_config_file():
    with pytest.raises(ConfigError, match="not found"):
        load_config(REPO / "config" / "nope.yaml")


def test_set_reads_exponent_numbers_as_numbers():
    # PyYAML would read 1e-3 as the string "1e-3"; on the command line it is a number
    cfg = apply_overrides(tiny(), ["methods.gmm.reg_covar=1e-3", "methods.gmm.covariance_type=diag"])
    assert cfg["methods"]["gmm"]["reg_covar"] == pytest.approx(0.001)
    assert cfg["methods"]["gmm"]["covariance_type"] == "diag"
    validate(cfg)


def test_number_written_as_text_in_a_config_file_is_named_with_its_fix():
    cfg = tiny()
    cfg["methods"]["gmm"]["reg_covar"] = "1e-3"  # what PyYAML makes of `reg_covar: 1e-3` in a file
    with pytest.raises(ConfigError, match=r"methods.gmm.reg_covar: expected a number.*1.0e-3"):
        validate(cfg)


def test_normalise_cli_values_types_nested_strings():
    from ganem.config import normalise_cli_values

    raw = {"seeds": ["0", "1"], "methods": {"gmm": {"reg_covar": "1e-3", "covariance_type": "full"}},
           "download": "False", "data_dir": "data"}
    assert normalise_cli_values(raw) == {"seeds": [0, 1], "methods": {"gmm": {"reg_covar": 0.001,
                                         "covariance_type": "full"}}, "download": False, "data_dir": "data"}
