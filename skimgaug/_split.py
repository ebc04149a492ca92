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


def internal_validation_split(y, fraction, seed):
    """Split sample indices into training and internal validation parts.

    Stratified on the labels when every class has at least two samples and
    the validation part can hold one of each; otherwise a plain shuffled
    split, with a warning saying why.

    Parameters
    ----------
    y : ndarray
        Encoded targets (ordinal, one-hot or indicator).
    fraction : float
        Fraction of samples held out, in (0, 1).
    seed : int

    Returns
    -------
    train : ndarray of int
    valid : ndarray of int
    """
    n = len(y)
    n_valid = int(np.ceil(fraction * n))
    if n_valid < 1 or n - n_valid < 1:
        raise ValueError(
            f"validation_split={fraction} leaves no samples for "
            f"{'validation' if n_valid < 1 else 'training'} out of {n}."
        )
    strata = _strata(y)
    indices = np.zeros(n)
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
