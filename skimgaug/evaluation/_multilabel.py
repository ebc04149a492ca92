"""The evaluation of multi-label probabilities: per-label and averaged metrics with intervals.

Each label is a two-class problem of its own (ROC AUC, average precision and
F1 at the label's threshold), and the averages over labels are those of
scikit-learn's multi-label scorers: ``roc_auc`` and ``average_precision``
(macro), ``f1_macro``, ``f1_micro``, the subset accuracy (every label of an
image right: ``accuracy_score``) and the Hamming loss. Every metric of a
batch of bootstrap resamples is computed at once, as for single-label
targets (:mod:`._metrics`); with groups, patients are resampled (a cluster
bootstrap) and the results stay at the image level: a patient's findings are
not one label.
"""

import numpy as np

from ._audit import fold_audit
from ._bootstrap import (
    cluster_weights,
    evaluation_settings,
    metric_row,
    resampling_record,
)
from ._inputs import check_settings
from ._metrics import Ranking, _ratio, as_float

#: Metrics of each label.
LABEL_METRICS = ("roc_auc", "average_precision", "f1")
#: Metrics over all labels, named as scikit-learn's scorers (``accuracy`` is the subset accuracy).
SUMMARY_METRICS = (
    "roc_auc_macro",
    "average_precision_macro",
    "f1_macro",
    "f1_micro",
    "subset_accuracy",
    "hamming_loss",
)


def check_label_thresholds(threshold, n_labels):
    """``threshold`` as one float in (0, 1) per label (ValueError naming what is allowed)."""
    values = np.atleast_1d(np.asarray(threshold, dtype=object))
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        numbers = None
    if (
        numbers is None
        or values.ndim != 1
        or len(values) not in (1, n_labels)
        or any(isinstance(v, (bool, np.bool_)) for v in values)
        or not np.all((numbers > 0) & (numbers < 1))
    ):
        raise ValueError(
            "The 'threshold' of a multi-label evaluation must be a number in (0, 1) or one "
            f"per label ({n_labels} numbers in (0, 1)). Got {threshold!r} instead."
        )
    return np.broadcast_to(numbers, (n_labels,)).copy()


def check_multilabel(y, proba, label_names, groups, folds):
    """``(y as bool (n, k), proba as float (n, k), label names)``, checked (ValueError)."""
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] < 2 or not np.isin(y, (0, 1)).all():
        raise ValueError(
            "A multi-label y must be a 0/1 indicator matrix of shape (n, labels), with at "
            f"least 2 labels; got shape {y.shape}."
        )
    if proba.shape != y.shape:
        raise ValueError(f"proba must have the shape of y {y.shape}; got {proba.shape}.")
    if not np.isfinite(proba).all() or (proba < 0).any() or (proba > 1).any():
        raise ValueError("proba must hold probabilities in [0, 1] (no NaN or infinity).")
    if label_names is None:
        label_names = np.arange(y.shape[1])
    label_names = np.asarray(label_names)
    if label_names.shape != (y.shape[1],):
        raise ValueError(
            f"label_names must name each of the {y.shape[1]} labels; got {len(label_names)}."
        )
    for name, values in (("groups", groups), ("folds", folds)):
        if values is not None and len(values) != len(y):
            raise ValueError(
                f"{name} must have one entry per sample ({len(y)}); got {len(values)}."
            )
    return y.astype(bool), proba, label_names


