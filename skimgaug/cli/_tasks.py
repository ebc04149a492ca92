"""``--task``: single-label, multi-label and regression targets on the command line.

What changes with the task: how a CSV label cell becomes a target (one class;
labels joined by ``--label-separator``; a number), which estimator is fitted
(:class:`~skimgaug.AugmentedKerasClassifier` or
:class:`~skimgaug.AugmentedKerasRegressor`), which splitter makes the folds
(stratified; stratified over every label; plain), how a fold is scored and
which evaluation follows. Folder layouts (one subfolder per class) are
single-label classification only.
"""

import numpy as np

from ._options import UsageError

#: Scores of each test fold, in the order the tables show them; the first is the
#: one progress lines and the per-fold verdict use.
FOLD_METRICS = {
    "classification": ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc"),
    "multilabel": ("roc_auc", "average_precision", "macro_f1", "subset_accuracy"),
    "regression": ("r2", "mae", "rmse"),
}
#: The metric whose paired bootstrap difference ``cv --compare`` reports.
COMPARED = {"classification": "roc_auc", "multilabel": "roc_auc_macro", "regression": "r2"}
#: The search's default scoring and the scorers it offers (scikit-learn names).
SCORINGS = {
    "classification": ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc_ovr"),
    "multilabel": ("roc_auc", "average_precision", "f1_macro", "f1_micro", "accuracy"),
    "regression": ("r2", "neg_mean_absolute_error", "neg_root_mean_squared_error"),
}


def task_of(args):
    return getattr(args, "task", None) or "classification"


def check_task_args(args):
    """What ``--task`` cannot be combined with, said before anything is read (UsageError)."""
    import os

    task = task_of(args)
    if not getattr(args, "label_separator", "|"):
        raise UsageError("--label-separator must not be empty")
    if task != "regression" and getattr(args, "standardize_target", False):
        raise UsageError("--standardize-target standardizes numbers: give --task regression")
    if task == "classification":
        return
    source = getattr(args, "source", None)
    if source is not None and not getattr(args, "digits", False) and os.path.isdir(source):
        raise UsageError(
            f"--task {task} reads its labels from a CSV file (a column of image paths and a "
            f"column of {'labels' if task == 'multilabel' else 'numbers'}); {source!r} is a "
            "folder, whose class subfolders give one class per image (--task classification)"
        )
    if task == "regression":
        given = [
            option
            for option, value in (
                ("--balance", getattr(args, "balance", None)),
                ("--class-weight", getattr(args, "class_weight", None)),
            )
            if value is not None
        ]
        if given:
            raise UsageError(
                f"{given[0]} weights classes; --task regression has none (numbers as labels)"
            )
    if task == "multilabel" and getattr(args, "balance", None) is not None:
        raise UsageError(
            "--balance resamples one class per image; --task multilabel has several labels "
            "per image (--class-weight balanced weights them)"
        )
    threshold = getattr(args, "threshold", "youden")
    if task == "multilabel" and not (threshold == "youden" or isinstance(threshold, float)):
        raise UsageError(
            f"--threshold {_shown_threshold(threshold)} chooses the threshold of two classes; "
            "--task multilabel takes a fixed threshold for every label (a number such as "
            "0.5, the default)"
        )
    if task == "regression" and threshold != "youden":
        raise UsageError("--threshold decides between classes; --task regression has none")
    aggregation = getattr(args, "patient_aggregation", None)
    if task == "regression" and aggregation not in (None, "mean"):
        raise UsageError(
            f"--patient-aggregation {aggregation}: --task regression gives a patient the mean "
            "of its images' values (and predictions); leave the option out"
        )


def _shown_threshold(threshold):
    if isinstance(threshold, tuple):
        return f"{threshold[0]}:{threshold[1]:g}"
    return str(threshold)


