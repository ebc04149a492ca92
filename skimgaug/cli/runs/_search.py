"""Running ``skimgaug search``: ``GridSearchCV`` with progress lines, and the refit.

Serially, a Keras callback shared by every fit prints the candidate, fold
and epoch; in parallel (local processes or Dask), joblib's own progress
report becomes one line per finished fit. Fit failures and fits that ended
at chance level are summed up in one line each.
"""

import contextlib
import os
import re
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field

from ..._html import format_duration
from .._grid import format_params
from ._progress import TimeLeft, epoch_progress, parallel_time_left


@dataclass
class SearchResult:
    """A finished search: the fitted ``GridSearchCV`` and what the outputs need."""

    search: object
    candidates: list
    n_splits: int
    scoring: str
    seconds: float
    warnings: list = field(default_factory=list)
    #: Successive halving's rounds (:func:`._strategies.rounds_of`); empty otherwise.
    rounds: list = field(default_factory=list)
    #: The epochs every fit trained, summed.
    epochs_trained: int = None
    #: Each fit's per-epoch metrics, in the search's order (serial searches asked for them).
    histories: list = None


def _epochs_of(params, default):
    return params.get("fit__epochs", params.get("epochs", default))


class _SerialProgress:
    """Counts fits in the search's serial order (candidate by candidate, fold by fold).

    ``runs`` lists ``(title, params or None, epochs)`` per candidate run, in
    order: the grid's candidates, the drawn ones, or a halving search's rounds
    (whose surviving candidates are known only as they come).
    """

    def __init__(self, runs, n_splits, stream):
        self.runs = runs
        self.n_splits = n_splits
        self.stream = stream
        self.fit = -1
        epochs = n_splits * sum(run[2] for run in runs)
        self.time_left = TimeLeft(epochs, n_splits * len(runs))

    def fit_started(self):
        self.fit += 1
        candidate, fold = divmod(self.fit, self.n_splits)
        if fold == 0 and candidate < len(self.runs):
            title, params, _ = self.runs[candidate]
            shown = f" {format_params(params)}" if params is not None else ""
            print(f"[{title}]{shown}", file=self.stream, flush=True)

    def prefix(self):
        candidate, fold = divmod(self.fit, self.n_splits)
        title = self.runs[min(candidate, len(self.runs) - 1)][0]
        return f"[{title}] fold {fold + 1}/{self.n_splits}"

    def callback(self):
        return epoch_progress(self.time_left, self.prefix, self.stream, self.fit_started)


def _given_callbacks(estimator):
    """The estimator's own callbacks (such as EarlyStopping), as a list."""
    callbacks = estimator.callbacks
    if callbacks is None:
        return []
    return list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]


class _ParallelProgress:
    """A stderr stand-in turning joblib's progress lines into one line per finished fit.

    joblib, asked to be verbose, reports "[Parallel(n_jobs=2)]: Done 3 tasks"
    from the main process whatever the backend (local processes or Dask);
    those lines become "[search] fit 3/8 done ..."; joblib's other lines are
    dropped and everything else is passed on unchanged.
    """

    _DONE = re.compile(r"\[Parallel\(.*?\)\]: +Done +(\d+)")

    def __init__(self, stream, n_fits, workers):
        self._stream = stream
        self._n_fits = n_fits
        self._workers = workers
        self._buffer = ""
        self._last = 0
        self._lock = threading.Lock()
        self._start = time.perf_counter()

    def write(self, text):
        with self._lock:
            self._buffer += text
            *lines, self._buffer = self._buffer.split("\n")
            for line in lines:
                self._line(line)
        return len(text)

    def _line(self, line):
        if not line.startswith("[Parallel("):
            self._stream.write(line + "\n")
            return
        match = self._DONE.match(line)
        done = int(match.group(1)) if match else 0
        if done <= self._last:
            return
        self._last = done
        elapsed = time.perf_counter() - self._start
        remaining = parallel_time_left(done, self._n_fits, self._workers, elapsed)
        self._stream.write(
            f"[search] fit {done}/{self._n_fits} done  elapsed {format_duration(elapsed)}"
            + (f"  remaining ~{format_duration(remaining)}" if done < self._n_fits else "")
            + "\n"
        )
        self._stream.flush()

    def flush(self):
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _workers(n_jobs, backend):
    """How many fits run at once: ``n_jobs`` local processes, or a Dask cluster's threads."""
    if backend is not None:
        try:
            from distributed import get_client

            info = get_client().scheduler_info()
            threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
            return max(1, threads)
        except (ImportError, ValueError, OSError):
            return 1
    if n_jobs in (None, -1):
        return os.cpu_count() or 1
    return max(1, n_jobs)


