"""The ``augment`` parameter: its validation, and the kernels of its transforms.

Every kernel, in both engines: changes images, stays within each image's
value range, keeps shape and dtype, repeats itself for the same seed, does
nothing at neutral settings, and agrees with the other engine (equal to
float32 tolerance for a fixed parameter, equal in distribution otherwise).
"""

import numpy as np
import pytest
from scipy import stats
from scipy.ndimage import gaussian_filter

from skimgaug._augment._augment_keys import (
    AUGMENT_KEYS,
    active_transforms,
    inert_settings,
    is_off,
    mixes,
    resolve_augment,
)
from skimgaug._augment._elastic import displacement_fields, elastic, remap_batch, remap_image
from skimgaug._augment._erasing import random_erasing
from skimgaug._augment._filters import clahe, gaussian_blur, gaussian_noise
from skimgaug._augment._mixing import mix_batch
from skimgaug._augment._photometric import contrast, gamma, hue, saturation
from skimgaug._augment._ranges import value_ranges
from skimgaug.exceptions import InvalidParameterError

ENGINES = ("vectorized", "reference")
PREFIX = r"The 'augment' parameter of AugmentedKerasClassifier"


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------
def test_defaults_switch_every_transform_off():
    settings = resolve_augment(None)
    assert tuple(settings) == AUGMENT_KEYS
    assert settings == resolve_augment({})
    assert is_off(settings) and not mixes(settings)
    assert active_transforms(settings) == []


def test_values_are_normalized():
    settings = resolve_augment(
        {
            "gamma_range": [0.8, 1.25],
            "hue_range": np.array([-0.1, 0.1]),
            "rand_augment_ops": np.int64(2),
            "mixup_alpha": np.float64(0.2),
            "trivial_augment": np.bool_(False),
            "erasing_scale": (np.float32(0.25), 0.5),
        }
    )
    assert settings["gamma_range"] == (0.8, 1.25)
    assert settings["hue_range"] == (-0.1, 0.1)
    assert type(settings["rand_augment_ops"]) is int and settings["rand_augment_ops"] == 2
    assert type(settings["mixup_alpha"]) is float and settings["trivial_augment"] is False
    assert all(type(v) is float for v in settings["erasing_scale"])


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("rand_augment_ops", -1, "an int >= 0"),
        ("rand_augment_ops", 1.5, "an int >= 0"),
        ("rand_augment_ops", True, "an int >= 0"),
        ("rand_augment_magnitude", 1.5, r"a number in \[0, 1\]"),
        ("trivial_augment", 1, "True or False"),
        ("mixup_alpha", -0.2, "a number >= 0"),
        ("cutmix_alpha", float("nan"), "a number >= 0"),
        ("mixup_alpha", False, "a number >= 0"),
        ("mix_probability", 1.1, r"a probability, a number in \[0, 1\]"),
        ("erasing_probability", "0.5", r"a probability"),
        ("erasing_scale", (0.0, 0.3), r"0 < low <= high < 1"),
        ("erasing_scale", (0.3, 1.0), r"0 < low <= high < 1"),
        ("erasing_scale", None, r"a pair \(low, high\)"),
        ("elastic_alpha", -1, "a number >= 0"),
        ("elastic_sigma", 0, "a number > 0"),
        ("gamma_range", (0, 1), r"None or a pair \(low, high\) of numbers with 0 < low <= high"),
        ("gamma_range", (1.2, 0.8), "0 < low <= high"),
        ("contrast_range", (-0.1, 1), "0 <= low <= high"),
        ("saturation_range", (1, 2, 3), r"a pair \(low, high\)"),
        ("hue_range", (-0.6, 0.1), "-0.5 <= low <= high <= 0.5"),
        ("hue_range", 0.1, "-0.5 <= low <= high <= 0.5"),
        ("gaussian_noise_std", -0.1, "a number >= 0"),
        ("blur_sigma_range", (1, float("inf")), "0 <= low <= high"),
        ("blur_sigma_range", (True, 2), "0 <= low <= high"),
        ("clahe_clip_limit", 0, "None or a number > 0"),
        ("clahe_probability", -0.5, "a probability"),
    ],
)
def test_refused_value_names_key_value_and_what_is_allowed(key, value, allowed):
    with pytest.raises(InvalidParameterError) as caught:
        resolve_augment({key: value})
    message = str(caught.value)
    assert message.startswith(PREFIX.replace("\\", ""))
    assert f"augment[{key!r}] must be" in message
    assert f"Got {value!r} instead" in message
    assert caught.match(allowed)


