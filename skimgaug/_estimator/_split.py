"""The internal validation split, made before any augmentation."""

import warnings

import numpy as np
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit


def _strata(y):
    """One label per sample to stratify on, or None if there is none."""
    y = np.asarray(y)
    if y.ndim == 1 or y.shape[1] == 1:
        return y.reshape(-1)
    if np.all(y.sum(axis=1) == 1):  # one-hot
        return y.argmax(axis=1)
    return None  # multilabel: no single label per sample


def _indicator(y):
    """``y`` as a 0/1 multilabel indicator matrix, or None if it is not one."""
    y = np.asarray(y)
    if y.ndim != 2 or y.shape[1] < 2 or y.dtype.kind not in "biuf":
        return None
    if not np.isin(y, (0, 1)).all() or np.all(y.sum(axis=1) == 1):
        return None  # not 0/1, or one-hot (one class per sample)
    return y.astype(bool)


def iterative_stratification(labels, sizes, fraction, rng):
    """Which units go to the validation part, stratified over every label at once.

    :func:`iterative_parts` with two parts, of ``1 - fraction`` and
    ``fraction`` of the samples.

    Parameters
    ----------
    labels : ndarray of bool, shape (units, n_labels)
        The labels of each unit (a sample, or a group: the union of its samples').
    sizes : ndarray of int, shape (units,)
        Samples per unit (1 for samples; a group's count).
    fraction : float
        Share of the samples wanted in the validation part.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of bool, shape (units,)
        True for the units of the validation part.
    """
    return iterative_parts(labels, sizes, np.array([1 - fraction, fraction]), rng) == 1


def iterative_parts(labels, sizes, shares, rng):
    """The part of each unit, stratified over every label at once.

    Iterative stratification (Sechidis, Tsoumakas and Vlahavas, 2011): the
    label with the fewest units left is handled first, each of its units goes
    to the part that still wants most of that label (then most units), so
    that rare labels reach every part.

    Parameters
    ----------
    labels : ndarray of bool, shape (units, n_labels)
    sizes : ndarray of int, shape (units,)
    shares : ndarray of float, shape (parts,)
        The share of the samples each part should get (summing to 1).
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int, shape (units,)
        The part of each unit.
    """
    shares = np.asarray(shares, dtype=float)
    wanted = shares * sizes.sum()  # samples each part still wants
    wanted_labels = shares[:, None] * (labels * sizes[:, None]).sum(axis=0)[None, :]
    part = np.full(len(labels), -1)
    left = np.ones(len(labels), dtype=bool)
    while left.any():
        counts = labels[left].sum(axis=0)
        if not counts.any():  # units without labels: to the part that wants most samples
            for unit in rng.permutation(np.flatnonzero(left)):
                part[unit] = int(np.argmax(wanted))
                wanted[part[unit]] -= sizes[unit]
            break
        label = int(np.argmin(np.where(counts > 0, counts, np.inf)))
        for unit in rng.permutation(np.flatnonzero(left & labels[:, label])):
            want = wanted_labels[:, label]
            best = np.flatnonzero(want == want.max())
            if len(best) > 1:
                best = best[wanted[best] == wanted[best].max()]
            chosen = int(rng.choice(best))
            part[unit] = chosen
            wanted[chosen] -= sizes[unit]
            wanted_labels[chosen] -= labels[unit] * sizes[unit]
            left[unit] = False
    return part


def _multilabel_split(indicator, fraction, seed, groups=None):
    """``(train, valid)`` by iterative stratification (of whole groups, with groups)."""
    rng = np.random.default_rng(seed)
    if groups is None:
        valid = iterative_stratification(indicator, np.ones(len(indicator), int), fraction, rng)
        rows = np.arange(len(indicator))
        return rows[~valid], rows[valid]
    names, index = np.unique(np.asarray(groups), return_inverse=True)
    union = np.zeros((len(names), indicator.shape[1]), dtype=bool)
    np.logical_or.at(union, index, indicator)
    valid_groups = iterative_stratification(union, np.bincount(index), fraction, rng)
    valid = valid_groups[index]
    if valid.all() or not valid.any():
        raise ValueError(
            f"validation_split={fraction} with groups could not hold out whole groups on "
            "both sides; pass more groups, or validation_split=0."
        )
    rows = np.arange(len(indicator))
    return rows[~valid], rows[valid]


