"""seeds_per_job: several seeds of one cell trained in one process write exactly what separate runs
write (issue 11). On the CPU the packed seeds are bit-identical to separate runs; on a GPU
(`pytest -m device --device cuda`) the nets' kernels are not deterministic and a few training steps
amplify their rounding, so there they write the same files, finite."""
from __future__ import annotations

import json

import numpy as np
import pytest

from dag_failure import explain
from ganem.cli import main

TINY = ["download=false", "methods.ganem.em_iterations=2", "methods.ganem.mstep_batches=3",
        "methods.ganem.q_steps=2", "methods.ganem.batch_size=16", "methods.ganem.e_batch_size=16",
        "methods.ganem.monitor_fakes=20", "methods.ganem.mechanism_samples=16", "checkpoints=keep",
        "datasets.mnist.unsup.fit=train60k", "datasets.mnist.unsup.score=train60k",
        "datasets.mnist.semi.fit=train60k"]


def _run(tmp_path, data, device, seeds, out, n_labels="0"):
    sets = [arg for item in TINY + [f"data_dir={data}", f"device={device.type}"] for arg in ("--set", item)]
    argv = ["run", "--method", "ganem", "--dataset", "mnist", "--k", "10", "--n-labels", n_labels,
            "--out", str(out), "--no-progress", *sets, "--seed", *map(str, seeds)]
    assert main(argv) == 0


def _log_without_times(folder):
    records = [json.loads(line) for line in (folder / "iterations.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


@pytest.mark.parametrize("n_labels", ["0", "20"])
def test_packed_seeds_write_what_separate_runs_write(tmp_path, write_idx_dataset, one_torch_thread, device,
                                                     n_labels):
    write_idx_dataset(tmp_path / "data", n_train=48, n_test=10)
    for seed in (0, 1):
        _run(tmp_path, tmp_path / "data", device, [seed], tmp_path / f"alone/seed{seed}", n_labels)
    _run(tmp_path, tmp_path / "data", device, [0, 1], tmp_path / "packed/seed{seed}", n_labels)
    for seed in (0, 1):
        alone, packed = tmp_path / f"alone/seed{seed}", tmp_path / f"packed/seed{seed}"
        record = json.loads((packed / "metrics.json").read_text())
        assert record["seed"] == seed and record["pack"]["seeds"] == [0, 1]
        p_alone, p_packed = np.load(alone / "proba.npy"), np.load(packed / "proba.npy")
        if device.type == "cpu":
            assert np.array_equal(np.load(alone / "predictions.npy"), np.load(packed / "predictions.npy"))
            assert np.array_equal(p_alone, p_packed)
            assert _log_without_times(alone) == _log_without_times(packed)
        else:  # non-deterministic GPU kernels: rounding that training steps amplify, so what must hold
            assert p_alone.shape == p_packed.shape and np.isfinite(p_packed).all()
            assert len(_log_without_times(alone)) == len(_log_without_times(packed))
    # the two seeds differ from each other, so the identity above is not the same run twice
    assert not np.array_equal(np.load(tmp_path / "packed/seed0/proba.npy"), np.load(tmp_path / "packed/seed1/proba.npy"))


def test_several_seeds_need_a_folder_each(tmp_path, capsys):
    assert main(["run", "--method", "kmeans", "--dataset", "toy-moons", "--k", "2", "--seed", "0", "1",
                 "--out", str(tmp_path / "run")]) == 2
    assert "put {seed} in --out" in capsys.readouterr().err
    assert main(["run", "--method", "kmeans", "--dataset", "toy-moons", "--k", "2", "--seed", "0", "0",
                 "--out", str(tmp_path / "seed{seed}")]) == 2
    assert "a seed is given twice" in capsys.readouterr().err


def _packed_config(seeds_per_job: int) -> dict:
    import yaml

    from tests.test_workflow import REPO

    config = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    config["seeds"] = [0, 1, 2]
    config["seeds_per_job"] = seeds_per_job
    config["methods"]["ganem"] = {"preset": "authors", "em_iterations": 1, "mstep_batches": 2, "q_steps": 2,
                                  "batch_size": 32, "e_batch_size": 32, "monitor_fakes": 20,
                                  "mechanism_samples": 16}
    config["table1"]["mnist_unsup"]["methods"]["ganem"] = [10]
    return config


def test_packs_group_the_seeds_of_a_cell_whose_method_steps_seeds_together():
    from ganem.config import validate
    from ganem.plan import Pack, seed_packs

    config = _packed_config(1)
    validate(config)
    assert seed_packs(config) == []
    config = _packed_config(2)
    validate(config)
    # GAN-EM's seeds 0, 1 in one job, seed 2 left as a plain run; K-means and GMM never packed
    assert seed_packs(config) == [Pack("ganem", "mnist5k", 0, 10, (0, 1))]
    config["seeds_per_job"] = 4
    assert seed_packs(config) == [Pack("ganem", "mnist5k", 0, 10, (0, 1, 2))]


@pytest.mark.slow
def test_the_dag_trains_a_pack_in_one_job(tmp_path):
    import yaml

    from tests.test_workflow import snakemake

    path = tmp_path / "packed.yaml"
    path.write_text(yaml.safe_dump(_packed_config(2)))
    targets = [f"results/runs/ganem/mnist5k/unsup/K10/seed{seed}/metrics.json" for seed in (0, 1, 2)]
    done = snakemake(tmp_path, *targets, "--configfile", str(path), "--cores", "2")
    assert done.returncode == 0, explain(done, tmp_path)
    assert "run_pack_0" in done.stderr + done.stdout
    records = {seed: json.loads((tmp_path / f"results/runs/ganem/mnist5k/unsup/K10/seed{seed}/metrics.json").read_text())
               for seed in (0, 1, 2)}
    assert records[0]["pack"]["seeds"] == records[1]["pack"]["seeds"] == [0, 1]
    assert "pack" not in records[2]  # the seed left over ran alone
    assert (tmp_path / "logs/runs/ganem/mnist5k/unsup/K10/seeds0_1.log").is_file()
