"""Training and inference batches: same semantics as ImageDataGenerator, scoped randomness."""

import logging

import numpy as np
import pytest
from conftest import ARTICLE, FAST

from skimgaug import AugmentedKerasClassifier
from skimgaug._augment._batches import TrainingBatches, fit_statistics, inference_batch
from skimgaug._augment._keys import resolve_datagen
from skimgaug._augment._transforms import ReferenceAugmenter, sample_transform
from skimgaug._compat import make_image_data_generator
from skimgaug._random import legacy_rng


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


# --- every memory layout, errors from any batch, checked preprocessing --------


def _layouts(X):
    """Non-C-contiguous arrays holding the same images as ``X``."""
    return {
        "fortran": np.asfortranarray(X),
        "transposed_view": np.swapaxes(np.swapaxes(X, 1, 2).copy(), 1, 2),
        "moveaxis_from_channels_first": np.moveaxis(np.moveaxis(X, -1, 1).copy(), 1, -1),
        "strided_rows": np.repeat(X, 2, axis=0)[::2],
    }


@pytest.mark.parametrize(
    "layout",
    [
        "fortran",
        *(
            pytest.param(name, marks=pytest.mark.slow)  # 2-3 s each: CI runs them once
            for name in ("transposed_view", "moveaxis_from_channels_first", "strided_rows")
        ),
    ],
)
def test_every_memory_layout_trains_and_predicts_as_a_c_contiguous_copy(toy_rgb, layout):
    X, y = toy_rgb
    X_layout = _layouts(X)[layout]
    assert not X_layout.flags.c_contiguous
    settings = {**ARTICLE, "vertical_flip": True, "rescale": 1 / 255}

    def fitted(images):
        clf = AugmentedKerasClassifier(datagen=settings, random_state=0, **FAST)
        return clf.fit(images, y).predict_proba(images)

    np.testing.assert_allclose(fitted(X_layout), fitted(np.ascontiguousarray(X)), atol=1e-6)


def test_training_batches_of_any_layout_are_c_contiguous(toy_rgb):
    X, y = toy_rgb
    for X_layout in _layouts(X).values():
        batch, _ = _batches(X_layout, y, {"rotation_range": 10})[0]
        assert batch.flags.c_contiguous


class PreprocessingFailed(Exception):
    """A user's own exception type, raised from inside a training batch."""


def _fails_after(n_calls, error=PreprocessingFailed):
    calls = []

    def preprocess(image):
        calls.append(1)
        if len(calls) > n_calls:
            raise error(f"call {len(calls)}")
        return image

    return preprocess


# StopIteration: Python turns it into RuntimeError when it crosses a generator.
@pytest.mark.parametrize("error", [PreprocessingFailed, StopIteration])
def test_an_error_in_a_later_training_batch_keeps_its_type_and_message(toy, error):
    X, y = toy
    # One image is standardized up front, then 16 per batch: call 40 is in batch 3,
    # made ahead on a producer thread (calls after it may be in flight and fail too).
    clf = AugmentedKerasClassifier(
        datagen={"preprocessing_function": _fails_after(39, error), "rotation_range": 5}, **FAST
    )
    with pytest.raises(error, match=r"call \d+") as raised:
        clf.fit(X, y)
    assert type(raised.value) is error
    assert 40 <= int(str(raised.value).split()[1]) <= 40 + 3 * 16


def test_an_error_in_a_validation_batch_keeps_its_type(toy):
    X, y = toy
    # 1 image checked up front, 30 training rows read by Keras to learn the
    # batch shapes then 30 more in the producer, 30 validation rows read up
    # front: call 96 is in a validation batch made in the producer thread.
    clf = AugmentedKerasClassifier(
        datagen={"preprocessing_function": _fails_after(95)}, validation_split=0.5, **FAST
    )
    with pytest.raises(PreprocessingFailed):
        clf.fit(X, y)