def targets(labels, args, where):
    """``(y, label names or None)`` from the label cells of a CSV file, for ``--task``.

    classification: the cells as they are. multilabel: a 0/1 indicator matrix,
    one column per label found (sorted), from cells split at
    ``--label-separator``. regression: the cells as numbers.
    """
    task = task_of(args)
    labels = np.asarray(labels)
    if task == "classification":
        return labels, None
    column = getattr(args, "label_column", "label")
    if task == "regression":
        values = np.empty(len(labels))
        for row, cell in enumerate(labels.tolist()):
            try:
                values[row] = float(cell)
            except ValueError:
                values[row] = np.nan
            if not np.isfinite(values[row]):
                raise ValueError(
                    f"CSV file {where!r}, line {row + 2}: the {column!r} column holds "
                    f"{cell!r}; --task regression needs a finite number in every row"
                ) from None
        return values, [column]
    separator = args.label_separator
    sets = [
        sorted({part.strip() for part in str(cell).split(separator) if part.strip()})
        for cell in labels.tolist()
    ]
    names = sorted(set().union(*sets))
    if len(names) < 2:
        raise ValueError(
            f"CSV file {where!r}: the {column!r} column names {len(names)} label "
            f"({', '.join(map(repr, names))}) after splitting at {separator!r}; --task "
            "multilabel needs at least 2 (is --label-separator right?)"
        )
    joined = [name for name in names if any(mark in name for mark in "|,;" if mark != separator)]
    if joined:
        import warnings

        warnings.warn(
            f"CSV file {where!r}: labels such as {joined[0]!r} hold a separator other than "
            f"--label-separator {separator!r}; if they are several labels, give that "
            "separator (e.g. --label-separator ',')",
            UserWarning,
            stacklevel=2,
        )
    index = {name: j for j, name in enumerate(names)}
    y = np.zeros((len(sets), len(names)), dtype=int)
    for row, found in enumerate(sets):
        y[row, [index[name] for name in found]] = 1
    return y, names


def digits_targets(digit, task):
    """The digits as a target of ``task``: the digit; two labels; the digit's value."""
    if task == "multilabel":
        y = np.column_stack([digit % 2 == 0, digit > 4]).astype(int)
        return y, ["even", "greater_than_4"]
    if task == "regression":
        return digit.astype(np.float64), ["digit"]
    return digit, None


def describe_target(y, task, names):
    """``"10 classes"``, ``"2 labels (even 906, greater_than_4 895 images)"`` or ``"1 value"``."""
    if task == "multilabel":
        counts = ", ".join(f"{n} {c}" for n, c in zip(names, y.sum(axis=0), strict=True))
        return f"{len(names)} labels ({counts} images)"
    if task == "regression":
        return f"values from {np.min(y):g} to {np.max(y):g}"
    return f"{len(set(y.tolist()))} classes"


def fold_scores(task, y_true, values, classes):
    """The :data:`FOLD_METRICS` of one test fold from its predictions.

    ``values``: the probabilities of the classes (classification), of each
    label (multilabel), or the predicted values (regression).
    """
    import math

    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        f1_score,
        mean_absolute_error,
        r2_score,
        roc_auc_score,
        root_mean_squared_error,
    )

    if task == "regression":
        return {
            "r2": r2_score(y_true, values) if len(y_true) > 1 else math.nan,
            "mae": mean_absolute_error(y_true, values),
            "rmse": root_mean_squared_error(y_true, values),
        }
    predicted = (values >= 0.5).astype(int)
    # macro averages over the labels, undefined when a label is absent from (or on every
    # image of) the test fold, as scikit-learn's roc_auc_score refuses them
    defined = bool((y_true.any(axis=0) & ~y_true.all(axis=0)).all())
    scores = {
        "roc_auc": roc_auc_score(y_true, values) if defined else math.nan,
        "average_precision": average_precision_score(y_true, values) if defined else math.nan,
    }
    scores["macro_f1"] = f1_score(y_true, predicted, average="macro", zero_division=0)
    scores["subset_accuracy"] = accuracy_score(y_true, predicted)
    return scores


def predictions(clf, X, task, classes):
    """A fold model's predictions: aligned class probabilities, label probabilities or values."""
    if task == "classification":
        from ..evaluation._run import aligned_proba

        return aligned_proba(clf, X, classes)
    method = clf.predict_proba if task == "multilabel" else clf.predict
    return np.asarray(method(X), dtype=np.float64)


def task_splitter(args, y, groups, names):
    """The folds of ``--task multilabel`` (stratified over every label) or ``regression``."""
    from sklearn.model_selection import GroupKFold, KFold

    from .._estimator._split import IterativeStratifiedKFold

    folds = args.folds
    units = len(y) if groups is None else len(set(groups.tolist()))
    what = "images" if groups is None else "groups"
    if units < folds:
        raise UsageError(f"--folds {folds} needs at least {folds} {what}; there are {units}")
    if task_of(args) == "regression":
        if groups is None:
            return KFold(folds, shuffle=True, random_state=args.seed)
        return GroupKFold(folds, shuffle=True, random_state=args.seed)
    names = names or [str(j) for j in range(y.shape[1])]
    positives = y.sum(axis=0)
    negatives = len(y) - positives
    short = [
        f"{name!r} is on {p} and missing from {n}"
        for name, p, n in zip(names, positives, negatives, strict=True)
        if min(p, n) < folds
    ]
    if short:
        raise UsageError(
            f"--folds {folds} needs each label on at least {folds} images and missing from "
            f"at least {folds} (every test fold scores each label); {'; '.join(short)} images. "
            f"Use fewer folds, or leave such labels out"
        )
    return IterativeStratifiedKFold(folds, random_state=args.seed)
