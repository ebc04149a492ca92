"""Transfer learning with ``pretrained(...)``: backbone, head, preprocessing, weights.

Nothing here downloads: every test uses ``weights=None`` or a weights file
written to ``tmp_path``, and the ImageNet path is exercised with Keras' file
getter replaced. Fits run eagerly (``run_eagerly=True``): tracing MobileNetV3
would cost more than the fit.
"""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import FAST
from sklearn.base import clone

from skimgaug import AugmentedKerasClassifier
from skimgaug.models._pretrained import PRETRAINED_NAMES, pretrained

#: conftest's FAST, smaller batches, eager (faster than tracing for a few steps), seeded.
FAST = {**FAST, "batch_size": 8, "run_eagerly": True, "random_state": 0}

#: The fit tests train on random pixels: the chance-level warning is expected.
chance_level_ok = pytest.mark.filterwarnings("ignore:.*chance-level")


def meta_for(shape, n_classes=2):
    """scikeras metadata for ``n`` images of ``shape`` and integer labels."""
    target_type = "binary" if n_classes == 2 else "multiclass"
    return {"X_shape_": (8, *shape), "n_classes_": n_classes, "target_type_": target_type}


def build(name="mobilenet_v3_small", shape=(32, 32, 3), compile_kwargs=None, **settings):
    settings.setdefault("weights", None)
    builder = pretrained(name, **settings)
    return builder(meta_for(shape), compile_kwargs or {"optimizer": "adam"})


def backbone_of(model):
    import keras

    (backbone,) = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return backbone


def pixels(shape, n=8, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, *shape)).astype("float32")


def run(model, X):
    """The model's output in inference mode, eagerly (predict would trace it)."""
    import keras

    return keras.ops.convert_to_numpy(model(X, training=False))


