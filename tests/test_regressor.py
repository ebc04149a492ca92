"""AugmentedKerasRegressor: a scikit-learn regressor that augments training batches only."""

import numpy as np
import pytest
from conftest import FAST, recording_model
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_digits
from sklearn.model_selection import KFold, cross_val_predict, cross_val_score
from test_classifier import (
    AUGMENT,
    STANDARDIZE,
    _contains,
    _phase,
    check_augmented,
    check_never_augmented,
)

from skimgaug import AugmentedKerasRegressor
from skimgaug.exceptions import InvalidParameterError

# Short fits (a few epochs) may end near the mean; the warning is tested on its own.
pytestmark = pytest.mark.filterwarnings("ignore::skimgaug.exceptions.ChanceLevelWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:240].reshape(-1, 8, 8, 1) / 16.0, y[:240].astype(float)


def _regressor(**params):
    settings = {"epochs": 3, "verbose": 0, "random_state": 0, "batch_size": 32}
    return AugmentedKerasRegressor(**{**settings, **params})


def test_it_is_a_regressor_that_clone_keeps():
    reg = _regressor(datagen={"rotation_range": 10}, standardize_target=True, tta=2)
    assert is_regressor(reg) and not is_classifier(reg)
    copy = clone(reg)
    assert copy.get_params() == reg.get_params()
    assert "balance" not in reg.get_params() and "class_weight" not in reg.get_params()


def test_it_learns_a_digits_value_and_scores_r2(digits):
    X, y = digits
    reg = _regressor(epochs=8, standardize_target=True).fit(X, y)
    predicted = reg.predict(X)
    assert predicted.shape == (len(y),) and predicted.dtype.kind == "f"
    # in the units of y: standardize_target is undone
    assert 2 < predicted.mean() < 7
    assert reg.score(X, y) > 0.3  # R², well above predicting the mean (0)
    assert reg.model_.layers[-1].get_config()["activation"] == "linear"


@pytest.mark.slow  # 2-3 s: three fits
def test_cross_val_score_splits_with_a_plain_kfold(digits, monkeypatch):
    X, y = digits
    seen = []
    real = KFold.split

    def spy(self, *args, **kwargs):
        seen.append(type(self).__name__)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(KFold, "split", spy)
    scores = cross_val_score(_regressor(epochs=1), X[:48], y[:48], cv=3)
    assert seen == ["KFold"] and scores.shape == (3,)


def test_several_outputs(digits):
    X, y = digits
    Y = np.column_stack([y, X.mean(axis=(1, 2, 3))])  # the digit and its brightness
    reg = _regressor(epochs=2, standardize_target=True).fit(X, Y)
    assert reg.predict(X[:5]).shape == (5, 2)
    assert reg.model_.outputs[0].shape[-1] == 2


def test_standardize_target_is_learned_in_fit_and_undone_in_predict(digits):
    X, y = digits
    reg = _regressor(epochs=1, standardize_target=True).fit(X, 100 + 10 * y)
    assert reg.target_encoder_.mean_ == pytest.approx([100 + 10 * y.mean()])
    assert reg.target_encoder_.scale_ == pytest.approx([10 * y.std()])
    assert 80 < reg.predict(X[:20]).mean() < 220  # back in the units of y


def test_training_batches_are_augmented_and_inference_batches_are_not(toy, seen):
    X, labels = toy
    y = labels + X.mean(axis=(1, 2, 3))  # numbers
    reg = AugmentedKerasRegressor(
        recording_model,
        model__log_key="reg",
        datagen={**AUGMENT, **STANDARDIZE},
        validation_split=0.25,
        **{**FAST, "epochs": 2, "random_state": 0},
    )
    reg.fit(X, y)
    clean = X * 0.5 - reg.standardizer_.mean
    check_augmented(_phase(seen, "reg", "train"), clean)
    check_never_augmented(_phase(seen, "reg", "infer"), clean)  # the internal validation
    targets = np.concatenate(_phase(seen, "reg", "targets")).ravel()
    assert set(np.round(targets, 6)) <= set(np.round(y, 6))  # values, not classes
    seen["reg"].clear()
    reg.predict(X)
    reg.score(X, y)
    check_never_augmented(_phase(seen, "reg", "infer"), clean)
    assert not _phase(seen, "reg", "train")
    seen["reg"].clear()
    cv = KFold(3, shuffle=True, random_state=0)
    cross_val_predict(clone(reg).set_params(validation_split=0.0), X, y, cv=cv)
    infer = _phase(seen, "reg", "infer")
    for train, test in cv.split(X):
        fold_clean = X[test] * 0.5 - (X[train] * 0.5).mean(axis=(0, 1, 2))
        check_never_augmented([b for b in infer if _contains(fold_clean, b[0])], fold_clean)


def test_tta_averages_predicted_values(digits):
    X, y = digits
    reg = _regressor(epochs=2, datagen={"rotation_range": 20}).fit(X, y)
    plain = reg.predict(X[:30])
    reg.set_params(tta=4)
    averaged = reg.predict(X[:30])
    assert averaged.shape == plain.shape
    assert not np.allclose(averaged, plain)  # augmented copies were averaged in
    np.testing.assert_allclose(reg.predict(X[:30]), averaged, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"balance": "oversample"},
            "does not take balance, a parameter of AugmentedKerasClassifier",
        ),
        ({"class_weight": "balanced"}, "does not take class_weight"),
        (
            {"standardize_target": "yes"},
            "'standardize_target' parameter of AugmentedKerasRegressor",
        ),
    ],
)
def test_classifier_parameters_and_bad_values_are_refused_before_training(digits, params, message):
    X, y = digits
    with pytest.raises(InvalidParameterError, match=message):
        _regressor(**params).fit(X, y)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (np.array(["a"] * 240, dtype=object), r"needs numbers in y .* got 'a' in row 0"),
        (np.r_[np.zeros(239), np.nan], "not finite .* in row 239"),
    ],
)
def test_targets_that_are_not_numbers_are_refused(digits, target, message):
    X, _ = digits
    with pytest.raises(ValueError, match=message):
        _regressor(epochs=1).fit(X, target)