def run_search(
    estimator,
    grid,
    X,
    y,
    cv,
    groups=None,
    scoring="accuracy",
    n_jobs=1,
    backend=None,
    progress=True,
    stream=None,
    strategy=None,
    record_histories=False,
    fresh=False,
    tensorboard=None,
):
    """Run the search (without refit) with progress lines; return a :class:`SearchResult`.

    Parameters
    ----------
    estimator : AugmentedKerasClassifier
    grid : list of dict
    X, y : array-like
    cv : scikit-learn splitter
    groups : array-like, optional
        Given to the splitter and to every fit, whose internal validation
        split then keeps each group on one side (scikit-learn's metadata
        routing, switched on for this search only).
    scoring : str, default="accuracy"
    n_jobs : int, default=1
    backend : str, optional
        A joblib backend, such as ``"dask"`` (with a ``distributed.Client``
        made the default client).
    progress : bool, default=True
        Serially (``n_jobs=1``, no backend): a line when each candidate
        starts and a line per epoch. In parallel: a line per finished fit.
    stream : file, default=sys.stderr
    strategy : Strategy, optional
        Grid (the default), random or halving (:mod:`._strategies`).
    fresh : bool, default=False
        Every fit in a new worker process (:func:`skimgaug.fresh_processes`),
        ``n_jobs`` at a time.
    tensorboard : str, optional
        A folder for Keras' TensorBoard logs of a serial search:
        ``<candidate run>/fold_<k>`` below it per fit.
    record_histories : bool, default=False
        Keep every fit's per-epoch metrics (``SearchResult.histories``);
        serial searches only (a fit in another process keeps its own).
    """
    from ._strategies import Strategy, first_candidates, make_search

    stream = stream or sys.stderr
    strategy = strategy or Strategy()
    candidates = first_candidates(strategy, grid)
    n_splits = cv.get_n_splits(X, y, groups)
    runs = _planned_runs(strategy, candidates, getattr(estimator, "epochs", 1))
    n_fits = len(runs) * n_splits
    serial = n_jobs == 1 and backend is None and not fresh
    if progress and serial:
        counter = _SerialProgress(runs, n_splits, stream)
        estimator = _with_callback(estimator, counter.callback())
    if tensorboard is not None and serial:
        from ._progress import tensorboard_per_fit

        names = [
            (title.replace(",", "").replace("/", "_of_"), f"fold_{fold + 1}")
            for title, _, _ in runs
            for fold in range(n_splits)
        ]
        estimator = _with_callback(estimator, tensorboard_per_fit(tensorboard, names))
    recorder = None
    if record_histories and serial:
        from ._mlflow import HistoryRecorder

        recorder = HistoryRecorder()
        estimator = _with_callback(estimator, recorder)
    estimator = _routing_groups(estimator, groups)
    search = make_search(strategy, estimator, grid, cv, scoring, None if backend else n_jobs)
    config = {"backend": backend} if backend else {}
    output = contextlib.nullcontext()
    if progress and not serial:
        config["verbose"] = 49  # every completion, on stderr (>= 50 goes to stdout)
        output = _parallel_output(n_fits, n_jobs, backend, stream)
    start = time.perf_counter()
    with _fresh_processes(n_jobs) if fresh else contextlib.nullcontext():
        caught = _fit_search(search, X, y, groups, config, output, serial, n_fits)
    seconds = time.perf_counter() - start
    lines = _summed_up(caught, n_fits)
    from ._strategies import epochs_spent, rounds_of

    return SearchResult(
        search,
        candidates,
        n_splits,
        scoring,
        seconds,
        lines,
        rounds=rounds_of(search),
        epochs_trained=epochs_spent(search, n_splits, getattr(estimator, "epochs", 1)),
        histories=None if recorder is None else recorder.histories,
    )


