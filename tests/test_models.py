"""The default model: sized from the data, with a loss that fits the labels."""

import numpy as np
import pytest
from conftest import FAST

from skimgaug import AugmentedKerasClassifier


@pytest.mark.parametrize(
    "n_classes, one_hot, units, loss, target_type",
    [
        (2, False, 1, "binary_crossentropy", "binary"),
        (3, False, 3, "sparse_categorical_crossentropy", "multiclass"),
        (3, True, 3, "categorical_crossentropy", "multiclass-onehot"),
    ],
)
def test_output_and_loss_follow_the_labels(toy_rgb, n_classes, one_hot, units, loss, target_type):
    X, y = toy_rgb
    y = y % n_classes
    target = np.eye(n_classes)[y] if one_hot else y
    clf = AugmentedKerasClassifier(**FAST).fit(X, target)
    assert clf.model_.output_shape == (None, units)
    assert clf.model_.loss == loss
    assert clf.target_type_ == target_type
    assert clf.model_.input_shape == (None, 8, 10, 3)


def test_user_loss_wins(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(loss="categorical_crossentropy", **FAST)
    clf.fit(X, np.eye(2)[y])
    assert clf.model_.loss.__name__ == "categorical_crossentropy"


def test_model_parameters_are_routed(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(model__filters=4, model__dense_units=8, **FAST).fit(X, y)
    conv = [layer for layer in clf.model_.layers if "conv" in layer.name]
    assert [layer.filters for layer in conv] == [4, 8]


def test_feature_rows_get_a_dense_network():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 5)), np.arange(30) % 2
    clf = AugmentedKerasClassifier(**FAST).fit(X, y)
    assert not any("conv" in layer.name for layer in clf.model_.layers)


@pytest.mark.parametrize("size", [3, 32])
def test_small_and_larger_images_build(size):
    X = np.random.default_rng(0).random((8, size, size, 1), dtype=np.float32)
    clf = AugmentedKerasClassifier(**FAST).fit(X, np.arange(8) % 2)
    assert clf.predict(X).shape == (8,)
