"""The estimator's settings (validated once per (re)initialization), its fitted state, balance."""

import warnings
from dataclasses import dataclass

import numpy as np

from .._augment._augment_keys import resolve_augment
from .._augment._keys import (
    DatagenConfig,
    changed_model_settings,
    misplaced_datagen_keys,
    resolve_datagen,
)
from .._compat import route_params
from ..exceptions import InvalidParameterError
from ._parameters import validate_parameters
from ._split import _strata

_PREFIX = "datagen__"
_AUGMENT = "augment__"


@dataclass(frozen=True)
class Settings:
    """The estimator's own parameters, validated once per (re)initialization.

    After validation, the estimator reads these, never its raw parameters.
    """

    datagen: DatagenConfig
    image_shape: tuple
    validation_split: float
    engine: str
    target_size: tuple
    color_mode: str
    window: object
    tta: int
    balance: str
    cache: object
    batch_size: object
    epochs: int
    #: ``augment``, resolved: every key, defaults (which change nothing) filled in.
    augment: dict


@dataclass(frozen=True)
class FittedState:
    """What a fitted estimator holds, as ``save_model`` reads it and ``load_model`` gives it back.

    ``attributes`` are the public fitted attributes (``classes_``,
    ``model_``, ``standardizer_``, ...); the others are private state of the
    fit that ``predict`` needs.
    """

    attributes: dict
    settings: Settings
    random_state: object
    y_sample_shape: tuple


def is_fitted_name(name):
    """A public fitted attribute's name: ``x_``, not ``_x`` or ``x__``."""
    return name.endswith("_") and not name.startswith("_") and not name.endswith("__")


def check_settings(estimator):
    """The estimator's parameters, validated against one table: a :class:`Settings`.

    Every refused parameter is listed in one
    :class:`~skimgaug.exceptions.InvalidParameterError`; the default model's
    ``model__<name>`` arguments are checked too.
    """
    owner = type(estimator).__name__
    params = estimator.get_params()
    misplaced = misplaced_datagen_keys(getattr(estimator, "_user_params", ()))
    if misplaced:
        hints = ", ".join(f"{k!r} (did you mean '{_PREFIX}{k}'?)" for k in misplaced)
        raise ValueError(
            f"{owner} got ImageDataGenerator options as its own parameters: "
            f"{hints}. Pass them as datagen__<name>=... or in datagen={{...}}."
        )
    default_model = (
        estimator.model is None
        and estimator.build_fn is None
        and not hasattr(estimator, "_keras_build_fn")
    )
    checked = validate_parameters(params, owner, default_model=default_model)
    balance = checked.get("balance")  # a regressor has neither
    check_balance_and_class_weight(balance, checked.get("class_weight"), owner)
    routed = {k[len(_PREFIX) :]: v for k, v in params.items() if k.startswith(_PREFIX)}
    augment = dict(checked["augment"] or {})
    augment.update({k[len(_AUGMENT) :]: v for k, v in params.items() if k.startswith(_AUGMENT)})
    return Settings(
        datagen=resolve_datagen(checked["datagen"], routed, estimator_params=params, owner=owner),
        image_shape=checked["image_shape"],
        validation_split=checked["validation_split"],
        engine=checked["engine"],
        target_size=checked["target_size"],
        color_mode=checked["color_mode"],
        window=checked["window"],
        tta=checked["tta"],
        balance=balance,
        cache=checked["cache"],
        batch_size=checked["batch_size"],
        epochs=checked["epochs"],
        augment=resolve_augment(augment, owner),
    )


def check_balance_and_class_weight(balance, class_weight, owner):
    """``balance`` and class weights would weight the classes twice: refused."""
    if balance is not None and class_weight is not None:
        raise InvalidParameterError(
            f"{owner}: balance={balance!r} already shows every class equally often in each "
            f"epoch; class_weight={class_weight!r} would weight the classes a second time. "
            "Set one of them to None."
        )


