"""`python -m ganem run`: the run contract, and bad input failing fast with a clear message."""
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from ganem.cli import main

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "tests" / "configs" / "tiny.yaml"


def run(tmp_path, *extra, out="run"):
    return main(["run", "--method", "kmeans", "--dataset", "mnist5k", "--k", "10", "--seed", "0",
                 "--out", str(tmp_path / out), "--config", str(TINY), "--no-progress", *extra])


def test_run_writes_predictions_and_metrics_with_provenance(tmp_path):
    assert run(tmp_path) == 0
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["n"] == 300 and record["scoring_rule"] == "hungarian"
    assert 0 <= record["error"] <= 100 and record["split"] == {"fit": "all", "score": "all"}
    assert record["config"]["datasets"]["mnist5k"]["n_samples"] == 300
    assert set(record["provenance"]) >= {"git", "libraries", "device"}
    assert record["provenance"]["libraries"]["torch"].startswith("2.14.1")
    preds = np.load(tmp_path / "run" / "predictions.npy")
    assert preds.shape == (300,) and preds.max() < 10


def test_same_seed_same_predictions(tmp_path):
    run(tmp_path, out="a")
    run(tmp_path, out="b")
    assert np.array_equal(np.load(tmp_path / "a" / "predictions.npy"), np.load(tmp_path / "b" / "predictions.npy"))


def test_unknown_method_parameter_is_a_clear_error(tmp_path, capsys):
    assert run(tmp_path, "--set", "methods.kmeans.n_clusters=3") == 2
    err = capsys.readouterr().err
    assert "methods.kmeans" in err and "n_clusters" in err and "valid keys" in err
    assert not (tmp_path / "run").exists()


def test_labels_for_an_unsupervised_method_are_refused(tmp_path, capsys):
    assert run(tmp_path, "--n-labels", "100") == 2
    assert "unsupervised only" in capsys.readouterr().err


def test_missing_mnist_files_fail_before_training(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["run", "--method", "kmeans", "--dataset", "mnist", "--k", "10", "--seed", "0",
                 "--out", str(tmp_path / "run"), "--config", str(TINY), "--data-dir", str(empty),
                 "--set", "datasets.mnist.unsup={fit: train, score: train}"])
    assert code == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte" in err and str(empty) in err
    assert not (tmp_path / "run").exists()  # not even an empty run folder


def test_corrupt_mnist_file_is_refused(tmp_path, capsys):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        with gzip.open(folder / f"{name}.gz", "wb") as f:
            f.write(b"\x00\x00\x08\x03" + b"not really mnist" * 10)
    code = main(["run", "--method", "kmeans", "--dataset", "mnist", "--k", "10", "--seed", "0",
                 "--out", str(tmp_path / "run"), "--config", str(TINY), "--data-dir", str(folder),
                 "--set", "datasets.mnist.unsup={fit: train, score: train}"])
    assert code == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte" in err
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_a_crashed_rerun_leaves_no_metrics(tmp_path, monkeypatch):
    assert run(tmp_path) == 0
    import baselines.kmeans

    def crash(self, x, labelled=None):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(baselines.kmeans.KMeans, "fit", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(tmp_path)
    assert not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.parametrize("args, message", [
    (["--k", "1"], "K must be at least 2"),
    (["--dataset", "mnist7"], "unknown dataset"),
])
def test_bad_arguments(tmp_path, capsys, args, message):
    base = {"--k": "10", "--dataset": "mnist5k"}
    base.update(dict(zip(args[::2], args[1::2])))
    code = main(["run", "--method", "kmeans", "--seed", "0", "--out", str(tmp_path / "r"), "--config", str(TINY),
                 *[x for kv in base.items() for x in kv]])
    assert code == 2 and message in capsys.readouterr().err
