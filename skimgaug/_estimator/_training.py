"""What one fit trains on: the internal validation split, the batches, the end-of-fit checks.

The two data paths are built here, apart: :class:`TrainingBatches` (random
transform, then standardize) for training, :class:`InferenceBatches` (copy, then
standardize) for internal or given validation data.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.base import is_classifier

from .. import models
from .._augment._augment_keys import active_transforms
from .._augment._batches import (
    InferenceBatches,
    TrainingBatches,
    fit_statistics,
    inference_batch,
)
from .._augment._pipeline import BatchMixer, per_image_augmenter
from .._compat import recompile_with_loss, route_params
from .._data._inputs import check_n_samples
from .._data._multi import is_multi, n_samples, stacked, take
from ._diagnostics import (
    chance_level_loss,
    clean_sample,
    encoded_labels,
    loss_name,
    reestimate_batch_norm,
    warn_if_clean_at_chance,
)
from ._split import _strata, internal_validation_split

_BATCHING = {"batch_size", "shuffle", "validation_batch_size", "validation_split"}


@dataclass
class TrainingPlan:
    """The rows a fit trains on and the clean validation data it reports on."""

    train: object  # the training rows, or None: every row (no validation split)
    batch_size: int
    validation_batch_size: int
    shuffle: bool
    validation_data: object  # InferenceBatches or None
    validation: object = None  # the internal validation rows, or None


def plan_training(estimator, X, y, sample_weight, kwargs, split_seed, targets=None):
    """Batch sizes, the internal validation split and validation batches of one fit.

    Pops the batching arguments and ``validation_data`` from ``kwargs`` (given
    to ``fit``, they override the parameters, as in scikeras). Learns the
    standardization statistics of a new model from the training rows.
    ``targets`` (default ``y``) are what the validation batches hold: the
    one-hot rows of a fit that mixes its training batches.
    """
    targets = y if targets is None else targets
    fit_params = route_params(estimator.get_params(), destination="fit", pass_filter=_BATCHING)
    fit_params.update({k: kwargs.pop(k) for k in _BATCHING & kwargs.keys()})
    # Validated: the parameters with the settings, fit's arguments on entry.
    validation_split = float(
        fit_params.get("validation_split", estimator._settings.validation_split)
    )
    batch_size = fit_params.get("batch_size") or 32
    batch_size = n_samples(X) if batch_size == -1 else batch_size
    validation_batch_size = fit_params.get("validation_batch_size") or batch_size
    if validation_batch_size == -1:
        validation_batch_size = n_samples(X)
    given_validation = kwargs.pop("validation_data", None)
    if given_validation is not None and validation_split:
        raise ValueError("Pass either validation_split or validation_data to fit, not both.")
    train = valid = None  # None: all rows train
    if validation_split:
        groups = getattr(estimator, "_fit_groups", None)
        train, valid = internal_validation_split(
            stacked(y),
            validation_split,
            split_seed,
            groups=groups,
            stratify=is_classifier(estimator),
        )
    standardizer = estimator.standardizer_
    if standardizer.mean is None:  # a new model: learn this fit's statistics
        fit_statistics(standardizer, X, train)
    validation_data = None
    if valid is not None:
        validation_data = InferenceBatches(
            X, targets, sample_weight, valid, standardizer, int(validation_batch_size)
        )
    elif given_validation is not None:
        validation_data = given_validation_data(
            estimator, given_validation, int(validation_batch_size)
        )
    return TrainingPlan(
        train=train,
        batch_size=int(batch_size),
        validation_batch_size=int(validation_batch_size),
        shuffle=fit_params.get("shuffle", True),
        validation_data=validation_data,
        validation=valid,
    )


def training_batches(estimator, plan, X, y, sample_weight, seed, initial_epoch):
    """The training path: augmented, then standardized, batches of the training rows."""
    settings = estimator._settings
    augmenter, mixer = training_augmenter(settings)
    batches = TrainingBatches(
        X,
        y,
        sample_weight,
        indices=plan.train,
        augmenter=augmenter,
        mixer=mixer,
        standardizer=estimator.standardizer_,
        batch_size=plan.batch_size,
        shuffle=plan.shuffle,
        seed=seed,
        first_epoch=initial_epoch,
        balance_by=balance_by(estimator, y),
    )
    if estimator.standardizer_.preprocessing_function:
        # Standardize one training image now, so that a preprocessing_function
        # that fails or returns a wrong shape, None or NaN is reported before
        # any training, not from a producer thread.
        inference_batch(estimator.standardizer_, X, batches.indices[:1])
    return batches


def mixes_batches(settings):
    """Whether a fit with ``settings`` mixes its training batches (MixUp or CutMix)."""
    return "mixing" in active_transforms(settings.augment)


def training_augmenter(settings, mixing=True):
    """``(augmenter, mixer)`` of a fit's settings: ``datagen``'s transforms, then
    ``augment``'s (:mod:`skimgaug._augment._pipeline`); each None when off.

    With ``mixing=False`` (test-time augmentation) no mixer is made.
    """
    augmenter = per_image_augmenter(settings.datagen, settings.augment, settings.engine)
    mixer = None
    if mixing and mixes_batches(settings):
        mixer = BatchMixer(settings.augment, settings.engine)
    return augmenter, mixer


def mixing_targets(estimator, y):
    """The targets MixUp and CutMix mix: float rows, with a loss that takes soft targets.

    A single-label classifier trained with sparse categorical cross-entropy
    (the default for more than two classes) is compiled again with
    categorical cross-entropy (``from_logits`` kept) and gets one-hot rows;
    binary cross-entropy (two classes, labels) takes soft 0/1 targets as
    they are; a regressor's values are mixed as numbers. Other losses of a
    classifier are refused: a mixed target is not a class.
    """
    import keras

    from ..models._heads import _loss_kind

    owner = type(estimator).__name__
    if isinstance(y, (list, tuple, dict)):
        raise ValueError(
            f"{owner}: MixUp and CutMix (augment mixup_alpha, cutmix_alpha) mix one target per "
            "image; a model with several outputs is not supported. Set them to 0."
        )
    y = np.asarray(y)
    if estimator.target_type_ in ("continuous", "continuous-multioutput"):
        return y.astype(np.float32)
    model = estimator.model_
    kind, from_logits = _loss_kind(model.loss)
    if kind == "sparse_categorical":
        recompile_with_loss(model, keras.losses.CategoricalCrossentropy(from_logits=from_logits))
        kind = "categorical"
    if kind == "categorical" and (y.ndim == 1 or y.shape[1] == 1):
        return np.eye(estimator.n_classes_, dtype=np.float32)[y.reshape(-1).astype(int)]
    if kind in ("categorical", "binary"):
        return y.astype(np.float32)
    raise ValueError(
        f"{owner}: MixUp and CutMix (augment mixup_alpha, cutmix_alpha) train on mixed, soft "
        f"targets, which need a cross-entropy loss; the model's loss is {model.loss!r}. Use "
        "the default loss, or a categorical or binary cross-entropy."
    )


def training_part(y, sample_weight, train):
    """``y`` and ``sample_weight`` of the training rows."""
    if train is None:
        return y, sample_weight
    if np.ndim(sample_weight) == 1:
        sample_weight = np.asarray(sample_weight)[train]
    return take(y, train), sample_weight


def check_inference_mode(estimator, X, y, rows, seed):
    """The default model's batch-norm statistics from clean training images; a
    warning for any model that predicts clean training images at chance.

    ``rows``: the training rows, or None for every row.
    """
    rows = np.arange(n_samples(X)) if rows is None else rows
    labels = None
    if not isinstance(y, (list, tuple, dict)):
        labels = encoded_labels(take(y, rows), estimator.target_type_)
    default = estimator._check_model_param() is models.default_model
    if is_multi(X) or (labels is None and not default) or not len(rows):
        return
    positions, batches = clean_sample(estimator.standardizer_, X, rows, seed)
    if default:
        reestimate_batch_norm(estimator.model_, batches)
    if labels is not None:
        chance = None
        if loss_name(estimator.model_) is not None:
            balanced = estimator._settings.balance is not None
            chance = chance_level_loss(labels, "multiclass", balanced=balanced)
        warn_if_clean_at_chance(estimator, batches, labels[positions], chance)


def planned_steps(estimator):
    """Training steps the fit being built plans: epochs x batches per epoch."""
    n = estimator.X_shape_[0] if getattr(estimator, "X_shape_", None) else 0
    n = getattr(estimator, "_rows_per_epoch", None) or n  # balanced epochs: more rows
    settings = estimator._settings
    batch_size = settings.batch_size or 32
    batch_size = n if batch_size == -1 else batch_size
    rows = int(n * (1 - settings.validation_split))
    return max(1, settings.epochs * -(-rows // max(1, batch_size)))


def balance_by(estimator, y):
    """The class of each sample when epochs are balanced, else None."""
    if estimator._settings.balance is None:
        return None
    classes = _strata(y) if not isinstance(y, (list, tuple, dict)) else None
    if classes is None:
        raise ValueError(
            f"balance={estimator._settings.balance!r} needs one class per sample; "
            "multilabel and multi-output targets have none. Use balance=None."
        )
    return classes


def given_validation_data(estimator, validation_data, batch_size):
    """User-given ``validation_data=(X, y[, w])``, through the inference path."""
    X_val, y_val, *rest = validation_data
    X_val, _ = estimator._validate_data(X_val)  # X and y together would be a continued fit
    _, y_val = estimator._validate_data(None, y_val)
    check_n_samples(X_val, y_val)
    X_val = estimator.feature_encoder_.transform(X_val)  # as the training X
    y_val = estimator.target_encoder_.transform(y_val)
    weights = np.asarray(rest[0], dtype=np.float64) if rest else None
    return InferenceBatches(
        X_val, y_val, weights, np.arange(n_samples(X_val)), estimator.standardizer_, batch_size
    )
