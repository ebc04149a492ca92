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
#: Integer weights (bootstrap counts) of up to this many samples are summed in
#: float32: sums of counts (at most about n**2) stay exact in float32's 24 bits, and
#: half the memory traffic makes the resamples about twice as fast; ratios differ
#: from float64's by float32's rounding (about 1e-7 of a metric), far below any
#: interval's width. Above it, float64. Cumulative sums are taken on the integers
#: themselves (exact, and several times faster than on floats).
FLOAT32_UP_TO = 2048


def as_float(W):
    """Weights as floats: integer counts in float32 up to :data:`FLOAT32_UP_TO` samples."""
    if W.dtype.kind == "f":
        return W
    return W.astype(np.float32 if W.shape[1] <= FLOAT32_UP_TO else np.float64)


def _ratio(numerator, denominator):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


class Ranking:
    """The sort of one class's scores, made once and applied to many weight matrices.

    Calling it with ``W`` gives the weighted ROC AUC and average precision of
    ``scores`` for ``positive``, per row of ``W``. Samples with tied scores
    form one step (scikit-learn's definitions: a tied positive and negative
    count half a win in the AUC; average precision steps once per distinct
    score); the grouping is skipped when no two scores tie, the usual case of
    probabilities. Integer weights (bootstrap counts) stay integers through
    the cumulative sums and products, which is exact and several times
    faster; only the precisions are divided in floating point.
    """

    def __init__(self, scores, positive):
        self.order = np.argsort(-scores, kind="mergesort")
        sorted_scores = scores[self.order]
        self.positive = positive[self.order]
        ties = sorted_scores[1:] == sorted_scores[:-1]
        self.ends = None
        if ties.any():  # one step per distinct score: the sums at the last sample of each
            self.ends = np.flatnonzero(np.r_[~ties, True])
            starts = np.r_[0, self.ends[:-1] + 1]
            self.steps = np.flatnonzero(np.add.reduceat(self.positive, starts))
        else:
            self.steps = np.flatnonzero(self.positive)

    def __call__(self, W):
        """``(auc, average_precision)``, each of shape (resamples,)."""
        Wo = W[:, self.order]
        exact = np.int32 if Wo.dtype.kind in "iu" else None  # numpy would widen to int64
        cum_pos = np.cumsum(Wo * self.positive, axis=1, dtype=exact)
        cum_all = np.cumsum(Wo, axis=1, dtype=exact)
        total_pos = cum_pos[:, -1].astype(np.float64)
        total_neg = cum_all[:, -1] - total_pos
        if self.ends is not None:
            cum_all, cum_pos = cum_all[:, self.ends], cum_pos[:, self.ends]
            pos = np.diff(cum_pos, axis=1, prepend=0)
            neg = np.diff(cum_all, axis=1, prepend=0) - pos
            # a negative wins against the positives above it, half against tied ones
            twice_wins = (neg * (2 * cum_pos - pos)).sum(axis=1)
            pos = pos[:, self.steps]
        else:
            # in descending order, the positives scored above a negative are cum_pos there
            weighted = Wo * cum_pos
            twice_wins = 2 * (weighted.sum(axis=1) - weighted[:, self.steps].sum(axis=1))
            pos = Wo[:, self.steps]
        auc = _ratio(twice_wins / 2, total_pos * total_neg)
        # precision at each positive step: positives / all at or above it
        called = cum_all[:, self.steps]
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(called > 0, cum_pos[:, self.steps] / np.maximum(called, 1), 0.0)
        average_precision = _ratio((pos * precision).sum(axis=1), total_pos)
        return auc, average_precision


def rankings(labels, proba):
    """The :class:`Ranking` of each assessed class: class 1 of two, every class of more."""
    assessed = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    return [Ranking(proba[:, c], labels == c) for c in assessed]


def weighted_metrics(W, labels, proba, predicted, ranked=None):
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
    ranked : list of Ranking, optional
        :func:`rankings` of ``labels`` and ``proba``, made once for many calls.

    Returns
    -------
    dict of str to ndarray of shape (resamples,)
    """
    n, k = proba.shape
    counts, W = W, as_float(W)  # cumulative sums on the counts, products on floats
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
    ranked = rankings(labels, proba) if ranked is None else ranked
    if k == 2:
        out["roc_auc"], out["average_precision"] = ranked[0](counts)
    else:
        pairs = [ranking(counts) for ranking in ranked]
        aucs = np.stack([auc for auc, _ in pairs], axis=1)
        aps = np.stack([ap for _, ap in pairs], axis=1)
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
    W = as_float(W)
    tp, fn = W @ (positive & called), W @ (positive & ~called)
    tn, fp = W @ (~positive & ~called), W @ (~positive & called)
    return {
        "sensitivity": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
        "ppv": _ratio(tp, tp + fp),
        "npv": _ratio(tn, tn + fn),
    }
