"""Cross-validation runs behind the ``skimgaug cv`` command.

Each setting (with and without augmentation) is fitted on the same folds; each
fold gets a fresh clone of the estimator, so augmentation and statistics stay
inside its training part. Out-of-fold predictions give the task's scores per
fold (accuracy, balanced accuracy, macro F1 and ROC AUC of classes; the
scores of labels or of values, :mod:`skimgaug.cli._tasks`), the learning
curves come from each fold's ``history_``. :mod:`._cv_outputs` writes what
``--out`` holds; the verdict comparing two settings is in
:mod:`skimgaug.cli.reports._verdict`.
"""

import contextlib
import math
import pickle
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..._html import format_duration
from ...exceptions import ChanceLevelWarning, MixedImageSizesWarning
from .._tasks import fold_scores, predictions
from ._progress import (
    TimeLeft,
    early_stopping_of,
    epoch_progress,
    format_early_stopping,
    parallel_time_left,
    tensorboard_callback,
)


@dataclass
class FoldResult:
    """One fitted fold of one setting.

    Attributes
    ----------
    setting : str
    fold : int
        Starts at 0.
    test : ndarray
        Indices of the test part.
    proba : ndarray
        Out-of-fold predictions: probabilities of all classes (in their
        order) or of each label (multilabel), or values (regression).
    metrics : dict
        The task's scores of the test part (``FOLD_METRICS`` of
        :mod:`skimgaug.cli._tasks`), in table order.
    history : dict
        Per-epoch values from the fit's ``history_``.
    n_train : int or None
        Size of the training part (before the internal validation split).
    fit_seconds, predict_seconds : float or None
        Wall-clock time of ``fit`` and of ``predict_proba`` on the test part.
    early_stopping : dict or None
        What early stopping did (:func:`~skimgaug.cli.runs._progress.early_stopping_of`).
    validation : tuple or None
        Two classes: ``(rows, proba)``, the fold model's probabilities of its
        internal validation rows (indices into the whole data), where the
        fold's decision threshold is chosen.
    """

    setting: str
    fold: int
    test: np.ndarray
    proba: np.ndarray
    metrics: dict
    history: dict = field(default_factory=dict)
    n_train: int | None = None
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    early_stopping: dict = None
    validation: tuple = None


