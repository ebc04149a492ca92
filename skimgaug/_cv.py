"""Cross-validation runs behind the ``skimgaug cv`` command.

Each setting (with and without augmentation) is fitted on the same folds; each
fold gets a fresh clone of the estimator, so augmentation and statistics stay
inside its training part. Out-of-fold probabilities give accuracy, balanced
accuracy, macro F1 and ROC AUC per fold, the learning curves come from each
fold's ``history_``.
"""

import csv
import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .exceptions import ChanceLevelWarning, MixedImageSizesWarning

METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc")


@dataclass
class FoldResult:
    """One fitted fold of one setting."""

    setting: str
    fold: int
    test: np.ndarray
    proba: np.ndarray
    metrics: dict
    history: dict = field(default_factory=dict)


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


def _progress_callback(label, fold, n_folds, clock):
    import keras

    class Progress(keras.callbacks.Callback):
        """Prints fold, epoch, losses and the estimated time remaining."""

        def on_epoch_end(self, epoch, logs=None):
            clock["done"] += 1
            elapsed = time.perf_counter() - clock["start"]
            remaining = elapsed / clock["done"] * (clock["total"] - clock["done"])
            losses = "  ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items() if "loss" in k)
            print(
                f"[{label}] fold {fold + 1}/{n_folds} epoch {epoch + 1}/{clock['epochs']}  "
                f"{losses}  elapsed {_duration(elapsed)}  remaining ~{_duration(remaining)}",
                file=sys.stderr,
                flush=True,
            )

    return Progress()


def _duration(seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def run_cv(estimators, X, y, cv, groups=None, progress=True):
    """Fit every estimator on every fold; return the :class:`FoldResult` list.

    Parameters
    ----------
    estimators : dict of str to AugmentedKerasClassifier
        One entry per setting, all evaluated on the same folds.
    X : ndarray
        Images or file paths.
    y : ndarray
    cv : scikit-learn splitter
    groups : ndarray or None
    progress : bool
        Print a line per epoch to stderr.
    """
    from sklearn.base import clone

    splits = list(cv.split(X, y, groups))
    classes = np.unique(y)
    epochs = next(iter(estimators.values())).epochs
    clock = {
        "start": time.perf_counter(),
        "done": 0,
        "epochs": epochs,
        "total": len(estimators) * len(splits) * epochs,
    }
    results = []
    at_chance = {}
    for label, estimator in estimators.items():
        for fold, (train, test) in enumerate(splits):
            clf = clone(estimator)
            if progress:
                clf.set_params(callbacks=[_progress_callback(label, fold, len(splits), clock)])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ChanceLevelWarning)
                # The command's header already says how mixed sizes are resized.
                warnings.simplefilter("ignore", MixedImageSizesWarning)
                clf.fit(X[train], y[train])
            for warning in caught:
                if issubclass(warning.category, ChanceLevelWarning):
                    at_chance.setdefault(label, []).append(str(warning.message))
                else:
                    warnings.warn_explicit(
                        warning.message, warning.category, warning.filename, warning.lineno
                    )
            proba = clf.predict_proba(X[test])
            # Columns follow clf.classes_; align them with all classes.
            aligned = np.zeros((len(test), len(classes)))
            aligned[:, np.searchsorted(classes, clf.classes_)] = proba
            metrics = fold_metrics(y[test], aligned, classes)
            history = {k: list(map(float, v)) for k, v in clf.history_.items()}
            results.append(FoldResult(label, fold, test, aligned, metrics, history))
        if label in at_chance:  # once per setting, not once per fold
            messages = at_chance[label]
            print(
                f"[{label}] warning: in {len(messages)} of {len(splits)} folds "
                f"{messages[0].partition(': ')[2]}",
                file=sys.stderr,
                flush=True,
            )
    return results


def summarize(results):
    """``{setting: {"folds": [...], "mean": {...}, "std": {...}}}``."""
    summary = {}
    for label in dict.fromkeys(r.setting for r in results):
        folds = [r.metrics for r in results if r.setting == label]
        values = {m: np.array([f[m] for f in folds], dtype=float) for m in METRICS}
        summary[label] = {
            "folds": [{m: float(f[m]) for m in METRICS} for f in folds],
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
    return "\n".join(lines)


def write_outputs(out, results, summary, y, samples, config):
    """Write results.json, results.csv, oof_predictions.csv and the plots."""
    from ._plots import plot_confusion_matrices, plot_learning_curves

    os.makedirs(out, exist_ok=True)
    classes = np.unique(y)
    with open(os.path.join(out, "results.json"), "w") as f:
        report = {"config": config, "classes": classes.tolist(), "settings": summary}
        json.dump(report, f, indent=2, default=str)
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["setting", "fold", *METRICS])
        for r in results:
            writer.writerow([r.setting, r.fold + 1, *(r.metrics[m] for m in METRICS)])
    with open(os.path.join(out, "oof_predictions.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        header = ["setting", "index", "sample", "fold", "true_label", "predicted_label"]
        writer.writerow(header + [f"proba_{c}" for c in classes])
        for r in results:
            predicted = classes[np.argmax(r.proba, axis=1)]
            for row, index in enumerate(r.test):
                sample = [r.setting, int(index), samples[index], r.fold + 1, y[index]]
                probabilities = [f"{p:.6f}" for p in r.proba[row]]
                writer.writerow(sample + [predicted[row], *probabilities])
    plot_learning_curves(results, os.path.join(out, "learning_curves.png"))
    plot_confusion_matrices(results, y, os.path.join(out, "confusion_matrix.png"))
    return sorted(os.listdir(out))
