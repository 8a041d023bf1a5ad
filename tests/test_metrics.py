"""Scoring rules against hand-worked cases (Eq. 20: Hungarian for K == classes, majority otherwise)."""
import numpy as np
import pytest

from ganem.metrics import classification_error, clustering_error, contingency, score, scoring_rule


def test_perfect_clustering_scores_zero():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert clustering_error(y, y) == 0.0
    assert score(y, y, 3, 3)["nmi"] == pytest.approx(1.0)
    assert score(y, y, 3, 3)["ari"] == pytest.approx(1.0)


def test_relabelling_clusters_changes_nothing():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 200)
    y_pred = rng.integers(0, 4, 200)
    perm = np.array([2, 0, 3, 1])
    assert clustering_error(y_true, y_pred) == clustering_error(y_true, perm[y_pred])
    perm20 = rng.permutation(6)
    y6 = rng.integers(0, 6, 200)
    assert clustering_error(y_true, y6, 6, 4) == clustering_error(y_true, perm20[y6], 6, 4)


def test_hungarian_by_hand():
    # Contingency (rows = clusters, cols = classes):
    #   cluster 0: class0 x3, class1 x1
    #   cluster 1: class0 x2, class1 x0
    #   cluster 2: class2 x4
    # Majority would map clusters 0 and 1 both to class 0 (9 right); one-to-one must send one
    # of them to class 1: best is 0->0 (3) + 1->1 (0) + 2->2 (4) = 7 or 0->1 (1) + 1->0 (2) + 2->2 (4) = 7.
    y_pred = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_true = np.array([0, 0, 0, 1, 0, 0, 2, 2, 2, 2])
    assert contingency(y_true, y_pred, 3, 3).tolist() == [[3, 1, 0], [2, 0, 0], [0, 0, 4]]
    assert clustering_error(y_true, y_pred) == pytest.approx(30.0)


def test_majority_by_hand_when_more_clusters_than_classes():
    # 4 clusters, 2 classes. Cluster majorities: c0 -> class0 (2 of 3), c1 -> class1 (2 of 2),
    # c2 -> class0 (1 of 1), c3 -> class1 (3 of 4). Correct = 2 + 2 + 1 + 3 = 8 of 10 -> 20 %.
    y_pred = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    y_true = np.array([0, 0, 1, 1, 1, 0, 1, 1, 1, 0])
    assert scoring_rule(4, 2) == "majority"
    assert clustering_error(y_true, y_pred, 4, 2) == pytest.approx(20.0)


def test_k_equal_classes_with_an_empty_cluster_stays_one_to_one():
    # K=3 asked, cluster 2 never used: Hungarian still applies (class 2 matched to the empty cluster).
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 1])
    assert clustering_error(y_true, y_pred, 3, 3) == pytest.approx(100 * 2 / 6)


def test_fewer_clusters_than_classes_is_refused():
    with pytest.raises(ValueError, match="clusters for"):
        clustering_error(np.array([0, 1, 2]), np.array([0, 1, 1]), 2, 3)


def test_classification_error_has_no_matching():
    y = np.array([0, 1, 2, 3])
    assert classification_error(y, np.array([1, 0, 3, 2])) == 100.0
    assert clustering_error(y, np.array([1, 0, 3, 2])) == 0.0
    s = score(y, np.array([0, 1, 2, 2]), 4, 4, semi_supervised=True)
    assert s["scoring_rule"] == "classification" and s["error"] == 25.0


@pytest.mark.parametrize("bad", [([0, 1], [0]), ([], []), ([0.5, 1], [0, 1]), ([-1, 0], [0, 1])])
def test_bad_inputs_raise(bad):
    with pytest.raises(ValueError):
        clustering_error(np.array(bad[0]), np.array(bad[1]))
