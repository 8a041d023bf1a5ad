"""Helpers for the resume tests: run a training script in a child process (so it can be SIGKILLed)
and read the iteration log it leaves behind. Shared by the GAN-EM and GANMM resume tests."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def start(script: Path, run_dir: Path, out: Path, *args: str) -> subprocess.Popen:
    """Start ``script run_dir out *args`` with one torch thread and progress bars off."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", CI="true")
    return subprocess.Popen([sys.executable, str(script), str(run_dir), str(out), *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def records(run_dir: Path) -> list[dict]:
    """The records of ``run_dir/iterations.jsonl`` written so far ([] before the first)."""
    path = run_dir / "iterations.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def kill_when(proc: subprocess.Popen, ready, timeout: float) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` is true; fail if it ends first or ``timeout`` passes."""
    t0 = time.time()
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be killed:\n{proc.stdout.read().decode()}")
        if time.time() - t0 > timeout:
            proc.kill()
            pytest.fail("timed out waiting for the kill point")
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
