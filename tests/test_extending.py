"""Adding a method or a dataset touches one place (docs/architecture.md).

A method: its module plus one registry line. A dataset: one registry entry (ganem/data/registry.py).
The config schema, the semantic checks, the plan, feasibility, cost, the run CLI and the tables all
read the registries, so a method or dataset registered at run time is validated, planned, run, scored
and tabled with no other change.
"""
import numpy as np
import pytest
import torch
import yaml

from ganem import cost, data, feasibility, plan
from ganem.config import ConfigError, validate
from ganem.methods import METHODS, Registered
from ganem.job_resources import training_resources
from ganem.run import RunSpec, execute
from ganem.tables import write_runs, write_toy2d


def test_a_registered_toy_method_is_validated_run_and_tabled(tmp_path, monkeypatch):
    monkeypatch.setitem(METHODS, "threshold", Registered("example_method.threshold:Threshold", "Threshold"))
    config = {"data_dir": "data", "download": False, "seeds": [0],
              "datasets": {"toy": {"unsup": {"fit": "all", "score": "all"}}},
              "methods": {"threshold": {"feature": 0},
                          "threshold_y": {"method": "threshold", "label": "Threshold on y", "feature": 1}},
              "table1": {},
              "toy2d": {"datasets": ["toy-moons"], "methods": ["threshold", "threshold_y"], "seeds": [0]}}
    validate(config, source="test")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    metrics = []
    for name in ("threshold", "threshold_y"):
        out = tmp_path / "runs" / name / "toy-moons" / "unsup" / "K2" / "seed0"
        record = execute(RunSpec(method=name, dataset="toy-moons", k=2, seed=0, out=out, config_path=path,
                                 progress=False))
        assert record["base_method"] == "threshold" and 0 <= record["error"] <= 50
        metrics.append(out / "metrics.json")
    write_toy2d(metrics, tmp_path / "t.csv", tmp_path / "s.csv", tmp_path / "t.md", source="test.yaml")
    md = (tmp_path / "t.md").read_text()
    assert "| Dataset | Threshold | Threshold on y (`threshold_y`) |" in md


def _blobs(name, split, data_dir, max_per_class):
    """Three separated 2-D blobs, 20 points each: a dataset generated in memory (no files)."""
    from ganem.data import ImageSet

    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = (centres.repeat_interleave(20, 0) + 0.1 * torch.randn(60, 2, generator=torch.Generator().manual_seed(0)))
    return ImageSet(x=x, y=np.repeat(np.arange(3), 20), n_classes=3, name=name, split=split, value_range=(0.0, 1.0))


def test_a_toy_dataset_registered_in_one_place_reaches_a_table(tmp_path, monkeypatch):
    # the one place: its registry entry (splits, loader, shape, network family, class counts)
    monkeypatch.setitem(data.ENTRIES, "blobs", data.Entry(("all",), _blobs, (2,), "mlp", {"all": (20, 20, 20)},
                                                          offline=True))
    config = {"data_dir": "data", "download": False, "seeds": [0],
              "datasets": {"blobs": {"unsup": {"fit": "all", "score": "all"}}}, "methods": {}, "table1": {},
              "ablation": {"dataset": "blobs", "k": 3, "methods": ["kmeans"]}}
    validate(config, source="test")
    feasibility.check(config)  # K against the registry's class counts
    assert [(r.dataset, r.k) for r in plan.targets(config)["all"]] == [("blobs", 3)]
    assert cost.fit_images(config, "blobs", 0) == 60  # the registry's split size
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "runs" / "kmeans" / "blobs" / "unsup" / "K3" / "seed0"
    record = execute(RunSpec(method="kmeans", dataset="blobs", k=3, seed=0, out=out, config_path=path, progress=False))
    assert record["error"] == 0.0  # three blobs 10 apart with spread 0.1: K-means finds them
    write_runs([out / "metrics.json"], tmp_path / "runs.csv")
    assert "blobs" in (tmp_path / "runs.csv").read_text()
    config["ablation"]["k"] = 2
    with pytest.raises(ConfigError, match="K=2 is fewer than the 3 classes of blobs"):
        feasibility.check(config)


def test_a_neural_method_without_a_step_count_is_refused_a_default_runtime(monkeypatch):
    # A neural method that does not count its steps would silently ask SLURM for the day-long default.
    monkeypatch.setitem(METHODS, "threshold", Registered("example_method.threshold:Threshold", "Threshold",
                                                         neural=True))
    config = {"data_dir": "data", "seeds": [0], "methods": {}, "table1": {}, "datasets": {}}
    with pytest.raises(ConfigError, match=r"implement Threshold.steps"):
        training_resources(config, "threshold", "toy-moons", 0, 2)
