"""The decision threshold of two classes, chosen for each fold without its test part.

For the test fold ``f``, the threshold is chosen, in this order of preference:

- on the predictions fold ``f``'s own model made for its internal validation
  split (rows of fold ``f``'s training part that did not train it), when they
  are given and hold at least :data:`MIN_PER_CLASS` images of each class:
  nothing of fold ``f`` took part, not even through another fold's model;
- otherwise on the out-of-fold probabilities of the samples *outside* fold
  ``f`` (cross-fitting): each was predicted by a model that never saw it, and
  none of them is in fold ``f`` (the models that predicted them did train on
  fold ``f``'s images, the price of having no validation split).

The metrics at the threshold are then computed on each test fold with the
threshold that fold chose, so no test sample ever influences the threshold it
is judged with.
"""

import numbers
import warnings

import numpy as np

#: The rules a threshold may follow, besides a fixed number.
RULES = ("youden", "sensitivity", "specificity")


def check_threshold(threshold):
    """A threshold rule as ``(rule, value)``: ``("fixed", t)``, ``("youden", None)``, ...

    Raises
    ------
    ValueError
        Naming the value and what is allowed.
    """
    allowed = (
        "'youden', ('sensitivity', x) or ('specificity', x) with x in (0, 1), or a number in [0, 1]"
    )
    if isinstance(threshold, numbers.Real) and not isinstance(threshold, bool):
        if 0 <= threshold <= 1:
            return "fixed", float(threshold)
    elif isinstance(threshold, str) and threshold == "youden":
        return "youden", None
    elif (
        isinstance(threshold, (tuple, list))
        and len(threshold) == 2
        and threshold[0] in ("sensitivity", "specificity")
        and isinstance(threshold[1], numbers.Real)
        and not isinstance(threshold[1], bool)
        and 0 < threshold[1] < 1
    ):
        return threshold[0], float(threshold[1])
    raise ValueError(f"The 'threshold' parameter must be {allowed}. Got {threshold!r} instead.")


def choose_threshold(scores, positive, rule, value):
    """The threshold ``rule`` picks on ``scores`` (probability of class 1) and labels.

    ``"youden"``: the threshold maximizing sensitivity + specificity - 1;
    ``("sensitivity", x)``: the highest threshold whose sensitivity is at least
    x; ``("specificity", x)``: the lowest threshold whose specificity is at least
    x. A sample is called positive when its score is at or above the threshold.
    Ties go to the threshold closest to 0.5.
    """
    if rule == "fixed":
        return value
    candidates = np.unique(np.r_[scores, 0.0, 1.0])
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        return 0.5  # one class only: no rule can be applied
    called = scores[None, :] >= candidates[:, None]
    sensitivity = (called & positive).sum(axis=1) / n_pos
    specificity = (~called & ~positive).sum(axis=1) / n_neg
    if rule == "youden":
        score = sensitivity + specificity
        best = np.flatnonzero(np.isclose(score, score.max()))
    elif rule == "sensitivity":
        ok = np.flatnonzero(sensitivity >= value)
        best = ok[candidates[ok] == candidates[ok].max()]
    else:
        ok = np.flatnonzero(specificity >= value)
        best = ok[candidates[ok] == candidates[ok].min()]
    return float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])


#: How a fold's threshold was chosen: on its model's internal validation split, or by
#: cross-fitting on the other folds' out-of-fold predictions.
SOURCES = ("internal validation", "cross-fitting")
#: Images of each class an internal validation split needs for its fold's threshold;
#: with fewer (a split of a few images, or of one patient), cross-fitting chooses it.
MIN_PER_CLASS = 5


def fold_thresholds(scores, positive, folds, rule, value, validation=None):
    """``({fold: threshold}, {fold: source})``, each chosen without that fold's samples.

    Parameters
    ----------
    scores, positive : ndarray of shape (n,)
        Out-of-fold probabilities of class 1, and whether each sample is positive.
    folds : ndarray of shape (n,)
    rule, value
        As :func:`check_threshold` returns them.
    validation : dict, optional
        ``{fold: (scores, positive)}`` of the fold model's internal validation
        split; used where it holds both classes.
    """
    thresholds, sources = {}, {}
    for f in np.unique(folds).tolist():
        held_out = (validation or {}).get(f)
        positives = 0 if held_out is None else int(held_out[1].sum())
        if held_out is not None and min(positives, len(held_out[1]) - positives) >= MIN_PER_CLASS:
            thresholds[int(f)] = choose_threshold(*held_out, rule, value)
            sources[int(f)] = f"{SOURCES[0]} ({len(held_out[1])} images)"
        else:
            outside = folds != f
            thresholds[int(f)] = choose_threshold(scores[outside], positive[outside], rule, value)
            sources[int(f)] = f"{SOURCES[1]} ({int(outside.sum())} images of the other folds)"
    return thresholds, sources


def decision(labels, proba, folds, threshold, held_out=None):
    """The threshold record of two classes (None for more)."""
    if proba.shape[1] != 2:
        return None
    rule, value = check_threshold(threshold)
    scores, positive = proba[:, 1], labels == 1
    if rule != "fixed" and folds is None:
        warnings.warn(
            f"threshold={threshold!r} is chosen per fold from the other folds' "
            "predictions, and no folds were given: the threshold metrics use 0.5. Give "
            "folds=... (the test fold of each sample), or a fixed threshold.",
            UserWarning,
            stacklevel=3,
        )
        rule, value = "fixed", 0.5
    if rule == "fixed":
        by_fold = {} if folds is None else {int(f): value for f in np.unique(folds)}
        source = f"fixed at {value:g}"
        return {
            "rule": "fixed",
            "value": value,
            "by_fold": by_fold,
            "by_fold_source": {f: "fixed" for f in by_fold},
            "source": source,
        }
    by_fold, sources = fold_thresholds(scores, positive, folds, rule, value, held_out)
    name = f"{rule}{'' if value is None else f' {value:g}'}"
    internal = [f for f, source in sources.items() if source.startswith(SOURCES[0])]
    if len(internal) == len(sources):
        how = "on its model's internal validation split (rows of its training part)"
    elif not internal:
        how = "from the out-of-fold predictions of the other folds (cross-fitting)"
    else:
        how = (
            f"on its model's internal validation split (folds {', '.join(map(str, internal))}) "
            "or, where that split had fewer than 5 images of a class, from the other "
            "folds' out-of-fold predictions (cross-fitting)"
        )
    return {
        "rule": rule,
        "value": value,
        "by_fold": by_fold,
        "by_fold_source": sources,
        "source": (
            f"{name}, chosen for each test fold {how}: no test sample influenced the "
            "threshold it was judged with"
        ),
    }