def test_unknown_key_suggests_the_closest():
    with pytest.raises(ValueError, match=PREFIX + r" has an unknown key 'mixup'; did you mean"):
        resolve_augment({"mixup": 0.2})
    with pytest.raises(ValueError, match=r"'gama_range'; did you mean 'gamma_range'\?"):
        resolve_augment({"gama_range": (0.8, 1.2)})


def test_unknown_key_without_a_close_one_lists_the_keys():
    with pytest.raises(
        ValueError, match=r"'zoom'; the keys are rand_augment_ops, .*clahe_probability"
    ):
        resolve_augment({"zoom": 0.2})


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValueError, match=PREFIX + r" has 3 problems:\n- ") as caught:
        resolve_augment({"mixupalpha": 1, "hue_range": (0.2, 0.1), "elastic_sigma": -1})
    for fragment in ("'mixupalpha'", "augment['hue_range']", "augment['elastic_sigma']"):
        assert fragment in str(caught.value)


def test_rand_augment_and_trivial_augment_are_exclusive():
    with pytest.raises(ValueError, match=r"rand_augment_ops'\] = 2 and .* cannot be used together"):
        resolve_augment({"rand_augment_ops": 2, "trivial_augment": True})
    assert resolve_augment({"rand_augment_ops": 0, "trivial_augment": True})["trivial_augment"]


@pytest.mark.parametrize("augment", [[("mixup_alpha", 0.2)], "mixup", 0.2])
def test_augment_must_be_a_dict_or_none(augment):
    with pytest.raises(TypeError, match=PREFIX + " must be None or a dict"):
        resolve_augment(augment)


def test_owner_is_named():
    with pytest.raises(ValueError, match="The 'augment' parameter of AugmentedKerasRegressor"):
        resolve_augment({"mixup_alpha": -1}, owner="AugmentedKerasRegressor")


def test_what_is_on_and_what_has_no_effect():
    settings = resolve_augment({"cutmix_alpha": 1.0, "clahe_probability": 0.5})
    assert mixes(settings) and active_transforms(settings) == ["mixing"]
    assert inert_settings(settings) == [("clahe_probability", "clahe_clip_limit")]
    assert is_off(resolve_augment({"mixup_alpha": 0.4, "mix_probability": 0.0}))
    assert is_off(resolve_augment({"clahe_clip_limit": 2.0, "clahe_probability": 0.0}))
    assert not is_off(resolve_augment({"trivial_augment": True}))


# --------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------
#: Kinds of images: channels and value range.
KINDS = {
    "rgb8": (3, 0, 255),
    "grey16": (1, 0, 60000),
    "signed": (1, -1000, 2000),
    "rgba": (4, 0, 255),
}


def _images(kind="rgb8", n=6, size=16, seed=0, dtype=np.float32):
    """Smooth images stretched to fill the kind's range."""
    channels, low, high = KINDS[kind]
    x = np.random.RandomState(seed).random_sample((n, size, size, channels))
    x = gaussian_filter(x, sigma=(0, 2, 2, 0))
    x -= x.min(axis=(1, 2, 3), keepdims=True)
    x /= x.max(axis=(1, 2, 3), keepdims=True)
    return (low + (high - low) * x).astype(dtype)


def _unit_rescale(batch):
    """A ``rescale`` that maps the batch's spread onto about 1."""
    return 1 / max(float(np.ptp(batch)) if batch.size else 1.0, 1.0)


#: transform -> (kernel, typical random settings, neutral settings); a callable
#: setting is called with the batch.
TRANSFORMS = {
    "gamma": (gamma, {"gamma_range": (0.5, 2.0)}, {"gamma_range": (1, 1)}),
    "contrast": (contrast, {"contrast_range": (0.3, 1.7)}, {"contrast_range": (1, 1)}),
    "saturation": (saturation, {"saturation_range": (0, 2)}, {"saturation_range": (1, 1)}),
    "hue": (hue, {"hue_range": (-0.5, 0.5)}, {"hue_range": (0, 0)}),
    "noise": (gaussian_noise, {"std": 0.03, "rescale": _unit_rescale}, {"std": 0.0}),
    "blur": (gaussian_blur, {"sigma_range": (0.5, 2.0)}, {"sigma_range": (0, 0)}),
    "clahe": (clahe, {"clip_limit": 3.0}, {"clip_limit": 3.0, "probability": 0.0}),
    "erasing": (random_erasing, {"probability": 1.0}, {"probability": 0.0}),
    "elastic": (elastic, {"alpha": 20.0, "sigma": 3.0}, {"alpha": 0.0}),
}
#: Transforms of colour only: grey images pass unchanged.
COLOUR_ONLY = {"saturation", "hue"}
#: Transforms that keep the alpha channel.
KEEP_ALPHA = {"gamma", "contrast", "saturation", "hue", "noise", "clahe"}


