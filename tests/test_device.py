"""Device choice: `cuda` without a usable GPU is one `error:` line (exit 2) that says how to force
the CPU, before any data is read; `auto` logs what it chose and why; `cuda` is the first visible GPU.
A CPU run records the CPU model and ATen's kernel set."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganem.methods import ConfigError
from ganem.provenance import cpu_model, device_description, resolve_device

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a usable GPU")
def test_cuda_without_a_gpu_is_one_error_line(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "ganem", "run", "--method", "kmeans", "--dataset", "toy-moons", "--k", "2",
         "--seed", "0", "--out", str(out), "--config", str(REPO / "config" / "quick.yaml"), "--set", "device=cuda"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if not line[:4].isdigit()]  # drop INFO log lines
    assert len(errors) == 1 and errors[0].startswith("error: device: cuda was asked for"), result.stderr
    assert "device=cpu" in errors[0] and "Traceback" not in result.stderr
    assert not out.exists()


def test_cuda_without_a_gpu_raises_config_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match=r"--config device=cpu"):
        resolve_device("cuda")


def test_auto_logs_the_device_and_why(monkeypatch, caplog):
    def too_old() -> bool:
        import warnings

        warnings.warn("CUDA initialization: The NVIDIA driver on your system is too old")
        return False

    monkeypatch.setattr(torch.cuda, "is_available", too_old)
    with caplog.at_level(logging.INFO, logger="ganem.device"):
        assert resolve_device("auto") == torch.device("cpu")
    assert "auto -> cpu" in caplog.text and "driver on your system is too old" in caplog.text


def test_cuda_is_the_first_visible_gpu(monkeypatch):
    # a job pinned by CUDA_VISIBLE_DEVICES=3 sees that GPU as its only one: torch's "cuda", not "cuda:0" of the host
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch, "zeros", lambda *a, **k: None)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=None: "Fake GPU")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert resolve_device("cuda") == torch.device("cuda")


def test_a_cpu_run_records_the_cpu_model_and_kernel_set(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9654 96-Core Processor\n"
                       "flags\t\t: fpu avx2\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 9654 96-Core Processor\n")
    assert cpu_model(cpuinfo) == "AMD EPYC 9654 96-Core Processor"
    assert cpu_model(tmp_path / "absent") is None
    info = device_description(torch.device("cpu"))
    assert info["name"] == (cpu_model() or info["name"])
    # the kernel set in use, not the CPU's best: ATEN_CPU_CAPABILITY=default is recorded as such
    code = "import torch; from ganem.provenance import device_description as d; print(d(torch.device('cpu')))"
    forced = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "ATEN_CPU_CAPABILITY": "default"}, cwd=REPO)
    assert "'cpu_capability': 'DEFAULT'" in forced.stdout, forced.stderr
