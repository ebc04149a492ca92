"""Staying a good neighbour in parallel workers.

Parallel folds (``n_jobs=2``, joblib's process backend, Dask workers) each
run TensorFlow, whose thread pools default to every core of the machine:
two workers on two cores would run four busy threads. The first fit in a
worker process therefore caps TensorFlow's pools to the worker's share:

1. ``SKIMGAUG_TF_THREADS`` if set (any process; the user's override);
2. in a joblib (loky) worker, the thread budget joblib gives it through
   ``OMP_NUM_THREADS`` (``cpu_count // n_jobs`` by default);
3. in a Dask worker, the worker's number of threads.

Outside workers nothing is changed. A user who configured
``tf.config.threading`` before fitting keeps that configuration.
"""

import multiprocessing
import os

ENV_THREADS = "SKIMGAUG_TF_THREADS"
_configured = False


def worker_threads():
    """Threads this process should give TensorFlow, or None to leave it alone."""
    explicit = os.environ.get(ENV_THREADS)
    if explicit:
        try:
            return max(1, int(explicit))
        except ValueError:
            raise ValueError(
                f"The {ENV_THREADS} environment variable must be a positive integer. "
                f"Got {explicit!r} instead."
            ) from None
    if multiprocessing.current_process().name.startswith("LokyProcess"):
        budget = os.environ.get("OMP_NUM_THREADS")
        return max(1, int(budget)) if budget and budget.isdigit() else 1
    try:
        from distributed import get_worker
    except ImportError:
        return None
    try:
        return max(1, int(get_worker().state.nthreads))
    except (ValueError, AttributeError):  # not inside a Dask worker
        return None


def limit_tensorflow_threads():
    """Cap TensorFlow's thread pools in a parallel worker, once per process.

    Returns
    -------
    int or None
        The intra-op thread count set, or None when nothing was changed.
    """
    global _configured
    if _configured:
        return None
    _configured = True
    threads = worker_threads()
    if threads is None:
        return None
    import tensorflow as tf

    threading = tf.config.threading
    if threading.get_intra_op_parallelism_threads() or threading.get_inter_op_parallelism_threads():
        return None  # configured by the user
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already initialized in this process
        return None
    return threads