def test_the_same_random_state_gives_the_same_predictions(digits):
    X, y = digits
    a = _regressor(epochs=1, datagen={"rotation_range": 10}).fit(X[:64], y[:64]).predict(X[:10])
    b = _regressor(epochs=1, datagen={"rotation_range": 10}).fit(X[:64], y[:64]).predict(X[:10])
    np.testing.assert_array_equal(a, b)


def test_a_model_no_better_than_the_mean_is_warned_about(digits):
    from skimgaug.exceptions import ChanceLevelWarning

    X, y = digits
    noise = np.random.default_rng(0).permutation(y)  # nothing to learn
    reg = _regressor(epochs=3, optimizer__learning_rate=1e-9)  # it cannot move
    with pytest.warns(ChanceLevelWarning, match="the loss of predicting the mean of y"):
        reg.fit(X, noise)


def test_save_and_load_round_trip_in_process(digits, tmp_path):
    from skimgaug import load_model, save_model

    X, y = digits
    reg = _regressor(epochs=1, standardize_target=True).fit(X[:60], y[:60])
    save_model(reg, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert type(loaded).__name__ == "AugmentedKerasRegressor"
    np.testing.assert_array_equal(loaded.predict(X[:8]), reg.predict(X[:8]))


@pytest.mark.slow  # 5 s each: a fit, then a fresh Python process that imports TensorFlow
@pytest.mark.parametrize("standardize_target", [False, True])
def test_save_and_load_give_the_same_predictions_in_a_fresh_process(
    digits, tmp_path, standardize_target
):
    import json
    import subprocess
    import sys

    from skimgaug import load_model, save_model

    X, y = digits
    Y = np.column_stack([y, 10 * X.mean(axis=(1, 2, 3))])
    reg = _regressor(
        epochs=1,
        datagen={"rotation_range": 10, "featurewise_center": True},
        standardize_target=standardize_target,
    ).fit(X, Y)
    expected = reg.predict(X[:12])
    folder = tmp_path / "model"
    save_model(reg, folder)
    document = json.loads((folder / "skimgaug.json").read_text())
    assert document["task"] == "regression"
    loaded = load_model(folder)
    assert type(loaded).__name__ == "AugmentedKerasRegressor"
    assert loaded.get_params()["standardize_target"] is standardize_target
    np.testing.assert_array_equal(loaded.predict(X[:12]), expected)
    np.save(tmp_path / "X.npy", X[:12])
    code = (
        "import sys, numpy as np\n"
        "from skimgaug import load_model\n"
        "model = load_model(sys.argv[1])\n"
        "np.save(sys.argv[3], model.predict(np.load(sys.argv[2])))\n"
    )
    out = tmp_path / "fresh.npy"
    subprocess.run(
        [sys.executable, "-c", code, str(folder), str(tmp_path / "X.npy"), str(out)],
        check=True,
        capture_output=True,
    )
    np.testing.assert_allclose(np.load(out), expected, rtol=1e-6, atol=1e-6)


def test_partial_fit_trains_one_epoch_at_a_time_and_y_is_required(digits):
    X, y = digits
    reg = _regressor(datagen={"rotation_range": 10})
    reg.partial_fit(X, y)
    reg.partial_fit(X, y)
    assert len(reg.history_["loss"]) == 2
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        _regressor().fit(X, None)


@pytest.mark.slow  # 2-3 s: three fits
def test_evaluate_cross_validates_a_regressor_with_patients(digits):
    from skimgaug import evaluate

    X, y = digits
    groups = np.arange(len(y)) // 4
    X, y, groups = X[:120], y[:120], groups[:120]
    ev = evaluate(_regressor(epochs=1), X, y, groups=groups, cv=3, n_bootstraps=200, random_state=0)
    assert ev.classes is None and ev.oof_pred.shape == (len(y),)
    assert ev.metric("r2", "patient")["n"] == 30
    assert ev.audit["groups_in_several_folds"] == []  # GroupKFold: no patient in two folds
    mae = ev.metric("mean_absolute_error")
    assert mae["estimate"] == pytest.approx(np.mean(np.abs(ev.oof_pred - y)))
