"""benchmarks/gpu_check_summary.py: which steps of the GPU check failed, and the jobs_per_gpu arithmetic
(on a generated work folder)."""
import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

import gpu_check_summary as summary  # noqa: E402


def _iterations(work, n):
    (work / "mnist_run").mkdir(exist_ok=True)
    lines = [json.dumps({"iteration": i, "seconds": 10.0, "monitor_error": 50.0 - i}) for i in range(n)]
    (work / "mnist_run" / "iterations.jsonl").write_text("\n".join(lines) + "\n")


def test_failed_skipped_and_planned_stops_are_told_apart(tmp_path):
    status = ["imports rc=0 seconds=9 limit=60", "tests rc=1 seconds=40 limit=100",
              "mnist_run rc=124 seconds=150 limit=150", "plan skipped (at 421 s of 450)"]
    # a run stopped at its limit with no finished EM iteration answered nothing: a failure
    assert summary.failures(status, tmp_path) == ["tests (rc=1)", "mnist_run (rc=124)", "plan (skipped)"]
    _iterations(tmp_path, 3)
    assert summary.failures(status, tmp_path) == ["tests (rc=1)", "plan (skipped)"]
    # any other step stopped by its limit failed
    assert summary.failures(["plan rc=124 seconds=90 limit=90"], tmp_path) == ["plan (rc=124)"]


def _jobs_csv(path, mstep_ms):
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["step", "suite_ms"])
        writer.writeheader()
        writer.writerow({"step": "mstep", "suite_ms": mstep_ms})


def test_jobs_per_gpu_rates_add_up_over_concurrent_jobs(tmp_path):
    _jobs_csv(tmp_path / "jobs1_1.csv", 10.0)                      # 100 steps/s alone
    for i, ms in enumerate((16.0, 16.0), 1):                        # 2 x 62.5 = 125 steps/s
        _jobs_csv(tmp_path / f"jobs2_{i}.csv", ms)
    for i in range(1, 4):                                          # 4 jobs, one missing: no row
        _jobs_csv(tmp_path / f"jobs4_{i}.csv", 40.0)
    lines = summary.jobs_table(tmp_path)
    assert len(lines) == 2
    assert "100.0 steps/s together  x1.00" in lines[0]
    assert "16.00 ms/step per job" in lines[1] and "125.0 steps/s together  x1.25" in lines[1]


def test_summary_exit_status_and_failed_line(tmp_path, capsys):
    (tmp_path / "status.txt").write_text("imports rc=0 seconds=9 limit=60\nseed_packing rc=1 seconds=3 limit=60\n")
    assert summary.main([str(tmp_path), "450"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "FAILED: seed_packing (rc=1)"
    (tmp_path / "status.txt").write_text("imports rc=0 seconds=9 limit=60\n")
    assert summary.main([str(tmp_path), "450"]) == 0
    assert "all steps passed" in capsys.readouterr().out