def bn_moving_means(backbone):
    import keras

    return [
        layer.moving_mean.numpy().copy()
        for layer in backbone.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


# ----------------------------------------------------------------------
# The builder object
# ----------------------------------------------------------------------
def test_repr_shows_every_setting_and_evaluates_back():
    builder = pretrained("MobileNetV3Small", weights=None, trainable=2)
    assert repr(builder) == (
        "pretrained('mobilenet_v3_small', weights=None, trainable=2, dropout=0.2)"
    )
    assert eval(repr(builder), {"pretrained": pretrained}) == builder


@pytest.mark.parametrize(
    "alias, name",
    [
        ("mobilenet_v3_small", "mobilenet_v3_small"),
        ("MobileNetV3Large", "mobilenet_v3_large"),
        ("EFFICIENTNETB0", "efficientnet_b0"),
        ("ResNet50", "resnet50"),
        ("mobilenet-v3-small", "mobilenet_v3_small"),
    ],
)
def test_keras_class_names_are_accepted_in_any_case(alias, name):
    assert pretrained(alias).name == name


def test_the_names_for_the_cli():
    assert PRETRAINED_NAMES[:4] == (
        "mobilenet_v3_small",
        "mobilenet_v3_large",
        "efficientnet_b0",
        "resnet50",
    )


@pytest.mark.parametrize(
    "name, suggestion",
    [("mobilenetv3smal", "'mobilenet_v3_small'"), ("resnet5", "'resnet50'")],
)
def test_unknown_name_lists_the_names_and_suggests_one(name, suggestion):
    with pytest.raises(ValueError, match=r"'name' parameter of pretrained must be one of") as err:
        pretrained(name)
    message = str(err.value)
    assert all(repr(n) in message for n in PRETRAINED_NAMES)
    assert f"Did you mean {suggestion}" in message
    assert f"Got {name!r} instead" in message


@pytest.mark.parametrize(
    "trainable, error",
    [(0, ValueError), (-1, ValueError), (2.5, ValueError), ("all", TypeError), (None, TypeError)],
)
def test_bad_trainable_is_refused(trainable, error):
    with pytest.raises(error, match=rf"'trainable' parameter .* Got {trainable!r} instead"):
        pretrained("resnet50", trainable=trainable)


@pytest.mark.parametrize(
    "dropout, error", [(1.0, ValueError), (-0.1, ValueError), ("0.2", TypeError)]
)
def test_bad_dropout_is_refused(dropout, error):
    with pytest.raises(error, match=rf"'dropout' parameter .* Got {dropout!r} instead"):
        pretrained("resnet50", dropout=dropout)


def test_trainable_true_and_one_are_different_builders():
    assert pretrained("resnet50", trainable=True) != pretrained("resnet50", trainable=1)
    assert pretrained("resnet50", trainable=1) == pretrained("ResNet50", trainable=1)


def test_builder_survives_pickle_and_clone():
    builder = pretrained("mobilenet_v3_small", weights=None, trainable=3, dropout=0.5)
    restored = pickle.loads(pickle.dumps(builder))
    assert restored == builder and hash(restored) == hash(builder)
    assert repr(restored) == repr(builder)

    clf = AugmentedKerasClassifier(model=builder)
    cloned = clone(clf)
    assert cloned.model == builder
    assert cloned.model is not builder
    assert type(cloned.model) is type(builder)


def test_scikeras_passes_meta_and_compile_kwargs():
    from scikeras._utils import has_param

    builder = pretrained("mobilenet_v3_small")
    assert has_param(builder, "meta") and has_param(builder, "compile_kwargs")


# ----------------------------------------------------------------------
# Fitting through the estimator
# ----------------------------------------------------------------------
@pytest.mark.slow
@chance_level_ok
@pytest.mark.parametrize("shape", [(12, 12, 1), (32, 32, 3)], ids=["gray-upsampled", "rgb"])
def test_fit_and_predict_through_the_estimator(shape):
    X, y = pixels(shape), np.array([0, 1, 2, 0, 1, 2, 0, 1])
    clf = AugmentedKerasClassifier(
        model=pretrained("mobilenet_v3_small", weights=None),
        datagen={"horizontal_flip": True},
        **FAST,
    ).fit(X, y)
    predicted = clf.predict(X)
    assert predicted.shape == (8,) and set(predicted) <= {0, 1, 2}
    assert clf.model_.input_shape == (None, *shape)
    assert clf.model_.loss == "sparse_categorical_crossentropy"


def test_settings_can_be_routed_through_the_estimator():
    clf = AugmentedKerasClassifier(
        model=pretrained("mobilenet_v3_small", weights=None), model__dropout=0.5, **FAST
    )
    clf.initialize(pixels((32, 32, 3)), np.arange(8) % 2)  # builds, does not train
    assert clf.model_.get_layer("head_dropout").rate == 0.5


def test_a_routed_bad_setting_is_refused_when_building():
    clf = AugmentedKerasClassifier(
        model=pretrained("mobilenet_v3_small", weights=None), model__trainable=0, **FAST
    )
    with pytest.raises(ValueError, match="'trainable' parameter of pretrained"):
        clf.fit(pixels((32, 32, 3)), np.arange(8) % 2)


def test_the_estimator_loss_wins_over_the_default():
    model = build(shape=(32, 32, 3), compile_kwargs={"optimizer": "adam", "loss": "hinge"})
    assert model.loss == "hinge"


# ----------------------------------------------------------------------
# Trainable layers and BatchNorm
# ----------------------------------------------------------------------
def test_frozen_backbone_trains_only_the_head():
    model = build(trainable=False)
    assert backbone_of(model).trainable_weights == []
    head = model.layers[-1]
    assert [w.path for w in model.trainable_weights] == [w.path for w in head.weights]


def test_trainable_true_trains_every_backbone_weight():
    backbone = backbone_of(build(trainable=True))
    # Only BatchNorm's moving statistics, which are never trained by gradients.
    frozen = {w.path.rsplit("/", 1)[-1] for w in backbone.non_trainable_weights}
    assert frozen == {"moving_mean", "moving_variance"}
    assert len(backbone.non_trainable_weights) == 2 * len(bn_moving_means(backbone))


def test_trainable_int_unfreezes_the_last_layers_with_weights_but_no_batchnorm():
    backbone = backbone_of(build(trainable=2))
    trained = {layer.name for layer in backbone.layers if layer.trainable_weights}
    # The last layers of MobileNetV3Small: ..., expanded_conv_10_project,
    # expanded_conv_10_project_bn, expanded_conv_10_add, conv_1, conv_1_bn, activation.
    assert trained == {"expanded_conv_10_project", "conv_1"}


@pytest.mark.slow
@pytest.mark.parametrize("trainable, updates", [(False, False), (2, False), (True, True)])
def test_batchnorm_statistics_move_only_when_fully_trainable(trainable, updates):
    model = build(trainable=trainable)
    before = bn_moving_means(backbone_of(model))
    model(pixels((32, 32, 3)), training=True)  # one training-mode forward pass
    after = bn_moving_means(backbone_of(model))
    moved = any(not np.array_equal(b, a) for b, a in zip(before, after, strict=True))
    assert moved is updates


# ----------------------------------------------------------------------
# Inputs: size, channels, preprocessing
# ----------------------------------------------------------------------
def test_small_images_are_upsampled_keeping_the_aspect_ratio():
    import keras

    model = build(shape=(8, 10, 1))
    resizing = model.get_layer("upsample")
    assert isinstance(resizing, keras.layers.Resizing)
    assert (resizing.height, resizing.width) == (32, 40)
    assert backbone_of(model).input_shape == (None, 32, 40, 3)


def test_grayscale_is_repeated_to_three_identical_channels():
    import keras

    model = build(shape=(32, 32, 1))
    assert "upsample" not in [layer.name for layer in model.layers]
    X = pixels((32, 32, 1))
    rgb = run(keras.Model(model.input, model.get_layer("grayscale_to_rgb").output), X)
    np.testing.assert_array_equal(rgb, np.repeat(X, 3, axis=-1))


@pytest.mark.parametrize("channels", [4, 2])
def test_other_channel_counts_are_refused(channels):
    with pytest.raises(
        ValueError, match=f"1 \\(grayscale\\) or 3 \\(RGB\\) channels; got {channels}"
    ):
        build(shape=(32, 32, channels))


def test_feature_rows_are_refused():
    builder = pretrained("mobilenet_v3_small", weights=None)
    meta = {"X_shape_": (8, 64), "n_classes_": 2, "target_type_": "binary"}
    with pytest.raises(ValueError, match=r"needs images \(n, height, width, channels\)"):
        builder(meta, {"optimizer": "adam"})


def test_mobilenet_preprocesses_inside_its_backbone_only():
    import keras

    from skimgaug.models._pretrained import ImageNetPreprocessing

    model = build(shape=(32, 32, 3))
    backbone = backbone_of(model)
    assert not any(isinstance(layer, ImageNetPreprocessing) for layer in model.layers)
    # The model feeds raw 0..255 pixels straight into the backbone ...
    assert [type(layer).__name__ for layer in model.layers[:2]] == ["InputLayer", "Functional"]
    # ... whose one Rescaling maps them to [-1, 1].
    rescalings = [layer for layer in backbone.layers if isinstance(layer, keras.layers.Rescaling)]
    assert len(rescalings) == 1
    assert rescalings[0] is backbone.layers[1]
    assert (rescalings[0].scale, rescalings[0].offset) == (1 / 127.5, -1.0)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocessing_layer_equals_keras_preprocess_input(mode):
    from keras.applications import imagenet_utils

    from skimgaug.models._pretrained import ImageNetPreprocessing

    X = pixels((4, 5, 3), n=3)
    expected = imagenet_utils.preprocess_input(X.copy(), mode=mode)
    got = np.asarray(ImageNetPreprocessing(mode)(X))
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_preprocessing_layer_refuses_an_unknown_mode():
    from skimgaug.models._pretrained import ImageNetPreprocessing

    with pytest.raises(ValueError, match="'mode' parameter of ImageNetPreprocessing"):
        ImageNetPreprocessing("inception")


def test_preprocessing_layer_saves_and_loads_in_safe_mode(tmp_path):
    import keras

    from skimgaug.models._pretrained import ImageNetPreprocessing

    model = keras.Sequential([keras.Input((4, 5, 3)), ImageNetPreprocessing("caffe")])
    model.save(tmp_path / "pre.keras")
    loaded = keras.saving.load_model(tmp_path / "pre.keras", safe_mode=True)
    assert isinstance(loaded.layers[0], ImageNetPreprocessing)
    assert loaded.layers[0].mode == "caffe"
    X = pixels((4, 5, 3), n=2)
    np.testing.assert_array_equal(run(loaded, X), run(model, X))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_built_model_saves_and_loads_in_safe_mode(tmp_path):
    import keras

    model = build(shape=(12, 12, 1))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert_same_weights(loaded, model)
    X = pixels((12, 12, 1), n=4)
    np.testing.assert_array_equal(run(loaded, X), run(model, X))


# ----------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved_mobilenet(tmp_path_factory):
    """A random ``MobileNetV3Small(include_top=False)`` and the file of its weights."""
    import keras

    backbone = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), include_top=False, weights=None
    )
    path = tmp_path_factory.mktemp("weights") / "mobilenet_v3_small.weights.h5"
    backbone.save_weights(path)
    return backbone, path


