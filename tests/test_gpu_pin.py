"""ganem/gpu_pin.py: every GPU job gets its own device, at most N jobs per device (fake devices)."""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganem.gpu_pin import NoGPU, acquire, local_slots, slot_order, try_acquire, visible_devices

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


# --- local_slots: the gpu resource and pinning of the plain `snakemake --cores 8 all` -------------
PAPER_GPU = {"device": "cuda", "gpus_per_job": 1}  # config/config.yaml's GPU keys (jobs_per_gpu: default)


def _no_torch():
    raise AssertionError("GANEM_VISIBLE_GPUS / CUDA_VISIBLE_DEVICES must answer without torch")


@pytest.mark.parametrize("environ, config, user_gpu, expected", [
    ({"GANEM_VISIBLE_GPUS": "1"}, PAPER_GPU, None, (1, 1)),
    ({"GANEM_VISIBLE_GPUS": "4"}, PAPER_GPU, None, (1, 4)),
    ({"GANEM_VISIBLE_GPUS": "4"}, {**PAPER_GPU, "jobs_per_gpu": 2}, None, (2, 8)),
    ({"CUDA_VISIBLE_DEVICES": "2,3"}, PAPER_GPU, None, (1, 2)),
    ({"GANEM_VISIBLE_GPUS": "4"}, PAPER_GPU, 2, (1, None)),           # --resources gpu=2 wins
    ({"GANEM_VISIBLE_GPUS": "0"}, PAPER_GPU, None, (0, None)),        # CPU-only: as before
    ({"GANEM_VISIBLE_GPUS": "4"}, {**PAPER_GPU, "device": "cpu"}, None, (0, None)),
    ({"GANEM_VISIBLE_GPUS": "4"}, {**PAPER_GPU, "gpus_per_job": 0}, None, (0, None)),
    ({"GANEM_VISIBLE_GPUS": "4"}, {**PAPER_GPU, "jobs_per_gpu": 0}, None, (0, None)),
])
def test_local_slots(environ, config, user_gpu, expected):
    slots = local_slots(config, environ, _no_torch, user_gpu)
    assert (slots.jobs_per_gpu, slots.gpu) == expected


def test_local_slots_counts_devices_through_torch_when_nothing_is_set():
    assert local_slots(PAPER_GPU, {}, lambda: 3, None).gpu == 3
    assert local_slots(PAPER_GPU, {}, lambda: 0, None).jobs_per_gpu == 0


def test_a_bad_gpu_count_is_named():
    with pytest.raises(ValueError, match="GANEM_VISIBLE_GPUS='four' is not a GPU count"):
        local_slots(PAPER_GPU, {"GANEM_VISIBLE_GPUS": "four"}, _no_torch, None)


def _snakemake(workdir, *args, env=()):
    environ = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "GANEM_VISIBLE_GPUS")}
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                           *args], capture_output=True, text=True, timeout=900, env={**environ, **dict(env)})


def _slots_line(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return next(line for line in result.stderr.splitlines() if line.startswith("ganem: GPU slots:"))


@pytest.mark.slow
@pytest.mark.parametrize("env, args, expected", [
    ({"GANEM_VISIBLE_GPUS": "1"}, (), "gpu=1: 1 visible GPU(s) x jobs_per_gpu 1"),
    ({"GANEM_VISIBLE_GPUS": "4"}, (), "gpu=4: 4 visible GPU(s) x jobs_per_gpu 1"),
    ({"GANEM_VISIBLE_GPUS": "4"}, ("--resources", "gpu=2"), "gpu=2 from --resources; 4 visible GPU(s)"),
    ({"GANEM_VISIBLE_GPUS": "0"}, (), "no GPU visible: jobs are not pinned"),
    ({"GANEM_VISIBLE_GPUS": "4"}, ("--jobs", "10"), "cluster executor"),
])
def test_paper_config_dry_run_sets_the_gpu_resource(tmp_path, env, args, expected):
    """`snakemake -n` under config/config.yaml (a cheap target: the slots are set when it parses)."""
    result = _snakemake(tmp_path, "-n", "data/manifests/mnist.json", "--configfile",
                        str(REPO / "config" / "config.yaml"), *args, env=env)
    assert expected in _slots_line(result)


@pytest.mark.slow
def test_plain_command_caps_and_pins_a_gan_em_job(tmp_path):
    """A real run on a 'machine' with 2 GPUs (CUDA_VISIBLE_DEVICES=0,1; torch finds no CUDA, so the
    job trains on the CPU): Snakemake is given gpu=2 and the job starts pinned to one device."""
    import yaml

    config = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    config.update(device="auto", gpus_per_job=1)
    config["methods"]["ganem"] = {"em_iterations": 1, "mstep_batches": 2, "q_steps": 2}
    config["table1"]["mnist_unsup"]["methods"] = {"ganem": [10]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    target = "results/runs/ganem/mnist5k/unsup/K10/seed0/metrics.json"
    result = _snakemake(tmp_path, target, "--configfile", str(tmp_path / "c.yaml"), "--cores", "2",
                        env={"CUDA_VISIBLE_DEVICES": "0,1", "OMP_NUM_THREADS": "1"})
    assert "gpu=2: 2 visible GPU(s)" in _slots_line(result)
    provided = next(line for line in result.stderr.splitlines() if "Provided resources" in line)
    assert re.search(r'gpu=(Resource\("gpu", )?2\b', provided), provided  # Snakemake's scheduler cap
    log = (tmp_path / "logs/runs/ganem/mnist5k/unsup/K10/seed0.log").read_text()
    assert "gpu_pin: CUDA_VISIBLE_DEVICES=0 (one of 2 devices, at most 1 job(s) each)" in log
