"""End to end: the Snakemake DAG builds results/table1.csv from nothing in a temporary directory."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args],
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_dag_builds_table1_from_nothing(tiny_table1):
    tmp_path, dry, done = tiny_table1  # the session's tiny build (tests/conftest.py), shared with test_slurm
    assert dry.returncode == 0, dry.stderr
    assert "run" in dry.stdout and "fetch_data" in dry.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_csv(tmp_path / "results" / "table1.csv")
    assert list(table.columns[:10]) == ["method", "column", "dataset", "K", "n_labels", "error_mean",
                                        "error_std", "n_seeds", "paper_mean", "paper_std"]
    measured = table[table["n_seeds"] > 0].set_index("method")
    assert set(measured.index) == {"kmeans", "gmm"}
    assert (measured["n_seeds"] == 2).all() and (measured["dataset"] == "mnist5k").all()
    assert measured["error_mean"].between(0, 100).all()
    # every paper cell is present, measured or not
    assert {"dec", "aae", "ganem", "ganmm"} <= set(table["method"])
    assert table.loc[table["method"] == "kmeans", "paper_mean"].item() == pytest.approx(46.51)
    md = (tmp_path / "results" / "table1.md").read_text()
    assert "mnist5k" in md and "stand-in" in md
    runs = sorted((tmp_path / "results" / "runs").glob("*/mnist5k/unsup/K10/seed*/metrics.json"))
    assert len(runs) == 4


def test_bad_config_fails_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "tests" / "configs" / "tiny.yaml").read_text().replace("kmeans: [10]", "kmeans: [1]"))
    result = snakemake(tmp_path, "-n", "results/table1.csv", "--configfile", str(bad))
    assert result.returncode != 0
    assert "table1.mnist_unsup.methods.kmeans.0: 1 is less than the minimum of 2" in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()


def test_config_values_on_the_command_line_are_typed(tmp_path):
    # Snakemake hands `seeds=[0,1,2]` over as strings; the workflow turns them back into integers
    config = REPO / "tests" / "configs" / "tiny.yaml"
    ok = snakemake(tmp_path, "-n", "results/table1.csv", "--configfile", str(config), "--config", "seeds=[0,1,2]")
    assert ok.returncode == 0, ok.stderr
    assert "seed2" in ok.stdout
    bad = snakemake(tmp_path, "-n", "results/table1.csv", "--configfile", str(config), "--config", "seeds=[0,1.5]")
    assert bad.returncode != 0
    assert "seeds.1: 1.5 is not of type 'integer'" in bad.stderr + bad.stdout
