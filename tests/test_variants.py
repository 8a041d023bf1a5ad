"""Method variants in the config (`methods.<name>: {method, label, preset, ...}`) and GAN-EM presets."""
from pathlib import Path

import pytest
import yaml

from ganem.config import ConfigError, apply_overrides, method_params, resolve_method, validate
from ganem.methods import get_method, make_params
from ganem.model.params import AUTHORS, Params

REPO = Path(__file__).resolve().parent.parent


def tiny():
    return yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())


def with_variant(**entry):
    config = tiny()
    config["methods"]["gmm_full"] = {"method": "gmm", **entry}
    config["table1"]["mnist_unsup"]["methods"]["gmm_full"] = [10]
    return config


def test_a_variant_runs_its_registered_method_with_its_own_values_and_label():
    config = with_variant(label="GMM, full covariance", covariance_type="full")
    validate(config)
    variant = resolve_method(config, "gmm_full")
    assert (variant.method, variant.label) == ("gmm", "GMM, full covariance")
    # its own values, not the registered method's (methods.gmm has diag, reg_covar 0.01)
    assert method_params(config, "gmm_full", "mnist5k") == {"covariance_type": "full"}
    assert resolve_method(config, "gmm").method == "gmm" and resolve_method(config, "gmm").label is None


def test_dataset_overrides_of_the_registered_method_reach_its_variants_and_the_variants_own_win():
    config = with_variant(covariance_type="full", max_iter=5)
    config["datasets"]["mnist5k"]["methods"] = {"gmm": {"max_iter": 7, "n_init": 2},
                                                "gmm_full": {"n_init": 3}}
    validate(config)
    assert method_params(config, "gmm_full", "mnist5k") == {"covariance_type": "full", "max_iter": 7, "n_init": 3}
    assert method_params(config, "gmm", "mnist5k")["max_iter"] == 7


@pytest.mark.parametrize("change, message", [
    (lambda c: c["table1"]["mnist_unsup"]["methods"].update({"spectral": [10]}), "unknown method 'spectral'"),
    (lambda c: c["methods"].update({"gmm_x": {"method": "dbscan"}}), "methods.gmm_x.method: unknown method 'dbscan'"),
    (lambda c: c["methods"].update({"kmeans": {"method": "gmm"}}), "is a registered method"),
    (lambda c: c["methods"].update({"gmm_full": {"method": "gmm", "bogus": 1}}), "unknown key(s) ['bogus']"),
    (lambda c: c["methods"].update({"Bad-Name": {"method": "gmm"}}), "Bad-Name"),
    (lambda c: c["datasets"]["mnist5k"].update({"methods": {"gmm_full": {"label": "x"}}}), "belong under methods"),
    (lambda c: c["datasets"]["mnist5k"].update({"methods": {"gmm_nowhere": {}}}), "unknown method 'gmm_nowhere'"),
])
def test_bad_variants_are_named(change, message):
    config = with_variant(covariance_type="full")
    change(config)
    with pytest.raises(ConfigError) as err:
        validate(config)
    assert message in str(err.value)


def test_an_unsupervised_variant_in_a_labelled_column_is_refused():
    config = with_variant()
    config["datasets"]["mnist5k"]["semi"] = {"fit": "train", "score": "test"}
    config["table1"]["mnist_100"] = {"dataset": "mnist5k", "n_labels": 100, "methods": {"gmm_full": [10]}}
    with pytest.raises(ConfigError, match="gmm_full.*cannot use labels"):
        validate(config)


def test_presets_start_from_named_values_and_the_config_keys_win():
    paper = make_params(Params, {}, "methods.ganem")
    assert paper == Params() and paper.preset == "paper"
    authors = make_params(Params, {"preset": "authors", "lr_e": 2e-4}, "methods.ganem")
    assert authors.preset == "authors" and authors.lr_e == 2e-4
    for key, value in AUTHORS.items():
        if key != "lr_e":
            assert getattr(authors, key) == value, key
    assert Params.authors() == make_params(Params, {"preset": "authors"}, "x")
    with pytest.raises(ConfigError, match="unknown preset 'theirs'"):
        make_params(Params, {"preset": "theirs"}, "methods.ganem")


def test_ablation_config_resolves_each_variant_one_switch_from_an_end():
    from ganem.tables.ablation import describe_variant

    config = yaml.safe_load((REPO / "config" / "ablation.yaml").read_text())
    validate(config)
    assert describe_variant(config, "ganem_paper_cpu") == ("ganem_paper_cpu", "(this end)")
    assert describe_variant(config, "ganem_paper_cpu_adam_same_lr") == ("ganem_paper_cpu", "optimizer=adam")
    assert describe_variant(config, "ganem_authors_cpu_rmsprop") == ("ganem_authors_cpu", "optimizer=rmsprop")
    assert describe_variant(config, "kmeans") == ("", "")


def test_a_bad_ablation_section_is_named():
    config = apply_overrides(tiny(), ["ablation={dataset: mnist5k, methods: [kmeans, nope]}"])
    with pytest.raises(ConfigError, match="ablation.methods: unknown method 'nope'"):
        validate(config)
    config = apply_overrides(tiny(), ["ablation={dataset: mnist5k, methods: [kmeans], ends: [gmm]}"])
    with pytest.raises(ConfigError, match="ablation.ends: gmm is not among ablation.methods"):
        validate(config)
    config = apply_overrides(tiny(), ["ablation={dataset: mnist5k, methods: [kmeans], seeds_by_method: {gmm: [0]}}"])
    with pytest.raises(ConfigError, match="ablation.seeds_by_method: gmm is not among ablation.methods"):
        validate(config)


def test_a_pruned_ablation_row_runs_only_its_own_seeds():
    from ganem.plan import ablation_runs

    config = apply_overrides(tiny(), ["seeds=[0, 1, 2]", "ablation={dataset: mnist5k, methods: [kmeans, gmm], "
                                      "seeds_by_method: {gmm: [0]}}"])
    validate(config)
    runs = [(run.method, run.seed) for run in ablation_runs(config)]
    assert runs == [("kmeans", 0), ("kmeans", 1), ("kmeans", 2), ("gmm", 0)]


def test_get_method_still_names_only_registered_methods():
    with pytest.raises(ConfigError, match="unknown method 'gmm_full'"):
        get_method("gmm_full")