def check_balanced_weights(estimator, balance, y, sample_weight, kwargs):
    """With ``balance``, no class weights from ``fit`` or ``fit__`` (refused), and a
    warning for a ``sample_weight`` that only weights the classes."""
    owner = type(estimator).__name__
    if balance is None:
        return
    routed = route_params(estimator.get_params(), destination="fit", pass_filter={"class_weight"})
    check_balance_and_class_weight(
        balance, kwargs.get("class_weight", routed.get("class_weight")), owner
    )
    labels = class_of_each_sample(y)
    if labels is None or sample_weight is None or np.ndim(sample_weight) != 1:
        return  # no single class per sample (refused later), no weights, or a scalar
    weights = np.asarray(sample_weight, dtype=float)
    if len(labels) != len(weights):
        return  # a length error to come
    per_class = {}
    for label, weight in zip(labels.tolist(), weights.tolist(), strict=True):
        per_class.setdefault(label, set()).add(weight)
    if all(len(w) == 1 for w in per_class.values()) and len(set().union(*per_class.values())) > 1:
        warnings.warn(
            f"{owner}: sample_weight gives each class one weight, and "
            f"balance={balance!r} already shows every class equally often: the "
            "classes are weighted twice. Pass balance=None, or weights that differ "
            "within classes.",
            UserWarning,
            stacklevel=3,
        )


def class_of_each_sample(y):
    """The class of each sample of the user's ``y``, or None.

    None for multi-output and multilabel targets, and for a ``y`` that
    validation refuses next with its own message (mixed types, say).
    """
    if y is None or isinstance(y, dict):
        return None
    try:
        labels = _strata(np.asarray(y))
        if labels is not None:
            np.unique(labels)  # comparable: one kind of label
    except (TypeError, ValueError):
        return None
    return labels


def rows_per_epoch(y, balance):
    """Rows an epoch shows with ``balance`` (every class as often as the largest), or None."""
    labels = None if balance is None else class_of_each_sample(y)
    if labels is None:
        return None
    _, counts = np.unique(labels, return_counts=True)
    return int(len(counts) * counts.max())


def continued_fit_settings(estimator):
    """The settings of a fit that continues the current model, validated again.

    Augmentation settings, ``engine`` and ``validation_split`` take
    effect on the continued fit. Standardization (and format) settings
    were used to learn the model's statistics: changing them raises.
    """
    settings = estimator.check_settings()
    previous = getattr(estimator, "_settings", None)
    if previous is not None:
        changed = changed_model_settings(previous.datagen, settings.datagen)
        if changed:
            listed = ", ".join(f"{key} ({was!r} -> {now!r})" for key, was, now in changed)
            raise ValueError(
                f"Standardization settings belong to the fitted model and cannot "
                f"change in a continued fit (warm_start=True or partial_fit); "
                f"changed: {listed}. Set them back, or fit a new model "
                "(warm_start=False, or clone the estimator)."
            )
    return settings


def warn_likely_mistakes(config, owner):
    """A warning for settings that are valid but almost surely not what was meant.

    ``rescale`` of 100 or more (``rescale=255`` where ``1/255`` was meant: pixel
    values in the tens of thousands reach the model), and ``rotation_range`` above 360
    degrees (angles repeat every 360: radians or a whole turn may have been meant).
    """
    rescale = config.standardization.get("rescale")
    if rescale is not None and not callable(rescale) and rescale >= 100:
        warnings.warn(
            f"{owner}: datagen rescale={rescale:g} multiplies pixel values by {rescale:g} "
            f"(0-255 becomes 0-{255 * rescale:g}); did you mean rescale=1/{rescale:g}?",
            UserWarning,
            stacklevel=4,
        )
    rotation = config.augmentation.get("rotation_range")
    if rotation is not None and rotation > 360:
        warnings.warn(
            f"{owner}: datagen rotation_range={rotation:g} draws angles up to {rotation:g} "
            "degrees, which repeat every 360: rotation_range is in degrees, e.g. 15 for "
            "small rotations or 180 for any.",
            UserWarning,
            stacklevel=4,
        )
