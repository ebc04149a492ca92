"""Shared fixtures: tiny seeded images and a model that records what it sees."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from skimgaug import AugmentedKerasClassifier  # noqa: E402
from skimgaug.datasets import (  # noqa: E402
    load_digits_images,
    make_toy_images,
    write_image_folder,
)

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


def fast_clf(**params):
    """An AugmentedKerasClassifier with the FAST settings; ``params`` override them."""
    return AugmentedKerasClassifier(**{**FAST, **params})


#: What the recording model saw, by log key: (phase, array) pairs; see recording_model.
SEEN = defaultdict(list)


def recording_model(meta, compile_kwargs, log_key="default"):
    """A tiny model that logs every batch it is given.

    Compiled with ``run_eagerly=True`` so that it sees concrete batches. Its
    first layer logs the images with phase "train" for training steps,
    "infer" for evaluation (internal validation) and prediction steps, and
    "check" for a direct call in inference mode (the end-of-fit check on clean
    training images); each training step also logs its targets ("targets")
    and its sample weights ("weights": ``None`` when the batch has none), each
    evaluation step its targets ("validation targets").
    """
    import keras
    import tensorflow as tf

    from skimgaug.models import output_layer_and_loss

    log = SEEN[log_key]
    step = []  # "infer" inside Keras' test and predict steps

    class Recorder(keras.layers.Layer):
        def call(self, x, training=None):
            if tf.executing_eagerly():
                phase = "train" if training else (step[-1] if step else "check")
                log.append((phase, np.array(x)))
            return x

    class RecordingModel(keras.Model):
        def train_step(self, data):
            if tf.executing_eagerly():
                _, y, weights = keras.utils.unpack_x_y_sample_weight(data)
                log.append(("targets", np.array(y)))
                log.append(("weights", None if weights is None else np.array(weights)))
            return super().train_step(data)

        def test_step(self, data):
            if tf.executing_eagerly():
                _, y, _ = keras.utils.unpack_x_y_sample_weight(data)
                log.append(("validation targets", np.array(y)))
            step.append("infer")
            try:
                return super().test_step(data)
            finally:
                step.pop()

        def predict_step(self, data):
            step.append("infer")
            try:
                return super().predict_step(data)
            finally:
                step.pop()

    inputs = keras.Input(shape=meta["X_shape_"][1:])
    x = keras.layers.Flatten()(Recorder()(inputs))
    output, loss = output_layer_and_loss(meta)
    model = RecordingModel(inputs, output(x))
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


def _write_png_folder(root):
    return write_image_folder(
        root, n_per_class=12, n_classes=2, image_size=16, patients_per_class=4
    )


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """24 RGB 16x16 PNGs: ``class0/`` and ``class1/``, four patients each (``p0000_*``).

    Shared by the whole session: copy it before changing anything in it.
    """
    return _write_png_folder(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def mixed_image_folder(tmp_path_factory):
    """``image_folder``'s 24 PNGs plus 12 grayscale 20x20 JPEGs (two patients per class).

    Shared by the whole session: copy it before changing anything in it.
    """
    root = _write_png_folder(tmp_path_factory.mktemp("mixed_images"))
    write_image_folder(
        root,
        n_per_class=6,
        n_classes=2,
        image_size=20,
        extension=".jpg",
        mode="L",
        patients_per_class=2,
        random_state=1,
    )
    return root


#: Runs ``cli.main`` on each command line of a JSON list, in one fresh process.
RUN_CLI_CASES = """\
import contextlib, io, json, sys
from skimgaug import cli
results = []
for args in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            status = cli.main(args)
        except SystemExit as exit:
            status = exit.code
    text = err.getvalue()
    lines = text.strip().splitlines() or [""]
    results.append([status, lines[-1], "tensorflow" in sys.modules, lines[0], text])
print(json.dumps(results))
"""


def run_cli_cases(cases, cwd):
    """``[status, last stderr line, tensorflow imported, first line, stderr]`` per case.

    Every command line runs in one fresh process (TensorFlow not imported yet),
    one after the other: a usage error must come before TensorFlow loads.
    """
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", RUN_CLI_CASES, json.dumps(cases)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def count_decodes(function):
    """``(function's result, image files it decoded)``: every decode goes through decode_pixels."""
    from skimgaug._data import _paths

    decoded = []
    original = _paths.decode_pixels

    def counting(path, *args, **kwargs):
        decoded.append(path)
        return original(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_paths, "decode_pixels", counting)
        result = function()
    return result, len(decoded)