def assert_same_weights(a, b):
    assert len(a.weights) == len(b.weights)
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy())


def test_a_local_weights_file_is_loaded(saved_mobilenet):
    source, path = saved_mobilenet
    model = build(shape=(40, 40, 1), weights=path)  # another input size works
    assert_same_weights(backbone_of(model), source)


@pytest.mark.slow  # 6-25 s: run by CI once
def test_a_local_imagenet_efficientnet_file_computes_as_keras_imagenet_model(tmp_path):
    """Keras adds Rescaling(1/sqrt(std)) for weights="imagenet" only; its file holds std as
    the stem's variance. A local copy of that file must give the same stem outputs."""
    import keras

    def efficientnet():
        return keras.applications.EfficientNetB0(
            input_shape=(32, 32, 3), include_top=False, weights=None
        )

    imagenet_like = efficientnet()  # the ImageNet statistics, as Keras' file holds them
    (norm,) = [x for x in imagenet_like.layers if isinstance(x, keras.layers.Normalization)]
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    norm.set_weights([mean, std, *norm.get_weights()[2:]])
    path = tmp_path / "efficientnetb0_notop.weights.h5"
    imagenet_like.save_weights(path)
    built = backbone_of(build("efficientnet_b0", weights=path))

    def stem(model, x):  # the first convolution's input: after normalization and rescaling
        pad = model.get_layer("stem_conv_pad")
        return keras.Model(model.inputs, pad.input)(x).numpy()

    X = pixels((32, 32, 3))
    expected = (X / 255 - mean) / std  # what Keras' imagenet model computes
    np.testing.assert_allclose(stem(built, X), expected, rtol=1e-4, atol=1e-4)
    # a file with other statistics (random weights) is loaded as it is
    random_path = tmp_path / "random.weights.h5"
    efficientnet().save_weights(random_path)
    random = backbone_of(build("efficientnet_b0", weights=random_path))
    np.testing.assert_allclose(stem(random, X), X / 255, rtol=1e-5, atol=1e-5)


