"""profiles/slurm against a real SLURM: a one-node cluster on localhost (tests/slurm_cluster.py)
builds the tiny config's Table 1 through `snakemake --profile profiles/slurm`.

The training jobs must go through sbatch (SLURM's own records of them), carry the resources the
workflow declares (ganem/job_resources.py), a job killed by SLURM (scancel) must be reported as failed
and rerun cleanly by the next invocation, and the table must equal the one a local run writes.

    pytest -k slurm          # exactly these tests

Skipped, with the reason in pytest's summary, only where SLURM cannot be installed: `make slurm`
(which .ci/run calls) installs it on Debian/Ubuntu as root.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from ganem.config import setting_name
from ganem.job_resources import training_resources
from slurm_cluster import Cluster, cluster, missing_programs

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "tests" / "configs" / "tiny.yaml"
pytestmark = pytest.mark.slow


def _why_unavailable() -> str | None:
    missing = missing_programs()
    if missing:
        return (f"SLURM tests skipped: SLURM is not installed here (missing {', '.join(missing)}); "
                "`make slurm` installs it (Debian/Ubuntu, as root)")
    if os.geteuid() != 0:
        return "SLURM tests skipped: the one-node test cluster runs its daemons as root; run pytest as root"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "SLURM tests skipped: snakemake-executor-plugin-slurm is missing; pip install -e '.[slurm]'"
    return None


def _snakemake(workdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
            "results/table1.csv", "--configfile", str(TINY), *args]


# the test cluster has no slurmdbd: job states come from squeue (slurmctld keeps finished jobs for
# MinJobAge = 3600 s); no account exists to guess; status checks start after 2 s, not 40 s
SLURM_ARGS = ("--profile", str(REPO / "profiles" / "slurm"), "--slurm-status-command", "squeue",
              "--slurm-no-account", "--slurm-init-seconds-before-status-checks", "2")


def _queue(c: Cluster) -> list[dict[str, str]]:
    out = c.run("squeue", "--states=all", "--noheader", "-o", "%i|%T|%k").stdout
    return [dict(zip(("id", "state", "comment"), line.split("|", 2))) for line in out.splitlines() if line]


@dataclass
class SlurmBuild:
    local: Path
    workdir: Path
    victim: dict[str, str]  # the job scancel killed: id, comment (rule and wildcards)
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    jobs: dict[str, dict[str, str]] = field(default_factory=dict)  # scontrol show job, by job id
    completed: list[dict[str, str]] = field(default_factory=list)  # SLURM's job-completion log


@pytest.fixture(scope="module")
def slurm_build(tmp_path_factory, request) -> SlurmBuild:
    reason = _why_unavailable()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("slurm")
    workdir = root / "slurm"
    local, _, done = request.getfixturevalue("tiny_table1")  # the session's local build of the same target
    assert done.returncode == 0, done.stderr[-3000:]

    with cluster() as c:
        # first invocation: cancel the first training job SLURM starts, let the others finish
        with open(root / "first.out", "w") as out:
            proc = subprocess.Popen(_snakemake(workdir, *SLURM_ARGS), env=c.env, stdout=out,
                                    stderr=subprocess.STDOUT, text=True)
            deadline = time.monotonic() + 600
            victim = None
            while victim is None and time.monotonic() < deadline and proc.poll() is None:
                running = [j for j in _queue(c) if j["state"] == "RUNNING"]
                victim = running[0] if running else None
                time.sleep(0.3)
            assert victim is not None, "no SLURM job was ever seen running"
            c.run("scancel", victim["id"], check=True)
            proc.wait(timeout=1800)
        first = subprocess.CompletedProcess(proc.args, proc.returncode, (root / "first.out").read_text(), "")
        # second invocation: only the killed run is left to do
        second = subprocess.run(_snakemake(workdir, *SLURM_ARGS), env=c.env, capture_output=True,
                                text=True, timeout=1800)
        build = SlurmBuild(local, workdir, victim, first, second)
        build.jobs = {j["id"]: c.job(j["id"]) for j in _queue(c)}
        build.completed = c.completed_jobs()
    print("\nsqueue/scontrol of the submitted jobs:")
    for job_id, job in build.jobs.items():
        print(f"  {job_id} {job['JobState']:<10} TimeLimit={job['TimeLimit']} MinMemoryNode={job['MinMemoryNode']} "
              f"NumCPUs={job['NumCPUs']} Partition={job['Partition']} Comment={job['Comment']}")
    return build


def _expected_runs() -> dict[str, dict[str, int]]:
    """SLURM job comment of every training run of the tiny Table 1 -> the resources the workflow
    declares for it (ganem/job_resources.py)."""
    config = yaml.safe_load(TINY.read_text())
    runs = {}
    for spec in config["table1"].values():
        for method, ks in spec["methods"].items():
            for k in ks:
                for seed in config["seeds"]:
                    comment = (f"rule_run_wildcards_{method}_{spec['dataset']}_{setting_name(spec['n_labels'])}"
                               f"_{k}_{seed}")
                    runs[comment] = training_resources(config, method, spec["dataset"], spec["n_labels"], k)
    return runs


def test_slurm_training_jobs_went_through_sbatch(slurm_build):
    expected = _expected_runs()
    done = [j for j in slurm_build.jobs.values() if j["JobState"] == "COMPLETED"]
    # every training run ended as a COMPLETED SLURM batch job; nothing else (data, table) was submitted
    assert sorted(j["Comment"] for j in done) == sorted(expected)
    assert all(j["BatchFlag"] == "1" for j in slurm_build.jobs.values())
    assert {j["Comment"] for j in slurm_build.jobs.values()} == set(expected)
    # SLURM's permanent job-completion log records the same jobs: 4 completed, 1 cancelled
    states = sorted(r["JobState"] for r in slurm_build.completed)
    assert states == ["CANCELLED"] + ["COMPLETED"] * len(expected)
    assert {r["JobId"] for r in slurm_build.completed} == set(slurm_build.jobs)


def test_slurm_jobs_got_the_declared_resources(slurm_build):
    expected = _expected_runs()
    for job_id, job in slurm_build.jobs.items():
        want = expected[job["Comment"]]
        assert job["TimeLimit"] == f"{want['runtime'] // 60:02d}:{want['runtime'] % 60:02d}:00", job_id
        assert job["MinMemoryNode"] == f"{want['mem_mb']}M", job_id
        assert int(job["NumCPUs"]) == want["threads"], job_id
        assert "gres/gpu" not in job.get("TRES", ""), job_id  # tiny runs are K-means/GMM: no GPU
    for record in slurm_build.completed:
        want = expected[slurm_build.jobs[record["JobId"]]["Comment"]]
        assert record["TimeLimit"] == str(want["runtime"])
        assert f"mem={want['mem_mb']}M" in record["Tres"]


def test_slurm_killed_job_is_reported_failed_and_rerun(slurm_build):
    victim = slurm_build.victim
    assert slurm_build.jobs[victim["id"]]["JobState"] == "CANCELLED"
    first = slurm_build.first.stdout
    assert slurm_build.first.returncode != 0
    assert f"SLURM-job '{victim['id']}' failed, SLURM status is: 'CANCELLED'" in first
    assert "Logfile logs/runs/" in first  # show-failed-logs: the run's own log reaches the console
    # the next invocation submitted exactly the killed run again (plus the local table), and it completed
    assert slurm_build.second.returncode == 0, slurm_build.second.stderr[-3000:]
    assert "2 of 2 steps (100%) done" in slurm_build.second.stderr
    runs_of_victim = sorted(j["JobState"] for j in slurm_build.jobs.values() if j["Comment"] == victim["comment"])
    assert runs_of_victim == ["CANCELLED", "COMPLETED"]


def test_slurm_table_equals_local_table(slurm_build):
    for name in ("table1.csv", "table1.md"):
        slurm = (slurm_build.workdir / "results" / name).read_text()
        # the local build ran in a clone with the config's relative path, this one with its absolute path:
        # the tables name the config as given, and must agree in everything else
        local = (slurm_build.local / "results" / name).read_text().replace("tests/configs/tiny.yaml", str(TINY))
        assert slurm == local, name
