"""RandAugment and TrivialAugment-Wide: the ops, the draws, and the two engines.

Tolerances: on 8-bit images the vectorized ops must match PIL (the reference
engine) within a mean absolute difference of 1 grey level and a maximum of 2
over the whole image, fill edges included (measured: mean at most 0.5, max
1.3; PIL truncates its blends, auto-contrast and bilinear interpolation to
integers, so it is about 0.4 level darker on average), and exactly for the
ops defined on 8-bit levels (equalize, posterize, solarize).
"""

import numpy as np
import pytest
from scipy import stats
from scipy.ndimage import gaussian_filter

from skimgaug._augment._randaugment import (
    OPERATIONS,
    _draw,
    apply_operation,
    rand_augment,
    trivial_augment,
)
from skimgaug.exceptions import InvalidParameterError

GEOMETRIC = ("rotate", "shear_x", "shear_y", "translate_x", "translate_y")
LEVEL_OPS = ("equalize", "posterize", "solarize")
WITH_MAGNITUDE = GEOMETRIC + (
    "solarize",
    "color",
    "posterize",
    "contrast",
    "brightness",
    "sharpness",
)
ENGINES = ("vectorized", "reference")


def textured(shape=(32, 32, 3), seed=0, low=10.0, high=245.0, integer=True):
    """Smooth coloured noise plus a gradient, spanning [low, high]."""
    rng = np.random.default_rng(seed)
    x = gaussian_filter(rng.random(shape), sigma=(1.5, 1.5, 0))
    x += np.linspace(0, x.std() * 3, shape[1])[None, :, None]
    x = (x - x.min()) / (x.max() - x.min()) * (high - low) + low
    return (np.rint(x) if integer else x).astype(np.float32)


def batch_of(n, shape=(16, 16, 3), seed=0):
    return np.stack([textured(shape, seed=seed + i) for i in range(n)])


# The ops one by one.


def test_operations_are_the_usual_fourteen_in_the_papers_order():
    assert OPERATIONS[:3] == ("identity", "auto_contrast", "equalize")
    assert len(OPERATIONS) == len(set(OPERATIONS)) == 14
    assert set(GEOMETRIC) < set(OPERATIONS)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", [op for op in OPERATIONS if op != "identity"])
def test_every_op_changes_an_image_at_magnitude_one(name, engine):
    image = textured()
    out = apply_operation(image, name, 1.0, engine=engine)
    assert out.shape == image.shape and out.dtype == np.float32
    assert np.abs(out - image).mean() > 1.0


@pytest.mark.parametrize("low, high", [(0, 255), (0, 65535), (-1000.0, 3000.0)])
@pytest.mark.parametrize("name", OPERATIONS)
def test_every_op_keeps_the_value_range(name, low, high):
    # 16 bits, and Hounsfield-like units whose range is the image's own min..max.
    image = textured(low=low, high=high, integer=False)
    for sign in (1, -1):
        out = apply_operation(image, name, 1.0, sign)
        assert out.dtype == np.float32
        assert out.min() >= low - 1e-3 * (high - low)
        assert out.max() <= high + 1e-3 * (high - low)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", WITH_MAGNITUDE)
def test_magnitude_zero_is_the_identity(name, engine):
    image = textured()  # within [10, 245]: solarize's threshold at 255 inverts nothing
    out = apply_operation(image, name, 0.0, sign=-1, engine=engine)
    np.testing.assert_allclose(out, image, atol=1e-3)


def test_rotation_is_counter_clockwise_and_wide_magnitude_two_thirds_is_90_degrees():
    image = textured((17, 17, 3))
    for engine in ENGINES:
        out = apply_operation(image, "rotate", 2 / 3, space="wide", engine=engine)
        np.testing.assert_allclose(out, np.rot90(image), atol=1e-3)


def test_solarize_at_magnitude_one_inverts_everything_in_the_range():
    image = textured(low=-500.0, high=1500.0, integer=False)  # own range: [-500, 1500]
    out = apply_operation(image, "solarize", 1.0)
    np.testing.assert_allclose(out, 1000.0 - image, atol=1e-2)


def test_posterize_at_magnitude_one_keeps_four_bits():
    out = apply_operation(textured(), "posterize", 1.0)
    assert np.all(out % 16 == 0) and len(np.unique(out)) > 4


def test_geometric_ops_fill_with_the_images_low_value():
    image = textured((32, 32, 1), low=-1000.0, high=3000.0, integer=False)
    out = apply_operation(image, "translate_x", 1.0, sign=1)  # content moves left
    np.testing.assert_allclose(out[:, -10:], -1000.0, atol=1e-3)
    assert np.abs(out[:, :10] - image[:, -10:]).max() > 0  # and content was kept


@pytest.mark.parametrize("name", [op for op in OPERATIONS if op not in GEOMETRIC])
def test_photometric_ops_leave_alpha_untouched(name):
    image = textured((16, 16, 4))
    for engine in ENGINES:
        out = apply_operation(image, name, 1.0, engine=engine)
        np.testing.assert_array_equal(out[..., 3], image[..., 3])


def test_color_leaves_a_one_channel_image_unchanged():
    image = textured((16, 16, 1))
    np.testing.assert_array_equal(apply_operation(image, "color", 1.0), image)


