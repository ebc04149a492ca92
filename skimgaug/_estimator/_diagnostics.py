"""What a fit checks about its model once training ends.

- :func:`reestimate_batch_norm`: the default model's batch-normalization
  statistics, computed exactly on clean training images. After a few dozen
  steps, the moving averages Keras keeps still lag behind weights that change
  fast, and a model with 0.99 accuracy on its training batches can predict one
  class in inference mode (``predict``, ``score``, internal validation).
- :func:`warn_if_chance_level`: the training loss ended at the loss of the best
  constant prediction.
- :func:`warn_if_clean_at_chance`: the model learned its training batches but
  predicts at chance on clean training images in inference mode (any model).
"""

import warnings

import numpy as np

from .._augment._batches import inference_batch
from .._data._multi import is_multi
from .._data._paths import load_rows
from ..exceptions import ChanceLevelWarning, InputRangeWarning

#: Most clean training images used to re-estimate statistics and check accuracy.
SAMPLE_SIZE = 256
#: Most bytes of standardized images held at once for those passes.
_SAMPLE_BYTES = 256 * 2**20
_BATCH = 64

#: Losses whose chance level is the entropy of the class frequencies.
_CROSSENTROPY = {
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
}
#: Names of the mean squared error, whose best constant prediction is the mean.
_SQUARED = {"mse", "mean_squared_error"}


