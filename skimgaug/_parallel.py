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

The same budget sizes skimgaug's own thread pools (:func:`cpu_budget`):
image decoding uses all of it, training-batch production the cores left
after TensorFlow's share (:func:`batch_threads`).
"""

import contextlib
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

ENV_THREADS = "SKIMGAUG_TF_THREADS"
ENV_BATCH_THREADS = "SKIMGAUG_BATCH_THREADS"
_configured = False


def worker_threads():
    """Threads this process should give TensorFlow, or None to leave it alone."""
    explicit = _env_threads(ENV_THREADS)
    if explicit is not None:
        return explicit
    if multiprocessing.current_process().name.startswith("LokyProcess"):
        budget = os.environ.get("OMP_NUM_THREADS")
        return max(1, int(budget)) if budget and budget.isdigit() else 1
    distributed = sys.modules.get("distributed")  # a Dask worker has imported it
    if distributed is None:
        return None
    try:
        return max(1, int(distributed.get_worker().state.nthreads))
    except (ValueError, AttributeError):  # not inside a Dask worker
        return None


def _env_threads(name):
    """A positive integer from environment variable ``name``, or None when unset."""
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return max(1, int(value))
    except ValueError:
        raise ValueError(
            f"The {name} environment variable must be a positive integer. Got {value!r} instead."
        ) from None


def cpu_budget():
    """Cores this process may keep busy.

    A parallel worker's share (:func:`worker_threads`: ``SKIMGAUG_TF_THREADS``,
    a joblib worker's ``OMP_NUM_THREADS``, a Dask worker's threads), else the
    CPUs the process may run on (its affinity mask, which container CPU
    limits set), else ``os.cpu_count()``.
    """
    threads = worker_threads()
    if threads is not None:
        return threads
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def batch_threads(gpu=None):
    """Threads producing training batches (copy, random transform, standardize).

    ``SKIMGAUG_BATCH_THREADS`` if set; else the cores of :func:`cpu_budget`
    left after TensorFlow's share, at least one. TensorFlow's share is its
    configured intra-op thread count if the user (or a worker cap) set one;
    otherwise one core when a GPU trains (the CPU only feeds it) and half the
    budget when the CPU trains (its thread pools span every core, but a
    training step does not keep them all busy while batches are produced).

    Parameters
    ----------
    gpu : bool or None, default=None
        Whether a GPU trains; None asks TensorFlow when it is already imported.
    """
    explicit = _env_threads(ENV_BATCH_THREADS)
    if explicit is not None:
        return explicit
    budget = cpu_budget()
    tf = sys.modules.get("tensorflow")
    configured = 0
    if tf is not None:
        configured = tf.config.threading.get_intra_op_parallelism_threads()
        if gpu is None:
            gpu = bool(tf.config.list_physical_devices("GPU"))
    if configured:
        share = configured
    elif gpu:
        share = 1
    else:
        share = budget // 2
    return max(1, budget - share)


_executors = {}
_executors_lock = threading.Lock()


def shared_executor(purpose, threads):
    """A process-wide thread pool of ``threads`` threads for ``purpose``, made once.

    Keyed by process id too: a forked child inherits the pool object but not
    its threads, and would wait forever on work submitted to it.
    """
    key = (purpose, int(threads), os.getpid())
    with _executors_lock:
        if key not in _executors:
            _executors[key] = ThreadPoolExecutor(key[1], thread_name_prefix=f"skimgaug-{purpose}")
        return _executors[key]


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


class SharedSetting:
    """A process-wide setting saved and restored around overlapping blocks.

    Fits may run in several threads at once. If each saved a global setting
    on entry and restored it on exit, a fit entering while another runs would
    save the other's temporary value and restore it last. Here the first
    block in saves the setting and the last one out restores it.

    Parameters
    ----------
    save : callable
        ``save() -> value``, the caller's setting.
    restore : callable
        ``restore(value)``.
    """

    def __init__(self, save, restore):
        self._save = save
        self._restore = restore
        self._lock = threading.Lock()
        self._users = 0
        self._saved = None

    @contextlib.contextmanager
    def preserved(self):
        """Context: the setting is as it was once the last overlapping block exits."""
        with self._lock:
            if self._users == 0:
                self._saved = self._save()
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    saved, self._saved = self._saved, None
                    self._restore(saved)
