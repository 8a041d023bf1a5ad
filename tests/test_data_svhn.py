"""SVHN from torchvision's .mat files: (H, W, C, N) -> (N, C, H, W), label 10 -> 0, [-1, 1]."""

import numpy as np
import pytest
import scipy.io
import torch

from ganem import data


def write_mat(folder, split, labels, register_md5):
    n = len(labels)
    x = np.arange(32 * 32 * 3 * n, dtype=np.int64).reshape(32, 32, 3, n) % 256
    path = folder / f"{split}_32x32.mat"
    folder.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"X": x.astype(np.uint8), "y": np.array(labels, np.uint8)[:, None]})
    if register_md5:
        register_md5("svhn", path.name, path.read_bytes())
    return x.astype(np.uint8)


@pytest.mark.parametrize("subdir", ["", "svhn"])
def test_svhn_layout_labels_and_range(tmp_path, register_md5, subdir):
    x = write_mat(tmp_path / subdir, "test", [10, 1, 9, 10, 5], register_md5)
    s = data.load("svhn", "test", tmp_path)
    assert s.x.shape == (5, 3, 32, 32) and s.x.dtype == torch.float32
    assert s.y.tolist() == [0, 1, 9, 0, 5] and s.y.dtype == np.int64
    assert (s.n_classes, s.value_range) == (10, (-1.0, 1.0))
    assert float(s.x.min()) == -1.0 and float(s.x.max()) == 1.0
    # pixel (h=3, w=7, channel 2) of image 4
    assert float(s.x[4, 2, 3, 7]) == pytest.approx(x[3, 7, 2, 4] / 127.5 - 1)


def test_svhn_checksum(tmp_path, register_md5):
    write_mat(tmp_path, "train", [1, 2], register_md5)
    assert len(data.load("svhn", "train", tmp_path).y) == 2
    path = tmp_path / "train_32x32.mat"
    path.write_bytes(path.read_bytes()[:-64])
    with pytest.raises(data.DataError, match="checksum mismatch") as err:
        data.load("svhn", "train", tmp_path)
    assert str(path) in str(err.value) and "expected md5" in str(err.value)


def test_svhn_real_checksum_refuses_generated_file(tmp_path):
    write_mat(tmp_path, "train", [1, 2], None)
    with pytest.raises(data.DataError, match="e26dedcc434d2e4c54c9b2d4a06d8373"):
        data.load("svhn", "train", tmp_path)


def test_svhn_bad_labels_refused(tmp_path, register_md5):
    write_mat(tmp_path, "test", [0, 3], register_md5)  # 0 never occurs in SVHN's .mat files
    with pytest.raises(data.DataError, match="outside 1..10"):
        data.load("svhn", "test", tmp_path)


def test_svhn_missing_extra_names_the_url(tmp_path):
    assert data.splits("svhn") == ("train", "test", "extra")
    with pytest.raises(data.DataError) as err:
        data.load("svhn", "extra", tmp_path)
    msg = str(err.value)
    assert "extra_32x32.mat" in msg and str(tmp_path / "svhn") in msg
    assert "http://ufldl.stanford.edu/housenumbers/extra_32x32.mat" in msg
