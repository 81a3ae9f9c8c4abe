"""The exported trees (Forest): leaf-bitmask scoring equals scikit-learn and the node walk."""

import numpy as np
import pytest

from hsmatch.errors import ModelError
from hsmatch.learned_ranker import Forest


def _fit(X, y, **params):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=0, early_stopping=False, **params).fit(X, y)


def _skewed(n=4000, features=6, seed=1):
    """Data whose trees come out deep and lopsided: the signal sits in the tails."""
    rng = np.random.default_rng(seed)
    X = rng.standard_exponential((n, features)) ** 2
    X[:, 1] = np.round(X[:, 1])                       # few distinct values: ties galore
    X[:, 2] = rng.integers(0, 2, n)                   # a binary feature
    y = ((X[:, 0] > 3) ^ (X[:, 3] * X[:, 1] > 2) ^ (X[:, 2] == 1) & (X[:, 4] > 0.5)).astype(int)
    return X, y, rng


def _leaves_per_tree(forest):
    ends = np.append(forest.roots[1:], len(forest.feature))
    leaf = forest.left == np.arange(len(forest.left))
    return np.array([leaf[a:b].sum() for a, b in zip(forest.roots, ends, strict=True)])


@pytest.mark.parametrize("params, mask_type", [
    ({"max_iter": 40, "max_leaf_nodes": 15, "max_depth": None, "min_samples_leaf": 5}, np.uint16),
    ({"max_iter": 30, "max_leaf_nodes": 31, "max_depth": None, "min_samples_leaf": 3}, np.uint32),
    ({"max_iter": 20, "max_leaf_nodes": 60, "max_depth": None, "min_samples_leaf": 2}, np.uint64),
])
def test_deep_unbalanced_trees_equal_scikit_learn(params, mask_type):
    X, y, rng = _skewed()
    model = _fit(X, y, **params)
    forest = Forest.from_sklearn(model)
    assert forest.masks is not None and forest.masks[0].full.dtype == mask_type
    assert forest.depth > 6  # deeper than the ranker's trees, and lopsided
    Z = np.vstack([X[:500], rng.standard_exponential((500, X.shape[1])) ** 2])
    expected = model.decision_function(Z)
    np.testing.assert_allclose(forest.raw(Z), expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(forest.raw(Z), forest.walk(Z))


def test_features_equal_to_thresholds_go_left():
    """x <= threshold goes left: rows made of the trees' own thresholds (and their
    floating-point neighbours) score as scikit-learn scores them."""
    X, y, rng = _skewed(seed=2)
    model = _fit(X, y, max_iter=50, max_leaf_nodes=15, max_depth=8, min_samples_leaf=5)
    forest = Forest.from_sklearn(model)
    inner = forest.left != np.arange(len(forest.left))
    rows = []
    for _ in range(3):
        block = np.empty((400, X.shape[1]))
        for f in range(X.shape[1]):
            thresholds = forest.threshold[inner & (forest.feature == f)]
            block[:, f] = rng.choice(thresholds, 400) if len(thresholds) else rng.random(400)
        rows.append(block)
    exact = rows[0]
    Z = np.vstack([exact, np.nextafter(rows[1], np.inf), np.nextafter(rows[2], -np.inf)])
    np.testing.assert_allclose(forest.raw(Z), model.decision_function(Z), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(forest.raw(Z), forest.walk(Z))
    # At a threshold and just above it the rows part ways somewhere.
    assert not np.array_equal(forest.raw(exact), forest.raw(np.nextafter(exact, np.inf)))


def _chain(depth, feature=0):
    """One lopsided tree: node i tests x[feature] <= i and goes left to leaf value i, else
    right to the next test; the last right child is a leaf of value ``depth``. Plus a tree
    that is a single leaf."""
    feature_, threshold, left, right, value = [], [], [], [], []
    for i in range(depth):
        leaf = len(feature_) + 1  # the inner node is len(feature_)
        feature_ += [feature, 0]
        threshold += [float(i), 0.0]
        left += [leaf, leaf]
        right += [leaf + 1, leaf]
        value += [0.0, float(i)]
    last = len(feature_)
    feature_.append(0)
    threshold.append(0.0)
    left.append(last)
    right.append(last)
    value.append(float(depth))
    # A single-leaf tree after it.
    stump = len(feature_)
    feature_.append(0)
    threshold.append(0.0)
    left.append(stump)
    right.append(stump)
    value.append(0.25)
    return Forest(feature=np.array(feature_, dtype=np.int32), threshold=np.array(threshold),
                  left=np.array(left, dtype=np.int32), right=np.array(right, dtype=np.int32),
                  value=np.array(value), roots=np.array([0, stump], dtype=np.int32),
                  depth=depth, baseline=-1.0)


@pytest.mark.parametrize("depth", [3, 15, 40, 70])
def test_a_chain_tree_scores_its_exit_leaf(depth):
    forest = _chain(depth)
    assert (forest.masks is None) == (depth + 1 > 64)  # over 64 leaves: walked node by node
    x = np.array([-5.0, 0.0, 0.5, 1.0, 2.0, depth - 1.0, depth - 0.5, depth + 3.0])
    X = np.c_[x, np.zeros_like(x)]
    expected = np.minimum(np.maximum(np.ceil(x), 0), depth) + 0.25 - 1.0
    np.testing.assert_array_equal(forest.raw(X), expected)
    np.testing.assert_array_equal(forest.raw(X), forest.walk(X))


def test_saved_arrays_load_to_the_same_scores():
    X, y, rng = _skewed(seed=3)
    forest = Forest.from_sklearn(_fit(X, y, max_iter=30, max_leaf_nodes=15, max_depth=6))
    loaded = Forest.from_arrays(forest.arrays("scorer_"), "scorer_")
    Z = rng.standard_exponential((3000, X.shape[1]))  # more rows than one scoring chunk
    np.testing.assert_array_equal(loaded.raw(Z), forest.raw(Z))
    assert loaded.raw(Z[:0]).shape == (0,)
    with pytest.raises(ModelError, match="NaN"):
        loaded.raw(np.r_[Z[:3], np.full((1, X.shape[1]), np.inf)])


def test_early_exit_is_exact_for_each_pools_best_rows():
    from hsmatch.learned_ranker import CASCADE_HEAD

    X, y, rng = _skewed()
    model = _fit(X, y, max_iter=2 * CASCADE_HEAD + 40, max_leaf_nodes=15, max_depth=None, min_samples_leaf=5)
    forest = Forest.from_sklearn(model)
    assert forest.masks is not None and len(forest.masks) == 2  # head and tail trees
    Z = np.vstack([X[:600], rng.standard_exponential((400, X.shape[1])) ** 2])
    exact = model.decision_function(Z)
    np.testing.assert_allclose(forest.raw(Z), exact, rtol=0, atol=1e-9)
    sizes = [1, 3, 50, 200, 146, 600]
    keep = 4
    cascaded = forest.raw_pools(Z, sizes, keep)
    start = 0
    for size in sizes:
        got, want = cascaded[start:start + size], exact[start:start + size]
        head = forest.masks[0].leaf_sums(Z[start:start + size])
        kept = np.argsort(-head, kind="stable")[:keep]
        # The rows the head trees rank best are scored exactly and stay above the rest.
        np.testing.assert_allclose(got[kept], want[kept], rtol=0, atol=1e-9)
        if size > keep:
            rest = np.setdiff1d(np.arange(size), kept)
            assert got[rest].max() < got[kept].min()
        start += size
