"""Building the batches the model sees, on two visibly separate paths.

Training path (:class:`TrainingBatches`)
    copy a batch, apply a random transform to each image, then standardize.
Inference path (:func:`inference_batch`, :class:`InferenceBatches`)
    copy, then standardize. Never a random transform.

``x`` is an image array or :class:`skimgaug._paths.ImagePaths`; batches are
read with :func:`skimgaug._paths.load_rows`, so files are decoded batch by
batch and memory stays bounded by the batch.

The random transforms come from an *augmenter* (one of the engines in
:mod:`skimgaug._transforms`); standardization from a *standardizer*, an
``ImageDataGenerator`` holding only the standardization settings and the
statistics learned from the training images. Both paths share
:func:`standardize_inplace`.
"""

import numpy as np

from ._compat import py_dataset_class
from ._paths import load_rows
from ._random import legacy_rng

_CHUNK_BYTES = 16 * 2**20  # working memory per chunk of images


def _chunk_rows(x):
    """How many float64 images of ``x``'s shape fit in one chunk."""
    return max(1, _CHUNK_BYTES // (8 * int(np.prod(x.shape[1:]))))


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
    # ZCA's matrix is float64: keep the batch in the generator's dtype.
    return standardizer.standardize(batch).astype(standardizer.dtype, copy=False)


def inference_batch(standardizer, x, rows):
    """Inference path: a standardized float copy of ``x[rows]``; ``x`` is untouched.

    Parameters
    ----------
    standardizer : ImageDataGenerator
        Holds standardization settings and fitted statistics only.
    x : ndarray or ImagePaths
    rows : slice or ndarray of int

    Returns
    -------
    ndarray
        A new array of ``standardizer.dtype``.
    """
    return standardize_inplace(standardizer, load_rows(x, rows, standardizer.dtype))


def chunks(x):
    """Slices covering ``x`` in chunks of bounded memory."""
    step = _chunk_rows(x)
    return [slice(start, start + step) for start in range(0, len(x), step)]


def fit_statistics(standardizer, x, rows=None):
    """Learn feature-wise mean/std or ZCA as ``ImageDataGenerator.fit`` does.

    Uses ``x[rows]`` (all of ``x`` when ``rows`` is None); ``x`` is not
    modified. Mean and standard deviation are streamed over chunks of images
    (two passes, float64 sums), so no copy of the training images is made;
    they equal ``ImageDataGenerator.fit``'s up to float32 round-off. ZCA needs
    all images at once and calls ``ImageDataGenerator.fit`` itself. Does
    nothing when no setting needs statistics.
    """
    s = standardizer
    if s.zca_whitening:
        check_zca_size(x, rows)
        s.fit(load_rows(x, slice(None) if rows is None else rows, s.dtype))
        return s
    if not (s.featurewise_center or s.featurewise_std_normalization):
        return s
    n = len(x) if rows is None else len(rows)
    channels = x.shape[-1]
    count = n * int(np.prod(x.shape[1:-1]))
    step = _chunk_rows(x)

    def rescaled_chunks():
        for start in range(0, n, step):
            part = slice(start, start + step)
            chunk = load_rows(x, part if rows is None else rows[part], s.dtype)
            yield chunk * s.rescale if s.rescale else chunk

    axes = (0, 1, 2)
    total = sum(chunk.sum(axis=axes, dtype=np.float64) for chunk in rescaled_chunks())
    mean = (total / count).astype(s.dtype).reshape(1, 1, channels)
    s.mean = mean  # featurewise_std_normalization implies featurewise_center
    if s.featurewise_std_normalization:
        squares = sum(
            np.square(chunk - mean, dtype=np.float64).sum(axis=axes) for chunk in rescaled_chunks()
        )
        s.std = np.sqrt(squares / count).astype(s.dtype).reshape(1, 1, channels)
    return s


#: ZCA learns a (d x d) matrix from all training images at once, d = h * w * c.
ZCA_MAX_BYTES = 2 * 2**30


def check_zca_size(x, rows=None):
    """Refuse ZCA whitening where ``ImageDataGenerator.fit`` would exhaust memory."""
    n = len(x) if rows is None else len(rows)
    d = int(np.prod(x.shape[1:]))
    needed = max(d * d, n * d) * 8
    if needed > ZCA_MAX_BYTES:
        raise ValueError(
            f"zca_whitening needs all {n} training images of {d} values at once and a "
            f"{d}x{d} whitening matrix (about {needed / 2**30:.1f} GiB); skimgaug refuses "
            f"more than {ZCA_MAX_BYTES / 2**30:.0f} GiB. Use featurewise_center and "
            "featurewise_std_normalization (streamed), or smaller images."
        )


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
    augmenter : callable or None
        ``augmenter(batch, rng) -> batch`` applies random transforms
        (see :mod:`skimgaug._transforms`); None for no augmentation.
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
        batch = load_rows(self.x, rows, self.standardizer.dtype)  # always a copy
        if self.augmenter is not None:
            batch = self.augmenter(batch, legacy_rng(self.seed, self.epoch, idx))
        batch = standardize_inplace(self.standardizer, batch)
        if self.sample_weight is None:
            return batch, self.y[rows]
        return batch, self.y[rows], self.sample_weight[rows]

    def on_epoch_end(self):
        self.epoch += 1


class InferenceBatches(py_dataset_class()):
    """Inference path as a Keras dataset: standardized, never augmented batches.

    Used for the internal validation set and ``validation_data``, so that
    validation images are read batch by batch like training images.

    Parameters
    ----------
    x : ndarray or ImagePaths
    y : ndarray
    sample_weight : ndarray or None
    rows : ndarray of int
    standardizer : ImageDataGenerator
    batch_size : int
    """

    def __init__(self, x, y, sample_weight, rows, standardizer, batch_size):
        super().__init__()
        self.x = x
        self.y = y
        self.sample_weight = sample_weight
        self.rows = np.asarray(rows)
        self.standardizer = standardizer
        self.batch_size = batch_size

    def __len__(self):
        return -(-len(self.rows) // self.batch_size)

    def __getitem__(self, idx):
        rows = self.rows[idx * self.batch_size : (idx + 1) * self.batch_size]
        batch = inference_batch(self.standardizer, self.x, rows)
        if self.sample_weight is None:
            return batch, self.y[rows]
        return batch, self.y[rows], self.sample_weight[rows]
