"""Training and inference batches: same semantics as ImageDataGenerator, scoped randomness."""

import numpy as np
import pytest
from conftest import ARTICLE

from skimgaug._compat import make_image_data_generator
from skimgaug._datagen import resolve_datagen
from skimgaug._engine import TrainingBatches, fit_statistics, inference_batch
from skimgaug._random import legacy_rng
from skimgaug._transforms import ReferenceAugmenter, sample_transform


def _batches(X, y, settings, seed=0, indices=None, weights=None, batch_size=8, shuffle=True):
    config = resolve_datagen(settings, {})
    standardizer = fit_statistics(config.standardizer(), X, indices)
    return TrainingBatches(
        X,
        y,
        weights,
        indices=indices,
        augmenter=ReferenceAugmenter(config.augmenter()) if config.augments else None,
        standardizer=standardizer,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
    )


def test_training_batch_equals_one_image_data_generator_transform_then_standardize(toy_rgb):
    X, y = toy_rgb
    settings = {
        **ARTICLE,
        "rescale": 0.5,
        "featurewise_center": True,
        "featurewise_std_normalization": True,
    }
    batches = _batches(X, y, settings, seed=3)
    reference = make_image_data_generator(**settings)
    reference.fit(X)
    order = legacy_rng(3, 0).permutation(len(X))[:8]
    rng = legacy_rng(3, 0, 0)
    expected = []
    for row in order:
        image = X[row].astype("float32")
        params = sample_transform(reference, image.shape, rng)
        expected.append(reference.standardize(reference.apply_transform(image, params)))
    batch_x, batch_y = batches[0]
    np.testing.assert_allclose(batch_x, np.stack(expected), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(batch_y, y[order])


def test_one_pass_over_every_training_row_per_epoch(toy):
    X, _ = toy
    rows = np.arange(len(X))
    train = rows[::2]
    batches = _batches(X, rows, {"rotation_range": 10}, indices=train, batch_size=7)
    for _epoch in range(3):
        seen = np.concatenate([batches[i][1] for i in range(len(batches))])
        np.testing.assert_array_equal(np.sort(seen), train)
        batches.on_epoch_end()


def test_order_changes_between_epochs_and_repeats_with_the_seed(toy):
    X, y = toy
    rows = np.arange(len(X))
    first = _batches(X, rows, {"rotation_range": 30}, seed=7)
    again = _batches(X, rows, {"rotation_range": 30}, seed=7)
    epoch0 = [first[i] for i in range(len(first))]
    for i, (batch_x, batch_y) in enumerate(epoch0):
        np.testing.assert_array_equal(batch_x, again[i][0])
        np.testing.assert_array_equal(batch_y, again[i][1])
    first.on_epoch_end()
    assert not np.array_equal(first[0][1], epoch0[0][1])


def test_no_shuffle_keeps_the_order(toy):
    X, _ = toy
    rows = np.arange(len(X))
    batches = _batches(X, rows, {}, shuffle=False, batch_size=16)
    np.testing.assert_array_equal(batches[1][1], rows[16:32])


def test_sample_weights_travel_with_their_rows(toy):
    X, _ = toy
    rows = np.arange(len(X))
    batch_x, batch_y, batch_w = _batches(X, rows, {"zoom_range": 0.1}, weights=rows * 2.0)[0]
    np.testing.assert_array_equal(batch_w, batch_y * 2.0)


def test_training_batches_never_touch_the_global_rng_nor_the_input(toy):
    X, y = toy
    X_before = X.copy()
    state = np.random.get_state()[1].copy()
    batches = _batches(X, y, {**ARTICLE, "rescale": 2.0, "samplewise_center": True})
    for i in range(len(batches)):
        batches[i]
    assert np.array_equal(np.random.get_state()[1], state)
    np.testing.assert_array_equal(X, X_before)


def test_without_augmenter_training_batches_are_standardized_originals(toy):
    X, y = toy
    rows = np.arange(len(X))
    batches = _batches(X, rows, {"rescale": 0.5}, shuffle=False, batch_size=len(X))
    np.testing.assert_allclose(batches[0][0], X * 0.5)


@pytest.mark.parametrize(
    "settings",
    [
        {"rescale": 1 / 255},
        {"featurewise_center": True, "featurewise_std_normalization": True},
        {"samplewise_center": True, "samplewise_std_normalization": True},
        {"zca_whitening": True},
        {"preprocessing_function": np.square, "rescale": 2.0, "featurewise_center": True},
    ],
)
def test_inference_path_equals_per_image_standardize_on_a_copy(toy_rgb, settings):
    X, _ = toy_rgb
    X_before = X.copy()
    standardizer = fit_statistics(resolve_datagen(settings, {}).standardizer(), X)
    got = inference_batch(standardizer, X, slice(None))
    expected = np.stack([standardizer.standardize(image.copy()) for image in X])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(X, X_before)
    assert got.dtype == np.float32


def test_statistics_equal_image_data_generator_fit_on_the_given_rows(toy_rgb):
    X, _ = toy_rgb
    rows = np.arange(0, len(X), 3)
    settings = {"rescale": 0.5, "featurewise_center": True, "featurewise_std_normalization": True}
    standardizer = fit_statistics(resolve_datagen(settings, {}).standardizer(), X, rows)
    reference = make_image_data_generator(**settings)
    reference.fit(X[rows])
    np.testing.assert_allclose(standardizer.mean, reference.mean, rtol=1e-5)
    np.testing.assert_allclose(standardizer.std, reference.std, rtol=1e-5)
    np.testing.assert_allclose(
        standardizer.mean.ravel(), (X[rows] * 0.5).mean(axis=(0, 1, 2)), rtol=1e-5
    )


def test_uint8_images_are_converted_per_batch(toy):
    X, y = toy
    X8 = (X.clip(0, 1) * 255).astype(np.uint8)
    batch_x, _ = _batches(X8, y, {"rescale": 1 / 255}, shuffle=False)[0]
    assert batch_x.dtype == np.float32
    np.testing.assert_allclose(batch_x, X8[:8] / 255, atol=1e-6)
