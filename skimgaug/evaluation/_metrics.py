"""The metrics of an evaluation, for many bootstrap resamples at once.

A bootstrap resample is a vector of weights over the samples (how many times
each was drawn); a metric of the resample is the weighted metric of the
whole sample. Every metric here takes a weight matrix ``W`` of shape
``(resamples, n)`` and returns one value per resample, computed with a few
matrix products and cumulative sums, so that 2,000 resamples cost about as
much as a few dozen scikit-learn calls. With unit weights each metric equals
scikit-learn's (tested): ``accuracy_score``, ``balanced_accuracy_score``,
``f1_score(average="macro")``, ``roc_auc_score`` (one-vs-rest macro for more
than two classes), ``average_precision_score`` (macro over classes for more
than two), ``log_loss``, and the Brier score (for more than two classes, the
mean over samples of the squared distance between the probabilities and the
one-hot label, as in Brier's paper).

Metrics undefined in a resample (a class absent from it) are NaN there.
"""

import numpy as np

#: Metric names, as scikit-learn's scorers spell them (``neg_log_loss`` as ``log_loss``).
METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier_score",
)
#: For two classes, at the decision threshold (class 1 is the positive class).
THRESHOLD_METRICS = ("sensitivity", "specificity", "ppv", "npv")
#: Probabilities are clipped to [EPS, 1 - EPS] in the log loss, as scikit-learn does.
EPS = np.finfo(np.float64).eps


def _ratio(numerator, denominator):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def _auc(W, scores, positive):
    """Weighted ROC AUC of ``scores`` for the boolean ``positive``, per row of ``W``."""
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    Wo = W[:, order]
    pos = np.add.reduceat(Wo * positive[order], starts, axis=1)
    neg = np.add.reduceat(Wo * ~positive[order], starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negatives scored strictly lower
    wins = (pos * (below + 0.5 * neg)).sum(axis=1)
    return _ratio(wins, pos.sum(axis=1) * neg.sum(axis=1))


def _average_precision(W, scores, positive):
    """Weighted average precision (scikit-learn's step-wise definition), per row."""
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    Wo = W[:, order]
    tp = np.add.reduceat(Wo * positive[order], starts, axis=1)
    fp = np.add.reduceat(Wo * ~positive[order], starts, axis=1)
    tp_cum, fp_cum = np.cumsum(tp, axis=1), np.cumsum(fp, axis=1)
    precision = _ratio(tp_cum, tp_cum + fp_cum)
    total = tp_cum[:, -1]
    return _ratio(np.nansum(tp * precision, axis=1), total)


def weighted_metrics(W, labels, proba, predicted):
    """Every metric of :data:`METRICS`, one value per row of ``W``.

    Parameters
    ----------
    W : ndarray of shape (resamples, n)
        Non-negative weights of the samples (unit weights: the sample itself).
    labels : ndarray of int, shape (n,)
        The true class index of each sample.
    proba : ndarray of shape (n, k)
    predicted : ndarray of int, shape (n,)
        The predicted class index of each sample.

    Returns
    -------
    dict of str to ndarray of shape (resamples,)
    """
    n, k = proba.shape
    total = W.sum(axis=1)
    true_1hot = labels[:, None] == np.arange(k)
    pred_1hot = predicted[:, None] == np.arange(k)
    tp = W @ (true_1hot & pred_1hot)
    support = W @ true_1hot
    predicted_count = W @ pred_1hot
    out = {"accuracy": _ratio(W @ (labels == predicted), total)}
    present = support > 0
    recall = _ratio(tp, support)
    with np.errstate(invalid="ignore"):
        out["balanced_accuracy"] = np.nanmean(np.where(present, recall, np.nan), axis=1)
    f1 = np.where(support + predicted_count > 0, _ratio(2 * tp, support + predicted_count), 0.0)
    # scikit-learn averages F1 over the classes present in the true or predicted labels.
    seen = (support + predicted_count) > 0
    out["f1_macro"] = _ratio((f1 * seen).sum(axis=1), seen.sum(axis=1))
    if k == 2:
        out["roc_auc"] = _auc(W, proba[:, 1], labels == 1)
        out["average_precision"] = _average_precision(W, proba[:, 1], labels == 1)
    else:
        aucs = np.stack([_auc(W, proba[:, c], labels == c) for c in range(k)], axis=1)
        aps = np.stack([_average_precision(W, proba[:, c], labels == c) for c in range(k)], axis=1)
        with np.errstate(invalid="ignore"):
            # undefined when a class is absent from the resample: NaN, as scikit-learn raises
            out["roc_auc"] = np.where(present.all(axis=1), aucs.mean(axis=1), np.nan)
            out["average_precision"] = np.where(present.all(axis=1), aps.mean(axis=1), np.nan)
    p_true = np.clip(proba[np.arange(n), labels], EPS, 1 - EPS)
    out["log_loss"] = _ratio(W @ -np.log(p_true), total)
    if k == 2:
        squared = (proba[:, 1] - (labels == 1)) ** 2
    else:
        squared = ((proba - true_1hot) ** 2).sum(axis=1)
    out["brier_score"] = _ratio(W @ squared, total)
    return out


def weighted_threshold_metrics(W, labels, predicted):
    """Sensitivity, specificity, PPV and NPV of two classes (1 positive), per row of ``W``."""
    positive, called = labels == 1, predicted == 1
    tp, fn = W @ (positive & called), W @ (positive & ~called)
    tn, fp = W @ (~positive & ~called), W @ (~positive & called)
    return {
        "sensitivity": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
        "ppv": _ratio(tp, tp + fp),
        "npv": _ratio(tn, tn + fn),
    }
