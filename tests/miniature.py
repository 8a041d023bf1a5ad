"""The paper's DAG in miniature: config/config.yaml with budgets of seconds, on data generated here in
the real on-disk formats (MNIST IDX, SVHN .mat, CelebA img_align_celeba/ + list_attr_celeba.txt).

The config is *generated* from config/config.yaml, never copied, so every table, column, K, label
count, dataset, method (and named method variant) of the paper run is in it: only budgets (method
iterations, seeds, t-SNE points, the CelebA attribute list and cap) and data sizes shrink.

Generated files cannot match the real md5s, so their md5s are registered with the real check
through a ``sitecustomize.py`` that every Python process of the DAG (Snakemake and its jobs)
imports at start-up: the same table ``tests/conftest.py``'s ``register_md5`` patches in-process.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
import yaml

REPO = Path(__file__).resolve().parent.parent
PAPER_CONFIG = REPO / "config" / "config.yaml"

# Budgets of seconds per run, by *base* method: a named variant (`methods: {x: {method: ganem}}`)
# is shrunk with its base's keys. A method without an entry here fails `shrink`, so a new method
# cannot escape the miniature.
BUDGETS: dict[str, dict[str, Any]] = {
    "kmeans": {"n_init": 1, "max_iter": 5},
    "gmm": {"n_init": 1, "max_iter": 2},
    # batches of 4: one 64x64 CelebA D step (Table 6 nets, 11 M parameters) costs ~0.5 s per image on a CPU
    "ganem": {"em_iterations": 1, "mstep_batches": 1, "q_steps": 1, "batch_size": 4, "e_batch_size": 4,
              "semi_max_steps": 1, "semi_batch_size": 4, "monitor_fakes": 4, "mechanism_samples": 4},
    "ganmm": {"iterations": 1, "pretrain_iterations": 1, "dim": 8, "log_every": 1, "checkpoint_every": 1},
}
# Fig. 3 draws Wearing_Hat and Eyeglasses; the two make Tables 2-3 average over several attributes
# (a third cost ~3 CelebA runs, the miniature's most expensive, and proved nothing more).
CELEBA_ATTRIBUTES = ["Wearing_Hat", "Eyeglasses"]
CELEBA_PER_CLASS = 50  # semi_100 draws 100 class-balanced labels: 50 per class
MNIST_TRAIN, MNIST_TEST = 1000, 200  # `train` is the training file less the last 10,000 (`val`)
SVHN_TRAIN, SVHN_TEST = 1000, 200  # 1,000 labels of svhn_1000 need 100 per class
CELEBA_IMAGES = 240
TSNE_POINTS = 100


def base_method(name: str, values: dict[str, Any] | None) -> str:
    return (values or {}).get("method", name)


def shrink_methods(section: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, values in section.items():
        base = base_method(name, values)
        if base not in BUDGETS:
            raise KeyError(f"tests/miniature.py has no budget for method {base!r} (methods.{name}); add one to BUDGETS")
        out[name] = {**(values or {}), **BUDGETS[base]}
    return out


def shrink(config: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """The miniature of a paper config: same shape, budgets of seconds, generated data in ``data_dir``."""
    mini = copy.deepcopy(config)
    mini.update(data_dir=str(data_dir), download=False, device="cpu", threads_per_job=1, gpus_per_job=0,
                seeds=mini["seeds"][:1])
    mini["methods"] = shrink_methods({**{m: {} for m in BUDGETS}, **mini.get("methods", {})})
    for settings in mini["datasets"].values():
        if settings.get("methods"):
            settings["methods"] = shrink_methods(settings["methods"])
    if "celeba" in mini:
        mini["celeba"]["attributes"] = CELEBA_ATTRIBUTES
        for name, settings in mini["datasets"].items():
            if name.split("-")[0] == "celeba":
                settings.setdefault("options", {})["max_per_class"] = CELEBA_PER_CLASS
    if "toy2d" in mini:
        mini["toy2d"]["seeds"] = mini["toy2d"]["seeds"][:1]
    if "fig4" in mini:
        mini["fig4"]["max_points"] = TSNE_POINTS
    return mini


# ------------------------------------------------------------------------------------------------ data
def _idx(array: np.ndarray) -> bytes:
    return bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes() + array.astype(np.uint8).tobytes()


def _digits(rng: np.random.Generator, labels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Images whose brightness pattern depends on the class (so clustering has something to find)."""
    base = rng.integers(0, 80, (len(labels), *shape))
    rows = np.arange(shape[0])[None, :] % 10 == labels[:, None]
    base[rows] += 150
    return base.clip(0, 255).astype(np.uint8)


