"""ganem/gpu_pin.py: every GPU job gets its own device, at most N jobs per device (fake devices)."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganem.gpu_pin import NoGPU, acquire, slot_order, try_acquire, visible_devices

REPO = Path(__file__).resolve().parent.parent


def test_visible_devices_from_cuda_visible_devices_or_the_device_count():
    assert visible_devices({"CUDA_VISIBLE_DEVICES": "2, 3"}, lambda: 8) == ["2", "3"]
    assert visible_devices({}, lambda: 4) == ["0", "1", "2", "3"]
    with pytest.raises(NoGPU, match="no GPU is visible"):
        visible_devices({}, lambda: 0)
    with pytest.raises(NoGPU):
        visible_devices({"CUDA_VISIBLE_DEVICES": ""}, lambda: 4)


def test_slots_fill_every_device_before_a_second_job_on_any():
    assert slot_order(["0", "1", "2"], 2) == [("0", 0), ("1", 0), ("2", 0), ("0", 1), ("1", 1), ("2", 1)]


def test_four_gpus_two_jobs_each_then_full(tmp_path):
    devices = visible_devices({}, lambda: 4)  # a fake 4-GPU machine
    held = [try_acquire(devices, 2, tmp_path) for _ in range(8)]
    assert [device for device, _ in held] == ["0", "1", "2", "3"] * 2
    assert try_acquire(devices, 2, tmp_path) is None  # 9th job: every slot taken
    # a job ends (its lock closes): its device is the next one handed out
    finished_device, fd = held[5]
    os.close(fd)
    assert try_acquire(devices, 2, tmp_path)[0] == finished_device


def test_acquire_waits_at_most_its_timeout(tmp_path):
    assert try_acquire(["0"], 1, tmp_path) is not None
    start = time.monotonic()
    assert acquire(["0"], 1, tmp_path, poll_s=0.05, timeout_s=0.2) is None
    assert time.monotonic() - start >= 0.2


def _pinned(tmp_path, out, jobs_per_gpu=1, gpus=1, devices="0,1,2,3", hold=1.5):
    """Start `python -m ganem.gpu_pin` around a job that records its CUDA_VISIBLE_DEVICES."""
    job = f"import os, time; open({str(out)!r}, 'w').write(os.environ.get('CUDA_VISIBLE_DEVICES', '-')); time.sleep({hold})"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": devices, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "ganem.gpu_pin", "--jobs-per-gpu", str(jobs_per_gpu),
                             "--lock-dir", str(tmp_path / "locks"), "--gpus", str(gpus), "--",
                             sys.executable, "-c", job], env=env, stderr=subprocess.PIPE, text=True)


def test_concurrent_jobs_are_pinned_to_distinct_devices(tmp_path):
    outs = [tmp_path / f"job{i}" for i in range(4)]
    procs = [_pinned(tmp_path, out) for out in outs]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    assert sorted(out.read_text() for out in outs) == ["0", "1", "2", "3"]
    assert "gpu_pin: CUDA_VISIBLE_DEVICES=" in procs[0].stderr.read()


def test_jobs_without_a_gpu_or_without_pinning_run_unchanged(tmp_path):
    for kwargs in ({"gpus": 0}, {"jobs_per_gpu": 0}):
        out = tmp_path / "job"
        assert _pinned(tmp_path, out, hold=0, **kwargs).wait(timeout=60) == 0
        assert out.read_text() == "0,1,2,3"  # the environment as given, no lock taken
    assert not (tmp_path / "locks").exists()
