"""Names, splits, balanced_subset, mnist5k (real, offline) and fetch's manifest and failures."""

import gzip

import numpy as np
import pytest
import torch

from ganem import data
from ganem.data import fetching, mnist


def test_names_and_splits():
    assert data.DATASETS == ("mnist", "mnist5k", "fashion_mnist", "svhn", "celeba", "toy")
    assert len(data.CELEBA_ATTRIBUTES) == 40 and data.CELEBA_ATTRIBUTES[20] == "Male"
    for name in ("mnist", "mnist5k", "fashion_mnist", "svhn", "celeba-Eyeglasses", "celeba-Young"):
        data.check_name(name)
    assert data.splits("mnist") == ("train", "val", "test", "train60k", "all")
    assert data.splits("mnist5k") == ("all", "train", "test")
    with pytest.raises(data.DataError, match=r"valid: mnist, mnist5k.*celeba-<Attribute>"):
        data.check_name("cifar10")
    with pytest.raises(data.DataError, match=r"did you mean celeba-Eyeglasses"):
        data.check_name("celeba-Eyeglass")
    with pytest.raises(data.DataError, match=r"celeba-<Attribute>.*Wearing_Hat"):
        data.splits("celeba")
    with pytest.raises(data.DataError, match=r"unknown split 'validation'; valid: train, val"):
        data.load("mnist", "validation", "/nonexistent")


def test_toy_mixtures_are_fixed_and_named():
    for shape in ("moons", "circles", "moons_apart"):
        a = data.load(f"toy-{shape}", "all", None)
        b = data.load(f"toy-{shape}", "all", None)
        assert a.x.shape == (1000, 2) and a.n_classes == 2 and (a.y == b.y).all()
        assert (a.x == b.x).all() and sorted(set(a.y.tolist())) == [0, 1]
    moons, apart = data.load("toy-moons", "all", None), data.load("toy-moons_apart", "all", None)
    # pulled apart: the two class means are further from each other than in the plain moons
    gap = lambda s: float((s.x[s.y == 0].mean(0) - s.x[s.y == 1].mean(0)).norm())
    assert gap(apart) > gap(moons) + 1.0
    with pytest.raises(data.DataError, match="valid: toy-moons, toy-circles, toy-moons_apart"):
        data.check_name("toy-spirals")
    assert data.fetch("toy-moons", None, download=False)["files"] == []


def test_balanced_subset_properties():
    y = np.repeat(np.arange(4), [10, 20, 30, 40])
    idx = data.balanced_subset(y, 10, seed=3)
    assert idx.dtype == np.int64 and np.all(np.diff(idx) > 0)
    assert np.bincount(y[idx]).tolist() == [3, 3, 2, 2]  # remainder 2 to the first classes
    assert np.array_equal(idx, data.balanced_subset(y, 10, seed=3))
    assert not np.array_equal(idx, data.balanced_subset(y, 10, seed=4))
    assert np.bincount(y[data.balanced_subset(y, 40, seed=0)]).tolist() == [10] * 4
    with pytest.raises(ValueError, match="class 0 has 10 examples"):
        data.balanced_subset(y, 44, seed=0)
    with pytest.raises(ValueError, match="outside 0..100"):
        data.balanced_subset(y, 101, seed=0)


def test_mnist5k_real_offline_digits():
    s = data.load("mnist5k", "all", data_dir=None)
    assert s.x.shape == (5000, 1, 28, 28) and s.x.dtype == torch.float32
    assert np.bincount(s.y).tolist() == [500] * 10
    assert float(s.x.min()) == 0.0 and float(s.x.max()) == 1.0
    assert (s.n_classes, s.value_range) == (10, (0.0, 1.0))
    train, test = data.load("mnist5k", "train", None), data.load("mnist5k", "test", None)
    assert (
        np.bincount(train.y).tolist() == [400] * 10 and np.bincount(test.y).tolist() == [100] * 10
    )
    # train = the first 400 rows of each class: class 0 occupies rows 0..499 of the file
    assert torch.equal(train.x[:400], s.x[:400]) and torch.equal(test.x[:100], s.x[400:500])
    assert data.fetch("mnist5k", None, download=False)["files"][0]["md5"] == (
        "1edea4bd327f562974bd5a5321bbb524"
    )


def test_fetch_manifest_records_every_file(tmp_path, write_idx_dataset):
    write_idx_dataset(tmp_path / "MNIST/raw", gz=True)
    m = data.fetch("mnist", tmp_path, download=False)
    assert (m["dataset"], m["downloaded"], m["data_dir"]) == ("mnist", False, str(tmp_path))
    assert len(m["files"]) == 4
    for f in m["files"]:
        assert set(f) == {"path", "md5", "bytes", "content_md5"} and f["path"].endswith(".gz")


def test_fetch_refuses_corrupt_file_without_downloading(tmp_path, write_idx_dataset, monkeypatch):
    write_idx_dataset(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(path.read_bytes()))
    content[-1] = (content[-1] + 1) % 10
    path.write_bytes(gzip.compress(bytes(content)))
    monkeypatch.setattr(mnist, "download", lambda *a: pytest.fail("must not download"))
    with pytest.raises(data.DataError, match="checksum mismatch") as err:
        data.fetch("mnist", tmp_path, download=True)
    assert str(path) in str(err.value)


def test_fetch_downloads_missing_files(tmp_path, write_idx_dataset, monkeypatch):
    def fake_torchvision(ds, data_dir):  # writes what torchvision would, where it would
        write_idx_dataset(data_dir / "MNIST/raw", gz=False)

    monkeypatch.setattr(mnist, "download", fake_torchvision)
    with pytest.raises(data.DataError, match="not found"):
        data.fetch("mnist", tmp_path, download=False)
    m = data.fetch("mnist", tmp_path, download=True)
    assert m["downloaded"] is True and len(m["files"]) == 4
    assert len(data.load("mnist", "all", tmp_path).y) == 17


def test_failed_download_becomes_data_error(tmp_path, monkeypatch):
    def offline(ds, data_dir):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(mnist, "download", offline)
    with pytest.raises(data.DataError) as err:
        data.fetch("mnist", tmp_path, download=True)
    msg = str(err.value)
    assert "Error downloading" in msg and "internet" in msg and str(tmp_path) in msg
    assert isinstance(err.value.__cause__, RuntimeError)


def test_celeba_download_error_names_gdown(tmp_path, monkeypatch):
    def no_gdown(data_dir):
        raise RuntimeError("To download files from GDrive, 'gdown' is required.")

    monkeypatch.setattr(fetching.celeba, "download", no_gdown)
    with pytest.raises(data.DataError, match=r"gdown.*mmlab.ie.cuhk.edu.hk"):
        data.fetch("celeba-Wearing_Hat", tmp_path, download=True)
