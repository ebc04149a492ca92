"""The ``augment`` parameter: its key table and its validation.

``augment`` holds the random transforms that ``ImageDataGenerator`` does not
have (RandAugment, MixUp/CutMix, random erasing, elastic deformation,
photometric jitter, noise, blur, CLAHE). One table, :data:`AUGMENT_SPECS`,
gives every key its checker and its default; every default switches its
transform off, so ``augment=None`` and ``augment={}`` change nothing.

:func:`resolve_augment` checks a user's dict against the table, reports every
problem at once ("did you mean" for a misspelt key) and returns the settings
with every key filled in.
"""

import difflib
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .._validation import short_repr
from ..exceptions import InvalidParameterError


# --------------------------------------------------------------------------
# Value checkers: each returns the normalized value or raises _Invalid with a
# sentence fragment saying what is allowed.
# --------------------------------------------------------------------------
class _Invalid(ValueError):
    """A value is not allowed; the message says what is."""


def _is_real(value):
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(value)
    )


def _number(low=None, high=None, *, low_open=False, high_open=False, allowed=None):
    """A finite number within the bounds, as a float."""

    def check(value):
        if (
            not _is_real(value)
            or (low is not None and (value <= low if low_open else value < low))
            or (high is not None and (value >= high if high_open else value > high))
        ):
            raise _Invalid(allowed)
        return float(value)

    return check


