"""ROC and precision-recall curves with pointwise bootstrap bands.

Each curve is read on a fixed grid of 101 points: the true positive rate at
false positive rates 0, 0.01, ..., 1 (linear interpolation between the ROC's
points), and the interpolated precision at recalls 0, 0.01, ..., 1 (the
highest precision at that recall or above, as PASCAL VOC's curves and
most papers draw them). The band at each grid point is the percentile
interval of the resampled curves there, from the first
:data:`CURVE_RESAMPLES` bootstrap resamples of the metrics' intervals (a
band is a picture; the metrics' intervals use every resample). Bands are
made for up to :data:`BANDED_CLASSES` curves (two classes: one curve, of
class 1); more bands would hide each other, and the metrics' intervals
say what they would.
"""

import numpy as np

#: The false positive rates (ROC) and recalls (precision-recall) curves are read at.
GRID = np.linspace(0.0, 1.0, 101)
#: Bootstrap resamples the bands are made from.
CURVE_RESAMPLES = 500
#: Curves (assessed classes) up to which bands are made.
BANDED_CLASSES = 3


def _on_grid(x, y):
    """``y`` read at :data:`GRID` for each row of the non-decreasing rows of ``x``.

    One :func:`numpy.interp` call for all rows: row ``r`` is shifted by ``2r``
    so that the rows, each within [0, 1], follow each other in one increasing
    sequence.
    """
    rows = x.shape[0]
    shift = 2.0 * np.arange(rows)[:, None]
    values = np.interp((GRID[None, :] + shift).ravel(), (x + shift).ravel(), y.ravel())
    return values.reshape(rows, len(GRID))


def curve_rows(W, scores, positive):
    """ROC and precision-recall curves of each row of weights ``W`` on :data:`GRID`.

    Parameters
    ----------
    W : ndarray of shape (resamples, n)
    scores : ndarray of shape (n,)
        The probability of the class.
    positive : ndarray of bool, shape (n,)

    Returns
    -------
    tpr, precision : ndarray of shape (resamples, len(GRID))
        NaN rows where a resample has no positive or no negative.
    """
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    W = np.asarray(W[:, order], dtype=np.float64)
    pos = W * positive[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    # one point per distinct score, from the highest threshold down, after (0, 0)
    tp = np.cumsum(np.add.reduceat(pos, starts, axis=1), axis=1)
    called = np.cumsum(np.add.reduceat(W, starts, axis=1), axis=1)
    fp = called - tp
    total_pos, total_neg = tp[:, -1:], fp[:, -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = np.c_[np.zeros(len(W)), tp / total_pos]
        fpr = np.c_[np.zeros(len(W)), fp / total_neg]
        # no sample called yet (zero weights at the top): neutral for the running maximum
        precision = np.where(called > 0, tp / np.where(called > 0, called, 1), 0.0)
    recall = tpr[:, 1:]
    # interpolated precision: the best precision at this recall or above
    precision = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    undefined = (total_pos[:, 0] <= 0) | (total_neg[:, 0] <= 0)
    fpr[undefined] = tpr[undefined] = 0.0
    recall = np.where(undefined[:, None], 0.0, recall)
    roc = _on_grid(fpr, tpr)
    # at recall r: the running maximum at the first point whose recall reaches r,
    # that is the best precision of every point at recall r or above
    shift = 2.0 * np.arange(len(W))[:, None]
    first = np.searchsorted((recall + shift).ravel(), (GRID[None, :] + shift).ravel())
    pr = precision.ravel()[np.minimum(first, precision.size - 1)].reshape(len(W), len(GRID))
    roc[undefined] = pr[undefined] = np.nan
    return roc, pr


class CurveBands:
    """Collects resampled curves of one level, batch by batch, then summarizes them.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
    proba : ndarray of shape (n, k)
    class_names : sequence of str
        Curves are made for class 1 of two classes and for every class of more
        (one-vs-rest).
    """

    def __init__(self, labels, proba, class_names):
        self.labels, self.proba = labels, proba
        self.assessed = [1] if proba.shape[1] == 2 else list(range(proba.shape[1]))
        # bands for up to BANDED_CLASSES curves: more would hide each other's lines
        self.banded = len(self.assessed) <= BANDED_CLASSES
        self.names = [str(class_names[c]) for c in self.assessed]
        self.drawn = {c: ([], []) for c in self.assessed}
        self.count = 0

    def add(self, W):
        """Add the curves of the resamples ``W`` (up to :data:`CURVE_RESAMPLES` in all)."""
        W = W[: max(CURVE_RESAMPLES - self.count, 0)]
        if not len(W) or not self.banded:
            return
        for c in self.assessed:
            roc, pr = curve_rows(W, self.proba[:, c], self.labels == c)
            self.drawn[c][0].append(roc)
            self.drawn[c][1].append(pr)
        self.count += len(W)

    def summary(self, confidence):
        """``{class: {"grid", "tpr", "tpr_low", "tpr_high", "precision", ...}}``, JSON-safe."""
        alpha = 100 * (1 - confidence) / 2
        ones = np.ones((1, len(self.labels)))
        out = {}
        for c, name in zip(self.assessed, self.names, strict=True):
            roc, pr = curve_rows(ones, self.proba[:, c], self.labels == c)
            curve = {"grid": GRID.tolist(), "tpr": _plain(roc[0]), "precision": _plain(pr[0])}
            curve["prevalence"] = float(np.mean(self.labels == c))
            for key, batches in (("tpr", self.drawn[c][0]), ("precision", self.drawn[c][1])):
                low = high = None
                if batches:
                    values = np.concatenate(batches)
                    values = values[~np.isnan(values).any(axis=1)]
                    if len(values):
                        low, high = np.percentile(values, [alpha, 100 - alpha], axis=0)
                        low, high = _plain(low), _plain(high)
                curve[f"{key}_low"], curve[f"{key}_high"] = low, high
            curve["resamples"] = self.count
            out[name] = curve
        return out


def _plain(values):
    """Rounded floats for JSON (None for NaN): curves are for drawing."""
    return [None if np.isnan(v) else round(float(v), 6) for v in values]