def _fresh_processes(n_jobs):
    from ..._fresh import fresh_processes

    return fresh_processes(n_jobs=n_jobs)


def _planned_runs(strategy, candidates, default_epochs):
    """``(title, params or None, epochs)`` of every candidate run, in the search's order."""
    from ._strategies import halving_plan

    if strategy.name != "halving":
        n = len(candidates)
        return [
            (f"candidate {i + 1}/{n}", params, _epochs_of(params, default_epochs))
            for i, params in enumerate(candidates)
        ]
    runs = []
    plan = halving_plan(len(candidates), strategy, default_epochs)
    for number, (count, epochs) in enumerate(plan, 1):
        for i in range(count):
            params = candidates[i] if number == 1 else None  # later: the survivors
            title = f"round {number}/{len(plan)}, {epochs} epochs, candidate {i + 1}/{count}"
            runs.append((title, params, epochs))
    return runs


def _with_callback(estimator, callback):
    """A clone of ``estimator`` with ``callback`` after its own callbacks."""
    from sklearn.base import clone

    estimator = clone(estimator)
    return estimator.set_params(callbacks=[*_given_callbacks(estimator), callback])


def _routing_groups(estimator, groups):
    """With groups, a clone that asks for them in ``fit`` (metadata routing)."""
    if groups is None:
        return estimator
    import sklearn
    from sklearn.base import clone

    # The groups reach the splitter and fit (the internal split); scikit-learn
    # hands this setting to its workers, local or on Dask.
    with sklearn.config_context(enable_metadata_routing=True):
        return clone(estimator).set_fit_request(groups=True)


def _parallel_output(n_fits, n_jobs, backend, stream):
    """Say how many fits run where; joblib's lines become one line per finished fit."""
    workers = _workers(n_jobs, backend)
    where = f"{workers} workers" if backend is None else "the Dask cluster"
    print(f"[search] {n_fits} fits on {where}; a line as each finishes", file=stream, flush=True)
    return contextlib.redirect_stderr(_ParallelProgress(sys.stderr, n_fits, workers))


def _fit_search(search, X, y, groups, config, output, serial, n_fits):
    """Fit ``search``; return the warnings its fits raised, for :func:`_summed_up`."""
    import joblib
    import sklearn
    from sklearn.exceptions import FitFailedWarning

    from ...exceptions import ChanceLevelWarning, MixedImageSizesWarning

    with (
        warnings.catch_warnings(record=True) as caught,
        joblib.parallel_config(**config),
        output,
        sklearn.config_context(enable_metadata_routing=groups is not None),
    ):
        warnings.simplefilter("always", FitFailedWarning)
        # Summed up in one line below; in parallel, workers print theirs raw (or,
        # on Dask, into the workers' logs): scikit-learn hands them this filter.
        warnings.simplefilter("always" if serial else "ignore", ChanceLevelWarning)
        # The command's header already says how images of mixed sizes are resized.
        warnings.simplefilter("ignore", MixedImageSizesWarning)
        # Failed fits are summed up below, their NaN scores shown in the ranking.
        warnings.filterwarnings("ignore", "One or more of the test scores are non-finite")
        try:
            search.fit(X, y, groups=groups)
        except ValueError as exc:
            if str(exc).lstrip().startswith("All the"):
                errors = ", ".join(_fit_errors(str(exc)))
                raise ValueError(f"all {n_fits} fits failed: {errors}") from None
            raise
    return caught