def _count(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
        raise _Invalid("an int >= 0 (the number of operations per image; 0 switches it off)")
    return int(value)


def _flag(value):
    if not isinstance(value, (bool, np.bool_)):
        raise _Invalid("True or False")
    return bool(value)


def _as_pair(value):
    """``(low, high)`` as floats, or None if ``value`` is not two finite numbers."""
    if isinstance(value, np.ndarray):
        value = value.tolist() if value.ndim == 1 else None
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(map(_is_real, value)):
        return float(value[0]), float(value[1])
    return None


def _pair(low=None, high=None, *, low_open=False, high_open=False, example, optional=True):
    """A pair ``(a, b)`` with ``low <= a <= b <= high`` (open where asked)."""
    left = f"{low} {'<' if low_open else '<='} " if low is not None else ""
    right = f" {'<' if high_open else '<='} {high}" if high is not None else ""
    allowed = f"a pair (low, high) of numbers with {left}low <= high{right}, such as {example}"
    allowed = ("None or " if optional else "") + allowed

    def check(value):
        if value is None and optional:
            return None
        pair = _as_pair(value)
        if pair is None or pair[0] > pair[1]:
            raise _Invalid(allowed)
        if low is not None and (pair[0] <= low if low_open else pair[0] < low):
            raise _Invalid(allowed)
        if high is not None and (pair[1] >= high if high_open else pair[1] > high):
            raise _Invalid(allowed)
        return pair

    return check


def _optional(check, allowed):
    def checked(value):
        if value is None:
            return None
        try:
            return check(value)
        except _Invalid:
            raise _Invalid(allowed) from None

    return checked


_PROBABILITY = _number(0, 1, allowed="a probability, a number in [0, 1]")


@dataclass(frozen=True)
class AugmentSpec:
    """One key of ``augment``: its checker, its default and what switches it on.

    Parameters
    ----------
    check : callable
        ``check(value)`` returns the normalized value or raises ``_Invalid``.
    default : object
        The value used when the key is not given; it never transforms anything.
    needs : str or None
        A key that must be on for this one to matter (``mix_probability``
        needs MixUp or CutMix), or None for a key that switches a transform
        on itself.
    """

    check: Callable
    default: object
    needs: str = None


#: The key table: every ``augment`` key, in the order documented.
AUGMENT_SPECS = {
    # RandAugment / TrivialAugment (implemented in _randaugment.py)
    "rand_augment_ops": AugmentSpec(_count, 0),
    "rand_augment_magnitude": AugmentSpec(
        _number(0, 1, allowed="a number in [0, 1] (0 weakest, 1 strongest)"), 0.5, "rand_augment"
    ),
    "trivial_augment": AugmentSpec(_flag, False),
    # MixUp and CutMix
    "mixup_alpha": AugmentSpec(
        _number(0, allowed="a number >= 0 (Beta(alpha, alpha); 0 switches MixUp off)"), 0.0
    ),
    "cutmix_alpha": AugmentSpec(
        _number(0, allowed="a number >= 0 (Beta(alpha, alpha); 0 switches CutMix off)"), 0.0
    ),
    "mix_probability": AugmentSpec(_PROBABILITY, 1.0, "mixing"),
    # random erasing (Zhong et al. 2020)
    "erasing_probability": AugmentSpec(_PROBABILITY, 0.0),
    "erasing_scale": AugmentSpec(
        _pair(0, 1, low_open=True, high_open=True, example="(0.02, 0.33)", optional=False),
        (0.02, 0.33),
        "erasing_probability",
    ),
    # elastic deformation (Simard et al. 2003)
    "elastic_alpha": AugmentSpec(
        _number(0, allowed="a number >= 0 (displacement scale in pixels; 0 switches it off)"), 0.0
    ),
    "elastic_sigma": AugmentSpec(
        _number(0, low_open=True, allowed="a number > 0 (smoothing in pixels)"),
        4.0,
        "elastic_alpha",
    ),
    # photometric jitter
    "gamma_range": AugmentSpec(_pair(0, low_open=True, example="(0.8, 1.25)"), None),
    "contrast_range": AugmentSpec(_pair(0, example="(0.8, 1.2)"), None),
    "saturation_range": AugmentSpec(_pair(0, example="(0.8, 1.2)"), None),
    "hue_range": AugmentSpec(_pair(-0.5, 0.5, example="(-0.05, 0.05)"), None),
    # noise and blur
    "gaussian_noise_std": AugmentSpec(
        _number(0, allowed="a number >= 0 (in the units after rescale; 0 switches it off)"), 0.0
    ),
    "blur_sigma_range": AugmentSpec(_pair(0, example="(0.0, 1.5)"), None),
    # CLAHE
    "clahe_clip_limit": AugmentSpec(
        _optional(_number(0, low_open=True), "None or a number > 0, such as 2.0"), None
    ),
    "clahe_probability": AugmentSpec(_PROBABILITY, 1.0, "clahe_clip_limit"),
}

#: The ``augment`` keys, in order.
AUGMENT_KEYS = tuple(AUGMENT_SPECS)


def _suggest(name, candidates):
    """ "; did you mean 'x'?" for the closest candidate, or a list of all of them."""
    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if match:
        return f"; did you mean {match[0]!r}?"
    return "; the keys are " + ", ".join(candidates)


def _cross_problems(settings):
    """Problems of keys that are fine alone but not together."""
    if settings["rand_augment_ops"] > 0 and settings["trivial_augment"]:
        return [
            f"augment['rand_augment_ops'] = {settings['rand_augment_ops']} and "
            "augment['trivial_augment'] = True cannot be used together (TrivialAugment "
            "applies one operation of random strength instead of RandAugment's fixed "
            "number); set rand_augment_ops=0 or trivial_augment=False"
        ]
    return []


def resolve_augment(augment, owner="AugmentedKerasClassifier"):
    """Check ``augment`` and fill every missing key with its default.

    Parameters
    ----------
    augment : dict or None
        The estimator's ``augment`` parameter (keys in :data:`AUGMENT_KEYS`).
    owner : str, default="AugmentedKerasClassifier"
        Name used in error messages.

    Returns
    -------
    dict
        Every key of :data:`AUGMENT_KEYS`, in order, normalized: numbers as
        ``float`` (``int`` for ``rand_augment_ops``), pairs as tuples of
        ``float``, flags as ``bool``.

    Raises
    ------
    InvalidParameterError
        (a ``ValueError`` and a ``TypeError``) if ``augment`` is not a dict or
        None, or listing every unknown key and refused value at once.

    Examples
    --------
    >>> settings = resolve_augment({"gamma_range": [0.8, 1.25], "mixup_alpha": 0.2})
    >>> settings["gamma_range"], settings["mixup_alpha"], settings["cutmix_alpha"]
    ((0.8, 1.25), 0.2, 0.0)
    >>> resolve_augment({"gama_range": (0.8, 1.2)})
    Traceback (most recent call last):
    ...
    skimgaug.exceptions.InvalidParameterError: The 'augment' parameter of \
AugmentedKerasClassifier has an unknown key 'gama_range'; did you mean 'gamma_range'?
    """
    if augment is not None and not isinstance(augment, Mapping):
        raise InvalidParameterError(
            f"The 'augment' parameter of {owner} must be None or a dict of augmentation "
            f"settings, such as {{'mixup_alpha': 0.2}}. Got {short_repr(augment)} instead."
        )
    settings, problems = _checked(augment or {})
    if not problems:
        problems = _cross_problems(settings)
    if len(problems) == 1:
        raise InvalidParameterError(f"The 'augment' parameter of {owner} {_sentence(problems[0])}")
    if problems:
        raise InvalidParameterError(
            f"The 'augment' parameter of {owner} has {len(problems)} problems:\n- "
            + "\n- ".join(problems)
        )
    return settings


def _checked(augment):
    """Every key filled in and checked: ``(settings, problems)``."""
    settings = {key: spec.default for key, spec in AUGMENT_SPECS.items()}
    problems = []
    for key, value in augment.items():
        spec = AUGMENT_SPECS.get(key)
        if spec is None:
            if isinstance(key, str):
                problems.append(f"unknown key {key!r}{_suggest(key, AUGMENT_KEYS)}")
            else:
                problems.append(f"key {short_repr(key)} is not a string; the keys are names")
            continue
        try:
            settings[key] = spec.check(value)
        except _Invalid as allowed:
            problems.append(f"augment[{key!r}] must be {allowed}. Got {short_repr(value)} instead")
    return settings, problems


def _sentence(problem):
    if problem.startswith("unknown key"):
        return "has an " + problem
    return "is refused: " + problem + "."


def mixes(settings):
    """Whether MixUp or CutMix is on in resolved ``settings``.

    Examples
    --------
    >>> mixes(resolve_augment({"cutmix_alpha": 1.0})), mixes(resolve_augment(None))
    (True, False)
    """
    return settings["mixup_alpha"] > 0 or settings["cutmix_alpha"] > 0


def _is_on(settings, key):
    """Whether the key ``key`` (or "rand_augment", "mixing") is switched on."""
    if key == "rand_augment":
        return settings["rand_augment_ops"] > 0 or settings["trivial_augment"]
    if key == "mixing":
        return mixes(settings)
    value = settings[key]
    return value is not None and value is not False and value != 0


#: Transform name -> whether resolved settings switch it on.
_TRANSFORMS = {
    "rand_augment": lambda s: _is_on(s, "rand_augment"),
    "mixing": lambda s: mixes(s) and s["mix_probability"] > 0,
    "erasing": lambda s: s["erasing_probability"] > 0,
    "elastic": lambda s: s["elastic_alpha"] > 0,
    "gamma": lambda s: s["gamma_range"] is not None,
    "contrast": lambda s: s["contrast_range"] is not None,
    "saturation": lambda s: s["saturation_range"] is not None,
    "hue": lambda s: s["hue_range"] is not None,
    "gaussian_noise": lambda s: s["gaussian_noise_std"] > 0,
    "gaussian_blur": lambda s: s["blur_sigma_range"] is not None,
    "clahe": lambda s: s["clahe_clip_limit"] is not None and s["clahe_probability"] > 0,
}


def active_transforms(settings):
    """The transforms resolved ``settings`` switch on, in table order.

    A transform is on when it can change an image: ``mix_probability=0``
    or ``clahe_probability=0`` switch theirs off.

    Examples
    --------
    >>> active_transforms(resolve_augment({"hue_range": (-0.1, 0.1), "cutmix_alpha": 1.0}))
    ['mixing', 'hue']
    """
    return [name for name, on in _TRANSFORMS.items() if on(settings)]


def is_off(settings):
    """Whether resolved ``settings`` switch no transform on.

    Examples
    --------
    >>> is_off(resolve_augment({})), is_off(resolve_augment({"elastic_alpha": 30}))
    (True, False)
    """
    return not active_transforms(settings)


def inert_settings(settings):
    """Keys changed from their default that have no effect, each with what they need.

    For a warning: ``clahe_probability`` without ``clahe_clip_limit``,
    ``mix_probability`` without MixUp or CutMix, and so on.

    Returns
    -------
    list of (str, str)
        ``(key, what would switch it on)``, in table order.

    Examples
    --------
    >>> inert_settings(resolve_augment({"elastic_sigma": 6.0}))
    [('elastic_sigma', 'elastic_alpha')]
    """
    needed_by = {
        "rand_augment": "rand_augment_ops or trivial_augment",
        "mixing": "mixup_alpha or cutmix_alpha",
    }
    return [
        (key, needed_by.get(spec.needs, spec.needs))
        for key, spec in AUGMENT_SPECS.items()
        if spec.needs is not None
        and settings[key] != spec.default
        and not _is_on(settings, spec.needs)
    ]
