"""Adding a method touches one place: its module plus one registry line (docs/extending.md).

The config schema, the semantic checks, the run CLI and the tables all read the registry, so a
method registered at run time is validated, run, scored and tabled with no other change.
"""
import yaml

from ganem.config import validate
from ganem.methods import METHODS, Registered
from ganem.run import RunSpec, execute
from ganem.tables import write_toy2d


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
