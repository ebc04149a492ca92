"""AugmentedKerasClassifier: what fit, predict and scikit-learn's tools see."""

import pickle

import joblib
import numpy as np
import pytest
from conftest import FAST, recording_model
from sklearn.base import clone, is_classifier
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    check_cv,
    cross_val_predict,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skimgaug import AugmentedKerasClassifier

AUGMENT = {"rotation_range": 40, "width_shift_range": 0.2, "zoom_range": 0.2}
STANDARDIZE = {"rescale": 0.5, "featurewise_center": True}


# ----------------------------------------------------------------------------
# Domain checks, written once and reused
# ----------------------------------------------------------------------------
def _contains(images, image, atol=1e-5):
    return bool(np.any(np.all(np.abs(images - image) <= atol, axis=(1, 2, 3))))


def check_never_augmented(batches, clean):
    """Every batch image is one of ``clean`` (standardized originals)."""
    assert batches, "nothing was recorded"
    for batch in batches:
        for image in batch:
            assert _contains(clean, image), "an inference batch holds an augmented image"


def check_augmented(batches, clean):
    """No training image equals a clean (standardized, untransformed) original."""
    assert batches, "nothing was recorded"
    matches = sum(_contains(clean, image) for batch in batches for image in batch)
    assert matches == 0, f"{matches} training images were not augmented"


def check_featurewise_mean_is_training_folds(estimator, X_train, rescale):
    expected = (X_train * rescale).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(estimator.standardizer_.mean.ravel(), expected, rtol=1e-4)


def _recording_clf(log_key, **params):
    return AugmentedKerasClassifier(
        recording_model, model__log_key=log_key, **{**FAST, "random_state": 0, **params}
    )


def _phase(seen, key, phase):
    return [batch for p, batch in seen[key] if p == phase]


# ----------------------------------------------------------------------------
# Nothing leaks
# ----------------------------------------------------------------------------
def test_training_batches_are_augmented_and_inference_batches_are_not(toy, seen):
    X, y = toy
    clf = _recording_clf("fit", datagen={**AUGMENT, **STANDARDIZE}, epochs=2)
    clf.fit(X, y)
    clean = X * 0.5 - clf.standardizer_.mean
    train = _phase(seen, "fit", "train")
    assert sum(len(b) for b in train) == 2 * len(X)  # one pass per epoch
    check_augmented(train, clean)
    # The end-of-fit check in inference mode sees every training image, clean.
    checked = _phase(seen, "fit", "check")
    assert sum(len(b) for b in checked) == len(X)
    check_never_augmented(checked, clean)
    seen["fit"].clear()
    clf.predict(X)
    clf.predict_proba(X[:5])
    clf.score(X, y)
    check_never_augmented(_phase(seen, "fit", "infer"), clean)
    assert not _phase(seen, "fit", "train")


