"""Building the batches the model sees, on two visibly separate paths.

Training path (:class:`TrainingBatches`)
    copy a batch, apply a random transform to each image, then standardize.
Inference path (:func:`standardize_for_inference`)
    copy, then standardize. Never a random transform.

Both use ``ImageDataGenerator`` objects: an *augmenter* holding the random
transform settings and a *standardizer* holding the standardization settings
and the statistics learned from the training images.
"""

import numpy as np

from ._compat import py_dataset_class, quiet_legacy_transforms
from ._random import legacy_rng

_INFERENCE_CHUNK = 1024


def sample_transform(augmenter, image_shape, rng):
    """Draw random transform parameters exactly as ``ImageDataGenerator`` does.

    A call-for-call mirror of ``ImageDataGenerator.get_random_transform``
    drawing from ``rng`` instead of the global ``np.random``: with
    ``rng = np.random.RandomState(s)`` the result equals
    ``get_random_transform`` after ``np.random.seed(s)``.

    Parameters
    ----------
    augmenter : ImageDataGenerator
    image_shape : tuple of int
        ``(height, width, channels)``.
    rng : numpy.random.RandomState

    Returns
    -------
    dict
        Parameters for ``augmenter.apply_transform``.
    """
    g = augmenter
    theta = rng.uniform(-g.rotation_range, g.rotation_range) if g.rotation_range else 0
    tx = _sample_shift(g.height_shift_range, image_shape[g.row_axis - 1], rng)
    ty = _sample_shift(g.width_shift_range, image_shape[g.col_axis - 1], rng)
    shear = rng.uniform(-g.shear_range, g.shear_range) if g.shear_range else 0
    if g.zoom_range[0] == 1 and g.zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = rng.uniform(g.zoom_range[0], g.zoom_range[1], 2)
    flip_horizontal = (rng.random_sample() < 0.5) * g.horizontal_flip
    flip_vertical = (rng.random_sample() < 0.5) * g.vertical_flip
    channel_shift_intensity = None
    if g.channel_shift_range != 0:
        channel_shift_intensity = rng.uniform(-g.channel_shift_range, g.channel_shift_range)
    brightness = None
    if g.brightness_range is not None:
        brightness = rng.uniform(g.brightness_range[0], g.brightness_range[1])
    return {
        "theta": theta,
        "tx": tx,
        "ty": ty,
        "shear": shear,
        "zx": zx,
        "zy": zy,
        "flip_horizontal": flip_horizontal,
        "flip_vertical": flip_vertical,
        "channel_shift_intensity": channel_shift_intensity,
        "brightness": brightness,
    }


def _sample_shift(shift_range, size, rng):
    if not shift_range:
        return 0
    try:  # a list to choose from, or an int (pixels)
        shift = rng.choice(shift_range)
        shift *= rng.choice([-1, 1])
    except ValueError:  # a float
        shift = rng.uniform(-shift_range, shift_range)
    if np.max(shift_range) < 1:
        shift *= size
    return shift


def standardize_inplace(standardizer, batch):
    """Standardize a batch the caller owns; returns the standardized batch.

    ``ImageDataGenerator.standardize`` is written for one image: with
    ``preprocessing_function`` or sample-wise settings it is called per image,
    as ``ImageDataGenerator.flow`` does. Rescaling, feature-wise statistics and
    ZCA are the same for a whole batch, which is then done in one call.
    """
    if (
        standardizer.preprocessing_function
        or standardizer.samplewise_center
        or standardizer.samplewise_std_normalization
    ):
        for i in range(len(batch)):
            batch[i] = standardizer.standardize(batch[i])
        return batch
    return standardizer.standardize(batch)


def standardize_for_inference(standardizer, x):
    """Inference path: a standardized float copy of ``x``; ``x`` is untouched.

    Parameters
    ----------
    standardizer : ImageDataGenerator
        Holds standardization settings and fitted statistics only.
    x : ndarray of shape (n_samples, ...)

    Returns
    -------
    ndarray
        A new array of ``standardizer.dtype``.
    """
    out = np.empty(x.shape, dtype=standardizer.dtype)
    for start in range(0, len(x), _INFERENCE_CHUNK):
        stop = start + _INFERENCE_CHUNK
        out[start:stop] = x[start:stop]
        out[start:stop] = standardize_inplace(standardizer, out[start:stop])
    return out


def fit_statistics(standardizer, x, rows=None):
    """Learn featurewise mean/std or ZCA, exactly as ``ImageDataGenerator.fit``.

    Uses ``x[rows]`` (all of ``x`` when ``rows`` is None). Does nothing when
    no setting needs statistics. ``x`` is not modified.
    """
    if (
        standardizer.featurewise_center
        or standardizer.featurewise_std_normalization
        or standardizer.zca_whitening
    ):
        standardizer.fit(x if rows is None else x[rows])
    return standardizer


class TrainingBatches(py_dataset_class()):
    """Training path: one shuffled pass over the training images per epoch.

    Each batch is copied from ``x``, every image gets a random transform drawn
    from the augmenter's distributions (when there is an augmenter), then the
    batch is standardized. Randomness is keyed by ``(seed, epoch, batch)``, so
    a seeded fit is reproducible whatever order Keras asks for batches in,
    and the global NumPy RNG is never used.

    Parameters
    ----------
    x : ndarray of shape (n_samples, ...)
        All samples passed to ``fit``; only rows in ``indices`` are used.
    y : ndarray
        Encoded targets, aligned with ``x``.
    sample_weight : ndarray or None
        Per-sample weights aligned with ``x``.
    indices : ndarray of int or None
        The training rows (after the internal validation split); None for all.
    augmenter : ImageDataGenerator or None
        Random transform settings; None for no augmentation.
    standardizer : ImageDataGenerator
        Standardization settings and fitted statistics.
    batch_size : int
    shuffle : bool
    seed : int
    first_epoch : int, default=0
        Epoch number of the first pass (``initial_epoch`` in Keras), so that
        continued training does not repeat earlier epochs' randomness.
    """

    def __init__(
        self,
        x,
        y,
        sample_weight,
        indices,
        augmenter,
        standardizer,
        batch_size,
        shuffle,
        seed,
        first_epoch=0,
    ):
        super().__init__()
        self.x = x
        self.y = y
        self.sample_weight = sample_weight
        self.indices = np.arange(len(x)) if indices is None else np.asarray(indices)
        self.augmenter = augmenter
        self.standardizer = standardizer
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = first_epoch
        self._order_epoch = None
        self._order = self.indices

    def __len__(self):
        return -(-len(self.indices) // self.batch_size)

    def _epoch_order(self):
        if self.shuffle and self._order_epoch != self.epoch:
            self._order = legacy_rng(self.seed, self.epoch).permutation(self.indices)
            self._order_epoch = self.epoch
        return self._order

    def __getitem__(self, idx):
        rows = self._epoch_order()[idx * self.batch_size : (idx + 1) * self.batch_size]
        batch = self.x[rows].astype(self.standardizer.dtype)  # always a copy
        if self.augmenter is not None:
            rng = legacy_rng(self.seed, self.epoch, idx)
            with quiet_legacy_transforms():
                for i in range(len(batch)):
                    params = sample_transform(self.augmenter, batch[i].shape, rng)
                    batch[i] = self.augmenter.apply_transform(batch[i], params)
        batch = standardize_inplace(self.standardizer, batch)
        if self.sample_weight is None:
            return batch, self.y[rows]
        return batch, self.y[rows], self.sample_weight[rows]

    def on_epoch_end(self):
        self.epoch += 1
