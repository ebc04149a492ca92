"""Fits in fresh worker processes: memory back to where it started after every fit.

TensorFlow keeps native caches that grow by a few MB with every model built
in a process, and ``keras.backend.clear_session`` does not give them back;
on a GPU, memory the process has claimed stays claimed. Over hundreds of
fits (a search, repeated cross-validation) that adds up. :func:`fresh_processes`
makes scikit-learn's ``cross_validate``, ``cross_val_predict``,
``GridSearchCV`` (and anything else that runs fits through joblib) run every
fit in a new worker process, started by ``spawn`` (TensorFlow is not
fork-safe) and ended after ``fits_per_process`` fits; the calling process
builds no model at all (except a search's final refit).

A fresh process costs a start-up (importing TensorFlow and skimgaug, a few
seconds) per fit, so it is not the default: use it when fits are many and
each one takes longer than the start-up, or when GPU memory must be
released between folds. ``benchmarks/bench_memory.py`` measures both.
"""

import contextlib
import multiprocessing
import os
import sys

from ._compat import joblib_backend_base
from ._validation import Constraint, check_param, integer, is_int

_N_JOBS = Constraint(
    "-1 (one per core) or an int >= 1", lambda v: is_int(v) and (v == -1 or v >= 1)
)
_FITS = integer(1)

__all__ = ["fresh_processes"]


def _start_worker(threads):
    """Worker initializer: TensorFlow's share of the cores, as in joblib's workers."""
    if threads is not None:
        os.environ.setdefault("SKIMGAUG_TF_THREADS", str(threads))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


_ABRUPT = (
    "a worker process of skimgaug.fresh_processes ended abruptly. Processes are started "
    "with 'spawn', which imports the calling script again: when a script is run as a "
    'program, its code must be under `if __name__ == "__main__":` (the worker\'s own '
    "error is above). A worker can also have run out of memory."
)


def _backend(fits_per_process):
    """A joblib backend on ``spawn`` processes, each ended after ``fits_per_process`` fits."""
    base = joblib_backend_base()

    class FreshProcessBackend(base):
        supports_retrieve_callback = True
        _executor = None

        def effective_n_jobs(self, n_jobs):
            if n_jobs is None or n_jobs == 1:
                return 1
            return max(1, os.cpu_count() or 1) if n_jobs < 0 else n_jobs

        def configure(self, n_jobs=1, parallel=None, **kwargs):
            from concurrent.futures import ProcessPoolExecutor

            workers = self.effective_n_jobs(n_jobs)
            share = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
            self._executor = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(share,),
                max_tasks_per_child=fits_per_process,
            )
            self.parallel = parallel
            # joblib runs n_jobs == 1 in the calling process: it is told at least 2,
            # while the executor holds `workers` processes and queues the rest.
            return max(2, workers)

        def submit(self, func, callback=None):
            future = self._executor.submit(func)
            if callback is not None:
                future.add_done_callback(callback)
            return future

        def retrieve_result_callback(self, future):
            from concurrent.futures.process import BrokenProcessPool

            try:
                return future.result()
            except BrokenProcessPool:
                raise RuntimeError(_ABRUPT) from None

        def compute_batch_size(self):
            return 1  # one fit per task: a worker ends after its fits, not after a batch

        def terminate(self):
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None

        def abort_everything(self, ensure_ready=True):
            self.terminate()
            if ensure_ready:
                self.configure(n_jobs=self.parallel.n_jobs, parallel=self.parallel)

    return FreshProcessBackend()


@contextlib.contextmanager
def fresh_processes(n_jobs=1, fits_per_process=1):
    """Run every fit of the block in a new worker process, ended after ``fits_per_process``.

    Inside the block, scikit-learn's cross-validation and searches (any
    ``joblib.Parallel`` that takes its backend from the context, whatever
    its own ``n_jobs``) send each fit to a pool of ``n_jobs`` processes
    started with ``spawn``; a process ends after ``fits_per_process`` fits
    and a new one takes its place, so the memory of the calling process and
    of the GPU returns to where it was after every fit. Results are the
    same as without the block for a fixed ``random_state``.

    Parameters
    ----------
    n_jobs : int, default=1
        Worker processes at once (-1: one per core). With more than one,
        each gives TensorFlow its share of the cores.
    fits_per_process : int, default=1
        Fits a worker runs before it is replaced.

    Yields
    ------
    None

    Notes
    -----
    Each fit pays a process start-up (importing TensorFlow and skimgaug:
    about 4 s on 2 cores), which is why this is not the default. The
    estimator, ``X`` and ``y`` are pickled to the worker: arrays of images
    are copied once per fit (file paths cost nothing). A ``GridSearchCV``
    refits its best candidate in the calling process.

    Examples
    --------
    >>> from skimgaug import fresh_processes
    >>> with fresh_processes(n_jobs=1):  # doctest: +SKIP
    ...     scores = cross_validate(clf, X, y, cv=5)
    """
    import joblib

    n_jobs = check_param("n_jobs", n_jobs, _N_JOBS, "fresh_processes")
    fits_per_process = check_param("fits_per_process", fits_per_process, _FITS, "fresh_processes")
    if sys.version_info < (3, 11):
        raise RuntimeError(
            "fresh_processes needs Python 3.11 or newer (worker processes replaced after "
            f"a number of tasks); this is Python {sys.version.split()[0]}"
        )
    backend = _backend(fits_per_process)
    with joblib.parallel_config(backend=backend, n_jobs=n_jobs):
        yield