def clean_sample(standardizer, X, rows, seed):
    """Standardized, never augmented, batches of up to :data:`SAMPLE_SIZE` training rows.

    Parameters
    ----------
    standardizer : ImageDataGenerator
        The fitted standardization (the inference path).
    X : ndarray or ImagePaths
    rows : ndarray of int
        The training rows (internal validation rows excluded).
    seed : int
        Chooses the sample when there are more rows than it holds.

    Returns
    -------
    positions : ndarray of int
        The sample's positions in ``rows``.
    batches : list of ndarray
        Their standardized images, in that order, in batches of 64.
    """
    rows = np.asarray(rows)
    row_bytes = 4 * int(np.prod(X.shape[1:]))
    size = max(1, min(SAMPLE_SIZE, _SAMPLE_BYTES // max(1, row_bytes)))
    positions = np.arange(len(rows))
    if len(rows) > size:
        positions = np.sort(np.random.default_rng(seed).choice(len(rows), size, replace=False))
    chosen = rows[positions]
    batches = [
        inference_batch(standardizer, X, chosen[i : i + _BATCH])
        for i in range(0, len(chosen), _BATCH)
    ]
    return positions, batches


def batch_norm_layers(model):
    """The model's own ``BatchNormalization`` layers that normalize over the last axis."""
    import keras

    return [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
        and tuple(np.atleast_1d(layer.axis)) in ((-1,), (len(layer.input.shape) - 1,))
    ]


def reestimate_batch_norm(model, batches):
    """Set each batch-norm layer's moving statistics to those of its inputs on ``batches``.

    Layers are visited in order, each with the statistics of the earlier ones
    already replaced, so that every layer sees, in inference mode, inputs
    whose mean and (biased) variance per channel are exactly the ones it
    normalizes with: the model computes in inference mode as it did on its
    training batches, whatever the number of steps it trained.

    Parameters
    ----------
    model : keras.Model
        A functional model; layers reached through nested models are left as
        they are.
    batches : list of ndarray
        Standardized clean images.
    """
    import keras

    for layer in batch_norm_layers(model):
        probe = keras.Model(model.input, layer.input)
        total, total_sq, count = 0.0, 0.0, 0
        for batch in batches:
            values = keras.ops.convert_to_numpy(probe(batch, training=False)).astype(np.float64)
            values = values.reshape(-1, values.shape[-1])
            total = total + values.sum(axis=0)
            total_sq = total_sq + np.square(values).sum(axis=0)
            count += len(values)
        mean = total / count
        variance = np.maximum(total_sq / count - np.square(mean), 0.0)
        layer.moving_mean.assign(mean.astype(layer.moving_mean.dtype))
        layer.moving_variance.assign(variance.astype(layer.moving_variance.dtype))


def encoded_labels(y, target_type):
    """The class index of each sample of scikeras-encoded ``y``, or None."""
    y = np.asarray(y)
    if target_type == "multiclass":
        return y.astype(np.int64).ravel()
    if target_type == "binary":
        return (y.reshape(len(y), -1)[:, 0] > 0.5).astype(np.int64)
    if target_type == "multiclass-onehot":
        return y.reshape(len(y), -1).argmax(axis=1)
    return None


def _predicted_labels(output):
    output = np.asarray(output)
    output = output.reshape(len(output), -1)
    return (output[:, 0] > 0.5).astype(np.int64) if output.shape[1] == 1 else output.argmax(1)


def _training_batch_accuracy(history):
    """The last epoch's accuracy on training batches, if the model reported one."""
    keys = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy")
    for key in (*keys, "binary_accuracy"):
        values = (history or {}).get(key)
        if values:
            return float(values[-1])
    return None


def clean_accuracy(model, batches, labels):
    """Accuracy of ``model`` in inference mode on standardized ``batches``."""
    import keras

    # A direct call: Keras' predict function keeps the one trace predict made.
    outputs = [keras.ops.convert_to_numpy(model(batch, training=False)) for batch in batches]
    predicted = np.concatenate([_predicted_labels(output) for output in outputs])
    return float(np.mean(predicted == labels))


def warn_if_clean_at_chance(estimator, batches, labels, loss_chance):
    """Warn when training batches were learned and clean training images are not.

    "Learned": the last epoch's training accuracy is at least halfway from
    the majority share to 1, or (without an accuracy metric) its training
    loss is under half the chance-level loss. "Not": accuracy in inference
    mode on the clean training sample within 0.05 of the majority share.
    """
    model = estimator.model_
    if labels is None or len(model.outputs) != 1 or not batches:
        return None
    majority = np.bincount(labels).max() / len(labels)
    accuracy = clean_accuracy(model, batches, labels)
    history = estimator.history_ or {}
    train_accuracy = _training_batch_accuracy(history)
    losses = history.get("loss") or []
    if train_accuracy is not None:
        learned = train_accuracy >= majority + 0.5 * (1 - majority)
        seen = f"accuracy {train_accuracy:.3f} on its training batches"
    else:
        final = float(losses[-1]) if losses else np.nan
        learned = loss_chance is not None and final < 0.5 * loss_chance
        seen = f"a training loss of {final:.4f} (chance level {loss_chance or np.nan:.4f})"
    if not learned or accuracy > majority + 0.05:
        return accuracy
    owner = type(estimator).__name__
    warnings.warn(
        f"{owner}: the model reached {seen}, but its accuracy on {len(labels)} clean "
        f"training images in inference mode (as predict and score use it) is {accuracy:.3f}, "
        f"no better than always predicting the most common class ({majority:.3f}). Likely "
        "causes: batch-normalization statistics that have not caught up with the weights "
        "after few training steps (train more epochs or use a lower momentum), dropout or "
        "other layers that behave differently in training, or random augmentation so "
        "strong that clean images look unlike any training batch.",
        ChanceLevelWarning,
        stacklevel=5,
    )
    return accuracy


def chance_level_loss(y, target_type, sample_weight=None, balanced=False):
    """The cross-entropy of the best constant prediction for encoded ``y``.

    Keras averages ``weight * loss`` over the samples, so the best constant
    prediction is each class's share of the weight, and its loss is
    ``-sum_c m_c log(m_c / sum(m))`` with ``m_c`` the class's weight per sample:
    the entropy of the class frequencies without weights, ``ln k`` with
    ``class_weight="balanced"`` or balanced epochs (``balanced=True``, each
    class shown equally often). ``None`` for other kinds of targets.
    """
    labels = encoded_labels(y, target_type)
    if labels is None:
        return None
    weights = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight)
    weights = np.broadcast_to(weights.astype(float), labels.shape)
    mass = np.bincount(labels, weights=weights)
    if balanced:
        counts = np.bincount(labels)
        present = counts > 0
        mass = mass[present] / counts[present] / present.sum()
    else:
        mass = mass / len(labels)
    mass = mass[mass > 0]
    return float(-(mass * np.log(mass / mass.sum())).sum())


def _single_loss(model):
    """The name of a compiled model's single loss (None for a list or dict of losses)."""
    loss = model.loss
    if not isinstance(loss, str):  # a Loss instance or function; a list or dict is skipped
        loss = getattr(loss, "name", None) or getattr(loss, "__name__", None)
    return loss


def loss_name(model):
    """The name of a compiled model's single cross-entropy loss, or None."""
    loss = _single_loss(model)
    return loss if loss in _CROSSENTROPY else None


def mean_level_loss(y, sample_weight=None):
    """The mean squared error of predicting the (weighted) mean of each output of ``y``.

    Keras averages ``weight * loss`` over the samples and the squared errors
    over the outputs: the best constant is the weighted mean of each output.
    """
    values = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    weights = np.ones(len(values)) if sample_weight is None else np.asarray(sample_weight, float)
    if weights.sum() <= 0:
        return None
    mean = np.average(values, axis=0, weights=weights)
    return float((weights[:, None] * (values - mean) ** 2).mean())


def warn_if_chance_level(estimator, y, sample_weight=None):
    """Warn when the training loss ended within 2 % of the chance-level loss, or above.

    Only after two epochs or more: a first epoch's mean loss includes its
    untrained first steps.
    """
    losses = estimator.history_.get("loss") if estimator.history_ else None
    if not losses or len(losses) < 2:
        return
    regression = estimator.target_type_ in ("continuous", "continuous-multioutput")
    if regression:
        if _single_loss(estimator.model_) not in _SQUARED:
            return
        chance = mean_level_loss(y, sample_weight)
        best = "the loss of predicting the mean of y"
    else:
        if loss_name(estimator.model_) is None:
            return
        balanced = estimator._settings.balance is not None
        chance = chance_level_loss(y, estimator.target_type_, sample_weight, balanced)
        best = "the chance-level loss"
    final = float(losses[-1])
    if chance is None or chance <= 0 or final < 0.98 * chance:  # NaN compares False
        return
    if not np.isfinite(final):
        where = "is not a number"
    elif final <= 1.02 * chance:
        where = "is within 2 % of"
    else:
        where = "is above"
    owner = type(estimator).__name__
    warnings.warn(
        f"{owner}: the training loss ended at {final:.4f}, which {where} {best} "
        f"{chance:.4f} (the best constant prediction): the model has not "
        "learned. Likely causes: images too large for the model or too few epochs "
        f"(epochs={estimator.epochs}: try more epochs, or a smaller target_size), a learning "
        f"rate too high or too low (optimizer={estimator.optimizer!r}; try "
        "optimizer__learning_rate), or pixel values not scaled as the model expects "
        "(datagen rescale=1/255 for the default model; none for a pretrained backbone).",
        ChanceLevelWarning,
        stacklevel=5,
    )


def warn_if_labels_are_constant(estimator, y):
    """Warn, naming them, about labels of a multilabel ``y`` that never or always occur.

    ``y`` holds the training rows of one fit (a training fold): a label that
    is 0 (or 1) on every row cannot be learned there, and a cross-validation
    that scores it will find it undefined or at chance in that fold.
    """
    if estimator.target_type_ != "multilabel-indicator":
        return
    values = np.asarray(y).reshape(len(y), -1)
    never = [str(i) for i in np.flatnonzero(values.sum(axis=0) == 0)]
    always = [str(i) for i in np.flatnonzero(values.sum(axis=0) == len(values))]
    problems = []
    if never:
        problems.append(f"never present (columns of y): {', '.join(never)}")
    if always:
        problems.append(f"present on every image (columns of y): {', '.join(always)}")
    if problems:
        warnings.warn(
            f"{type(estimator).__name__}: in the {len(values)} training images of this fit, "
            f"labels are {'; '.join(problems)}. The model cannot learn to tell them apart "
            "here; in cross-validation, use fewer folds or make sure every label has images "
            "with and without it in each training fold.",
            UserWarning,
            stacklevel=5,
        )


#: Images sampled (evenly spread) to read a pixel range from.
_RANGE_SAMPLE = 256


def pixel_range(X, rows=None):
    """``(min, max)`` of the raw pixel values of up to 256 images of ``X[rows]`` (None for
    several model inputs). Read before any augmentation or standardization."""
    if is_multi(X):
        return None
    rows = np.arange(len(X)) if rows is None else np.asarray(rows)
    if not len(rows):
        return None
    sample = rows[np.unique(np.linspace(0, len(rows) - 1, _RANGE_SAMPLE).astype(int))]
    images = load_rows(X, np.sort(sample), np.float32)
    return float(images.min()) + 0.0, float(images.max()) + 0.0  # + 0.0: no "-0"


def warn_if_out_of_range(estimator, X):
    """Warn when the images predicted on reach far beyond the training images' pixel range.

    "Far": more than half the training range beyond either end of it (0-255
    files against a model trained on 0-16 arrays, say). Compares raw values,
    before ``rescale`` and standardization, which both paths share.
    """
    trained = getattr(estimator, "pixel_range_", None)
    if trained is None:
        return
    seen = pixel_range(X)
    if seen is None:
        return
    low, high = trained
    margin = 0.5 * max(high - low, 1e-6)
    if seen[0] >= low - margin and seen[1] <= high + margin:
        return
    warnings.warn(
        f"{type(estimator).__name__}: the images predicted on have pixel values from "
        f"{seen[0]:g} to {seen[1]:g}, while the training images' were within {low:g} to "
        f"{high:g}: the model never saw such values and its predictions mean little. "
        "Give images scaled as the training images were (the same kind of source: 8-bit "
        "files, or arrays in the same units).",
        InputRangeWarning,
        stacklevel=4,
    )
