"""Calibration of predicted probabilities: reliability bins, ECE, slope and intercept.

For two classes the probability of class 1 is assessed; for more, each class
one-vs-rest. The calibration slope and intercept are those of the logistic
recalibration ``logit P(y) = intercept + slope * logit(p)`` (Cox 1958; slope 1
and intercept 0 for a calibrated model; a slope below 1 means predictions too
extreme, as overfitting makes them).
"""

import numpy as np

#: Probabilities are clipped to [_CLIP, 1 - _CLIP] before the logit.
_CLIP = 1e-6


def _per_bin(count, values):
    return [None if c == 0 else float(v) for c, v in zip(count, values, strict=True)]


def reliability(probability, outcome, n_bins=10):
    """Equal-width bins of ``probability``: their mean prediction, observed rate and count.

    Returns
    -------
    dict
        ``bins`` (edges), ``mean_predicted``, ``observed``, ``count`` (lists; None
        for an empty bin) and ``ece``, the expected calibration error: the
        count-weighted mean of ``|observed - mean_predicted|``.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(probability, edges[1:-1]), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    total_p = np.bincount(which, weights=probability, minlength=n_bins)
    total_y = np.bincount(which, weights=outcome.astype(float), minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p, observed = total_p / count, total_y / count
    ece = float(np.nansum(count * np.abs(observed - mean_p)) / max(len(probability), 1))
    return {
        "bins": edges.tolist(),
        "mean_predicted": [
            None if c == 0 else float(v) for c, v in zip(count, mean_p, strict=True)
        ],
        "observed": [None if c == 0 else float(v) for c, v in zip(count, observed, strict=True)],
        "count": count.astype(int).tolist(),
        "ece": ece,
    }


def slope_and_intercept(probability, outcome):
    """The logistic recalibration's ``(slope, intercept)``, or ``(None, None)`` if undefined.

    Maximum likelihood by Newton's method (two parameters); undefined for one
    class, and for predictions that separate the classes (no finite maximum).
    """
    y = outcome.astype(float)
    if y.all() or not y.any():
        return None, None
    p = np.clip(probability, _CLIP, 1 - _CLIP)
    X = np.column_stack([np.ones_like(p), np.log(p / (1 - p))])

    def log_likelihood(beta):
        eta = X @ beta
        return float(np.sum(y * eta - np.logaddexp(0, eta)))

    beta = np.array([0.0, 1.0])
    current = log_likelihood(beta)
    for _ in range(100):
        fitted = 0.5 * (1 + np.tanh(0.5 * (X @ beta)))  # the logistic, without overflow
        gradient = X.T @ (y - fitted)
        hessian = (X * (fitted * (1 - fitted))[:, None]).T @ X
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return None, None
        for _ in range(40):  # damped: halve the step until the likelihood does not drop
            candidate = beta + step
            value = log_likelihood(candidate)
            if value >= current - 1e-12:
                break
            step = step / 2
        beta, current = candidate, value
        if not np.all(np.isfinite(beta)) or np.abs(beta).max() > 1e6:
            return None, None
        if np.abs(step).max() < 1e-9:
            return float(beta[1]), float(beta[0])
    return None, None


def calibration(labels, proba, classes, n_bins=10):
    """Each assessed class's calibration: reliability bins, ECE, slope, intercept, Brier."""
    assessed = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    out = {}
    for c in assessed:
        probability, outcome = proba[:, c], labels == c
        result = reliability(probability, outcome, n_bins)
        result["slope"], result["intercept"] = slope_and_intercept(probability, outcome)
        result["brier"] = float(np.mean((probability - outcome) ** 2))
        out[str(classes[c])] = result
    return out
