"""The GPU check's summary (benchmarks/gpu_check.sh): the key numbers of its work folder, and which
steps failed or were skipped (exit status 1 then).

    python benchmarks/gpu_check_summary.py WORK_DIR BUDGET_S > summary.txt

Reads what the steps wrote (status.txt, step_cost_*.csv, plan.md, seed_packing.csv, jobs<N>_<i>.csv,
mnist_run/iterations.jsonl, tests.log); a missing file only leaves its section out, since its step is
already named as failed. Standard library only: it must run even where the imports check failed.
"""
from __future__ import annotations

import csv
import json
import re
import statistics
import sys
from pathlib import Path

PLANNED_STOP = {"mnist_run": 124}  # stopped by its time limit as planned; its iterations are on disk


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open())) if path.is_file() else []


def iterations(work: Path) -> list[dict]:
    path = work / "mnist_run" / "iterations.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def failures(status_lines: list[str], work: Path) -> list[str]:
    """Names of the steps that failed or were skipped. A planned stop counts only if it left at least
    one finished EM iteration."""
    failed = []
    for line in status_lines:
        name = line.split()[0]
        if " skipped " in f" {line} ":
            failed.append(f"{name} (skipped)")
            continue
        match = re.search(r"rc=(\d+)", line)
        rc = int(match[1]) if match else 1
        if rc == PLANNED_STOP.get(name) and iterations(work):
            continue
        if rc != 0:
            failed.append(f"{name} (rc={rc})")
    return failed


def jobs_table(work: Path) -> list[str]:
    """ms per step of each of N concurrent processes on one device, and N processes' steps per second
    against one process's."""
    out, base = [], {}
    for n in (1, 2, 4):
        per_kind: dict[str, list[float]] = {}
        for path in sorted(work.glob(f"jobs{n}_*.csv")):
            for row in rows(path):
                per_kind.setdefault(row["step"], []).append(float(row["suite_ms"]))
        for kind, ms in sorted(per_kind.items()):
            if len(ms) != n:
                continue
            rate = sum(1000 / m for m in ms)
            base.setdefault(kind, rate)
            out.append(f"  jobs={n} {kind:5s} {statistics.mean(ms):9.2f} ms/step per job  "
                       f"{rate:8.1f} steps/s together  x{rate / base[kind]:.2f} vs 1 job")
    return out


def main(argv: list[str]) -> int:
    work, budget = Path(argv[0]), argv[1]
    status = (work / "status.txt").read_text().splitlines() if (work / "status.txt").is_file() else []
    lines = ["== GPU check summary =="]
    if (work / "environment.txt").is_file():
        lines += [f"  {line}" for line in (work / "environment.txt").read_text().splitlines()]
    lines += ["steps (rc, seconds, limit):"] + [f"  {line}" for line in status]
    for precision in ("fp32", "bf16"):
        table = rows(work / f"step_cost_{precision}.csv")
        if table:
            lines.append(f"step cost, {precision}, preset authors (suite / bare loop, ms per step):")
            lines += [f"  {r['family']:7s} {r['step']:6s} batch {r['batch']:>4s}  {float(r['suite_ms']):9.2f}  "
                      f"{float(r['bare_ms']):9.2f}" for r in table]
    if (work / "plan.md").is_file():
        lines += ["plan (python -m ganem plan --save-timings):"]
        lines += [f"  {line}" for line in (work / "plan.md").read_text().splitlines()]
    packing = rows(work / "seed_packing.csv")
    if packing:
        lines.append("seeds_per_job (fit s per seed, vs S=1):")
        lines += [f"  S={r['seeds_per_job']:>2s}  {float(r['fit_seconds_per_seed']):8.3f} s  "
                  f"x{r['per_seed_vs_s1']}  ({r['mstep_steps_per_seed']} + {r['estep_steps_per_seed']} steps, "
                  f"{r['n_images']} images)" for r in packing]
    jobs = jobs_table(work)
    if jobs:
        lines += ["jobs_per_gpu (concurrent step_cost processes, MNIST nets):"] + jobs
    its = iterations(work)
    if its:
        lines.append("MNIST K=10 GAN-EM on this device (error per EM iteration, monitor_error):")
        lines += [f"  iteration {r['iteration']:3d}  {r['seconds']:7.1f} s  error "
                  f"{r.get('monitor_error', float('nan')):6.2f} %" for r in its]
    tests = work / "tests.log"
    if tests.is_file() and tests.read_text().strip():
        lines.append(f"device tests: {tests.read_text().strip().splitlines()[-1]}")
    failed = failures(status, work)
    if not status:
        failed.append("imports (no step ran)")
    lines.append(f"FAILED: {', '.join(failed)}" if failed else f"all steps passed (budget {budget} s)")
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
