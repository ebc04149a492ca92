"""The inference path of ``predict``: bounded chunks, clean copies, test-time copies."""

import contextlib

import numpy as np

from .._data._multi import concatenate
from .._random import legacy_rng
from ._batches import augmented_inference_batch, chunks, inference_batch


def predict_in_chunks(predict_batch, X, standardizer, batch_size, augmenter=None, copies=0, seed=0):
    """The model's outputs for every row of ``X``, one chunk of bounded memory at a time.

    Files are decoded, images copied and standardized one chunk at a time. With
    an ``augmenter`` and ``copies`` > 0, each chunk is also predicted ``copies``
    times randomly transformed (test-time augmentation, drawn from ``seed``,
    the chunk and the copy) and the outputs are averaged with the clean one.

    Parameters
    ----------
    predict_batch : callable
        ``predict_batch(batch) -> output`` for a standardized batch.
    X : ndarray, ImagePaths, or list or dict of arrays
    standardizer : ImageDataGenerator
        The fitted standardization.
    batch_size : int
        Chunks hold a multiple of it.
    augmenter : callable or None, default=None
    copies : int, default=0
    seed : int, default=0

    Returns
    -------
    ndarray, or one array per model output
    """
    copies = copies if augmenter is not None else 0
    running = augmenter.running() if augmenter is not None else contextlib.nullcontext()
    outputs = []
    with running:
        for chunk, rows in enumerate(chunks(X, multiple=batch_size)):
            predicted = [predict_batch(inference_batch(standardizer, X, rows))]
            for copy in range(copies):
                rng = legacy_rng(seed, chunk, copy)
                batch = augmented_inference_batch(standardizer, augmenter, X, rows, rng)
                predicted.append(predict_batch(batch))
            outputs.append(predicted[0] if len(predicted) == 1 else mean_of_outputs(predicted))
    return concatenate(outputs)


def mean_of_outputs(copies):
    """The mean of several predictions, each an array or one array per model output."""
    first = copies[0]
    if isinstance(first, dict):
        return {key: np.mean([c[key] for c in copies], axis=0) for key in first}
    if isinstance(first, (list, tuple)):
        return [np.mean([c[i] for c in copies], axis=0) for i in range(len(first))]
    return np.mean(copies, axis=0)