@pytest.mark.parametrize(
    ("function", "error", "message"),
    [
        (lambda image: None, TypeError, r"returned None for an image of shape \(8, 8, 1\)"),
        (lambda image: image[..., 0], ValueError, r"image's shape \(8, 8, 1\).*shape \(8, 8\)"),
        (lambda image: image * np.nan, ValueError, "non-finite values"),
        (lambda image: "text", TypeError, "array of numbers"),
    ],
    ids=["none", "wrong_shape", "nan", "not_numbers"],
)
def test_preprocessing_function_output_is_checked_before_training(toy, function, error, message):
    X, y = toy
    clf = AugmentedKerasClassifier(datagen={"preprocessing_function": function}, **FAST)
    with pytest.raises(error, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "history_")  # refused before any training


def test_predict_traces_once_whatever_the_number_of_images(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(random_state=0, **FAST).fit(X, y)
    full = clf.predict_proba(X)
    for n in (1, 7, 16, 45):
        np.testing.assert_allclose(clf.predict_proba(X[:n]), full[:n], atol=1e-6)
    assert clf.model_.predict_function.experimental_get_tracing_count() == 1


@pytest.mark.slow  # 12-15 s: run by CI once
def test_cross_validation_does_not_warn_about_retracing(toy):
    from sklearn.model_selection import cross_val_score

    X, y = toy
    logger = logging.getLogger("tensorflow")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    filters = list(logger.filters)
    logger.addHandler(handler)
    try:
        cross_val_score(AugmentedKerasClassifier(random_state=0, **FAST), X, y, cv=6)
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if "retracing" in r.getMessage()]
    assert logger.filters == filters  # the filter is scoped to fit and predict


@pytest.mark.parametrize("batch_size", [0, -5, 2.5])
def test_bad_predict_batch_sizes_are_refused(toy, batch_size):
    X, y = toy
    clf = AugmentedKerasClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"'predict\(batch_size=...\)' parameter"):
        clf.predict(X, batch_size=batch_size)
    clf.set_params(batch_size=batch_size)
    with pytest.raises(ValueError, match=r"'batch_size' parameter .* Got"):
        clf.predict(X)


def _vectorized_batches(X, y, seed=0):
    from skimgaug._augment._transforms import make_augmenter

    config = resolve_datagen(ARTICLE, {})
    return TrainingBatches(
        X,
        y,
        None,
        indices=None,
        augmenter=make_augmenter("vectorized", config.augmenter()),
        standardizer=config.standardizer(),
        batch_size=8,
        shuffle=True,
        seed=seed,
    )


def _two_epochs(batches):
    out = []
    for epoch in range(2):
        batches.epoch = epoch
        out.extend(batches[i][0] for i in range(len(batches)))
    return out


def test_batches_made_ahead_on_several_threads_equal_batches_made_one_by_one(toy_rgb, monkeypatch):
    from skimgaug._parallel import ENV_BATCH_THREADS

    X, y = toy_rgb
    monkeypatch.setenv(ENV_BATCH_THREADS, "1")
    one = _vectorized_batches(X, y)
    assert one._ahead.threads == 1
    monkeypatch.setenv(ENV_BATCH_THREADS, "4")
    four = _vectorized_batches(X, y)
    assert four._ahead.threads == 4
    for a, b in zip(_two_epochs(one), _two_epochs(four), strict=True):
        np.testing.assert_array_equal(a, b)
    # Asking for batch 0 submits the next ones of its epoch, and no further.
    four.epoch = 5
    four[0]
    pending = sorted(four._ahead._futures)
    assert pending == [(5, i) for i in range(1, min(len(four), 1 + 4 * 2))]


def test_a_preprocessing_function_is_never_called_from_two_threads_at_once(toy, monkeypatch):
    import threading
    import time

    from skimgaug._parallel import ENV_BATCH_THREADS

    monkeypatch.setenv(ENV_BATCH_THREADS, "4")
    running, most, lock = [0], [0], threading.Lock()

    def preprocess(image):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.0005)
        with lock:
            running[0] -= 1
        return image

    X, y = toy
    clf = AugmentedKerasClassifier(
        datagen={"preprocessing_function": preprocess, "rotation_range": 5}, **FAST
    )
    clf.fit(X, y)
    assert most[0] == 1