def _apply(name, batch, seed=0, engine="vectorized", neutral=False):
    kernel, settings, neutral_settings = TRANSFORMS[name]
    settings = neutral_settings if neutral else settings
    settings = {key: value(batch) if callable(value) else value for key, value in settings.items()}
    return kernel(batch, np.random.RandomState(seed), **settings, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", TRANSFORMS)
def test_changes_images_within_their_range(name, kind, engine):
    batch = _images(kind)
    low, high = value_ranges(batch)
    out = _apply(name, batch.copy(), engine=engine)
    assert out.shape == batch.shape and out.dtype == batch.dtype
    assert (out >= low[:, None, None, None]).all() and (out <= high[:, None, None, None]).all()
    if name in COLOUR_ONLY and KINDS[kind][0] == 1:
        np.testing.assert_array_equal(out, batch)  # documented no-op for grey images
    else:
        changed = np.abs(out - batch).max(axis=(1, 2, 3)) > 1e-3 * (high - low)
        assert changed.all()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(KEEP_ALPHA))
def test_colour_transforms_keep_alpha(name, engine):
    batch = _images("rgba")
    out = _apply(name, batch.copy(), engine=engine)
    np.testing.assert_array_equal(out[..., 3], batch[..., 3])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", TRANSFORMS)
def test_same_seed_same_result_float64_kept(name, engine):
    batch = _images("rgb8", dtype=np.float64)
    first = _apply(name, batch.copy(), seed=3, engine=engine)
    np.testing.assert_array_equal(first, _apply(name, batch.copy(), seed=3, engine=engine))
    assert first.dtype == np.float64
    if name != "clahe":  # CLAHE with probability 1 draws nothing
        assert not np.array_equal(first, _apply(name, batch.copy(), seed=4, engine=engine))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", TRANSFORMS)
def test_neutral_settings_change_nothing(name, engine):
    batch = _images("rgb8")
    out = _apply(name, batch.copy(), engine=engine, neutral=True)
    np.testing.assert_allclose(out, batch, rtol=1e-5, atol=255 * 1e-5)


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_batch(engine):
    empty = np.zeros((0, 8, 8, 3), dtype=np.float32)
    for name in TRANSFORMS:
        assert _apply(name, empty.copy(), engine=engine).shape == empty.shape