def _summed_up(caught, n_fits):
    """Lines for failed fits and fits at chance level; other warnings raised again."""
    from sklearn.exceptions import FitFailedWarning

    from ...exceptions import ChanceLevelWarning

    failures, at_chance = [], []
    for warning in caught:
        if issubclass(warning.category, FitFailedWarning):
            failures.append(str(warning.message))
        elif issubclass(warning.category, ChanceLevelWarning):
            at_chance.append(str(warning.message))
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    lines = failure_summary(failures)
    if at_chance:  # "AugmentedKerasClassifier: the training loss ended at ..."
        lines.append(
            f"warning: {len(at_chance)} of {n_fits} fits did not learn; "
            f"the first: {at_chance[0].partition(': ')[2]}"
        )
    return lines


def _fit_errors(message):
    """``"3 fits: ValueError: ..."`` for each error in scikit-learn's fit-failure message."""
    found = []
    blocks = re.split(r"-{20,}\n", message)[1:]
    for block in blocks:
        head, _, traceback = block.partition("\n")
        count = re.match(r"(\d+) fits? failed", head)
        lines = traceback.rstrip().splitlines()
        last = len(lines)
        while last > 0 and not lines[last - 1].startswith((" ", "\t")):
            last -= 1
        error = " ".join(line.strip() for line in lines[last:] if line.strip())
        found.append(f"{count.group(1) if count else '?'} with {error}")
    return found or [message.strip().splitlines()[0]]


def failure_summary(failures):
    """One line per fit-failure warning: how many fits failed, and with which errors."""
    lines = []
    for message in failures:
        head = re.search(r"(\d+) fits failed out of a total of (\d+)", message)
        what = f"{head.group(1)} of {head.group(2)} fits failed" if head else "fits failed"
        lines.append(f"warning: {what} (their scores are NaN): {'; '.join(_fit_errors(message))}")
    return lines


def refit_best(estimator, best_params, X, y, groups=None, progress=True, stream=None):
    """Fit a clone of ``estimator`` with ``best_params`` on all of ``X``, ``y``.

    ``groups`` keep each group on one side of the internal validation split.

    ``datagen__<key>`` (``augment__<key>``) parameters are written into the
    clone's ``datagen`` (``augment``)
    (the same settings), so that a saved model keeps them.

    Returns
    -------
    estimator : AugmentedKerasClassifier
        Fitted, without the progress callback.
    seconds : float
    warnings : list of str
        One line for a fit that ended at chance level.
    """
    from sklearn.base import clone

    stream = stream or sys.stderr
    params = clone(dict(best_params), safe=False)
    # datagen__<key> values go into the datagen dict, where they mean the same and
    # where a saved model keeps them.
    routed = {
        k.removeprefix("datagen__"): params.pop(k)
        for k in list(params)
        if k.startswith("datagen__")
    }
    augment = {
        k.removeprefix("augment__"): params.pop(k)
        for k in list(params)
        if k.startswith("augment__")
    }
    best = clone(estimator).set_params(**params)
    if routed:
        best.set_params(datagen={**(best.datagen or {}), **routed})
    if augment:
        best.set_params(augment={**(best.augment or {}), **augment})
    given = _given_callbacks(best)
    if progress:
        time_left = TimeLeft(_epochs_of(params, best.epochs), 1)
        best.set_params(callbacks=[*given, epoch_progress(time_left, "[refit]", stream)])
    from ...exceptions import ChanceLevelWarning, MixedImageSizesWarning

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ChanceLevelWarning)
        warnings.simplefilter("ignore", MixedImageSizesWarning)
        best.fit(X, y, groups=groups)
    seconds = time.perf_counter() - start
    best.set_params(callbacks=given or None)  # a progress printer is no setting of the model
    lines = []
    for warning in caught:
        if issubclass(warning.category, ChanceLevelWarning):
            lines.append(f"[refit] warning: {str(warning.message).partition(': ')[2]}")
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return best, seconds, lines
