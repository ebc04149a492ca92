"""The verdict of ``skimgaug cv --compare``: is augmentation better, worse, or noise?

Both settings are fitted on the same folds, so their scores pair up by fold.
:func:`compare_settings` takes the per-fold differences in accuracy
(augmentation minus no augmentation), their mean and a 95 % interval, and
says in one sentence which setting is better, or that the difference is
within noise (the interval contains 0).

The plain t-interval over folds treats folds as independent samples, but
any two folds share most of their training data, so it is too narrow. The
verdict uses the corrected resampled t of Nadeau and Bengio (2003,
"Inference for the generalization error", Machine Learning 52), which
widens the variance of the mean from ``sd**2 / k`` to
``sd**2 * (1 / k + n_test / n_train)``.
"""

import math

import numpy as np


def paired_intervals(differences, n_train, n_test, confidence=0.95):
    """Mean of paired per-fold differences, with a plain and a corrected t-interval.

    The plain interval, ``mean ± t * sd / sqrt(k)`` with ``t`` the
    ``(1 + confidence) / 2`` quantile of Student's t with ``k - 1`` degrees
    of freedom, treats the ``k`` folds as independent. They are not: every
    two folds share most of their training data, so it is too narrow. The
    corrected resampled t of Nadeau and Bengio (2003) replaces ``1 / k`` by
    ``1 / k + n_test / n_train`` in the variance of the mean:
    ``mean ± t * sd * sqrt(1 / k + n_test / n_train)``.

    Parameters
    ----------
    differences : array-like of shape (k,)
        One difference per fold, k >= 2.
    n_train, n_test : float
        Training and test part sizes (their means over folds).
    confidence : float, default=0.95

    Returns
    -------
    dict
        ``mean``, ``sd`` (with ``ddof=1``), ``t`` (the quantile),
        ``interval`` (corrected) and ``plain_interval``, each a
        ``[low, high]`` list.

    Examples
    --------
    >>> r = paired_intervals([0.01, 0.03], n_train=90, n_test=10)
    >>> round(r["mean"], 4), [round(v, 4) for v in r["plain_interval"]]
    (0.02, [-0.1071, 0.1471])
    """
    from scipy import stats

    d = np.asarray(differences, dtype=float)
    k = len(d)
    if k < 2:
        raise ValueError(f"A paired interval needs at least 2 folds; got {k}.")
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    t = float(stats.t.ppf((1 + confidence) / 2, k - 1))
    plain = t * sd / math.sqrt(k)
    corrected = t * sd * math.sqrt(1 / k + n_test / n_train)
    return {
        "mean": mean,
        "sd": sd,
        "t": t,
        "interval": [mean - corrected, mean + corrected],
        "plain_interval": [mean - plain, mean + plain],
    }


def _capitalized(text):
    return text[:1].upper() + text[1:]


def _points(value):
    """A difference in accuracy as signed percentage points: ``"+1.25"``."""
    return f"{100 * value:+.2f}"


def verdict_sentence(treatment, baseline, metric, mean, interval, confidence=0.95):
    """One plain sentence: which setting is better, or that the difference is noise.

    ``mean`` and ``interval`` are ``treatment - baseline`` differences; the
    treatment is better when the whole interval is above 0, the baseline
    when it is below, and the difference is within noise when it contains 0
    (as it does, reduced to 0, when both settings score the same on every fold).

    Examples
    --------
    >>> verdict_sentence("augmentation", "no augmentation", "accuracy", 0.02, [0.01, 0.03])
    'Augmentation is better: it changes accuracy by +2.00 points on average (95 % interval +1.00 to +3.00 points).'
    """  # noqa: E501
    low, high = interval
    if low == high == 0:
        return (
            f"The difference is within noise: both settings have the same {metric} on every fold."
        )
    span = f"{confidence:.0%}".replace("%", " %")
    bounds = f"{_points(low)} to {_points(high)} points"
    change = f"{treatment} changes {metric} by {_points(mean)} points on average"
    if low > 0:
        return (
            f"{_capitalized(treatment)} is better: it changes {metric} by {_points(mean)} "
            f"points on average ({span} interval {bounds})."
        )
    if high < 0:
        return f"{_capitalized(baseline)} is better: {change} ({span} interval {bounds})."
    return (
        f"The difference is within noise: {change}, and the {span} interval ({bounds}) contains 0."
    )


def compare_settings(results, treatment, baseline, metric="accuracy", confidence=0.95):
    """The verdict: ``treatment`` minus ``baseline`` per fold, its mean and intervals.

    Parameters
    ----------
    results : list of FoldResult
        Both settings on the same folds.
    treatment, baseline : str
        Setting names, e.g. ``"augmentation"`` and ``"no augmentation"``.
    metric : str, default="accuracy"
    confidence : float, default=0.95

    Returns
    -------
    dict or None
        None unless both settings have at least two folds in common.
        Otherwise the per-fold ``differences`` (with their ``folds``, from 1),
        ``n_train`` and ``n_test`` (means over folds), the keys of
        :func:`paired_intervals` (``interval`` is Nadeau and Bengio's
        corrected one), ``outcome`` (``"better"``, ``"worse"`` or
        ``"within noise"``, for the treatment) and ``sentence``.
    """
    scores = {(r.setting, r.fold): r for r in results}
    folds = sorted(f for s, f in scores if s == treatment and (baseline, f) in scores)
    if len(folds) < 2:
        return None
    pairs = [(scores[treatment, f], scores[baseline, f]) for f in folds]
    differences = [t.metrics[metric] - b.metrics[metric] for t, b in pairs]
    sizes = [(t.n_train, len(t.test)) for t, _ in pairs]
    if any(n is None for n, _ in sizes):
        return None
    n_train = float(np.mean([n for n, _ in sizes]))
    n_test = float(np.mean([n for _, n in sizes]))
    stats = paired_intervals(differences, n_train, n_test, confidence)
    low, high = stats["interval"]
    outcome = "better" if low > 0 else "worse" if high < 0 else "within noise"
    return {
        "metric": metric,
        "treatment": treatment,
        "baseline": baseline,
        "folds": [f + 1 for f in folds],
        "differences": [float(d) for d in differences],
        "n_train": n_train,
        "n_test": n_test,
        "confidence": confidence,
        **stats,
        "method": "corrected resampled t (Nadeau and Bengio, 2003)",
        "outcome": outcome,
        "sentence": verdict_sentence(
            treatment, baseline, metric, stats["mean"], stats["interval"], confidence
        ),
    }


def format_verdict(verdict):
    """The verdict as printed last by ``skimgaug cv --compare``."""
    low, high = verdict["plain_interval"]
    per_fold = ", ".join(
        f"fold {f} {_points(d)}"
        for f, d in zip(verdict["folds"], verdict["differences"], strict=True)
    )
    span = f"{verdict['confidence']:.0%}".replace("%", " %")
    corrected = " to ".join(_points(v) for v in verdict["interval"])
    return "\n".join(
        [
            f"verdict: {verdict['treatment']} minus {verdict['baseline']}, {verdict['metric']} "
            "in points, paired by fold",
            f"  {per_fold}",
            f"  mean {_points(verdict['mean'])}, {span} interval {corrected} (Nadeau and "
            "Bengio's corrected resampled t;",
            f"  the plain t-interval, {_points(low)} to {_points(high)}, is optimistic: "
            "folds share training data)",
            verdict["sentence"],
        ]
    )