def test_a_missing_weights_file_is_named(tmp_path):
    path = str(tmp_path / "nowhere.weights.h5")
    with pytest.raises(FileNotFoundError, match=f"the weights file '{path}' does not exist"):
        build(weights=path)


def test_a_weights_file_of_another_architecture_is_refused(tmp_path):
    import keras

    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "dense.weights.h5"
    other.save_weights(path)
    with pytest.raises(
        ValueError, match=f"the weights file '{path}' does not fit MobileNetV3Small"
    ):
        build(weights=path)


@pytest.mark.filterwarnings("error:`input_shape` is undefined")  # silenced: fits any size
def test_imagenet_weights_come_from_keras_file_getter(saved_mobilenet, monkeypatch):
    from keras.src.utils import file_utils

    source, path = saved_mobilenet
    asked = []

    def cached_copy(fname, origin, **kwargs):
        asked.append(fname)
        return str(path)

    monkeypatch.setattr(file_utils, "get_file", cached_copy)
    model = build(shape=(32, 32, 3), weights="imagenet")
    assert asked == ["weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"]
    assert_same_weights(backbone_of(model), source)


@pytest.mark.parametrize(
    "name",
    [
        "mobilenet_v3_small",
        pytest.param("mobilenet_v3_large", marks=pytest.mark.slow),
        pytest.param("efficientnet_b0", marks=pytest.mark.slow),
        pytest.param("resnet50", marks=pytest.mark.slow),
    ],
)
def test_offline_imagenet_names_the_file_and_the_way_out(name, monkeypatch):
    from keras.src.utils import file_utils

    asked = []

    def offline(fname, origin, **kwargs):
        asked.append(fname)
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -3] name resolution")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(OSError, match="could not get the ImageNet weights") as err:
        build(name, weights="imagenet")
    (fname,) = asked
    message = str(err.value)
    assert f"Keras looks for {fname!r} in " in message
    assert f"weights='path/to/{fname}'" in message
    assert "URL fetch failure" in message


