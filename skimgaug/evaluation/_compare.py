"""The paired bootstrap interval of a difference between two models' out-of-fold predictions."""

import numpy as np

from ._bootstrap import cluster_weights, percentile_interval
from ._inputs import check_predictions, check_settings
from ._metrics import METRICS, rankings, weighted_metrics


def _metric(W, labels, proba, name, ranked):
    """One metric per row of ``W``; ``ranked``: the model's :func:`rankings`, sorted once."""
    if name not in ("roc_auc", "average_precision"):
        return weighted_metrics(W, labels, proba, np.argmax(proba, axis=1), ranked)[name]
    which = 0 if name == "roc_auc" else 1  # ROC AUC and average precision alone
    per_class = np.stack([ranking(W)[which] for ranking in ranked], axis=1)
    if proba.shape[1] == 2:
        return per_class[:, 0]
    present = np.stack([W[:, labels == c].sum(axis=1) > 0 for c in range(proba.shape[1])], 1)
    return np.where(present.all(axis=1), per_class.mean(axis=1), np.nan)


def paired_difference(
    y,
    proba_a,
    proba_b,
    *,
    groups=None,
    metric="roc_auc",
    classes=None,
    n_bootstraps=2000,
    confidence=0.95,
    random_state=None,
):
    """The difference of a metric between two sets of predictions of the same samples.

    Both sets are scored on each bootstrap resample (the same resamples:
    the interval is paired, so the variation the two share cancels out),
    resampling patients when ``groups`` are given. Use it on the out-of-fold
    probabilities of two settings cross-validated on the same folds, such as
    ``skimgaug cv --compare`` makes.

    Parameters
    ----------
    y : array-like of shape (n,)
    proba_a, proba_b : array-like of shape (n, k)
        Probabilities of the two models (rows sum to 1), columns in the order
        of ``classes``.
    groups : array-like of shape (n,), default=None
        The patient of each sample: patients are resampled, not images.
    metric : str, default="roc_auc"
        One of ``accuracy``, ``balanced_accuracy``, ``f1_macro``, ``roc_auc``,
        ``average_precision``, ``log_loss``, ``brier_score`` (labels by the
        highest probability where a metric needs them).
    classes : array-like of shape (k,), default=None
    n_bootstraps : int, default=2000
    confidence : float, default=0.95
    random_state : None or int, default=None

    Returns
    -------
    dict
        ``metric``, ``a``, ``b`` (each model's value), ``difference`` (a - b),
        ``low``, ``high`` (the percentile interval of the difference; None
        without bootstraps), ``n_bootstraps``, ``confidence`` and
        ``resampled`` (``"images"`` or ``"patients"``).

    Examples
    --------
    >>> import numpy as np
    >>> from skimgaug.evaluation import paired_difference
    >>> y = np.array([0, 0, 1, 1, 0, 1, 0, 1])
    >>> a = np.array([.1, .2, .9, .8, .3, .7, .4, .6])
    >>> b = np.array([.4, .6, .5, .7, .3, .4, .5, .6])
    >>> r = paired_difference(y, np.c_[1 - a, a], np.c_[1 - b, b], n_bootstraps=0)
    >>> round(r["a"], 4), round(r["b"], 4), round(r["difference"], 4)
    (1.0, 0.7188, 0.2812)
    """
    check_settings(n_bootstraps, confidence, "mean")
    if metric not in METRICS:
        raise ValueError(
            f"The 'metric' parameter must be one of {', '.join(METRICS)}. Got {metric!r} instead."
        )
    labels, proba_a, classes = check_predictions(y, proba_a, classes, groups, None)
    _, proba_b, _ = check_predictions(y, proba_b, classes, None, None)
    if proba_a.shape != proba_b.shape:
        raise ValueError(
            f"proba_a and proba_b must have the same shape; got {proba_a.shape} and "
            f"{proba_b.shape}."
        )
    clusters = np.arange(len(labels))
    if groups is not None:
        clusters = np.unique(np.asarray(groups), return_inverse=True)[1]
    ones = np.ones((1, len(labels)))
    ranked_a, ranked_b = rankings(labels, proba_a), rankings(labels, proba_b)
    a = float(_metric(ones, labels, proba_a, metric, ranked_a)[0])
    b = float(_metric(ones, labels, proba_b, metric, ranked_b)[0])
    differences = [
        _metric(W, labels, proba_a, metric, ranked_a)
        - _metric(W, labels, proba_b, metric, ranked_b)
        for W, _ in cluster_weights(clusters, n_bootstraps, np.random.default_rng(random_state))
    ]
    low = high = None
    if differences:
        low, high, _ = percentile_interval(np.concatenate(differences), confidence)
    return {
        "metric": metric,
        "a": a,
        "b": b,
        "difference": a - b,
        "low": low,
        "high": high,
        "n_bootstraps": n_bootstraps,
        "confidence": confidence,
        "resampled": "patients" if groups is not None else "images",
    }


def difference_of_evaluations(a, b, metric="roc_auc"):
    """:func:`paired_difference` of two evaluations made on the same resamples, at no cost.

    Two :class:`~skimgaug.evaluation.Evaluation` s of the same labels, groups,
    ``n_bootstraps`` and (int) ``random_state`` drew the same resamples, so the
    difference of their image-level bootstrap values is the paired bootstrap
    of the difference: the same numbers :func:`paired_difference` computes
    again (tested).

    Returns
    -------
    dict or None
        As :func:`paired_difference`; None when the two did not draw the same
        resamples (then call :func:`paired_difference`).
    """
    same = a._resampling is not None and a._resampling == b._resampling
    if not same or ("image", metric) not in a._draws:
        return None
    estimate_a = a.metric(metric)["estimate"]
    estimate_b = b.metric(metric)["estimate"]
    nan = float("nan")
    estimate_a = nan if estimate_a is None else estimate_a
    estimate_b = nan if estimate_b is None else estimate_b
    confidence = a.settings["confidence"]
    low, high, _ = percentile_interval(
        a._draws["image", metric] - b._draws["image", metric], confidence
    )
    return {
        "metric": metric,
        "a": estimate_a,
        "b": estimate_b,
        "difference": estimate_a - estimate_b,
        "low": low,
        "high": high,
        "n_bootstraps": a.settings["n_bootstraps"],
        "confidence": confidence,
        "resampled": "patients" if "cluster" in a.settings["interval"] else "images",
    }
