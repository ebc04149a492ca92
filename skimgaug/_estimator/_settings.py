"""The estimator's own settings, validated once per (re)initialization, and class balance."""

import warnings
from dataclasses import dataclass

import numpy as np

from .._augment._keys import DatagenConfig, misplaced_datagen_keys, resolve_datagen
from .._compat import route_params
from .._validation import (
    check_balance,
    check_cache,
    check_color_mode,
    check_engine,
    check_image_shape,
    check_random_state,
    check_target_size,
    check_training_params,
    check_tta,
    check_validation_split,
)
from ._split import _strata

_PREFIX = "datagen__"


@dataclass(frozen=True)
class Settings:
    """The estimator's own parameters, validated once per (re)initialization."""

    datagen: DatagenConfig
    image_shape: tuple
    validation_split: float
    engine: str
    target_size: tuple
    color_mode: str
    tta: int
    balance: str
    cache: object


def check_settings(estimator):
    """The estimator's own parameters, validated: a :class:`Settings`."""
    owner = type(estimator).__name__
    params = estimator.get_params()
    misplaced = misplaced_datagen_keys(getattr(estimator, "_user_params", ()))
    if misplaced:
        hints = ", ".join(f"{k!r} (did you mean '{_PREFIX}{k}'?)" for k in misplaced)
        raise ValueError(
            f"{owner} got ImageDataGenerator options as its own parameters: "
            f"{hints}. Pass them as datagen__<name>=... or in datagen={{...}}."
        )
    routed = {k[len(_PREFIX) :]: v for k, v in params.items() if k.startswith(_PREFIX)}
    check_random_state(estimator.random_state, owner)
    check_training_params(params, owner)
    return Settings(
        datagen=resolve_datagen(estimator.datagen, routed, estimator_params=params, owner=owner),
        image_shape=check_image_shape(estimator.image_shape, owner),
        validation_split=check_validation_split(estimator.validation_split, owner),
        engine=check_engine(estimator.engine, owner),
        target_size=check_target_size(estimator.target_size, owner),
        color_mode=check_color_mode(estimator.color_mode, owner),
        tta=check_tta(estimator.tta, owner),
        balance=check_balance(estimator.balance, estimator.class_weight, owner),
        cache=check_cache(estimator.cache, owner),
    )


def check_balanced_weights(estimator, y, sample_weight, kwargs):
    """With ``balance``, no class weights from ``fit`` or ``fit__`` (refused), and a
    warning for a ``sample_weight`` that only weights the classes."""
    if estimator.balance is None:
        return
    routed = route_params(estimator.get_params(), destination="fit", pass_filter={"class_weight"})
    owner = type(estimator).__name__
    check_balance(estimator.balance, kwargs.get("class_weight", routed.get("class_weight")), owner)
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
            f"balance={estimator.balance!r} already shows every class equally often: the "
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