def weighted_multilabel_metrics(W, y, predicted, ranked):
    """Per-label and summary metrics, one value per row of ``W``.

    Returns
    -------
    per_label : dict of str to ndarray of shape (resamples, labels)
    summary : dict of str to ndarray of shape (resamples,)
    """
    counts, W = W, as_float(W)
    total = W.sum(axis=1)
    tp = W @ (y & predicted)
    fp = W @ (~y & predicted)
    fn = W @ (y & ~predicted)
    pairs = [ranking(counts) for ranking in ranked]
    auc = np.stack([a for a, _ in pairs], axis=1)
    ap = np.stack([p for _, p in pairs], axis=1)
    # scikit-learn's f1_score gives 0 where a label is neither present nor predicted
    f1 = np.where(2 * tp + fp + fn > 0, _ratio(2 * tp, 2 * tp + fp + fn), 0.0)
    per_label = {"roc_auc": auc, "average_precision": ap, "f1": f1}
    with np.errstate(invalid="ignore"):
        summary = {
            # undefined where a label lacks positives or negatives, as scikit-learn raises
            "roc_auc_macro": auc.mean(axis=1),
            "average_precision_macro": ap.mean(axis=1),
            "f1_macro": f1.mean(axis=1),
            "f1_micro": _ratio(2 * tp.sum(axis=1), (2 * tp + fp + fn).sum(axis=1)),
            "subset_accuracy": _ratio(W @ (y == predicted).all(axis=1), total),
            "hamming_loss": _ratio(W @ (y != predicted).mean(axis=1), total),
        }
    return per_label, summary


def multilabel_evaluation(
    cls,
    y,
    proba,
    *,
    label_names=None,
    groups=None,
    folds=None,
    threshold=0.5,
    n_bootstraps=2000,
    confidence=0.95,
    random_state=None,
):
    """An ``cls`` (:class:`Evaluation`) of out-of-fold label probabilities.

    See :meth:`Evaluation.from_label_probabilities`.
    """
    check_settings(n_bootstraps, confidence, "mean")
    y, proba, label_names = check_multilabel(y, proba, label_names, groups, folds)
    thresholds = check_label_thresholds(threshold, y.shape[1])
    predicted = proba >= thresholds
    ranked = [Ranking(proba[:, j], y[:, j]) for j in range(y.shape[1])]
    clusters = (
        np.arange(len(y))
        if groups is None
        else np.unique(np.asarray(groups), return_inverse=True)[1]
    )
    drawn_labels, drawn_summary = [], []
    rng = np.random.default_rng(random_state)
    for weights, _ in cluster_weights(clusters, n_bootstraps, rng):
        per_label, summary = weighted_multilabel_metrics(weights, y, predicted, ranked)
        drawn_labels.append(per_label)
        drawn_summary.append(summary)
    point_labels, point_summary = weighted_multilabel_metrics(
        np.ones((1, len(y))), y, predicted, ranked
    )
    rows, kept = [], {}
    for metric in SUMMARY_METRICS:
        draws = np.concatenate([d[metric] for d in drawn_summary]) if drawn_summary else None
        if draws is not None:
            kept["image", metric] = draws
        rows.append(
            metric_row(
                "image", metric, point_summary[metric][0], draws, confidence, len(y), label=None
            )
        )
    for j, name in enumerate(label_names.tolist()):
        for metric in LABEL_METRICS:
            draws = (
                np.concatenate([d[metric][:, j] for d in drawn_labels]) if drawn_labels else None
            )
            row = metric_row(
                "image", metric, point_labels[metric][0, j], draws, confidence, len(y), label=name
            )
            row["positives"] = int(y[:, j].sum())
            rows.append(row)
    folds = None if folds is None else np.asarray(folds)
    audit = fold_audit(np.zeros(len(y), dtype=int), np.array(["images"]), groups, folds)
    audit["positives_per_fold"] = (
        None
        if folds is None
        else {
            str(name): {int(f): int(y[folds == f, j].sum()) for f in np.unique(folds)}
            for j, name in enumerate(label_names.tolist())
        }
    )
    resampling = resampling_record(random_state, n_bootstraps, clusters, y)
    return cls(
        draws=kept,
        resampling=resampling,
        oof_proba=proba,
        oof_pred=predicted.astype(int),
        fold=folds,
        classes=label_names,
        metrics=rows,
        calibration={},
        curves={},
        threshold=None,
        audit=audit,
        settings=evaluation_settings(
            n_bootstraps,
            confidence,
            groups is not None,
            "multilabel",
            patient_aggregation=None,
            thresholds=thresholds.tolist(),
        ),
    )