#: Fixed parameters, for which both engines compute the same function.
FIXED = {
    "gamma": lambda b, e: gamma(b, np.random.RandomState(0), (0.6, 0.6), engine=e),
    "contrast": lambda b, e: contrast(b, np.random.RandomState(0), (1.4, 1.4), engine=e),
    "saturation": lambda b, e: saturation(b, np.random.RandomState(0), (1.6, 1.6), engine=e),
    "hue": lambda b, e: hue(b, np.random.RandomState(0), (0.2, 0.2), engine=e),
    "blur": lambda b, e: gaussian_blur(b, np.random.RandomState(0), (1.3, 1.3), engine=e),
    "clahe": lambda b, e: clahe(b, np.random.RandomState(0), 2.5, engine=e),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", FIXED)
def test_engines_equal_for_a_fixed_parameter(name, kind):
    batch = _images(kind)
    span = KINDS[kind][2] - KINDS[kind][1]
    vectorized = FIXED[name](batch.copy(), "vectorized")
    reference = FIXED[name](batch.copy(), "reference")
    np.testing.assert_allclose(vectorized, reference, rtol=1e-5, atol=span * 1e-5)


def test_engines_equal_for_the_same_displacement_field():
    batch = _images("rgb8")
    fields = displacement_fields(np.random.RandomState(0), batch.shape[:3], 15.0, 3.0)
    expected = [remap_image(image, dx, dy) for image, (dx, dy) in zip(batch, fields, strict=True)]
    np.testing.assert_allclose(remap_batch(batch.copy(), fields), expected, rtol=1e-5, atol=0.01)
    zero = np.zeros_like(fields)
    np.testing.assert_allclose(remap_batch(batch.copy(), zero), batch, rtol=1e-6)


def _change_per_image(name, engine, seed):
    batch = _images("rgb8", n=150, size=12, seed=1)
    out = _apply(name, batch.copy(), seed=seed, engine=engine)
    return np.abs(out - batch).mean(axis=(1, 2, 3)) / 255


@pytest.mark.parametrize("name", TRANSFORMS)
def test_engines_agree_in_distribution(name):
    """Different seeds for the two engines: how much each image changes, compared."""
    vectorized = _change_per_image(name, "vectorized", seed=10)
    reference = _change_per_image(name, "reference", seed=20)
    standard_error = np.hypot(vectorized.std(), reference.std()) / np.sqrt(len(vectorized))
    assert abs(vectorized.mean() - reference.mean()) < 4 * standard_error
    assert stats.ks_2samp(vectorized, reference).pvalue > 1e-3


def test_gamma_formula():
    batch = np.array([0.0, 63.75, 255.0], dtype=np.float32).reshape(1, 3, 1, 1)
    out = gamma(batch, np.random.RandomState(0), (2.0, 2.0))
    np.testing.assert_allclose(out.ravel(), [0.0, 255 * 0.25**2, 255.0], rtol=1e-6)


def test_contrast_keeps_the_mean_grey_level():
    batch = np.random.RandomState(0).uniform(50, 200, (3, 8, 8, 3))
    out = contrast(batch.copy(), np.random.RandomState(0), (0.5, 0.5))
    grey = np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose((out @ grey).mean(axis=(1, 2)), (batch @ grey).mean(axis=(1, 2)))
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), batch.std(axis=(1, 2, 3)) / 2, rtol=1e-6)


def test_saturation_zero_gives_grey():
    out = saturation(_images("rgb8"), np.random.RandomState(0), (0.0, 0.0))
    np.testing.assert_allclose(out[..., 0], out[..., 1], atol=1e-3)
    np.testing.assert_allclose(out[..., 0], out[..., 2], atol=1e-3)


@pytest.mark.parametrize("engine", ENGINES)
def test_hue_half_turn_turns_red_to_cyan_and_is_its_own_inverse(engine):
    red = np.array([255.0, 0.0, 0.0], dtype=np.float32).reshape(1, 1, 1, 3)
    cyan = hue(red.copy(), np.random.RandomState(0), (0.5, 0.5), engine=engine)
    np.testing.assert_allclose(cyan.ravel(), [0, 255, 255], atol=1e-2)
    batch = _images("rgb8")
    turned = hue(batch.copy(), np.random.RandomState(0), (0.5, 0.5), engine=engine)
    back = hue(turned, np.random.RandomState(0), (-0.5, -0.5), engine=engine)
    np.testing.assert_allclose(back, batch, atol=0.05)


@pytest.mark.parametrize("engine", ENGINES)
def test_noise_std_is_in_rescaled_units(engine):
    flat = np.full((20, 16, 16, 1), 30000.0)
    noisy = gaussian_noise(flat, np.random.RandomState(0), 0.5, rescale=1 / 1000, engine=engine)
    np.testing.assert_allclose((noisy - 30000).std(), 500, rtol=0.02)


@pytest.mark.parametrize("engine", ENGINES)
def test_clahe_probability_is_per_image(engine):
    batch = _images("rgb8", n=200, size=8)[..., :1]
    out = clahe(batch.copy(), np.random.RandomState(0), 2.0, probability=0.3, engine=engine)
    changed = (out != batch).any(axis=(1, 2, 3))
    assert 40 <= changed.sum() <= 80


@pytest.mark.parametrize("engine", ENGINES)
def test_clahe_of_8_bit_grey_images_stays_on_the_8_bit_grid(engine):
    batch = _images("rgb8")[..., :1]
    out = clahe(batch, np.random.RandomState(0), 2.0, engine=engine)
    np.testing.assert_array_equal(out, np.rint(out))


