"""Bad training parameters and per-sample values are refused before any training."""

import numpy as np
import pytest
from conftest import FAST

from skimgaug import AugmentedKerasClassifier


def _refused_before_training(clf, X, y, error, match, **fit_params):
    with pytest.raises(error, match=match):
        clf.fit(X, y, **fit_params)
    assert not hasattr(clf, "history_")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"batch_size": 0}, r"'batch_size' parameter .* -1 .* int >= 1. Got 0 instead"),
        ({"batch_size": 8.5}, r"'batch_size' parameter .*Got 8.5 instead"),
        ({"batch_size": True}, r"'batch_size' parameter .*Got True instead"),
        ({"fit__batch_size": -2}, r"'fit__batch_size' parameter .*Got -2 instead"),
        ({"validation_batch_size": 0}, r"'validation_batch_size' parameter .*Got 0"),
        ({"predict__batch_size": "32"}, r"'predict__batch_size' parameter .*Got '32'"),
        ({"epochs": -3}, r"'epochs' parameter of AugmentedKerasClassifier must be an int >= 1"),
        ({"epochs": 0}, r"'epochs' parameter .*Got 0 instead"),
        ({"epochs": 2.0}, r"'epochs' parameter .*Got 2.0 instead"),
    ],
)
def test_bad_batch_sizes_and_epochs_are_refused(toy, params, match):
    X, y = toy
    clf = AugmentedKerasClassifier(**{**FAST, **params})
    _refused_before_training(clf, X, y, ValueError, match)


@pytest.mark.parametrize(
    ("fit_params", "match"),
    [
        ({"epochs": -1}, r"fit\(epochs=...\).*Got -1"),
        ({"batch_size": 0}, r"fit\(batch_size=...\).*Got 0"),
    ],
)
def test_bad_values_given_to_fit_itself_are_refused(toy, fit_params, match):
    X, y = toy
    _refused_before_training(
        AugmentedKerasClassifier(**FAST), X, y, ValueError, match, **fit_params
    )


def test_batch_size_minus_one_means_one_batch(toy):
    import keras

    class CountBatches(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.train = []

        def on_train_batch_end(self, batch, logs=None):
            self.train.append(batch)

    X, y = toy
    counter = CountBatches()
    params = {**FAST, "batch_size": -1, "epochs": 2, "callbacks": [counter]}
    clf = AugmentedKerasClassifier(**params).fit(X, y)
    assert counter.train == [0, 0]  # one batch of all 60 images in each of 2 epochs
    assert clf.predict(X).shape == y.shape


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ("negative", r"non-negative; sample_weight\[3\] is -1 \(1 negative weight\)"),
        ("nan", r"finite; sample_weight\[5\] is nan"),
        ("2d", r"one-dimensional, one weight per sample. Got an array of shape \(60, 2\)"),
        ("text", r"must be numbers"),
    ],
)
def test_bad_sample_weights_are_refused(toy, weights, match):
    X, y = toy
    w = np.ones(len(y))
    if weights == "negative":
        w[3] = -1
    elif weights == "nan":
        w[5] = np.nan
    elif weights == "2d":
        w = np.ones((len(y), 2))
    else:
        w = ["heavy"] * len(y)
    clf = AugmentedKerasClassifier(**FAST)
    _refused_before_training(clf, X, y, ValueError, match, sample_weight=w)


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (["a", "b"] * 29 + ["a", None], r"missing labels; y\[59\] is None"),
        ([0, 1] * 29 + [0, float("nan")], r"missing labels; y\[59\] is nan"),
        (
            ["a", "b"] * 15 + [0, 1] * 15,
            r"all strings or all numbers.*'a' \(y\[0\]\).*0 \(y\[30\]\)",
        ),
    ],
    ids=["none", "nan_in_objects", "strings_and_numbers"],
)
@pytest.mark.parametrize("container", ["object_array", "list"])
def test_missing_or_mixed_labels_are_named(toy, labels, match, container):
    X, _ = toy
    y = np.array(labels, dtype=object) if container == "object_array" else list(labels)
    _refused_before_training(AugmentedKerasClassifier(**FAST), X, y, ValueError, match)


def _returns_none(meta):
    return None


def _returns_a_layer(meta):
    import keras

    return keras.layers.Dense(2)


def _uncompiled(meta):
    import keras

    inputs = keras.Input(shape=meta["X_shape_"][1:])
    outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(
        keras.layers.Flatten()(inputs)
    )
    return keras.Model(inputs, outputs)


def _uncompiled_two_outputs(meta):
    import keras

    inputs = keras.Input(shape=meta["X_shape_"][1:])
    x = keras.layers.Flatten()(inputs)
    return keras.Model(inputs, [keras.layers.Dense(meta["n_classes_"])(x)] * 2)


@pytest.mark.parametrize(
    ("builder", "error", "match"),
    [
        (_returns_none, TypeError, r"_returns_none must return a keras.Model; it returned None"),
        (
            _returns_a_layer,
            TypeError,
            r"_returns_a_layer must return .*; it returned a Dense",
        ),
        (
            _uncompiled_two_outputs,
            ValueError,
            r"_uncompiled_two_outputs is not compiled and has 2 outputs, .* Compile it",
        ),
    ],
)
def test_model_builders_returning_no_usable_model_are_named(toy, builder, error, match):
    X, y = toy
    _refused_before_training(AugmentedKerasClassifier(builder, **FAST), X, y, error, match)


def test_an_uncompiled_model_is_compiled_with_the_loss_that_fits_the_labels(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(_uncompiled, optimizer="sgd", **FAST).fit(X, y)
    assert clf.model_.loss == "sparse_categorical_crossentropy"
    assert type(clf.model_.optimizer).__name__ == "SGD"  # the estimator's optimizer
    binary = AugmentedKerasClassifier(_uncompiled_binary, **FAST).fit(X, y % 2)
    assert binary.model_.loss == "binary_crossentropy"


def _uncompiled_binary(meta):
    import keras

    inputs = keras.Input(shape=meta["X_shape_"][1:])
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs[:, 0, 0]))


def test_an_uncompiled_model_is_compiled_with_the_given_loss(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(_uncompiled, loss="sparse_categorical_crossentropy", **FAST)
    assert clf.fit(X, y).model_.compiled


@pytest.mark.parametrize(
    ("random_state", "error"), [(-1, ValueError), (2**32, ValueError), ("seed", TypeError)]
)
def test_random_state_out_of_range_or_of_the_wrong_type(toy, random_state, error):
    X, y = toy
    clf = AugmentedKerasClassifier(**{**FAST, "random_state": random_state})
    match = r"'random_state' parameter .* an int in \[0, 2\*\*32\)"
    _refused_before_training(clf, X, y, error, match)