def fold_metrics(y_true, proba, classes):
    """Accuracy, balanced accuracy, macro F1 and ROC AUC from probabilities.

    ROC AUC is one-vs-rest and macro-averaged for more than two classes; it
    is NaN when a test fold lacks a class.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score

    predicted = classes[np.argmax(proba, axis=1)]
    try:
        if len(classes) == 2:
            auc = roc_auc_score(y_true == classes[1], proba[:, 1])
        else:
            auc = roc_auc_score(y_true, proba, multi_class="ovr", labels=classes)
    except ValueError:
        auc = math.nan
    return {
        "accuracy": accuracy_score(y_true, predicted),
        "balanced_accuracy": balanced_accuracy_score(y_true, predicted),
        "macro_f1": f1_score(y_true, predicted, average="macro"),
        "roc_auc": auc,
    }


def iter_cv(
    estimators,
    X,
    y,
    cv,
    groups=None,
    progress=True,
    n_jobs=1,
    task="classification",
    tensorboard=None,
    fresh=False,
):
    """Fit every estimator on every fold, yielding each :class:`FoldResult` when done.

    A caller that collects the results keeps the finished folds when the run
    is interrupted (KeyboardInterrupt) or fails in a later fold.

    Parameters
    ----------
    estimators : dict of str to AugmentedKerasClassifier
        One entry per setting, all evaluated on the same folds, one setting
        after the other.
    X : ndarray
        Images or file paths.
    y : ndarray
    cv : scikit-learn splitter
    groups : ndarray or None
    progress : bool
        Print a line per epoch to stderr (with ``n_jobs`` > 1: a line per
        finished fold).
    n_jobs : int, default=1
        Folds fitted in parallel (joblib's process backend; each worker
        gives TensorFlow its share of the cores). Results come in the order
        the folds finish.
    task : {"classification", "multilabel", "regression"}, default="classification"
    tensorboard : str, optional
        A folder for Keras' TensorBoard logs: ``<setting>/fold_<k>`` below it per fit.
    fresh : bool, default=False
        Every fit in a new worker process (:func:`skimgaug.fresh_processes`),
        ``n_jobs`` at a time: memory returns to the start after each.

    Yields
    ------
    FoldResult
    """
    splits = list(cv.split(X, y, groups))
    classes = np.unique(y) if task == "classification" else None
    n_fits = len(estimators) * len(splits)
    time_left = TimeLeft(sum(e.epochs for e in estimators.values()) * len(splits), n_fits)
    jobs = _jobs(
        estimators,
        splits,
        groups,
        time_left if progress and n_jobs == 1 and not fresh else None,
        tensorboard,
    )
    workers = contextlib.nullcontext()
    if n_jobs == 1 and not fresh:
        outcomes = (_fit_fold(X, y, (task, classes), *job) for job in jobs)
    else:
        if progress:
            where = (
                f"each in a fresh process ({n_jobs} at a time)"
                if fresh
                else f"in {n_jobs} processes"
            )
            print(
                f"[cv] {n_fits} fits {where}; a line as each fold finishes",
                file=sys.stderr,
                flush=True,
            )
        from joblib import Parallel, delayed

        if fresh:
            from ..._fresh import fresh_processes

            workers = fresh_processes(n_jobs=n_jobs)
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        outcomes = (
            delayed(_fit_fold_in_worker)(
                X, y, (task, classes), label, fold, pickle.dumps(clf), *rest
            )
            for label, fold, clf, *rest in jobs
        )
        outcomes = _in_workers(workers, parallel, outcomes)
    at_chance, finished = {}, {label: 0 for label in estimators}
    for result, chance_messages, other_warnings in outcomes:
        for warning in other_warnings:
            warnings.warn_explicit(*warning)
        at_chance.setdefault(result.setting, []).extend(chance_messages)
        finished[result.setting] += 1
        if progress:
            done = sum(finished.values()) if n_jobs != 1 or fresh else None
            _say_fold_done(result, len(splits), done, n_fits, n_jobs, time_left.elapsed)
        yield result
        label = result.setting
        if finished[label] == len(splits) and at_chance.get(label):  # once per setting
            messages = at_chance[label]
            print(
                f"[{label}] warning: in {len(messages)} of {len(splits)} folds "
                f"{messages[0].partition(': ')[2]}",
                file=sys.stderr,
                flush=True,
            )


def _in_workers(workers, parallel, tasks):
    """Run ``tasks`` with ``parallel`` inside the ``workers`` context, yielding as they end."""
    with workers:
        yield from parallel(tasks)


def _jobs(estimators, splits, groups, time_left, tensorboard=None):
    """``(setting, fold, estimator, train, test, groups of train)`` for every fit.

    With ``time_left`` (serial progress), each estimator prints a line per epoch;
    with ``tensorboard``, each writes its logs to ``<setting>/fold_<k>`` below it.
    """
    from sklearn.base import clone

    jobs = []
    for label, estimator in estimators.items():
        for fold, (train, test) in enumerate(splits):
            clf = clone(estimator)
            given = clf.callbacks if isinstance(clf.callbacks, list) else []
            if tensorboard is not None:
                given = [*given, tensorboard_callback(tensorboard, label, f"fold_{fold + 1}")]
                clf.set_params(callbacks=given)
            if time_left is not None:
                bar = epoch_progress(time_left, f"[{label}] fold {fold + 1}/{len(splits)}")
                clf.set_params(callbacks=[*given, bar])
            fold_groups = None if groups is None else groups[train]
            jobs.append((label, fold, clf, train, test, fold_groups))
    return jobs


def _say_fold_done(result, n_splits, done, n_fits, n_jobs, elapsed):
    """In parallel, a line per finished fold; with early stopping, what it did."""
    where = f"[{result.setting}] fold {result.fold + 1}/{n_splits}"
    first, score = next(iter(result.metrics.items()))
    if done is not None:
        left = parallel_time_left(done, n_fits, n_jobs, elapsed)
        print(
            f"{where} done  {first} {score:.4f}  "
            f"elapsed {format_duration(elapsed)}"
            + (f"  remaining ~{format_duration(left)}" if done < n_fits else ""),
            file=sys.stderr,
            flush=True,
        )
    if result.early_stopping is not None:
        print(
            f"{where}: {format_early_stopping(result.early_stopping)}", file=sys.stderr, flush=True
        )


def _fit_fold_in_worker(X, y, target, label, fold, estimator, train, test, groups):
    """:func:`_fit_fold` in a worker process, ``estimator`` pickled.

    The estimator is unpickled here, after TensorFlow is imported with its C++
    start-up lines kept off the terminal (unpickling would import it first).
    """
    from .._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    clf = pickle.loads(estimator)
    return _fit_fold(X, y, target, label, fold, clf, train, test, groups)


def _fit_fold(X, y, target, label, fold, clf, train, test, groups):
    """Fit one fold and score it: ``(FoldResult, chance-level messages, other warnings)``.

    ``target`` is ``(task, classes)`` (classes: of a single-label target only).
    """
    task, classes = target
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ChanceLevelWarning)
        # The command's header already says how mixed sizes are resized.
        warnings.simplefilter("ignore", MixedImageSizesWarning)
        # With groups, the internal validation split holds out whole groups too.
        clf.fit(X[train], y[train], groups=groups)
    fitted = time.perf_counter()
    chance = [str(w.message) for w in caught if issubclass(w.category, ChanceLevelWarning)]
    others = [
        (w.message, w.category, w.filename, w.lineno)
        for w in caught
        if not issubclass(w.category, ChanceLevelWarning)
    ]
    aligned = predictions(clf, X[test], task, classes)
    predicted = time.perf_counter()
    validation = None
    rows = getattr(clf, "validation_indices_", None)
    if classes is not None and len(classes) == 2 and rows is not None and len(rows):
        validation = (train[rows], predictions(clf, X[train[rows]], task, classes))
    result = FoldResult(
        label,
        fold,
        test,
        aligned,
        fold_metrics(y[test], aligned, classes)
        if task == "classification"
        else fold_scores(task, y[test], aligned, classes),
        {k: list(map(float, v)) for k, v in clf.history_.items()},
        n_train=len(train),
        fit_seconds=fitted - started,
        predict_seconds=predicted - fitted,
        early_stopping=early_stopping_of(clf),
        validation=validation,
    )
    return result, chance, others


def summarize(results):
    """``{setting: {"folds": [...], "mean": {...}, "std": {...}}}``."""
    summary = {}
    for label in dict.fromkeys(r.setting for r in results):
        folds = [r.metrics for r in results if r.setting == label]
        names = list(folds[0])
        values = {m: np.array([f[m] for f in folds], dtype=float) for m in names}
        summary[label] = {
            "folds": [{m: float(f[m]) for m in names} for f in folds],
            "mean": {
                m: float(np.nanmean(v)) if not np.isnan(v).all() else None
                for m, v in values.items()
            },
            "std": {
                m: float(np.nanstd(v)) if not np.isnan(v).all() else None for m, v in values.items()
            },
        }
    return summary


def format_summary(summary):
    """Per-fold tables and a mean ± std line for each setting."""

    def cell(value):
        return "nan" if value is None or math.isnan(value) else f"{value:.4f}"

    width = 20
    lines = []
    for label, result in summary.items():
        METRICS = list(result["mean"])  # noqa: N806 (the task's metrics, in table order)
        lines.append(f"\n{label}")
        lines.append("fold".ljust(12) + "".join(m.rjust(width) for m in METRICS))
        for i, fold in enumerate(result["folds"]):
            lines.append(
                f"{i + 1}".ljust(12) + "".join(cell(fold[m]).rjust(width) for m in METRICS)
            )
        lines.append(
            "mean ± std".ljust(12)
            + "".join(
                f"{cell(result['mean'][m])} ± {cell(result['std'][m])}".rjust(width)
                for m in METRICS
            )
        )
        lines += _partial_means(result["folds"])
    return "\n".join(lines)


def _partial_means(folds):
    """A line per metric undefined in some folds: over how many folds its mean is taken."""
    lines = []
    for m in folds[0]:
        defined = sum(f[m] is not None and not math.isnan(f[m]) for f in folds)
        if 0 < defined < len(folds):
            lines.append(
                f"{m}: mean and std over the {defined} of {len(folds)} folds where it is "
                "defined (a test fold lacks a class or label)"
            )
    return lines