@pytest.mark.parametrize("engine", ENGINES)
def test_erasing_rectangle_size_and_values(engine):
    batch = np.full((100, 20, 30, 3), -5.0, dtype=np.float32)  # own range [-5, -4]
    out = random_erasing(batch, np.random.RandomState(0), 1.0, scale=(0.1, 0.3), engine=engine)
    erased = (out != -5.0).any(axis=-1)
    area = erased.mean(axis=(1, 2))
    assert area.min() >= 0.08 and area.max() <= 0.32
    heights, widths = erased.any(axis=2).sum(axis=1), erased.any(axis=1).sum(axis=1)
    np.testing.assert_array_equal(heights * widths, erased.sum(axis=(1, 2)))  # rectangles
    assert (heights / widths).min() > 0.25 and (heights / widths).max() < 4.0
    values = out[erased]
    assert values.min() >= -5.0 and values.max() <= -4.0 and abs(values.mean() + 4.5) < 0.02


@pytest.mark.parametrize("kernel", [gamma, gaussian_blur])
def test_unknown_engine_is_refused_by_name(kernel):
    message = (
        f"The 'engine' parameter of {kernel.__name__} must be one of 'vectorized', 'reference'"
    )
    with pytest.raises(ValueError, match=message):
        kernel(_images(), np.random.RandomState(0), (1, 1), engine="imagedatagenerator")


# --------------------------------------------------------------------------
# MixUp and CutMix
# --------------------------------------------------------------------------
def _mixable(n=8, size=10):
    """Image i filled with i; one-hot target i; weight i + 1."""
    batch = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None], (n, size, size, 3))
    return batch.copy(), np.eye(n), np.arange(1.0, n + 1)


MIXES = {"mixup": (0.4, 0.0), "cutmix": (0.0, 1.0), "both": (0.4, 1.0)}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("mix", MIXES)
def test_targets_and_weights_mix_in_the_pixels_proportion(mix, engine):
    for seed in range(5):
        batch, targets, weights = _mixable()
        out, mixed, mixed_weights = mix_batch(
            batch, targets, weights, np.random.RandomState(seed), *MIXES[mix], engine=engine
        )
        np.testing.assert_allclose(mixed.sum(axis=1), 1.0, rtol=1e-6)
        expected = mixed @ np.arange(len(targets))  # mean of the mixed pixels
        np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(mixed_weights, mixed @ weights, rtol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_cutmix_proportion_is_the_pasted_area(engine):
    for seed in range(10):
        batch, targets, _ = _mixable(size=13)
        out, mixed, _ = mix_batch(
            batch, targets, None, np.random.RandomState(seed), 0.0, 1.0, engine=engine
        )
        own = (out == np.arange(len(out))[:, None, None, None]).all(axis=-1).mean(axis=(1, 2))
        np.testing.assert_allclose(own, np.diag(mixed), atol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_probability_zero_leaves_everything(engine):
    batch, targets, weights = _mixable()
    out, mixed, mixed_weights = mix_batch(
        batch.copy(), targets, weights, np.random.RandomState(0), 0.4, 1.0, 0.0, engine=engine
    )
    np.testing.assert_array_equal(out, batch)
    np.testing.assert_array_equal(mixed, targets)
    np.testing.assert_array_equal(mixed_weights, weights)


def test_caller_targets_are_not_changed_and_weights_may_be_none():
    batch, targets, _ = _mixable()
    kept = targets.copy()
    _, mixed, weights = mix_batch(batch, targets, None, np.random.RandomState(0), 1.0, 0.0)
    np.testing.assert_array_equal(targets, kept)
    assert weights is None and not np.array_equal(mixed, kept)


def test_engines_mix_alike():
    for seed in range(5):
        results = [
            mix_batch(*_mixable(), np.random.RandomState(seed), 0.4, 1.0, engine=engine)
            for engine in ENGINES
        ]
        for vectorized, reference in zip(*results, strict=True):
            np.testing.assert_allclose(vectorized, reference, rtol=1e-6, atol=1e-6)


def test_both_alphas_choose_mixup_or_cutmix_half_the_time():
    cutmix = 0
    for seed in range(200):
        batch, targets, _ = _mixable(n=4, size=6)
        out, _, _ = mix_batch(batch, targets, None, np.random.RandomState(seed), 0.4, 1.0)
        cutmix += np.isin(out, np.arange(4)).all()  # CutMix pastes; MixUp blends
    assert 75 <= cutmix <= 125


def test_indicator_targets_stay_within_zero_and_one():
    batch = _images("rgb8", n=8)
    targets = np.random.RandomState(0).randint(0, 2, (8, 5)).astype(np.float32)
    _, mixed, _ = mix_batch(batch, targets, None, np.random.RandomState(1), 1.0, 0.0)
    assert mixed.dtype == np.float32 and mixed.min() >= 0 and mixed.max() <= 1
