"""Shared data fixtures: tiny files in the real on-disk formats, and a way to trust their md5s."""

import gzip
import hashlib

import numpy as np
import pytest

from ganem.data import checksums


@pytest.fixture
def register_md5(monkeypatch):
    """register_md5(dataset, key, content): make the checksum table accept generated content.

    Generated files can never match the real md5s, so tests put their own into the (otherwise
    untouched) table for the duration of one test and exercise the real check.
    """

    def register(dataset: str, key: str, content: bytes) -> None:
        monkeypatch.setitem(checksums.EXPECTED_MD5[dataset], key, hashlib.md5(content).hexdigest())

    return register


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: magic (0, 0, 0x08, ndim), big-endian dims, payload."""
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def write_idx_dataset(register_md5):
    """write_idx_dataset(folder, dataset="mnist", n_train=12, n_test=5, gz=True) -> arrays.

    Writes the four IDX files (the real names) with random images and labels 0..9, registers
    their content md5s (unless register=False), and returns {"train": (images, labels), "test":
    (images, labels)}.
    """

    def write(folder, dataset="mnist", n_train=12, n_test=5, gz=True, seed=0, register=True):
        rng = np.random.default_rng(seed)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for part, n, prefix in (("train", n_train, "train"), ("test", n_test, "t10k")):
            images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
            labels = (np.arange(n) % 10).astype(np.uint8)
            arrays[part] = (images, labels)
            for stem, array in (
                (f"{prefix}-images-idx3-ubyte", images),
                (f"{prefix}-labels-idx1-ubyte", labels),
            ):
                content = idx_bytes(array)
                if register:
                    register_md5(dataset, stem, content)
                if gz:
                    (folder / f"{stem}.gz").write_bytes(gzip.compress(content))
                else:
                    (folder / stem).write_bytes(content)
        return arrays

    return write


# --device cuda runs the tests that take the `device` fixture on a GPU (benchmarks/gpu_check.sh:
# `pytest -m device --device cuda`); by default they run on the CPU like every other test.
def pytest_addoption(parser):
    parser.addoption("--device", default="cpu", help="device of the tests that take one (cpu, cuda)")


def pytest_configure(config):
    config.addinivalue_line("markers", "device: the test takes the `device` fixture (run on cuda by gpu_check.sh)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "device" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.device)


@pytest.fixture
def device(request):
    import torch

    name = request.config.getoption("--device")
    if name.startswith("cuda") and not torch.cuda.is_available():
        pytest.fail("--device cuda: torch sees no GPU")
    return torch.device(name)


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test (the CI machine has 2 cores; runs are timed and seeded per thread)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_table1(tmp_path_factory):
    """`snakemake results/table1.csv` on tests/configs/tiny.yaml, from nothing in a temporary folder, run
    once per session: its dry run first, then the build (test_workflow checks both; test_slurm compares
    its SLURM-built table with this local one).  Returns (workdir, dry run, build) CompletedProcesses."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    workdir = tmp_path_factory.mktemp("tiny_table1")
    command = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-d", str(workdir),
               "results/table1.csv", "--configfile", str(repo / "tests" / "configs" / "tiny.yaml")]
    dry = subprocess.run([*command, "-n"], capture_output=True, text=True, timeout=900)
    done = subprocess.run([*command, "--cores", "2"], capture_output=True, text=True, timeout=1800)
    return workdir, dry, done
