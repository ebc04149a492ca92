"""The two augmentation engines: same parameters, same images (within stated tolerance).

Tolerance: for identical transform parameters the vectorized warp must match
``ImageDataGenerator.apply_transform`` within a mean absolute difference of
0.1% of the pixel range and a maximum of 1% (measured: about 1e-6 of the range,
float32 round-off); flips, channel shift and brightness must match exactly.
"""

import numpy as np
import pytest
from conftest import ARTICLE, FAST
from scipy import stats
from scipy.ndimage import gaussian_filter
from sklearn.model_selection import StratifiedKFold, cross_val_score

from skimgaug import AugmentedKerasClassifier
from skimgaug._augment._keys import resolve_datagen
from skimgaug._augment._transforms import (
    ReferenceAugmenter,
    VectorizedAugmenter,
    make_augmenter,
    sample_transform,
    sample_transforms,
)
from skimgaug._random import preserved_global_rngs

SETTINGS = [
    ARTICLE,
    {"width_shift_range": [-2, 0, 3], "height_shift_range": 2, "vertical_flip": True},
    {"zoom_range": (0.5, 1.5), "brightness_range": (0.7, 1.3), "channel_shift_range": 10},
    {"width_shift_range": 3.0, "height_shift_range": 0.1, "rotation_range": 90},
    {},
]


def _images(shape, seed=0, smooth=True, low=0.0, high=255.0):
    rng = np.random.default_rng(seed)
    x = rng.random(shape)
    if smooth:
        x = gaussian_filter(x, sigma=(0, 1.5, 1.5, 0))
        x = (x - x.min()) / (x.max() - x.min())
    return (low + (high - low) * x).astype(np.float32)


def _both(settings, X, seed=1):
    generator = resolve_datagen(settings, {}).augmenter()
    reference = ReferenceAugmenter(generator)(X.copy(), np.random.RandomState(seed))
    vectorized = VectorizedAugmenter(generator)(X.copy(), np.random.RandomState(seed))
    return reference, vectorized


# ----------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("settings", SETTINGS)
def test_sampled_parameters_equal_get_random_transform_draw_for_draw(settings):
    augmenter = resolve_datagen(settings, {}).augmenter()
    with preserved_global_rngs():
        for seed in range(40):
            expected = augmenter.get_random_transform((8, 10, 3), seed=seed)
            got = sample_transform(augmenter, (8, 10, 3), np.random.RandomState(seed))
            assert got == expected


@pytest.mark.parametrize("settings", SETTINGS)
def test_batch_draws_equal_one_draw_per_image(settings):
    augmenter = resolve_datagen(settings, {}).augmenter()
    batch = sample_transforms(augmenter, (8, 10, 3), 25, np.random.RandomState(5))
    rng = np.random.RandomState(5)
    for i in range(25):
        single = sample_transform(augmenter, (8, 10, 3), rng)
        for key, value in single.items():
            if value is None:
                assert batch[key] is None
            else:
                assert batch[key][i] == value, key


def test_parameter_distributions_match_the_reference_on_many_draws():
    settings = {**ARTICLE, "brightness_range": (0.5, 1.5), "channel_shift_range": 20}
    generator = resolve_datagen(settings, {}).augmenter()
    ours = sample_transforms(generator, (32, 32, 3), 3000, np.random.RandomState(11))
    with preserved_global_rngs():
        np.random.seed(12345)  # an independent stream for the reference
        theirs = [generator.get_random_transform((32, 32, 3)) for _ in range(3000)]
    for key in ("theta", "tx", "ty", "shear", "zx", "zy", "brightness", "channel_shift_intensity"):
        reference = np.array([t[key] for t in theirs], dtype=float)
        assert stats.ks_2samp(ours[key], reference).pvalue > 0.001, key
    flips = np.array([t["flip_horizontal"] for t in theirs], dtype=float)
    assert abs(ours["flip_horizontal"].mean() - flips.mean()) < 0.05


# ----------------------------------------------------------------------------
# Images
# ----------------------------------------------------------------------------
def test_identity_settings_give_back_the_input_exactly():
    X = _images((6, 8, 8, 3))
    for settings in ({}, {"fill_mode": "constant", "cval": 3.0}, {"rotation_range": 0}):
        reference, vectorized = _both(settings, X)
        np.testing.assert_array_equal(vectorized, X)
        np.testing.assert_array_equal(reference, X)


