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


@pytest.mark.parametrize(
    "size, convolutions, last_map",
    [(8, 2, 8), (16, 2, 8), (32, 3, 8), (64, 4, 8), (100, 4, 12), (128, 5, 8)],
)
def test_the_default_cnn_grows_with_the_image(size, convolutions, last_map):
    """Blocks are added until the feature map is 8 to 15 pixels, whatever the input size."""
    import keras

    from skimgaug.models import default_model

    meta = {"X_shape_": (10, size, size, 1), "target_type_": "multiclass", "n_classes_": 10}
    model = default_model(meta, {"optimizer": "adam"})
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == convolutions
    assert [c.filters for c in convs] == [min(16 * 2**i, 128) for i in range(convolutions)]
    normalized = [
        layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert len(normalized) == convolutions
    assert convs[-1].output.shape[1:3] == (last_map, last_map)


def test_the_default_cnn_keeps_positions_of_small_images():
    """8x8 digits are flattened (where a stroke is matters), larger maps are pooled."""
    import keras

    from skimgaug.models import default_model

    meta = {"X_shape_": (10, 8, 8, 1), "target_type_": "multiclass", "n_classes_": 10}
    small = default_model(meta, {"optimizer": "adam"})
    assert any(isinstance(layer, keras.layers.Flatten) for layer in small.layers)
    meta["X_shape_"] = (10, 32, 32, 1)
    larger = default_model(meta, {"optimizer": "adam"})
    assert any(isinstance(layer, keras.layers.GlobalAveragePooling2D) for layer in larger.layers)


@pytest.mark.parametrize(
    "params, learning_rate",
    [
        ({"optimizer__learning_rate": 0.01}, 0.01),
        ({"model": "builder"}, 0.001),  # Keras' default for any other model
    ],
)
def test_the_default_optimizer_is_adam(toy, params, learning_rate):
    from skimgaug.models import default_model

    if params.get("model") == "builder":
        params = {"model": lambda meta, compile_kwargs: default_model(meta, compile_kwargs)}
    X, y = toy
    clf = AugmentedKerasClassifier(**FAST, **params).fit(X, y)
    assert type(clf.model_.optimizer).__name__ == "Adam"
    assert float(clf.model_.optimizer.learning_rate.numpy()) == pytest.approx(learning_rate)


def test_the_default_model_decays_its_learning_rate_over_the_planned_steps(toy):
    import keras

    X, y = toy  # 60 images, 20 % held out: 48 in batches of 16 = 3 steps per epoch
    clf = AugmentedKerasClassifier(**{**FAST, "epochs": 4}, validation_split=0.2).fit(X, y)
    schedule = clf.model_.optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert schedule.initial_learning_rate == pytest.approx(0.003)
    assert schedule.decay_steps == 12
    assert float(clf.model_.optimizer.learning_rate.numpy()) == pytest.approx(0.003 * 0.05)


def _constant_model(meta, compile_kwargs, bias=0.0):
    """Predicts sigmoid(bias) whatever the input, and cannot learn."""
    import keras

    inputs = keras.Input(shape=meta["X_shape_"][1:])
    x = keras.layers.Flatten()(inputs)
    output = keras.layers.Dense(
        1,
        activation="sigmoid",
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(bias),
    )
    output.trainable = False
    model = keras.Model(inputs, output(x))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


@pytest.mark.parametrize(
    "bias, where",
    [
        (0.0, "is within 2 % of the chance-level loss 0.6931"),  # predicts 0.5: ln 2
        (5.0, "is above the chance-level loss 0.6931"),
        (float("nan"), "is not a number"),
    ],
)
def test_a_fit_that_ends_at_chance_level_or_worse_warns_naming_likely_causes(toy, bias, where):
    from skimgaug.exceptions import ChanceLevelWarning

    X, y = toy
    clf = AugmentedKerasClassifier(_constant_model, model__bias=bias, **{**FAST, "epochs": 2})
    with pytest.warns(ChanceLevelWarning, match=rf"{where} .*epochs=2.* learning rate"):
        clf.fit(X, y)


def test_a_single_epoch_does_not_warn(toy):
    import warnings

    from skimgaug.exceptions import ChanceLevelWarning

    X, y = toy
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChanceLevelWarning)
        AugmentedKerasClassifier(_constant_model, **FAST).fit(X, y)


def test_a_fit_that_learns_does_not_warn(toy):
    import warnings

    from skimgaug.exceptions import ChanceLevelWarning

    X, y = toy
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChanceLevelWarning)
        AugmentedKerasClassifier(**{**FAST, "epochs": 8}, random_state=0).fit(X, y)


@pytest.mark.parametrize(
    "y, target_type, expected",
    [
        (np.arange(100) % 10, "multiclass", np.log(10)),
        (np.array([0] * 90 + [1] * 10), "binary", -(0.9 * np.log(0.9) + 0.1 * np.log(0.1))),
        (np.eye(4)[np.arange(40) % 4], "multiclass-onehot", np.log(4)),
        (np.zeros((8, 3)), "multilabel-indicator", None),
    ],
)
def test_chance_level_is_the_loss_of_predicting_class_frequencies(y, target_type, expected):
    from skimgaug._estimator._diagnostics import chance_level_loss

    if expected is None:
        assert chance_level_loss(y, target_type) is None
    else:
        assert chance_level_loss(y, target_type) == pytest.approx(expected)


@pytest.mark.parametrize(
    "weights, balanced, expected",
    [
        (None, False, -(0.8 * np.log(0.8) + 0.2 * np.log(0.2))),
        # class_weight="balanced": 40 / (2 * 32) and 40 / (2 * 8)
        (np.where(np.arange(40) < 32, 40 / 64, 40 / 16), False, np.log(2)),
        (None, True, np.log(2)),  # balanced epochs
        (np.where(np.arange(40) < 32, 1.0, 3.0), False, None),  # computed below
    ],
)
def test_chance_level_with_weights_is_the_best_constant_weighted_loss(weights, balanced, expected):
    from skimgaug._estimator._diagnostics import chance_level_loss

    y = (np.arange(40) >= 32).astype("float32")  # 32 negatives, 8 positives
    chance = chance_level_loss(y, "binary", weights, balanced)
    w = np.ones(40) if weights is None else weights
    q = np.linspace(0.001, 0.999, 9999)  # every constant prediction of the positive class
    losses = [np.mean(w * -np.where(y == 1, np.log(p), np.log(1 - p))) for p in q[::50]]
    if not balanced:
        assert chance == pytest.approx(min(losses), rel=1e-3)
    if expected is not None:
        assert chance == pytest.approx(expected)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"model__filters": 0},
            r"The 'model__filters' parameter of AugmentedKerasClassifier must be an int >= 1\. "
            r"Got 0",
        ),
        ({"model__dense_units": -1}, r"model__dense_units' .* an int >= 0 .* Got -1"),
        ({"model__dropout": 1.0}, r"model__dropout' .* a number in \[0, 1\)\. Got 1\.0"),
    ],
)
def test_default_model_arguments_are_checked_before_building(toy, params, message):
    from conftest import fast_clf

    X, y = toy
    with pytest.raises(ValueError, match=message):
        fast_clf(**params).fit(X, y)