def write_mnist(folder: Path, rng: np.random.Generator) -> dict[str, str]:
    from ganem.data.mnist import VAL_SIZE

    folder.mkdir(parents=True, exist_ok=True)
    md5 = {}
    for prefix, n in (("train", MNIST_TRAIN + VAL_SIZE), ("t10k", MNIST_TEST)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        for stem, array in ((f"{prefix}-images-idx3-ubyte", _digits(rng, labels, (28, 28))),
                            (f"{prefix}-labels-idx1-ubyte", labels)):
            content = _idx(array)
            (folder / stem).write_bytes(content)
            md5[stem] = hashlib.md5(content).hexdigest()
    return md5


def write_svhn(folder: Path, rng: np.random.Generator) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    md5 = {}
    for split, n in (("train", SVHN_TRAIN), ("test", SVHN_TEST)):
        digits = np.arange(n) % 10
        x = _digits(rng, digits, (32, 32, 3)).transpose(1, 2, 3, 0)  # (32, 32, 3, N) as in the .mat files
        path = folder / f"{split}_32x32.mat"
        scipy.io.savemat(path, {"X": x, "y": np.where(digits == 0, 10, digits).astype(np.uint8)[:, None]})
        md5[path.name] = hashlib.md5(path.read_bytes()).hexdigest()
    return md5


def write_celeba(folder: Path, rng: np.random.Generator) -> dict[str, str]:
    from PIL import Image

    from ganem.data import CELEBA_ATTRIBUTES as ALL

    images = folder / "img_align_celeba"
    images.mkdir(parents=True, exist_ok=True)
    attrs = np.where(rng.random((CELEBA_IMAGES, len(ALL))) < 0.5, 1, -1)
    for attr in CELEBA_ATTRIBUTES:  # exactly half on each side: >= CELEBA_PER_CLASS images per class
        attrs[:, ALL.index(attr)] = np.where(rng.permutation(CELEBA_IMAGES) < CELEBA_IMAGES // 2, 1, -1)
    names = [f"{i + 1:06d}.jpg" for i in range(CELEBA_IMAGES)]
    for name, row in zip(names, attrs, strict=True):
        face = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8) // 2
        if row[ALL.index("Wearing_Hat")] > 0:
            face[:60, :, 0] += 100
        Image.fromarray(face).save(images / name, quality=80)
    lines = [str(CELEBA_IMAGES), " ".join(ALL) + " "]
    lines += [f"{n} " + " ".join(f"{v:2d}" for v in row) for n, row in zip(names, attrs, strict=True)]
    content = ("\n".join(lines) + "\n").encode()
    (folder / "list_attr_celeba.txt").write_bytes(content)
    return {"list_attr_celeba.txt": hashlib.md5(content).hexdigest()}


def write_data(data_dir: Path) -> dict[str, dict[str, str]]:
    """MNIST, SVHN and CelebA in their real layouts under ``data_dir``; returns their md5s."""
    rng = np.random.default_rng(0)
    return {"mnist": write_mnist(data_dir / "mnist", rng), "svhn": write_svhn(data_dir / "svhn", rng),
            "celeba": write_celeba(data_dir / "celeba", rng)}


def write_md5_hook(folder: Path, md5: dict[str, dict[str, str]]) -> Path:
    """A sitecustomize.py that registers the generated files' md5s in every process started with
    ``folder`` first on PYTHONPATH."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "generated_md5.json").write_text(json.dumps(md5))
    (folder / "sitecustomize.py").write_text(
        "import json, pathlib\n"
        "from ganem.data import checksums\n"
        f"for _d, _files in json.loads(pathlib.Path({str(folder / 'generated_md5.json')!r}).read_text()).items():\n"
        "    checksums.EXPECTED_MD5[_d].update(_files)\n")
    return folder


def build(root: Path) -> tuple[Path, Path]:
    """Data, md5 hook and miniature config under ``root``; returns (config path, hook folder)."""
    md5 = write_data(root / "data")
    hook = write_md5_hook(root / "hook", md5)
    config = shrink(yaml.safe_load(PAPER_CONFIG.read_text()), root / "data")
    path = root / "miniature.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path, hook