@pytest.mark.parametrize("channels", [1, 3])
def test_flips_are_exact(channels):
    X = _images((20, 7, 9, channels), smooth=False)
    reference, vectorized = _both({"horizontal_flip": True, "vertical_flip": True}, X)
    np.testing.assert_array_equal(vectorized, reference)
    # Each image is itself, or np.flip of itself along rows, columns or both.
    flips = [X, np.flip(X, 1), np.flip(X, 2), np.flip(X, (1, 2))]
    kinds = [
        next(k for k, flipped in enumerate(flips) if np.array_equal(vectorized[i], flipped[i]))
        for i in range(len(X))
    ]
    assert set(kinds) == {0, 1, 2, 3}


@pytest.mark.parametrize("fill_mode", ["nearest", "reflect", "wrap", "constant"])
@pytest.mark.parametrize("shape", [(16, 16, 3), (12, 20, 1), (20, 12, 3)])
@pytest.mark.parametrize("order", [0, 1])
def test_warp_matches_apply_transform(fill_mode, shape, order):
    X = _images((24, *shape), smooth=False)
    settings = {**ARTICLE, "fill_mode": fill_mode, "cval": 77.0, "interpolation_order": order}
    reference, vectorized = _both(settings, X)
    difference = np.abs(vectorized - reference) / 255
    assert difference.mean() <= 1e-3
    assert difference.max() <= 1e-2


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("low, high", [(0, 255), (0, 1), (-100, 400)])
def test_channel_shift_and_brightness_are_exact(channels, low, high):
    X = _images((16, 8, 8, channels), low=low, high=high)
    for settings in ({"channel_shift_range": 0.3 * (high - low)}, {"brightness_range": (0.4, 1.6)}):
        reference, vectorized = _both(settings, X)
        np.testing.assert_allclose(vectorized, reference, rtol=1e-5, atol=1e-5 * (high - low))


def test_everything_at_once_matches_the_reference():
    X = _images((32, 16, 16, 3))
    settings = {
        **ARTICLE,
        "vertical_flip": True,
        "channel_shift_range": 20,
        "brightness_range": (0.8, 1.2),
        "fill_mode": "reflect",
    }
    reference, vectorized = _both(settings, X)
    assert np.abs(vectorized - reference).mean() / 255 <= 1e-3


def test_unsupported_interpolation_order_falls_back_with_a_reason():
    generator = resolve_datagen({"rotation_range": 10, "interpolation_order": 3}, {}).augmenter()
    with pytest.warns(UserWarning, match=r"interpolation_order 0 \(nearest\) and 1 .* not 3"):
        augmenter = make_augmenter("vectorized", generator)
    assert isinstance(augmenter, ReferenceAugmenter)


def test_engine_parameter_is_checked(toy):
    X, y = toy
    message = r"'engine' parameter .* 'vectorized', 'imagedatagenerator'"
    with pytest.raises(ValueError, match=message):
        AugmentedKerasClassifier(engine="opencv", **FAST).fit(X, y)


@pytest.mark.slow  # 3-5 s of fits: run once in CI with the slow tests
def test_both_engines_train_identically_seeded_models(toy):
    # Same seed -> same parameters -> (numerically) the same training images.
    X, y = toy
    params = {"datagen": ARTICLE, "random_state": 3, **FAST}
    reference = AugmentedKerasClassifier(engine="imagedatagenerator", **params).fit(X, y)
    vectorized = AugmentedKerasClassifier(engine="vectorized", **params).fit(X, y)
    np.testing.assert_allclose(
        reference.predict_proba(X), vectorized.predict_proba(X), rtol=1e-3, atol=1e-3
    )


@pytest.mark.slow
def test_cross_validation_accuracy_is_indistinguishable_between_engines(digits):
    X, y = digits
    X, y = X[::2], y[::2]  # 899 images
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = {}
    for engine in ("imagedatagenerator", "vectorized"):
        clf = AugmentedKerasClassifier(
            datagen={
                "rotation_range": 10,
                "width_shift_range": 0.1,
                "zoom_range": 0.1,
                "rescale": 1 / 16,
            },
            engine=engine,
            epochs=6,
            batch_size=32,
            verbose=0,
            optimizer="adam",
            random_state=0,
        )
        scores[engine] = cross_val_score(clf, X, y, cv=cv)
    # Seeded: both engines draw the same transforms, so the folds' models see the same
    # training images up to float32 round-off, and score alike fold by fold (unseeded fits
    # differ by their initial weights; a paired test over five folds then failed by chance).
    difference = scores["vectorized"] - scores["imagedatagenerator"]
    assert np.abs(difference).max() <= 0.02, scores


def test_a_fit_keeps_opencv_single_threaded_and_restores_it(toy):
    import cv2
    import keras

    X, y = toy
    before = cv2.getNumThreads()
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(cv2.getNumThreads())

    AugmentedKerasClassifier(datagen=ARTICLE, callbacks=[Probe()], **FAST).fit(X, y)
    assert seen == [1]
    assert cv2.getNumThreads() == before
