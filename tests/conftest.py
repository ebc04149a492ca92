"""Shared fixtures: tiny seeded images and a model that records what it sees."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from skimgaug.datasets import load_digits_images, make_toy_images  # noqa: E402

#: The seed article's augmentation settings.
ARTICLE = {
    "rotation_range": 20,
    "width_shift_range": 0.2,
    "height_shift_range": 0.2,
    "shear_range": 0.2,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "fill_mode": "nearest",
}

#: Settings that keep a fit well under a second on 8x8 images.
FAST = {"epochs": 1, "verbose": 0, "batch_size": 16}

#: What the recording model saw, by log key: list of (phase, batch) pairs.
SEEN = defaultdict(list)


def recording_model(meta, compile_kwargs, log_key="default"):
    """A tiny model whose first layer logs every batch it is called on.

    Compiled with ``run_eagerly=True`` so that the layer sees concrete
    batches; ``phase`` is "train" for training steps and "infer" for
    evaluation (internal validation) and prediction.
    """
    import keras
    import tensorflow as tf

    from skimgaug.models import output_layer_and_loss

    log = SEEN[log_key]

    class Recorder(keras.layers.Layer):
        def call(self, x, training=None):
            if tf.executing_eagerly():
                log.append(("train" if training else "infer", np.array(x)))
            return x

    inputs = keras.Input(shape=meta["X_shape_"][1:])
    x = keras.layers.Flatten()(Recorder()(inputs))
    output, loss = output_layer_and_loss(meta)
    model = keras.Model(inputs, output(x))
    model.compile(optimizer="adam", loss=loss, run_eagerly=True)
    return model


@pytest.fixture
def seen():
    """Fresh recording log, keyed by test."""
    SEEN.clear()
    yield SEEN
    SEEN.clear()


@pytest.fixture(scope="session")
def toy():
    """60 grayscale 8x8 images, 2 classes."""
    return make_toy_images(60, image_size=8, n_classes=2, random_state=0)


@pytest.fixture(scope="session")
def toy_rgb():
    """48 RGB 8x10 images, 3 classes."""
    return make_toy_images(48, image_size=(8, 10), n_channels=3, n_classes=3, random_state=1)


@pytest.fixture(scope="session")
def digits():
    """The bundled digits as (n, 8, 8, 1) images with values 0-16."""
    return load_digits_images()
