"""End to end: the Snakemake DAG builds results/table1.csv from nothing, in a copy of the repository's
tracked files (a fresh clone of the working tree): there the paper config plans every Table 1 run,
the tiny run leaves `git status` clean, and a table built under one config never answers a request
under another."""
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import git
from dag_failure import explain
from ganem import plan

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
TINY = "tests/configs/tiny.yaml"


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args],
                          capture_output=True, text=True, timeout=900)


def in_clone(clone: Path, *args: str) -> subprocess.CompletedProcess:
    """Snakemake run as a user runs it in a clone: from its root, importing its own ganem."""
    return subprocess.run([*SNAKEMAKE, *args], cwd=clone, capture_output=True, text=True, timeout=900)


def planned_rules(dry_run_stdout: str) -> dict[str, int]:
    """rule -> job count from the 'Job stats' table of `snakemake -n` ({} when nothing is to be done)."""
    if "Job stats:" not in dry_run_stdout:
        return {}
    table = dry_run_stdout.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    rows = (line.split() for line in table.splitlines())
    return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit() and row[0] != "total"}


def paper_table1_plan() -> dict[str, int]:
    """What `snakemake -n results/table1.csv` must plan under config/config.yaml, from ganem.plan."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    runs = plan.table1_runs(config)
    return {"fetch_data": len({run.dataset for run in runs}), "run": len(runs), "table1": 1}


@pytest.fixture(scope="module")
def clone(tiny_table1):
    """The session's fresh clone (tests/conftest.py) after its tiny Table 1 build, with the plan of
    its first dry run (paper config, nothing built)."""
    root, fresh, done = tiny_table1
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert done.returncode == 0, explain(done, root)
    return root, planned_rules(fresh.stdout)


@pytest.mark.slow
def test_fresh_clone_plans_every_table1_run_of_the_paper_config(clone):
    _, fresh_plan = clone
    assert fresh_plan == paper_table1_plan()  # 2 downloads, 30 runs, the table: nothing committed shadows it


@pytest.mark.slow
def test_dag_builds_table1_from_nothing(clone):
    tmp_path, _ = clone
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


@pytest.mark.slow
def test_a_run_leaves_the_working_tree_clean(clone):
    root, _ = clone
    assert (root / "results" / "table1.csv").is_file()
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.slow
def test_a_table_built_under_one_config_never_answers_another(clone, tmp_path):
    root, _ = clone
    smk = lambda *args: in_clone(root, *args)  # noqa: E731
    paper = smk("-n", "results/table1.csv")
    assert paper.returncode == 0, paper.stderr[-3000:]
    assert planned_rules(paper.stdout) == paper_table1_plan()
    # the tiny config's own runs are all on disk: one seed fewer is a different table, not up to date
    fewer = smk("-n", "results/table1.csv", "--configfile", TINY, "--config", "seeds=[0]")
    assert planned_rules(fewer.stdout) == {"table1": 1}, fewer.stdout[-2000:]
    # a run reads its dataset's settings: another n_samples retrains it in the same folder
    tiny = yaml.safe_load((root / TINY).read_text())
    tiny["datasets"]["mnist5k"]["n_samples"] = 200
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(tiny))
    other = smk("-n", "results/table1.csv", "--configfile", str(tmp_path / "other.yaml"))
    assert planned_rules(other.stdout) == {"run": 4, "table1": 1}, other.stdout[-2000:]
    assert "Nothing to be done" in smk("-n", "results/table1.csv", "--configfile", TINY).stdout


@pytest.mark.slow
def test_evidence_copies_a_configs_tables_with_their_provenance(clone, tmp_path):
    root, _ = clone
    dest = tmp_path / "evidence"
    done = subprocess.run([sys.executable, "-m", "ganem", "evidence", "--configfile", TINY, "results/table1.csv",
                           "--cores", "1", "--dest", str(dest)], cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in dest.iterdir()) == ["provenance.json", "table1.csv", "table1.md"]
    assert (dest / "table1.md").read_text() == (root / "results" / "table1.md").read_text()
    record = json.loads((dest / "provenance.json").read_text())
    assert record["config"] == TINY and record["files"] == ["results/table1.csv", "results/table1.md"]
    assert record["commit"] and record["libraries"]["torch"]


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
