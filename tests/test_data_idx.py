"""MNIST and Fashion-MNIST from IDX files: layouts, splits, checksums, corrupt and missing files."""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from ganem import data
from ganem.data import checksums, mnist

REAL_MNIST = Path("/work/shared/data/mnist")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.parametrize("subdir", ["", "mnist", "MNIST/raw"])
@pytest.mark.parametrize("gz", [True, False])
def test_mnist_loads_from_every_layout_gz_or_raw(tmp_path, write_idx_dataset, subdir, gz):
    arrays = write_idx_dataset(tmp_path / subdir if subdir else tmp_path, gz=gz)
    s = data.load("mnist", "test", tmp_path)
    images, labels = arrays["test"]
    assert s.x.shape == (5, 1, 28, 28) and s.x.dtype == torch.float32
    assert torch.equal(s.x[:, 0], torch.from_numpy(images).float() / 255)
    assert s.y.dtype == np.int64 and np.array_equal(s.y, labels)
    assert (s.n_classes, s.name, s.split, s.value_range) == (10, "mnist", "test", (0.0, 1.0))


def test_mnist_splits_cut_the_training_file(tmp_path, write_idx_dataset, monkeypatch):
    monkeypatch.setattr(mnist, "VAL_SIZE", 4)  # real files: 10,000 of 60,000
    arrays = write_idx_dataset(tmp_path, n_train=12, n_test=5)
    train_x, train_y = arrays["train"]
    got = {split: data.load("mnist", split, tmp_path) for split in data.splits("mnist")}
    assert np.array_equal(got["train"].y, train_y[:8])
    assert np.array_equal(got["val"].y, train_y[8:])
    assert torch.equal(got["val"].x[:, 0], torch.from_numpy(train_x[8:]).float() / 255)
    assert np.array_equal(got["train60k"].y, train_y)
    assert np.array_equal(got["all"].y, np.concatenate([train_y, arrays["test"][1]]))
    assert len(got["all"].x) == 17


def test_fashion_mnist_torchvision_layout(tmp_path, write_idx_dataset):
    write_idx_dataset(tmp_path / "FashionMNIST/raw", dataset="fashion_mnist", gz=False)
    assert data.splits("fashion_mnist") == ("train", "test", "all")
    assert len(data.load("fashion_mnist", "train", tmp_path).y) == 12
    assert len(data.load("fashion_mnist", "all", tmp_path).y) == 17


def test_good_checksum_accepted_and_corrupt_file_refused(tmp_path, write_idx_dataset):
    write_idx_dataset(tmp_path)
    data.load("mnist", "test", tmp_path)  # registered md5s match
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    content = bytearray(gzip.decompress(path.read_bytes()))
    content[100] ^= 0xFF  # same size, one pixel changed
    path.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(data.DataError) as err:
        data.load("mnist", "test", tmp_path)
    msg = str(err.value)
    assert str(path) in msg and "checksum mismatch" in msg
    assert checksums.EXPECTED_MD5["mnist"]["t10k-images-idx3-ubyte"] in msg
    assert hashlib.md5(bytes(content)).hexdigest() in msg


def test_real_checksums_refuse_generated_files(tmp_path, write_idx_dataset):
    write_idx_dataset(tmp_path, register=False)
    with pytest.raises(data.DataError, match="2646ac647ad5339dbf082846283269ea"):
        data.load("mnist", "test", tmp_path)


def test_truncated_idx_refused_with_sizes(tmp_path, write_idx_dataset):
    write_idx_dataset(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(data.DataError, match=r"truncated") as err:
        data.load("mnist", "train60k", tmp_path)
    assert str(path) in str(err.value) and "9,424 bytes" in str(err.value)  # 16 + 12*784


def test_wrong_magic_and_broken_gzip_refused(tmp_path, write_idx_dataset):
    write_idx_dataset(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    labels.write_bytes(images.read_bytes())  # an image file where labels belong
    with pytest.raises(data.DataError, match=r"magic number 2051, expected 2049"):
        data.load("mnist", "test", tmp_path)
    images.write_bytes(images.read_bytes()[:-20])
    with pytest.raises(data.DataError, match=r"not a valid gzip file"):
        data.load("mnist", "test", tmp_path)


def test_missing_files_error_names_files_folders_and_fix(tmp_path, write_idx_dataset):
    with pytest.raises(data.DataError) as err:
        data.load("mnist", "all", tmp_path)
    msg = str(err.value)
    for name in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert name in msg
    for folder in (tmp_path, tmp_path / "mnist", tmp_path / "MNIST/raw"):
        assert str(folder) in msg
    assert "snakemake --cores 1 data/manifests/mnist.json" in msg and "--data-dir" in msg

    write_idx_dataset(tmp_path / "mnist")
    (tmp_path / "mnist/t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataError, match=r"1 required file") as err:
        data.load("mnist", "test", tmp_path)
    assert str(tmp_path / "mnist/t10k-labels-idx1-ubyte") in str(err.value)
    assert len(data.load("mnist", "train60k", tmp_path).y) == 12  # train files are complete


def test_checksum_tables_match_torchvision():
    """Guards the hard-coded md5s against typos: SVHN and CelebA equal torchvision's tables;
    the IDX content md5s are checked against the real files by the tests below."""
    import torchvision.datasets as tvd

    svhn = {name: md5 for _, name, md5 in tvd.SVHN.split_list.values()}
    assert checksums.EXPECTED_MD5["svhn"] == svhn
    celeba = {name: md5 for _, md5, name in tvd.CelebA.file_list}
    assert all(celeba[k] == v for k, v in checksums.EXPECTED_MD5["celeba"].items())


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason="no real MNIST copy on this machine")
def test_real_mnist(tmp_path):
    train = data.load("mnist", "train", REAL_MNIST)
    assert train.x.shape == (50_000, 1, 28, 28)
    assert train.y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert abs(float(train.x.mean()) - 0.1307) < 0.001
    assert np.bincount(data.load("mnist", "test", REAL_MNIST).y).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    manifest = data.fetch("mnist", REAL_MNIST, download=False)
    gz_md5 = {Path(f["path"]).name: f["md5"] for f in manifest["files"]}
    assert gz_md5["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    # uncompressed copies verify by the same content md5
    raw = tmp_path / "MNIST/raw"
    raw.mkdir(parents=True)
    for f in REAL_MNIST.glob("t10k-*.gz"):
        (raw / f.stem).write_bytes(gzip.decompress(f.read_bytes()))
    assert len(data.load("mnist", "test", tmp_path).y) == 10_000


@pytest.mark.skipif(
    not DEBIAN_FASHION.is_dir(), reason="Debian dataset-fashion-mnist not installed"
)
def test_debian_fashion_mnist():
    """Debian recompressed the .gz files (their md5s differ from torchvision's); the content
    md5 still matches the official one."""
    s = data.load("fashion_mnist", "test", DEBIAN_FASHION)
    assert s.x.shape == (10_000, 1, 28, 28)
    assert np.bincount(s.y).tolist() == [1000] * 10
    assert len(data.fetch("fashion_mnist", DEBIAN_FASHION, download=False)["files"]) == 4
