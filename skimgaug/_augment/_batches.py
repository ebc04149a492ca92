"""Building the batches the model sees, on two visibly separate paths.

Training path (:class:`TrainingBatches`)
    copy a batch, apply a random transform to each image, then standardize.
Inference path (:func:`inference_batch`, :class:`InferenceBatches`)
    copy, then standardize. Never a random transform.

``x`` is an image array or :class:`skimgaug._data._paths.ImagePaths`; batches are
read with :func:`skimgaug._data._paths.load_rows`, so files are decoded batch by
batch and memory stays bounded by the batch.

Training batches are produced ahead, on a thread pool sized to the cores left
after TensorFlow's share (:func:`skimgaug._parallel.batch_threads`): OpenCV,
NumPy and PIL release the GIL, so several batches are warped while the model
trains on an earlier one. Each batch's randomness is keyed by (seed, epoch,
batch), so the thread that makes it does not change it.

The random transforms come from an *augmenter* (one of the engines in
:mod:`skimgaug._augment._transforms`); standardization from a *standardizer*, an
``ImageDataGenerator`` holding only the standardization settings and the
statistics learned from the training images. Both paths share
:func:`standardize_inplace`.
"""

import copy
import threading

import numpy as np

from .._compat import py_dataset_class
from .._data._multi import is_multi, n_samples, take
from .._data._paths import load_rows
from .._parallel import batch_threads, shared_executor
from .._random import legacy_rng
from ._errors import batch_errors_raised, remembers_errors  # noqa: F401 (batch_errors_raised: re-exported)

_CHUNK_BYTES = 16 * 2**20  # working memory per chunk of images
#: Batches made ahead per producer thread.
_AHEAD_PER_THREAD = 2


