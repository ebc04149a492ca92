"""Multi-label classification: a 0/1 indicator y, from fit to scikit-learn's tools."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, cross_val_predict, cross_val_score

from skimgaug import AugmentedKerasClassifier
from skimgaug._estimator._split import internal_validation_split, iterative_stratification

pytestmark = pytest.mark.filterwarnings("ignore::skimgaug.exceptions.ChanceLevelWarning")


@pytest.fixture(scope="module")
def digits_labels():
    """Digits with two labels each: "is even" and "is greater than 4"."""
    X, digit = load_digits(return_X_y=True)
    Y = np.column_stack([digit % 2 == 0, digit > 4]).astype(int)
    return X[:160].reshape(-1, 8, 8, 1) / 16.0, Y[:160]


def _clf(**params):
    settings = {"epochs": 2, "verbose": 0, "random_state": 0, "batch_size": 32}
    return AugmentedKerasClassifier(**{**settings, **params})


def test_predict_gives_the_indicator_at_one_half_and_score_is_subset_accuracy(digits_labels):
    X, Y = digits_labels
    clf = _clf(datagen={"rotation_range": 10}).fit(X, Y)
    assert clf.target_type_ == "multilabel-indicator"
    assert clf.classes_.tolist() == [[0, 1], [0, 1]]  # the classes of each label
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and ((proba >= 0) & (proba <= 1)).all()
    predicted = clf.predict(X)
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    assert clf.score(X, Y) == pytest.approx(accuracy_score(Y, predicted))
    assert clf.model_.layers[-1].get_config()["activation"] == "sigmoid"


@pytest.mark.parametrize(
    "scoring",
    [
        pytest.param("f1_macro", marks=pytest.mark.slow),  # 2 s each: three fits
        pytest.param("roc_auc", marks=pytest.mark.slow),
        pytest.param("average_precision", marks=pytest.mark.slow),
    ],
)
def test_cross_val_score_with_multilabel_scorers(digits_labels, scoring):
    X, Y = digits_labels
    scores = cross_val_score(_clf(epochs=1), X[:60], Y[:60], cv=3, scoring=scoring)
    assert scores.shape == (3,) and np.isfinite(scores).all()


@pytest.mark.slow  # 5 s: seven fits
def test_cross_val_predict_and_grid_search(digits_labels):
    X, Y = digits_labels
    proba = cross_val_predict(_clf(epochs=1), X[:90], Y[:90], cv=3, method="predict_proba")
    assert proba.shape == (90, 2)
    grid = {"datagen__rotation_range": [0, 15]}
    search = GridSearchCV(_clf(epochs=1), grid, cv=2, scoring="f1_macro").fit(X[:80], Y[:80])
    assert set(search.cv_results_["param_datagen__rotation_range"]) == {0, 15}


def test_the_internal_split_keeps_rare_labels_on_both_sides():
    rng = np.random.default_rng(0)
    Y = (rng.random((300, 4)) < [0.5, 0.2, 0.03, 0.3]).astype(int)  # label 2: 9 images
    train, valid = internal_validation_split(Y, 0.2, seed=0)
    assert len(valid) == 60 and len(np.intersect1d(train, valid)) == 0
    assert Y[valid].sum(axis=0).min() >= 1 and Y[train].sum(axis=0).min() >= 1
    common = Y.sum(axis=0) >= 20  # a rare label's share is as close as its count allows
    np.testing.assert_allclose(Y[valid].sum(0)[common] / Y.sum(0)[common], 0.2, atol=0.06)
    again = internal_validation_split(Y, 0.2, seed=0)
    np.testing.assert_array_equal(again[1], valid)  # seeded


def test_the_internal_split_holds_out_whole_groups_with_every_label():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(100), 3)
    Y = np.repeat((rng.random((100, 3)) < [0.5, 0.1, 0.3]).astype(int), 3, axis=0)
    train, valid = internal_validation_split(Y, 0.25, seed=0, groups=groups)
    assert not set(groups[train]) & set(groups[valid])
    assert Y[valid].sum(axis=0).min() >= 1


def test_iterative_stratification_follows_the_sizes_of_groups():
    labels = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=bool)
    sizes = np.array([6, 2, 6, 2])
    valid = iterative_stratification(labels, sizes, 0.25, np.random.default_rng(0))
    assert sizes[valid].sum() == 4  # the two small groups: a quarter of 16 images


def test_a_label_missing_from_the_training_images_is_named_in_a_warning(digits_labels):
    X, Y = digits_labels
    Y = np.column_stack([Y, np.zeros(len(Y), dtype=int)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _clf(epochs=1).fit(X, Y)
    messages = [str(w.message) for w in caught if "labels are" in str(w.message)]
    assert len(messages) == 1 and "never present (columns of y): 2" in messages[0]


def test_groups_reach_the_internal_split(digits_labels):
    X, Y = digits_labels
    groups = np.arange(len(X)) // 4
    clf = _clf(epochs=1, validation_split=0.25).fit(X, Y, groups=groups)
    valid = clf.validation_indices_
    train = np.setdiff1d(np.arange(len(X)), valid)
    assert not set(groups[valid]) & set(groups[train])


def test_balanced_class_weight_weights_each_image_by_the_product_of_its_labels(seen):
    from conftest import FAST, recording_model
    from sklearn.utils.class_weight import compute_sample_weight

    rng = np.random.default_rng(0)
    X = rng.random((32, 8, 8, 1)).astype("float32")
    Y = np.column_stack([np.arange(32) % 2, np.arange(32) % 8 == 0]).astype(int)  # 4 rare
    clf = AugmentedKerasClassifier(
        recording_model,
        model__log_key="weights",
        class_weight="balanced",
        shuffle=False,
        **{**FAST, "batch_size": 32, "random_state": 0},
    )
    clf.fit(X, Y)
    weights = [w for phase, w in seen["weights"] if phase == "weights"][0]
    np.testing.assert_allclose(weights, compute_sample_weight("balanced", Y), rtol=1e-6)


def test_training_batches_are_augmented_and_inference_batches_are_not(toy, seen):
    from conftest import FAST, recording_model
    from sklearn.base import clone
    from sklearn.model_selection import KFold
    from test_classifier import (
        AUGMENT,
        STANDARDIZE,
        _contains,
        _phase,
        check_augmented,
        check_never_augmented,
    )

    X, labels = toy
    Y = np.column_stack([labels, X.mean(axis=(1, 2, 3)) > np.median(X)]).astype(int)
    clf = AugmentedKerasClassifier(
        recording_model,
        model__log_key="ml",
        datagen={**AUGMENT, **STANDARDIZE},
        validation_split=0.25,
        **{**FAST, "epochs": 2, "random_state": 0},
    )
    clf.fit(X, Y)
    clean = X * 0.5 - clf.standardizer_.mean
    check_augmented(_phase(seen, "ml", "train"), clean)
    check_never_augmented(_phase(seen, "ml", "infer"), clean)  # the internal validation
    targets = np.concatenate(_phase(seen, "ml", "targets"))
    assert targets.shape[1] == 2 and set(np.unique(targets)) <= {0, 1}  # the labels, as given
    seen["ml"].clear()
    clf.predict_proba(X)
    clf.score(X, Y)
    check_never_augmented(_phase(seen, "ml", "infer"), clean)
    assert not _phase(seen, "ml", "train")
    seen["ml"].clear()
    cv = KFold(3, shuffle=True, random_state=0)
    cross_val_predict(clone(clf).set_params(validation_split=0.0), X, Y, cv=cv)
    infer = _phase(seen, "ml", "infer")
    for train, test in cv.split(X):
        fold_clean = X[test] * 0.5 - (X[train] * 0.5).mean(axis=(0, 1, 2))
        check_never_augmented([b for b in infer if _contains(fold_clean, b[0])], fold_clean)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (lambda n: np.tile([[0, 2]], (n, 1)), "0/1"),
        (lambda n: np.tile([[0.5, 1.0]], (n, 1)), "0/1"),
    ],
)
def test_targets_that_are_not_a_multilabel_indicator_are_refused(toy, target, message):
    X, _ = toy
    with pytest.raises(ValueError, match=message):
        AugmentedKerasClassifier(epochs=1, verbose=0).fit(X, target(len(X)))
