"""Test-time augmentation: the clean image and N augmented copies, averaged."""

import numpy as np
import pytest
from conftest import fast_clf, recording_model
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

from skimgaug._augment._batches import augmented_inference_batch, inference_batch
from skimgaug._augment._transforms import make_augmenter
from skimgaug._random import child_seeds, legacy_rng, resolve_seed

AUGMENT = {"rotation_range": 30, "width_shift_range": 0.2, "horizontal_flip": True}


@pytest.fixture(scope="module")
def fitted(toy):
    X, y = toy
    return fast_clf(datagen=AUGMENT, random_state=0).fit(X, y)


def test_tta_averages_the_clean_image_and_n_augmented_copies(fitted, toy):
    X, _ = toy
    clean = fitted.predict_proba(X)
    try:
        proba = fitted.set_params(tta=3).predict_proba(X)
    finally:
        fitted.set_params(tta=0)

    # The same copies, drawn by hand: one chunk, seeds as documented.
    augmenter = make_augmenter("vectorized", fitted._settings.datagen.augmenter())
    seed = child_seeds(resolve_seed(0), 3)[2]
    rows = slice(0, len(X))
    batches = [inference_batch(fitted.standardizer_, X, rows)]
    with augmenter.running():
        for copy in range(3):
            batches.append(
                augmented_inference_batch(
                    fitted.standardizer_, augmenter, X, rows, legacy_rng(seed, 0, copy)
                )
            )
    expected = np.mean([fitted.model_.predict(b, verbose=0)[:, 0] for b in batches], axis=0)
    np.testing.assert_allclose(proba[:, 1], expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(proba, clean, atol=1e-4)  # the copies count


def test_tta_is_reproducible_from_random_state_and_can_be_set_after_fit(fitted, toy):
    X, _ = toy
    clean = fitted.predict_proba(X)
    fitted.set_params(tta=2)
    try:
        first, second = fitted.predict_proba(X), fitted.predict_proba(X)
    finally:
        fitted.set_params(tta=0)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(fitted.predict_proba(X), clean)  # tta=0: clean only


def test_without_augmentation_settings_tta_changes_nothing(toy):
    X, y = toy
    clf = fast_clf(datagen={"rescale": 0.5}, random_state=0).fit(X, y)
    clean = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.set_params(tta=4).predict_proba(X), clean)


def test_tta_predictions_see_augmented_standardized_copies_and_x_is_untouched(toy, seen):
    X, y = toy
    X_before = X.copy()
    clf = fast_clf(
        model=recording_model, datagen={**AUGMENT, "rescale": 0.5}, tta=2, random_state=0
    ).fit(X, y)
    logged = len(seen["default"])
    clf.predict_proba(X)
    batches = [batch for phase, batch in seen["default"][logged:] if phase == "infer"]
    padded = -(-len(X) // 16) * 16  # batches of FAST's batch_size 16, the last one padded
    images = np.concatenate(batches).reshape(3, padded, *X.shape[1:])[:, : len(X)]
    clean, copies = images[0], images[1:]  # clean, then 2 copies
    np.testing.assert_allclose(clean, X * 0.5, rtol=1e-6)  # standardized, not augmented
    for copy in copies:
        assert not np.allclose(copy, clean)  # augmented, then standardized
        assert np.abs(copy).max() <= np.abs(X * 0.5).max() + 1e-6  # rescaled like clean
    np.testing.assert_array_equal(X, X_before)


@pytest.mark.slow
def test_tta_is_searchable_and_cloned(toy):
    X, y = toy
    clf = fast_clf(datagen=AUGMENT, random_state=0, tta=2)
    assert clone(clf).tta == 2
    search = GridSearchCV(clf, {"tta": [0, 2]}, cv=2).fit(X, y)
    assert search.cv_results_["param_tta"].tolist() == [0, 2]
    assert cross_val_score(clf, X, y, cv=2).shape == (2,)


@pytest.mark.parametrize("tta", [-1, 1.5, True, "3"])
def test_bad_tta_is_refused_before_training(toy, tta):
    X, y = toy
    with pytest.raises(ValueError, match=rf"'tta' parameter .* int >= 0 .* Got {tta!r}"):
        fast_clf(tta=tta).fit(X, y)


def test_bad_tta_set_after_fit_is_refused_at_predict(fitted, toy):
    X, _ = toy
    try:
        with pytest.raises(ValueError, match=r"'tta' parameter"):
            fitted.set_params(tta=-2).predict(X)
    finally:
        fitted.set_params(tta=0)


@pytest.mark.slow
def test_fit_is_the_same_with_or_without_tta(toy):
    X, y = toy
    plain = fast_clf(datagen=AUGMENT, random_state=0).fit(X, y)
    tta = fast_clf(datagen=AUGMENT, random_state=0, tta=3).fit(X, y)
    assert plain.history_["loss"] == pytest.approx(tta.history_["loss"], rel=1e-5)