def internal_validation_split(y, fraction, seed, groups=None, stratify=True):
    """Split sample indices into training and internal validation parts.

    Stratified on the labels when every class has at least two samples and
    the validation part can hold one of each; otherwise a plain shuffled
    split, with a warning saying why. With ``groups``, every group lies on
    one side (see :func:`group_validation_split`).

    Parameters
    ----------
    y : ndarray
        Encoded targets (ordinal, one-hot or indicator).
    fraction : float
        Fraction of samples held out, in (0, 1).
    seed : int
    groups : array-like of shape (n_samples,), optional
    stratify : bool, default=True
        False for regression targets: a plain shuffled split, without a warning.
        Multilabel targets (a 0/1 indicator matrix) are split by iterative
        stratification over the labels (:func:`iterative_stratification`).

    Returns
    -------
    train : ndarray of int
    valid : ndarray of int
    """
    indicator = _indicator(y) if stratify else None
    if indicator is not None:  # multilabel: every label on both sides, as far as possible
        if groups is not None:
            group_validation_split(y, fraction, seed, groups, stratify=False)  # its checks
        return _multilabel_split(indicator, fraction, seed, groups)
    if groups is not None:
        return group_validation_split(y, fraction, seed, groups, stratify)
    n = len(y)
    n_valid = int(np.ceil(fraction * n))
    if n_valid < 1 or n - n_valid < 1:
        raise ValueError(
            f"validation_split={fraction} leaves no samples for "
            f"{'validation' if n_valid < 1 else 'training'} out of {n}."
        )
    strata = _strata(y) if stratify else None
    indices = np.zeros(n)
    if not stratify:
        splitter = ShuffleSplit(n_splits=1, test_size=n_valid, random_state=seed)
        return next(splitter.split(indices))
    if strata is not None:
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=seed)
        try:
            return next(splitter.split(indices, strata))
        except ValueError as exc:
            reason = str(exc)
    else:
        reason = "multilabel targets have no single class per sample"
    warnings.warn(
        f"The internal validation split (validation_split={fraction}) could not be "
        f"stratified ({reason}); using a plain shuffled split.",
        UserWarning,
        stacklevel=3,
    )
    splitter = ShuffleSplit(n_splits=1, test_size=n_valid, random_state=seed)
    return next(splitter.split(indices))


def group_validation_split(y, fraction, seed, groups, stratify=True):
    """An internal split that keeps each group (e.g. a patient) on one side.

    The validation part is one fold of a shuffled, seeded
    ``StratifiedGroupKFold`` with ``round(1 / fraction)`` folds (so about
    ``fraction`` of the samples, stratified as far as the groups allow); with
    fewer groups than that, one fold per group, with a warning that the
    validation part is larger than asked.

    Raises
    ------
    ValueError
        With fewer than two groups: nothing could be held out whole.
    """
    from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold

    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != len(y):
        raise ValueError(
            f"groups must be 1-D with one entry per sample ({len(y)}); got shape {groups.shape}."
        )
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise ValueError(
            f"validation_split={fraction} with groups needs at least 2 groups, to hold out "
            f"whole groups; got {n_groups}. Pass more groups, or validation_split=0."
        )
    n_splits = max(2, int(round(1 / fraction)))
    if n_groups < n_splits:
        warnings.warn(
            f"Only {n_groups} groups for validation_split={fraction}: one group of "
            f"{n_groups} is held out for internal validation, about {1 / n_groups:.0%} "
            "of the samples.",
            UserWarning,
            stacklevel=3,
        )
        n_splits = n_groups
    indices = np.zeros(len(y))
    strata = _strata(y) if stratify else None
    if strata is not None:
        splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
        with warnings.catch_warnings():  # "least populated class" notes: as far as groups allow
            warnings.simplefilter("ignore", UserWarning)
            return next(splitter.split(indices, strata, groups))
    splitter = GroupShuffleSplit(1, test_size=1 / n_splits, random_state=seed)
    return next(splitter.split(indices, groups=groups))


class IterativeStratifiedKFold:
    """K folds of a multi-label target, each with its share of every label.

    scikit-learn stratifies one label per sample; a 0/1 indicator matrix gets
    a plain ``KFold``, where a rare label can be missing from a test fold.
    Here the folds are made by iterative stratification
    (:func:`iterative_parts`); with groups, whole groups go to a fold (a
    group carries the union of its images' labels). A single-label ``y``
    is stratified as one label per class.

    Parameters
    ----------
    n_splits : int, default=5
    random_state : None or int, default=None
        Seeds the order in which tied units are placed.
    """

    def __init__(self, n_splits=5, random_state=None):
        self.n_splits = n_splits
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def split(self, X, y, groups=None):
        y = np.asarray(y)
        labels = _indicator(y)
        if labels is None:  # one label per sample: one column per class
            strata = _strata(y)
            labels = strata[:, None] == np.unique(strata)[None, :]
        rng = np.random.default_rng(self.random_state)
        shares = np.full(self.n_splits, 1 / self.n_splits)
        if groups is None:
            fold = iterative_parts(labels, np.ones(len(labels), int), shares, rng)
        else:
            names, index = np.unique(np.asarray(groups), return_inverse=True)
            if len(names) < self.n_splits:
                raise ValueError(
                    f"Cannot make {self.n_splits} folds of {len(names)} groups: each group "
                    "lies in one fold."
                )
            union = np.zeros((len(names), labels.shape[1]), dtype=bool)
            np.logical_or.at(union, index, labels)
            fold = iterative_parts(union, np.bincount(index), shares, rng)[index]
        rows = np.arange(len(labels))
        for k in range(self.n_splits):
            yield rows[fold != k], rows[fold == k]
