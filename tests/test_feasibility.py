"""Feasibility of a config against the datasets' known split sizes, before any job runs."""
from __future__ import annotations

import copy
import threading
import time

import numpy as np
import pytest
import yaml

from ganem import data, feasibility
from ganem.config import DEFAULT_CONFIG, validate
from ganem.data.fetching import data_lock
from ganem.methods import ConfigError

PAPER = yaml.safe_load(DEFAULT_CONFIG.read_text())


def test_balanced_counts_and_the_largest_balanced_draw_by_hand():
    assert data.balanced_counts(23, 4).tolist() == [6, 6, 6, 5]
    assert data.max_balanced([3, 5, 2, 4]) == 2 * 4 + 2  # two of each, one more from classes 0 and 1
    assert data.max_balanced([7, 7]) == 14
    assert data.max_balanced(data.class_counts("mnist", "train")) == 45065  # 10 x 4506 (fives) + classes 0-4


def test_registry_knows_the_split_sizes():
    assert sum(data.class_counts("mnist", "train")) == 50_000
    assert sum(data.class_counts("mnist", "val")) == 10_000
    assert sum(data.class_counts("mnist", "all")) == 70_000
    assert sum(data.class_counts("svhn", "train")) == 73_257 and sum(data.class_counts("svhn", "test")) == 26_032
    assert data.class_counts("mnist5k", "train") == (400,) * 10
    assert data.class_counts("fashion_mnist", "train") == (6000,) * 10
    assert data.class_counts("toy-moons", "all") == (500, 500)
    assert data.class_counts("svhn", "extra") is None
    assert data.class_counts("celeba-Male", "all", "/nonexistent") is None  # known once its attribute file is there


def test_celeba_class_size_from_the_attribute_file(tmp_path, register_md5):
    from test_data_celeba import table, write_celeba

    write_celeba(tmp_path, table(), register_md5)
    assert data.class_counts("celeba-Eyeglasses", "all", tmp_path, celeba_max_per_class=10) == (3, 3)
    assert data.class_counts("celeba-Eyeglasses", "all", tmp_path, celeba_max_per_class=2) == (2, 2)


def test_paper_config_is_feasible():
    feasibility.check(PAPER)


def test_balanced_50000_labels_of_mnist_train_are_refused():
    config = copy.deepcopy(PAPER)
    config["fig4"]["supervised"]["n_labels"] = 50000
    with pytest.raises(ConfigError, match=r"^fig4\.supervised\.n_labels=50000: .* need 5000 images of class 0, "
                                          r"but mnist split 'train' has 4932 .* use at most 45065 or n_labels: all"):
        feasibility.check(config)


@pytest.mark.parametrize("change, message", [
    (lambda c: c["table1"]["svhn_1000"].update(n_labels=50000),
     r"^table1\.svhn_1000\.n_labels=50000: .* class 0, but svhn split 'train' has 4948 .* at most 46599"),
    (lambda c: c["datasets"]["mnist"].update(n_samples=49000),
     r"^datasets\.mnist\.n_samples=49000: .* at most 45065"),
    (lambda c: c["fig4"].update(k=5), r"^fig4: K=5 is fewer than the 10 classes of mnist"),
    (lambda c: c["toy2d"].update(datasets=["toy-moons"]) or c["table1"]["mnist_unsup"]["methods"].update(kmeans=[8]),
     r"^table1\.mnist_unsup: K=8 is fewer than the 10 classes"),
])
def test_requests_the_data_cannot_meet(change, message):
    config = copy.deepcopy(PAPER)
    change(config)
    with pytest.raises(ConfigError, match=message):
        feasibility.check(config)


def test_misspelt_dataset_in_a_semi_supervised_column_is_unknown():
    config = copy.deepcopy(PAPER)
    config["table1"]["svhn_1000"]["dataset"] = "svnh"
    with pytest.raises(ConfigError, match=r"unknown dataset 'svnh'"):
        validate(config)


def test_fetch_waits_for_another_fetch_of_the_same_family(tmp_path, write_idx_dataset):
    write_idx_dataset(tmp_path)
    finished = []
    with data_lock(tmp_path, "mnist"):  # another process fetching into the same data_dir
        worker = threading.Thread(target=lambda: finished.append(data.fetch("mnist", tmp_path, download=False)))
        worker.start()
        time.sleep(1.0)
        assert not finished  # blocked on the lock
    worker.join(timeout=60)
    assert finished and len(finished[0]["files"]) == 4
