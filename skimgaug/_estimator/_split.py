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

    Returns
    -------
    train : ndarray of int
    valid : ndarray of int
    """
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