# ----------------------------------------------------------------------
# Larger backbones (build only)
# ----------------------------------------------------------------------
@pytest.mark.slow
def test_resnet50_preprocesses_once_with_caffe_means():
    import keras
    from keras.applications.resnet50 import preprocess_input

    from skimgaug.models._pretrained import ImageNetPreprocessing

    model = build("resnet50", shape=(32, 32, 3))
    found = [layer for layer in model.layers if isinstance(layer, ImageNetPreprocessing)]
    assert len(found) == 1
    backbone = backbone_of(model)
    assert not any(
        isinstance(layer, (keras.layers.Rescaling, keras.layers.Normalization))
        for layer in backbone.layers
    )
    X = pixels((32, 32, 3), n=4)
    preprocessed = run(keras.Model(model.input, found[0].output), X)
    np.testing.assert_allclose(preprocessed, preprocess_input(X.copy()), atol=1e-4, rtol=0)
    # The whole model: the backbone sees preprocess_input(X), not X, not twice.
    features = keras.Model(model.input, model.get_layer("avg_pool").output)
    expected = np.mean(run(backbone, preprocess_input(X.copy())), axis=(1, 2))
    np.testing.assert_allclose(run(features, X), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mobilenet_v3_large", "efficientnet_b0"])
def test_larger_backbones_build_from_small_grayscale_images(name):
    model = build(name, shape=(16, 16, 1), trainable=3)
    assert model.output_shape == (None, 1)
    assert backbone_of(model).input_shape == (None, 32, 32, 3)
    assert run(model, pixels((16, 16, 1), n=2)).shape == (2, 1)


@pytest.mark.slow
@chance_level_ok
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_a_new_process_unpickles_the_estimator_and_loads_the_model(tmp_path):
    X, y = pixels((32, 32, 3), n=4), np.array([0, 1, 0, 1])
    clf = AugmentedKerasClassifier(model=pretrained("resnet50", weights=None), **FAST).fit(X, y)
    (tmp_path / "clf.pkl").write_bytes(pickle.dumps(clf))
    clf.model_.save(tmp_path / "model.keras")
    np.save(tmp_path / "X.npy", X)
    expected = clf.predict_proba(X)
    script = textwrap.dedent(
        f"""
        import pickle, sys, numpy as np
        X = np.load({str(tmp_path / "X.npy")!r})
        if sys.argv[1] == "pickle":
            clf = pickle.loads(open({str(tmp_path / "clf.pkl")!r}, "rb").read())
            out = clf.predict_proba(X)
        else:
            import keras
            from skimgaug.models._pretrained import ImageNetPreprocessing  # registers the layer
            model = keras.saving.load_model({str(tmp_path / "model.keras")!r}, safe_mode=True)
            out = model.predict(X, verbose=0)
        np.save({str(tmp_path)!r} + "/out_" + sys.argv[1] + ".npy", out)
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for how in ("pickle", "load_model"):
        subprocess.run([sys.executable, "-c", script, how], check=True, env=env, timeout=300)
    np.testing.assert_allclose(np.load(tmp_path / "out_pickle.npy"), expected, rtol=1e-5)
    out = np.load(tmp_path / "out_load_model.npy")
    np.testing.assert_allclose(out.ravel(), expected[:, 1], rtol=1e-5)
