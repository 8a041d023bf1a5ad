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


def git(root, *args: str) -> str:
    """git in `root` with a throwaway identity (the test machine may have none)."""
    import subprocess

    return subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args], cwd=root,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def tiny_table1(tmp_path_factory):
    """A fresh clone that built Table 1 on tests/configs/tiny.yaml, once per session.

    The clone is the working tree's tracked files committed in a new repository (what `git clone`
    gives). In it, first the user's own `snakemake -n results/table1.csv` (paper config, nothing
    built), then `snakemake results/table1.csv --configfile tests/configs/tiny.yaml --cores 2`.
    test_workflow checks both; test_slurm compares its SLURM-built table with this one.
    Returns (clone root, paper dry run, tiny build) with CompletedProcesses."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    root = tmp_path_factory.mktemp("clone")
    for name in filter(None, git(repo, "ls-files", "-z").split("\0")):
        if (repo / name).is_file():  # a file deleted in the working tree is not part of the clone
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / name, root / name)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "clone")
    smk = [sys.executable, "-m", "snakemake", "results/table1.csv"]
    fresh = subprocess.run([*smk, "-n"], cwd=root, capture_output=True, text=True, timeout=900)
    done = subprocess.run([*smk, "--configfile", "tests/configs/tiny.yaml", "--cores", "2"], cwd=root,
                          capture_output=True, text=True, timeout=1800)
    return root, fresh, done