def _chunk_rows(x):
    """How many float64 images of ``x``'s shape fit in one chunk."""
    return max(1, _CHUNK_BYTES // (8 * int(np.prod(x.shape[1:]))))


def standardize_inplace(standardizer, batch):
    """Standardize a batch the caller owns; returns the standardized batch.

    ``ImageDataGenerator.standardize`` is written for one image: with
    ``preprocessing_function`` or sample-wise settings it is called per image,
    as ``ImageDataGenerator.flow`` does. Rescaling, feature-wise statistics and
    ZCA are the same for a whole batch, which is then done in one call.
    What ``preprocessing_function`` returns is checked (an array of the
    image's shape with finite values) before the rest of the standardization.
    """
    function = standardizer.preprocessing_function
    if function or standardizer.samplewise_center or standardizer.samplewise_std_normalization:
        rest = standardizer
        if function:
            rest = copy.copy(standardizer)
            rest.preprocessing_function = None
        for i in range(len(batch)):
            image = batch[i]
            if function:
                image = _checked_preprocessing_output(function, function(image), image.shape)
            batch[i] = rest.standardize(image)
        return batch
    # ZCA's matrix is float64: keep the batch in the generator's dtype.
    return standardizer.standardize(batch).astype(standardizer.dtype, copy=False)


def _checked_preprocessing_output(function, output, shape):
    name = getattr(function, "__name__", repr(function))
    if output is None:
        raise TypeError(
            f"preprocessing_function {name} returned None for an image of shape {shape}; "
            "it must return the processed image, an array of the same shape."
        )
    returned = type(output).__name__
    output = np.asarray(output)
    if output.dtype.kind not in "biuf":
        raise TypeError(
            f"preprocessing_function {name} must return an array of numbers of shape "
            f"{tuple(shape)}; it returned {returned} of dtype {output.dtype}."
        )
    if output.shape != tuple(shape):
        raise ValueError(
            f"preprocessing_function {name} must return an array of the image's shape "
            f"{tuple(shape)}; it returned shape {output.shape}."
        )
    if not np.isfinite(output).all():
        raise ValueError(
            f"preprocessing_function {name} returned non-finite values (NaN or inf) for "
            "an image; training on them would only produce a loss of nan."
        )
    return output


def inference_batch(standardizer, x, rows):
    """Inference path: a standardized float copy of ``x[rows]``; ``x`` is untouched.

    Parameters
    ----------
    standardizer : ImageDataGenerator
        Holds standardization settings and fitted statistics only.
    x : ndarray, ImagePaths, or list or dict of arrays
        A list or dict (several model inputs, see :mod:`skimgaug._data._multi`)
        has no image settings: its rows are passed through as they are.
    rows : slice or ndarray of int

    Returns
    -------
    ndarray
        A new array of ``standardizer.dtype``.
    """
    if is_multi(x):
        return take(x, rows)
    return standardize_inplace(standardizer, load_rows(x, rows, standardizer.dtype))


def augmented_inference_batch(standardizer, augmenter, x, rows, rng):
    """Test-time augmentation path: a copy of ``x[rows]``, randomly transformed, standardized.

    The same order as a training batch (random transform, then
    standardization), with the training augmenter; ``x`` is untouched.
    """
    batch = augmenter(load_rows(x, rows, standardizer.dtype), rng)
    return standardize_inplace(standardizer, batch)


def chunks(x, multiple=1):
    """Slices covering ``x`` in chunks of bounded memory.

    Every chunk but the last has a multiple of ``multiple`` rows (a batch
    size), so that only the last one can end with a partial batch.
    """
    step = max(multiple, _chunk_rows(x) // multiple * multiple)
    return [slice(start, start + step) for start in range(0, len(x), step)]


def padded_to_batches(batch, batch_size):
    """``batch`` with copies of its last image appended up to a multiple of ``batch_size``.

    Keras traces its predict function again for every new batch shape; a
    short last batch in every predict call would retrace it (and warn about
    retracing) in every fold of a cross-validation. Padded batches all have
    one shape; the caller keeps the first ``len(batch)`` predictions.
    """
    missing = -len(batch) % batch_size
    if not missing:
        return batch
    return np.concatenate([batch, np.repeat(batch[-1:], missing, axis=0)])


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
    x : ndarray of shape (n_samples, ...), ImagePaths, or list or dict of arrays
        All samples passed to ``fit``; only rows in ``indices`` are used. A
        list or dict (several model inputs) is passed through untransformed.
    y : ndarray, or list or dict of arrays
        Encoded targets, aligned with ``x`` (one array per model output for
        a multi-output model).
    sample_weight : ndarray or None
        Per-sample weights aligned with ``x``.
    indices : ndarray of int or None
        The training rows (after the internal validation split); None for all.
    augmenter : callable or None
        ``augmenter(batch, rng) -> batch`` applies random transforms
        (see :mod:`skimgaug._augment._transforms`); None for no augmentation.
    standardizer : ImageDataGenerator
        Standardization settings and fitted statistics.
    batch_size : int
    shuffle : bool
    seed : int
    first_epoch : int, default=0
        Epoch number of the first pass (``initial_epoch`` in Keras), so that
        continued training does not repeat earlier epochs' randomness.
    mixer : callable or None, default=None
        ``mixer(batch, targets, sample_weight, rng) -> (batch, targets,
        sample_weight)``: MixUp or CutMix within the batch, after the random
        transforms and before standardization (see
        :mod:`skimgaug._augment._pipeline`); ``y`` then holds float targets
        (one-hot rows, indicator rows or values) that it mixes.
    balance_by : ndarray of shape (n_samples,) or None, default=None
        Class of each sample (aligned with ``x``) to balance epochs by: each
        epoch then holds every training row of a class once, plus rows of
        the smaller classes drawn again (with replacement, anew each epoch)
        until every class appears as often as the largest. A repeated row
        gets its own random transform, like any other row of a batch.
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
        balance_by=None,
        mixer=None,
    ):
        super().__init__()
        self.mixer = mixer
        self.x = x
        self.y = y
        self.sample_weight = sample_weight
        self.indices = np.arange(n_samples(x)) if indices is None else np.asarray(indices)
        self.augmenter = augmenter
        self.standardizer = standardizer
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = first_epoch
        self._order_epoch = None
        self._order = self.indices
        self._class_rows = None
        if balance_by is not None:
            classes = np.asarray(balance_by)[self.indices]
            self._class_rows = [self.indices[classes == c] for c in np.unique(classes)]
        self.rows_per_epoch = (
            len(self.indices)
            if self._class_rows is None
            else len(self._class_rows) * max(len(rows) for rows in self._class_rows)
        )
        self._ahead = _BatchesAhead(self._make_batch, _producer_threads(x, standardizer))

    def __len__(self):
        return -(-self.rows_per_epoch // self.batch_size)

    def _epoch_order(self):
        balanced = self._class_rows is not None
        if (self.shuffle or balanced) and self._order_epoch != self.epoch:
            rows = self._balanced_rows() if balanced else self.indices
            if self.shuffle:
                rows = legacy_rng(self.seed, self.epoch).permutation(rows)
            self._order = rows
            self._order_epoch = self.epoch
        return self._order

    def _balanced_rows(self):
        """This epoch's rows: every class as often as the largest one."""
        rng = legacy_rng(self.seed, self.epoch, 0, 1)  # a key no batch uses
        largest = max(len(rows) for rows in self._class_rows)
        parts = []
        for rows in self._class_rows:
            parts.append(rows)
            if len(rows) < largest:
                parts.append(rng.choice(rows, largest - len(rows), replace=True))
        return np.concatenate(parts)

    @remembers_errors
    def __getitem__(self, idx):
        order = self._epoch_order()
        return self._ahead.get(self.epoch, idx, len(self), order)

    def _make_batch(self, epoch, idx, order):
        """Batch ``idx`` of ``epoch``; a pure function of its arguments (any thread)."""
        rows = order[idx * self.batch_size : (idx + 1) * self.batch_size]
        if is_multi(self.x):  # several inputs: no image settings (refused in fit)
            return _keras_batch(take(self.x, rows), self.y, self.sample_weight, rows)
        batch = load_rows(self.x, rows, self.standardizer.dtype)  # always a copy
        rng = legacy_rng(self.seed, epoch, idx)
        if self.augmenter is not None:
            batch = self.augmenter(batch, rng)
        targets = take(self.y, rows)
        weights = None if self.sample_weight is None else take(self.sample_weight, rows)
        if self.mixer is not None:
            batch, targets, weights = self.mixer(batch, targets, weights, rng)
        return _keras_tuple(standardize_inplace(self.standardizer, batch), targets, weights)

    def on_epoch_end(self):
        self.epoch += 1

    def epoch_callback(self):
        """A Keras callback that keys each epoch's randomness by Keras' epoch number.

        ``on_epoch_end`` alone is not a reliable count: Keras also calls it
        before the first epoch (and reads a first batch to learn shapes).
        """
        import keras

        batches = self

        class KeyEpochs(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                batches.epoch = epoch

        return KeyEpochs()


def _producer_threads(x, standardizer):
    """Producer threads for a training set: :func:`batch_threads`, or 1.

    One thread (still ahead of training) for several model inputs, which are
    only sliced, and with a ``preprocessing_function``: every batch is made in
    the pool, so the user's function is never called from two threads at once.
    """
    if is_multi(x) or standardizer.preprocessing_function is not None:
        return 1
    return batch_threads()


class _BatchesAhead:
    """Makes the next batches of an epoch on a shared thread pool while one is used.

    ``get(epoch, idx, ...)`` returns batch ``idx`` (made ahead, or now) and
    submits the following ones of the same epoch, up to ``1 + threads *
    _AHEAD_PER_THREAD`` in flight, so memory stays bounded.
    Batches of another epoch are dropped: an epoch's order is only known
    once Keras starts it. An error making a batch is raised by ``get``.
    """

    def __init__(self, make, threads):
        self.make = make
        self.threads = threads
        self.depth = threads * _AHEAD_PER_THREAD
        self._futures = {}
        self._lock = threading.Lock()

    def get(self, epoch, idx, n_batches, order):
        with self._lock:
            for key in [key for key in self._futures if key[0] != epoch]:
                self._futures.pop(key).cancel()
            executor = shared_executor("batches", self.threads)
            for wanted in range(idx, min(n_batches, idx + 1 + self.depth)):
                if (epoch, wanted) not in self._futures:
                    self._futures[(epoch, wanted)] = executor.submit(
                        self.make, epoch, wanted, order
                    )
            future = self._futures.pop((epoch, idx))
        return future.result()

    def __getstate__(self):  # a dataset pickled (or deep-copied) keeps no futures
        return {**self.__dict__, "_futures": {}, "_lock": None}

    def __setstate__(self, state):
        self.__dict__.update(state, _lock=threading.Lock())


class InferenceBatches(py_dataset_class()):
    """Inference path as a Keras dataset: standardized, never augmented batches.

    Used for the internal validation set and ``validation_data``, so that
    validation images are read batch by batch like training images.

    Parameters
    ----------
    x : ndarray, ImagePaths, or list or dict of arrays
    y : ndarray, or list or dict of arrays
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

    @remembers_errors
    def __getitem__(self, idx):
        rows = self.rows[idx * self.batch_size : (idx + 1) * self.batch_size]
        batch = inference_batch(self.standardizer, self.x, rows)
        return _keras_batch(batch, self.y, self.sample_weight, rows)


def _keras_batch(batch, y, sample_weight, rows):
    """``(x, y[, sample_weight])`` of ``rows`` as Keras reads it; ``y`` may be a list or dict."""
    weights = None if sample_weight is None else take(sample_weight, rows)
    return _keras_tuple(batch, take(y, rows), weights)


def _keras_tuple(batch, targets, weights):
    return (batch, targets) if weights is None else (batch, targets, weights)
