"""Routing and validation of ``ImageDataGenerator`` settings.

One table, :data:`DATAGEN_KEYS`, says for every ``ImageDataGenerator`` keyword
whether it is a *random augmentation* (applied to training batches only) or a
*deterministic standardization* (applied to every image the model sees). The
estimator never decides that itself.
"""

import difflib
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .._compat import make_image_data_generator

AUGMENTATION = "augmentation"
STANDARDIZATION = "standardization"
FORMAT = "format"
REFUSED = "refused"

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


# --------------------------------------------------------------------------
# Value checkers: each returns the normalized value or raises ValueError with
# a sentence fragment describing what is allowed.
# --------------------------------------------------------------------------
class _Invalid(ValueError):
    """A value is not allowed; the message says what is."""


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)


def _non_negative(value):
    if not _is_real(value) or value < 0:
        raise _Invalid("a finite number >= 0")
    return float(value) if not isinstance(value, numbers.Integral) else int(value)


def _flag(value):
    if not isinstance(value, (bool, np.bool_)):
        raise _Invalid("True or False")
    return bool(value)


def _shift_range(value):
    if _is_real(value) and value >= 0:
        return _non_negative(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        values = np.asarray(value)
        if values.ndim == 1 and values.size and all(_is_real(v) for v in values.tolist()):
            return [float(v) if not float(v).is_integer() else int(v) for v in values.tolist()]
    raise _Invalid(
        "a number >= 0 (a fraction of the image size if < 1, else pixels) "
        "or a non-empty list of numbers to choose from"
    )


def _brightness_range(value):
    if value is None:
        return None
    if (
        isinstance(value, (list, tuple, np.ndarray))
        and len(value) == 2
        and all(_is_real(v) for v in value)
        and 0 <= value[0] < value[1]
    ):
        return (float(value[0]), float(value[1]))
    raise _Invalid("None or two increasing numbers >= 0, such as (0.8, 1.2)")


def _zoom_range(value):
    if _is_real(value):
        if 0 <= value < 1:
            return float(value)
        raise _Invalid("a number in [0, 1) or a pair (low, high) with 0 < low <= high")
    if (
        isinstance(value, (list, tuple, np.ndarray))
        and len(value) == 2
        and all(_is_real(v) for v in value)
        and 0 < value[0] <= value[1]
    ):
        return [float(value[0]), float(value[1])]
    raise _Invalid("a number in [0, 1) or a pair (low, high) with 0 < low <= high")


def _fill_mode(value):
    if value not in FILL_MODES:
        raise _Invalid("one of " + ", ".join(repr(m) for m in FILL_MODES))
    return value


def _finite(value):
    if not _is_real(value):
        raise _Invalid("a finite number")
    return float(value)


def _interpolation_order(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value <= 5:
        raise _Invalid("an integer spline order from 0 to 5")
    return int(value)


def _rescale(value):
    if value is None:
        return None
    if not _is_real(value) or value == 0:
        raise _Invalid("None or a finite non-zero number, such as 1/255")
    return float(value)


def _callable_or_none(value):
    if value is not None and not callable(value):
        raise _Invalid("None or a function taking and returning one image")
    return value


def _positive(value):
    if not _is_real(value) or value <= 0:
        raise _Invalid("a finite number > 0")
    return float(value)


def _data_format(value):
    if value not in (None, "channels_last"):
        raise _Invalid(
            "None or 'channels_last' (skimgaug works on channels-last images; "
            "move the channel axis with np.moveaxis(X, 1, -1))"
        )
    return "channels_last"


def _float_dtype(value):
    if value is None:
        return None
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype not in (np.float32, np.float64):
        raise _Invalid(
            "None, 'float32' or 'float64' (SciPy, which ImageDataGenerator uses to "
            "warp images, has no float16)"
        )
    return dtype.name


@dataclass(frozen=True)
class KeySpec:
    """How one ``ImageDataGenerator`` keyword is routed and checked."""

    role: str
    check: Callable = None
    identity: object = None  # the value under which the key does nothing


#: The key table: every ImageDataGenerator keyword, its role and its checker.
DATAGEN_KEYS = {
    # random augmentation: training batches only
    "rotation_range": KeySpec(AUGMENTATION, _non_negative, 0),
    "width_shift_range": KeySpec(AUGMENTATION, _shift_range, 0.0),
    "height_shift_range": KeySpec(AUGMENTATION, _shift_range, 0.0),
    "brightness_range": KeySpec(AUGMENTATION, _brightness_range, None),
    "shear_range": KeySpec(AUGMENTATION, _non_negative, 0.0),
    "zoom_range": KeySpec(AUGMENTATION, _zoom_range, 0.0),
    "channel_shift_range": KeySpec(AUGMENTATION, _non_negative, 0.0),
    "fill_mode": KeySpec(AUGMENTATION, _fill_mode, "nearest"),
    "cval": KeySpec(AUGMENTATION, _finite, 0.0),
    "horizontal_flip": KeySpec(AUGMENTATION, _flag, False),
    "vertical_flip": KeySpec(AUGMENTATION, _flag, False),
    "interpolation_order": KeySpec(AUGMENTATION, _interpolation_order, 1),
    # deterministic standardization: every image the model sees
    "rescale": KeySpec(STANDARDIZATION, _rescale, None),
    "preprocessing_function": KeySpec(STANDARDIZATION, _callable_or_none, None),
    "samplewise_center": KeySpec(STANDARDIZATION, _flag, False),
    "samplewise_std_normalization": KeySpec(STANDARDIZATION, _flag, False),
    "featurewise_center": KeySpec(STANDARDIZATION, _flag, False),
    "featurewise_std_normalization": KeySpec(STANDARDIZATION, _flag, False),
    "zca_whitening": KeySpec(STANDARDIZATION, _flag, False),
    "zca_epsilon": KeySpec(STANDARDIZATION, _positive, 1e-6),
    # image format, shared by both paths
    "data_format": KeySpec(FORMAT, _data_format, None),
    "dtype": KeySpec(FORMAT, _float_dtype, None),
    # refused: scikit-learn splits, not the generator
    "validation_split": KeySpec(REFUSED),
}

# Keys that only matter when a random geometric transform is drawn.
_TRANSFORM_MODIFIERS = {"fill_mode", "cval", "interpolation_order"}
# Keys whose statistics must be learned by ``ImageDataGenerator.fit``.
STATISTICS_KEYS = ("featurewise_center", "featurewise_std_normalization", "zca_whitening")


@dataclass
class DatagenConfig:
    """Validated ``ImageDataGenerator`` settings, split by role."""

    augmentation: dict = field(default_factory=dict)
    standardization: dict = field(default_factory=dict)
    format: dict = field(default_factory=dict)

    @property
    def augments(self):
        """True when at least one random transform is switched on."""
        return any(
            value != DATAGEN_KEYS[key].identity
            for key, value in self.augmentation.items()
            if key not in _TRANSFORM_MODIFIERS
        )

    @property
    def needs_statistics(self):
        """True when standardization needs statistics learned in ``fit``."""
        return any(self.standardization.get(key) for key in STATISTICS_KEYS)

    @property
    def is_empty(self):
        """True when no setting differs from ``ImageDataGenerator``'s default."""
        return not any(
            value != DATAGEN_KEYS[key].identity
            for part in (self.augmentation, self.standardization)
            for key, value in part.items()
        )

    def augmenter(self):
        """``ImageDataGenerator`` holding the random transform settings only."""
        return make_image_data_generator(**self.augmentation, **self.format)

    def standardizer(self):
        """``ImageDataGenerator`` holding the standardization settings only."""
        return make_image_data_generator(**self.standardization, **self.format)


def _suggest(name, candidates):
    """ "; did you mean 'x'?" for the closest candidate, or "" if none is close."""
    prefixed = sorted(c for c in candidates if c.startswith(name))
    match = prefixed[:1] or difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def resolve_datagen(datagen, routed, estimator_params=(), owner="AugmentedKerasClassifier"):
    """Merge, validate and split ``datagen`` and ``datagen__<key>`` settings.

    Parameters
    ----------
    datagen : None or mapping
        The estimator's ``datagen`` parameter.
    routed : mapping
        ``{key: value}`` from the estimator's ``datagen__<key>`` parameters;
        they override the same key in ``datagen``.
    estimator_params : iterable of str, default=()
        The estimator's own parameter names, to point at a misplaced one.
    owner : str, default="AugmentedKerasClassifier"
        Name used in error messages.

    Returns
    -------
    DatagenConfig

    Raises
    ------
    TypeError
        If ``datagen`` is neither None nor a mapping.
    ValueError
        Listing every unknown, misplaced or out-of-range setting at once.
    """
    if datagen is not None and not isinstance(datagen, Mapping):
        raise TypeError(
            f"The 'datagen' parameter of {owner} must be None or a dict of "
            f"ImageDataGenerator keyword arguments. Got {datagen!r} instead."
        )
    settings = {**(datagen or {}), **routed}
    sources = {key: "datagen__" + key if key in routed else f"datagen[{key!r}]" for key in settings}
    problems = []
    config = DatagenConfig()
    parts = {
        AUGMENTATION: config.augmentation,
        STANDARDIZATION: config.standardization,
        FORMAT: config.format,
    }
    for key, value in settings.items():
        where = sources[key]
        spec = DATAGEN_KEYS.get(key)
        if spec is None:
            if not isinstance(key, str):
                problems.append(f"{where}: keys must be strings, got {key!r}")
            elif "__" in key:
                problems.append(
                    f"{where}: ImageDataGenerator options cannot be nested further"
                    f"{_suggest(key.split('__')[0], DATAGEN_KEYS)}"
                )
            elif key in estimator_params:
                problems.append(
                    f"{where}: {key!r} is a parameter of {owner}, not an "
                    f"ImageDataGenerator option; pass {owner}({key}=...)"
                )
            else:
                problems.append(
                    f"{where}: unknown ImageDataGenerator option {key!r}"
                    f"{_suggest(key, DATAGEN_KEYS)}"
                )
            continue
        if spec.role == REFUSED:
            problems.append(
                f"{where}: 'validation_split' is not an option here; use "
                f"{owner}(validation_split=...) for an internal validation set "
                "(split before any augmentation), or scikit-learn's "
                "cross_val_score / GridSearchCV for held-out evaluation"
            )
            continue
        try:
            parts[spec.role][key] = spec.check(value)
        except _Invalid as allowed:
            problems.append(f"{where} must be {allowed}; got {value!r}")
    if problems:
        raise ValueError(
            f"Invalid ImageDataGenerator settings for {owner}:\n- " + "\n- ".join(problems)
        )
    return config


def misplaced_datagen_keys(params):
    """Names among extra estimator keywords that are ImageDataGenerator options.

    scikeras accepts any keyword in ``__init__``; ``rotation_range=20`` would
    silently go to the model-building function instead of the generator.
    """
    return sorted(name for name in params if name in DATAGEN_KEYS)


def changed_model_settings(old, new):
    """Standardization and format settings that differ between two configs.

    These settings belong to a fitted model (its statistics were learned
    with them), so a continued fit (``warm_start=True``, ``partial_fit``)
    cannot change them; random augmentation settings can change. Values are
    compared as ``ImageDataGenerator`` resolves them, so an omitted key and
    its default (``dtype=None`` and ``"float32"``, ``data_format=None`` and
    ``"channels_last"``) are the same.

    Parameters
    ----------
    old, new : DatagenConfig

    Returns
    -------
    list of (str, object, object)
        ``(key, old value, new value)``, sorted by key.
    """
    before, after = old.standardizer(), new.standardizer()
    changed = []
    for key, spec in sorted(DATAGEN_KEYS.items()):
        if spec.role not in (STANDARDIZATION, FORMAT):
            continue
        was, now = getattr(before, key, None), getattr(after, key, None)
        if not (was is now or was == now):
            changed.append((key, was, now))
    return changed
