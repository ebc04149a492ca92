"""Errors raised while Keras reads a dataset's batches, given back with their own type.

Keras produces batches in tf.data's producer thread and reports their
exceptions as ``tf.errors.UnknownError`` ("Graph execution error") with the
real message buried; a dataset decorated with :func:`remembers_errors` keeps
the first error it raised, and :class:`batch_errors_raised` raises it again.
"""

import functools


def remembers_errors(getitem):
    """Decorate ``__getitem__`` so that the dataset keeps the first error it raised.

    Keras produces batches after the first in tf.data's producer thread and
    reports their exceptions as ``tf.errors.UnknownError`` ("Graph execution
    error") with the real message buried; :func:`batch_errors_raised` then
    re-raises the error kept here, with its own type, message and traceback.
    """

    @functools.wraps(getitem)
    def wrapper(self, idx):
        try:
            return getitem(self, idx)
        except Exception as exc:
            if getattr(self, "error", None) is None:
                self.error = exc
            raise

    return wrapper


class batch_errors_raised:
    """Re-raise an error a dataset's ``__getitem__`` raised, instead of TensorFlow's.

    A class, not a generator: Python turns a ``StopIteration`` raised inside a
    generator into ``RuntimeError``, and the error must keep its type.

    Parameters
    ----------
    *datasets : TrainingBatches, InferenceBatches or None
        Datasets whose ``__getitem__`` is decorated with
        :func:`remembers_errors`; None entries are skipped.
    """

    def __init__(self, *datasets):
        self._datasets = datasets

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, traceback):
        if exc is None or not isinstance(exc, Exception):
            return False
        for dataset in self._datasets:
            error = getattr(dataset, "error", None)
            if error is not None and error is not exc:
                dataset.error = None  # a dataset left alive must not keep the traceback
                raise error.with_traceback(error.__traceback__) from None
        return False