def test_internal_validation_is_standardized_with_training_statistics_only(toy, seen):
    X, y = toy
    clf = _recording_clf("val", datagen={**AUGMENT, **STANDARDIZE}, validation_split=0.25, epochs=2)
    clf.fit(X, y)
    infer = _phase(seen, "val", "infer")
    n_valid = sum(len(b) for b in infer) // 2
    assert n_valid == 15
    validation = np.concatenate(infer[: len(infer) // 2])
    clean = X * 0.5 - clf.standardizer_.mean
    check_never_augmented([validation], clean)
    held_out = [i for i in range(len(X)) if _contains(validation, clean[i])]
    train = np.setdiff1d(np.arange(len(X)), held_out)
    check_featurewise_mean_is_training_folds(clf, X[train], 0.5)
    assert "val_loss" in clf.history_


def test_cross_val_predict_sees_clean_test_folds(toy, seen):
    X, y = toy
    cv = KFold(3, shuffle=True, random_state=0)
    clf = _recording_clf("cvp", datagen={**AUGMENT, **STANDARDIZE})
    proba = cross_val_predict(clf, X, y, cv=cv, method="predict_proba")
    assert proba.shape == (len(X), 2)
    infer = _phase(seen, "cvp", "infer")
    for train, test in cv.split(X, y):
        clean = X[test] * 0.5 - (X[train] * 0.5).mean(axis=(0, 1, 2))
        fold_batches = [b for b in infer if len(b) and _contains(clean, b[0])]
        check_never_augmented(fold_batches, clean)
    # Each test image is predicted once; batches are padded to batch_size (16)
    # with copies of their last image.
    padded = sum(-(-len(test) // 16) * 16 for _, test in cv.split(X, y))
    assert sum(len(b) for b in infer) == padded


@pytest.mark.slow
def test_featurewise_statistics_come_from_each_training_fold(toy_rgb):
    X, y = toy_rgb
    clf = AugmentedKerasClassifier(
        datagen={"rescale": 0.5, "featurewise_center": True, "featurewise_std_normalization": True},
        **FAST,
    )
    result = cross_validate(clf, X, y, cv=3, return_estimator=True, return_indices=True)
    for estimator, train in zip(result["estimator"], result["indices"]["train"], strict=True):
        check_featurewise_mean_is_training_folds(estimator, X[train], 0.5)
        np.testing.assert_allclose(
            estimator.standardizer_.std.ravel(), (X[train] * 0.5).std(axis=(0, 1, 2)), rtol=1e-4
        )


def test_predictions_are_deterministic_without_random_state(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(datagen={**AUGMENT, **STANDARDIZE}, **FAST).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))


# ----------------------------------------------------------------------------
# scikit-learn citizenship
# ----------------------------------------------------------------------------
def test_is_a_classifier_so_integer_cv_stratifies(toy):
    _, y = toy
    clf = AugmentedKerasClassifier()
    assert is_classifier(clf)
    assert isinstance(check_cv(5, y, classifier=is_classifier(clf)), StratifiedKFold)
    assert is_classifier(make_pipeline(FunctionTransformer(), clf))


@pytest.mark.slow
def test_class_sorted_labels_still_score_well_with_cv_3(digits):
    X, y = digits
    order = np.argsort(y, kind="stable")
    X, y = X[order][::3], y[order][::3]  # 599 images, sorted by class
    clf = AugmentedKerasClassifier(
        datagen={"rescale": 1 / 16}, epochs=15, verbose=0, batch_size=32, random_state=0
    )
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.min() > 0.8, scores


@pytest.mark.slow
def test_clone_keeps_every_setting_and_epochs_hold_in_every_fold(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(
        datagen={"zoom_range": 0.1},
        datagen__rotation_range=5,
        image_shape=(8, 8, 1),
        model__filters=4,
        optimizer__learning_rate=0.01,
        **{**FAST, "epochs": 3},
    )
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params()
    assert cloned.get_params()["datagen__rotation_range"] == 5
    result = cross_validate(clf, X, y, cv=2, return_estimator=True)
    assert [len(e.history_["loss"]) for e in result["estimator"]] == [3, 3]


def test_set_params_routes_datagen_keys(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(**FAST).set_params(datagen__rotation_range=15)
    assert clf.get_params()["datagen__rotation_range"] == 15
    clf.fit(X, y)
    assert clf.augmentation_ == {"rotation_range": 15}


def test_routed_key_overrides_the_datagen_dict(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(
        datagen={"rotation_range": 5, "rescale": 2.0}, datagen__rotation_range=25, **FAST
    ).fit(X, y)
    assert clf.augmentation_ == {"rotation_range": 25}
    assert clf.standardizer_.rescale == 2.0


@pytest.mark.slow
def test_grid_search_over_routed_datagen_keys_and_whole_dicts(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(**FAST, random_state=0)
    search = GridSearchCV(clf, {"datagen__rotation_range": [0, 30]}, cv=2).fit(X, y)
    assert search.cv_results_["param_datagen__rotation_range"].tolist() == [0, 30]
    search = GridSearchCV(clf, {"datagen": [None, {"zoom_range": 0.1}]}, cv=2).fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.best_estimator_.predict(X).shape == (len(X),)


@pytest.mark.slow
def test_pipeline_with_nested_datagen_parameter(digits):
    X, y = digits
    X_rows, y = X[:200].reshape(200, -1), y[:200]
    pipe = make_pipeline(
        FunctionTransformer(lambda rows: rows / 16.0),
        AugmentedKerasClassifier(image_shape=(8, 8, 1), **FAST, random_state=0),
    )
    search = GridSearchCV(
        pipe, {"augmentedkerasclassifier__datagen__zoom_range": [0.0, 0.1]}, cv=2
    ).fit(X_rows, y)
    best = search.best_estimator_
    assert isinstance(best, Pipeline)
    assert best.predict(X_rows[:3]).shape == (3,)


@pytest.mark.slow
def test_groups_never_cross_folds_with_stratified_group_kfold(toy):
    X, y = toy
    groups = np.arange(len(X)) // 3  # a "patient" has three images
    result = cross_validate(
        AugmentedKerasClassifier(datagen=AUGMENT, **FAST),
        X,
        y,
        groups=groups,
        cv=StratifiedGroupKFold(3),
        return_indices=True,
    )
    for train, test in zip(result["indices"]["train"], result["indices"]["test"], strict=True):
        assert not set(groups[train]) & set(groups[test])


def test_pickle_and_joblib_round_trips_predict_identically(toy, tmp_path):
    X, y = toy
    clf = AugmentedKerasClassifier(datagen={**AUGMENT, **STANDARDIZE}, **FAST).fit(X, y)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    joblib.dump(clf, tmp_path / "clf.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "clf.joblib").predict_proba(X), expected)


# ----------------------------------------------------------------------------
# Randomness and the caller's state
# ----------------------------------------------------------------------------
@pytest.mark.slow
def test_same_random_state_gives_identical_predictions(toy):
    X, y = toy
    params = {"datagen": {**AUGMENT, **STANDARDIZE}, "validation_split": 0.2, **FAST}
    first = AugmentedKerasClassifier(random_state=42, **params).fit(X, y).predict_proba(X)
    second = AugmentedKerasClassifier(random_state=42, **params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_random_state_instance_is_not_consumed(toy):
    X, y = toy
    rng = np.random.RandomState(3)
    state = rng.get_state()[1].copy()
    AugmentedKerasClassifier(datagen=AUGMENT, random_state=rng, **FAST).fit(X, y)
    assert np.array_equal(rng.get_state()[1], state)


@pytest.mark.slow
def test_seeded_then_unseeded_fit_in_one_process(toy):
    X, y = toy
    AugmentedKerasClassifier(datagen=AUGMENT, random_state=0, **FAST).fit(X, y)
    first = AugmentedKerasClassifier(datagen=AUGMENT, **FAST).fit(X, y).predict_proba(X)
    second = AugmentedKerasClassifier(datagen=AUGMENT, **FAST).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, second)  # unseeded fits stay random


@pytest.mark.parametrize("random_state", [None, 0])
def test_fit_and_predict_leave_the_global_numpy_rng_alone(toy, random_state):
    X, y = toy
    np.random.seed(123)
    state = np.random.get_state()
    clf = AugmentedKerasClassifier(
        datagen={**AUGMENT, **STANDARDIZE},
        validation_split=0.2,
        random_state=random_state,
        **FAST,
    )
    clf.fit(X, y)
    clf.predict(X)
    clf.predict_proba(X)
    clf.partial_fit(X, y)
    after = np.random.get_state()
    assert np.array_equal(after[1], state[1]) and after[2] == state[2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_inputs_are_never_modified(toy, dtype):
    X, y = toy
    X = (X.clip(0, 1) * 255).astype(dtype)
    weights = np.linspace(0.5, 1.5, len(X))
    originals = X.copy(), y.copy(), weights.copy()
    clf = AugmentedKerasClassifier(
        datagen={
            **AUGMENT,
            "rescale": 1 / 255,
            "samplewise_center": True,
            "featurewise_center": True,
            "preprocessing_function": _in_place_square,
        },
        class_weight="balanced",
        validation_split=0.2,
        **FAST,
    )
    clf.fit(X, y, sample_weight=weights)
    clf.predict_proba(X)
    clf.score(X, y, sample_weight=weights)
    for after, before in zip((X, y, weights), originals, strict=True):
        np.testing.assert_array_equal(after, before)


def _in_place_square(image):
    image *= image  # a careless user function: must only ever see our copies
    return image


# ----------------------------------------------------------------------------
# Inputs, targets and weights
# ----------------------------------------------------------------------------
def test_grayscale_3d_images_and_rows_with_image_shape(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(datagen=AUGMENT, **FAST).fit(X[..., 0], y)
    assert clf.X_shape_[1:] == (8, 8, 1)
    assert clf.n_features_in_ == 64
    assert clf.predict(X).shape == (len(X),)  # 4-D at predict is the same images
    rows = X.reshape(len(X), -1)
    clf = AugmentedKerasClassifier(datagen=AUGMENT, image_shape=(8, 8), **FAST).fit(rows, y)
    assert clf.X_shape_[1:] == (8, 8, 1)
    assert clf.predict(rows).shape == (len(X),)


def test_rgb_non_square_multiclass_with_string_labels(toy_rgb):
    X, y = toy_rgb
    labels = np.array(["cat", "dog", "eel"])[y]
    clf = AugmentedKerasClassifier(datagen=AUGMENT, **FAST).fit(X, labels)
    assert set(clf.classes_) == {"cat", "dog", "eel"}
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.predict_proba(X).shape == (len(X), 3)
    assert clf.predict_proba(X[:1]).shape == (1, 3)


def test_one_hot_targets(toy_rgb):
    X, y = toy_rgb
    one_hot = np.eye(3)[y]
    clf = AugmentedKerasClassifier(datagen=AUGMENT, validation_split=0.25, **FAST)
    clf.fit(X, one_hot)
    assert clf.predict(X).shape == (len(X), 3)


@pytest.mark.slow
def test_default_model_learns_the_toy_problem(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(
        datagen={"horizontal_flip": True},
        epochs=20,
        verbose=0,
        batch_size=8,
        random_state=0,
        optimizer="adam",
    )
    assert clf.fit(X, y).score(X, y) > 0.9


def test_sample_weights_and_balanced_class_weight_reach_the_batches(toy, seen):
    X, y = toy
    y = np.where(np.arange(len(y)) < 45, 0, 1)  # imbalanced 45 / 15
    weights = np.ones(len(X))
    weights[:10] = 0  # zero weights drop samples, as in scikeras
    weights[50:] = 0.5
    _recording_clf("w", datagen=AUGMENT, class_weight="balanced").fit(X, y, sample_weight=weights)
    assert sum(len(b) for b in _phase(seen, "w", "train")) == len(X) - 10
    # Every training row carries its sample weight times its class's balanced
    # weight, n / (2 * count): 60 / 90 for the 45 zeros, 60 / 30 for the 15 ones.
    kept = weights > 0
    expected = weights * np.where(y == 0, 60 / 90, 60 / 30)
    got_y = np.concatenate(_phase(seen, "w", "targets")).ravel()
    got_w = np.concatenate(_phase(seen, "w", "weights"))
    order, expected_order = np.lexsort((got_w, got_y)), np.lexsort((expected[kept], y[kept]))
    np.testing.assert_array_equal(got_y[order], y[kept][expected_order])
    np.testing.assert_allclose(got_w[order], expected[kept][expected_order], rtol=1e-5)


def test_early_stopping_watches_clean_validation_loss(toy):
    import keras

    X, y = toy
    clf = AugmentedKerasClassifier(
        datagen=AUGMENT,
        validation_split=0.2,
        # No improvement of val_loss can reach min_delta: stops after its second epoch.
        callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=0, min_delta=1e3)],
        **{**FAST, "epochs": 30},
        random_state=0,
    ).fit(X, y)
    assert len(clf.history_["val_loss"]) == 2


def test_validation_data_given_to_fit_is_standardized(toy, seen):
    X, y = toy
    clf = _recording_clf("vd", datagen={**AUGMENT, **STANDARDIZE})
    clf.fit(X[:40], y[:40], validation_data=(X[40:], y[40:]))
    clean = X[40:] * 0.5 - clf.standardizer_.mean
    check_never_augmented(_phase(seen, "vd", "infer"), clean)
    assert "val_loss" in clf.history_


def test_warm_start_keeps_statistics_with_the_model(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(datagen=STANDARDIZE, warm_start=True, **FAST).fit(X, y)
    mean = clf.standardizer_.mean.copy()
    clf.fit(X[:20] + 5, y[:20])
    np.testing.assert_array_equal(clf.standardizer_.mean, mean)
    cold = clone(clf).set_params(warm_start=False).fit(X[:20] + 5, y[:20])
    assert not np.allclose(cold.standardizer_.mean, mean)


def test_partial_fit_trains_one_epoch_at_a_time(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(datagen=AUGMENT, **FAST)
    clf.partial_fit(X, y).partial_fit(X, y)
    assert len(clf.history_["loss"]) == 2


# ----------------------------------------------------------------------------
# Continued fits (warm_start, partial_fit) honour changed settings
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("continued", ["warm_start", "partial_fit"])
def test_changed_augmentation_takes_effect_in_a_continued_fit(toy, seen, continued):
    X, y = toy
    clf = _recording_clf("warm", datagen=STANDARDIZE, warm_start=continued == "warm_start")
    clf.fit(X, y)
    clean = X * 0.5 - clf.standardizer_.mean
    check_never_augmented(_phase(seen, "warm", "train"), clean)  # no augmentation yet
    seen["warm"].clear()
    clf.set_params(**{f"datagen__{key}": value for key, value in AUGMENT.items()})
    clf.fit(X, y) if continued == "warm_start" else clf.partial_fit(X, y)
    check_augmented(_phase(seen, "warm", "train"), clean)
    assert clf.augmentation_ == AUGMENT


def test_changed_validation_split_and_engine_take_effect_in_a_continued_fit(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(datagen=AUGMENT, warm_start=True, **FAST).fit(X, y)
    assert "val_loss" not in clf.history_
    clf.set_params(validation_split=0.25, engine="imagedatagenerator").fit(X, y)
    assert "val_loss" in clf.history_
    clf.set_params(engine="no-such-engine")
    with pytest.raises(ValueError, match="engine"):
        clf.fit(X, y)


@pytest.mark.parametrize("continued", ["warm_start", "partial_fit"])
@pytest.mark.parametrize(
    ("change", "keys"),
    [
        ({"datagen__rescale": 0.25}, r"rescale \(0.5 -> 0.25\)"),
        (
            {"datagen": {"featurewise_std_normalization": True}},
            r"featurewise_std_normalization \(False -> True\), rescale \(0.5 -> None\)",
        ),
    ],
)
def test_changed_standardization_in_a_continued_fit_is_refused(toy, continued, change, keys):
    X, y = toy
    clf = AugmentedKerasClassifier(
        datagen=STANDARDIZE, warm_start=continued == "warm_start", **FAST
    ).fit(X, y)
    mean = clf.standardizer_.mean.copy()
    clf.set_params(**change)
    with pytest.raises(ValueError, match=f"cannot change in a continued fit .*changed: {keys}"):
        clf.fit(X, y) if continued == "warm_start" else clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.standardizer_.mean, mean)


def test_spelling_out_a_default_is_not_a_changed_setting(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(datagen=STANDARDIZE, warm_start=True, **FAST).fit(X, y)
    clf.set_params(datagen__dtype="float32", datagen__data_format="channels_last")
    clf.fit(X, y)
    clf.partial_fit(X, y)