# The two engines, op by op.


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("name", OPERATIONS)
def test_vectorized_op_matches_pil_on_8_bit_images(name, channels, sign):
    image = textured((32, 32, channels), seed=channels)
    for magnitude in (0.4, 1.0):
        fast = apply_operation(image, name, magnitude, sign, engine="vectorized")
        pil = apply_operation(image, name, magnitude, sign, engine="reference")
        difference = np.abs(fast - pil)
        if name in LEVEL_OPS:
            assert difference.max() < 1e-3
        assert difference.mean() < 1.0
        assert difference.max() <= 2.0


@pytest.mark.parametrize("name", OPERATIONS)
def test_vectorized_op_matches_pil_in_levels_of_a_wide_range(name):
    # Values outside 8 bits: the reference's round trip quantizes to 256 levels of the range.
    low, high = -1000.0, 3000.0
    image = textured((32, 32, 3), low=low, high=high, integer=False)
    fast = apply_operation(image, name, 0.7, engine="vectorized")
    pil = apply_operation(image, name, 0.7, engine="reference")
    difference = np.abs(fast - pil) / (high - low) * 255
    assert difference.mean() < 1.0


# Whole batches: the draws and the engines.


def test_draws_pick_every_op_uniformly():
    ops, magnitudes, signs = _draw(np.random.RandomState(0), 7000, 2, 0.5)
    counts = np.bincount(ops.ravel(), minlength=len(OPERATIONS))
    assert stats.chisquare(counts).pvalue > 1e-3
    assert np.all(magnitudes == 0.5)
    assert abs((signs == 1).mean() - 0.5) < 0.02


def test_trivial_augment_draws_magnitudes_uniformly():
    _, magnitudes, _ = _draw(np.random.RandomState(0), 5000, 1, None)
    assert stats.kstest(magnitudes.ravel(), "uniform").pvalue > 1e-3


def test_one_image_in_fourteen_draws_the_identity():
    batch = batch_of(280, shape=(24, 24, 3))  # equalize needs 255+ pixels to act
    out = rand_augment(batch, np.random.RandomState(0), n_ops=1, magnitude=1.0)
    unchanged = np.all(out == batch, axis=(1, 2, 3)).sum()
    assert 8 <= unchanged <= 36  # expected 20 (binomial sd 4.3)


@pytest.mark.parametrize("engine", ENGINES)
def test_n_ops_zero_returns_the_batch_unchanged(engine):
    batch = batch_of(4)
    out = rand_augment(batch, np.random.RandomState(0), n_ops=0, magnitude=1.0, engine=engine)
    np.testing.assert_array_equal(out, batch)
    assert out is not batch


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("augment", ["rand", "trivial"])
def test_same_seed_same_output_different_seeds_differ(augment, engine):
    batch = batch_of(6)
    before = batch.copy()

    def run(seed):
        rng = np.random.RandomState(seed)
        if augment == "rand":
            return rand_augment(batch, rng, n_ops=2, magnitude=0.6, engine=engine)
        return trivial_augment(batch, rng, engine=engine)

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))
    np.testing.assert_array_equal(batch, before)  # the input is not changed


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_engines_agree_on_a_randaugment_batch(channels):
    # Same seed, same draws: image statistics must agree, within PIL's
    # truncation (about 0.4 grey level darker per blend or warp).
    batch = batch_of(48, shape=(24, 24, channels))
    fast, pil = (
        rand_augment(batch, np.random.RandomState(7), n_ops=2, magnitude=0.8, engine=engine)
        for engine in ENGINES
    )
    means = [x.mean(axis=(1, 2, 3)) for x in (fast, pil)]
    stds = [x.std(axis=(1, 2, 3)) for x in (fast, pil)]
    assert abs(means[0].mean() - means[1].mean()) < 1.0
    assert abs(stds[0].mean() - stds[1].mean()) < 0.5
    assert np.abs(means[0] - means[1]).max() < 2.0
    assert abs(means[0].std() - means[1].std()) < 0.5


def test_engines_agree_on_a_trivial_augment_batch():
    batch = batch_of(48, shape=(24, 24, 3))
    fast, pil = (trivial_augment(batch, np.random.RandomState(7), engine=e) for e in ENGINES)
    assert np.median(np.abs(fast - pil).mean(axis=(1, 2, 3))) < 1.0
    assert abs(fast.mean() - pil.mean()) < 0.5 and abs(fast.std() - pil.std()) < 0.5


# Mistakes.


def test_parameters_are_checked():
    batch = batch_of(2)
    rng = np.random.RandomState(0)
    with pytest.raises(InvalidParameterError, match="'magnitude' parameter of rand_augment"):
        rand_augment(batch, rng, n_ops=2, magnitude=1.5)
    with pytest.raises(InvalidParameterError, match="'n_ops' parameter .* Got -1"):
        rand_augment(batch, rng, n_ops=-1, magnitude=0.5)
    with pytest.raises(InvalidParameterError, match="'engine' parameter of trivial_augment"):
        trivial_augment(batch, rng, engine="pil")
    with pytest.raises(InvalidParameterError, match="'name' .* Got 'invert'"):
        apply_operation(batch[0], "invert", 0.5)
    with pytest.raises(ValueError, match=r"1, 3 or 4 channels. Got shape \(2, 16, 16, 2\)"):
        rand_augment(batch[..., :2], rng, n_ops=1, magnitude=0.5)
