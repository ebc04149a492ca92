"""``evaluate``: cross-validate an estimator and evaluate its out-of-fold predictions."""

import numpy as np

from .._data._multi import n_samples, take
from ._audit import image_hashes, record_duplicates, warn_if_names_look_like_patients
from ._evaluation import Evaluation
from ._inputs import check_settings
from ._threshold import check_threshold


def _splitter(cv, groups, random_state, target="classification"):
    """``cv`` as a splitter: an int is a shuffled stratified (group) k-fold.

    For a regressor, a shuffled ``KFold`` (``GroupKFold`` with groups): values
    have no classes to stratify. For multi-label targets, iterative
    stratification over the labels (with groups, of whole groups).
    """
    import numbers

    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"The 'cv' parameter must be an int >= 2 or a splitter. Got {cv!r}.")
        seed = (
            None
            if random_state is None
            else int(np.random.SeedSequence(random_state).generate_state(1)[0])
        )
        if target == "multilabel":
            from .._estimator._split import IterativeStratifiedKFold

            return IterativeStratifiedKFold(int(cv), random_state=seed)
        if target == "regression":
            kind = GroupKFold if groups is not None else KFold
        else:
            kind = StratifiedGroupKFold if groups is not None else StratifiedKFold
        return kind(int(cv), shuffle=True, random_state=seed)
    if not hasattr(cv, "split"):
        raise ValueError(f"The 'cv' parameter must be an int >= 2 or a splitter. Got {cv!r}.")
    return cv


def _as_read(estimator):
    """``(target_size, color_mode, cache, window)`` the estimator reads image files with."""
    from .._data._dicom import check_window

    params = estimator.get_params(deep=False)
    target_size = params.get("target_size")
    window = check_window(params.get("window"))  # a preset as its (center, width)
    if target_size is None:
        return None, "grayscale", None, window
    return target_size, params.get("color_mode", "rgb"), params.get("cache"), window


def _fitted_clone(estimator, X, y, groups, train):
    """A clone of ``estimator`` fitted on the ``train`` rows (and their groups, if it takes any)."""
    from sklearn.base import clone

    model = clone(estimator)
    fit_groups = None if groups is None else groups[train]
    if fit_groups is not None and "groups" in _fit_parameters(model):
        model.fit(take(X, train), y[train], groups=fit_groups)
    else:
        model.fit(take(X, train), y[train])
    return model


def _fit_fold(estimator, X, y, groups, train, test, classes):
    """``(test, probabilities, held-out predictions)`` of one fold of a classifier."""
    model = _fitted_clone(estimator, X, y, groups, train)
    aligned = aligned_proba(model, take(X, test), classes)
    held = None
    rows = getattr(model, "validation_indices_", None)
    if len(classes) == 2 and rows is not None and len(rows):
        # the fold model's internal validation split: its threshold is chosen there
        held = (y[train][rows], aligned_proba(model, take(X, train[rows]), classes))
    return test, aligned, held


def _fit_fold_values(estimator, X, y, groups, train, test, method="predict"):
    """``(test, values)`` of one fold: a regressor's predictions, or label probabilities."""
    model = _fitted_clone(estimator, X, y, groups, train)
    return test, np.asarray(getattr(model, method)(take(X, test)), dtype=np.float64)


def aligned_proba(model, X, classes):
    """``model``'s probabilities of ``X``, one column per class of ``classes``.

    A fold whose training part lacked a class gets a zero column for it.
    """
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    aligned = np.zeros((len(proba), len(classes)))
    aligned[:, np.searchsorted(classes, model.classes_)] = proba
    return aligned


def _run_folds(fit_fold, jobs, n_jobs):
    """``fit_fold(*job)`` for every job, in order: serially, or with joblib's processes."""
    if n_jobs in (None, 1):
        return [fit_fold(*job) for job in jobs]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs)(delayed(fit_fold)(*job) for job in jobs)


def _out_of_fold(estimator, X, y, groups, splitter, classes, n_jobs):
    """``(proba, folds, held_out)``: each sample's probabilities from the fold that tested it."""
    n = len(y)
    splits = splitter.split(np.zeros(n), y, groups)
    jobs = [(estimator, X, y, groups, train, test, classes) for train, test in splits]
    proba = np.zeros((n, len(classes)))
    folds = np.full(n, -1)
    held_out = {}
    for fold, (test, part, held) in enumerate(_run_folds(_fit_fold, jobs, n_jobs)):
        proba[test] = part
        folds[test] = fold
        if held is not None:
            held_out[fold] = held
    return proba, folds, held_out


def _out_of_fold_values(estimator, X, y, groups, splitter, n_jobs, method="predict"):
    """``(values, folds)``: each sample's values from the fold that tested it.

    A regressor's predictions, or with ``method="predict_proba"`` the
    probabilities of a multi-label classifier's labels.
    """
    splits = splitter.split(np.zeros(len(y)), y, groups)
    jobs = [(estimator, X, y, groups, train, test, method) for train, test in splits]
    predicted = np.zeros(np.shape(y), dtype=np.float64)
    folds = np.full(len(y), -1)
    for fold, (test, values) in enumerate(_run_folds(_fit_fold_values, jobs, n_jobs)):
        predicted[test] = values.reshape(predicted[test].shape)
        folds[test] = fold
    return predicted, folds


def _fit_parameters(model):
    import inspect

    try:
        return inspect.signature(model.fit).parameters
    except (TypeError, ValueError):
        return {}


def evaluate(
    estimator,
    X,
    y,
    *,
    groups=None,
    cv=5,
    n_bootstraps=2000,
    confidence=0.95,
    random_state=None,
    n_jobs=None,
    threshold="youden",
    patient_aggregation="mean",
    max_distance=2,
):
    """Cross-validate ``estimator`` and evaluate its out-of-fold probabilities.

    Each fold fits a clone of ``estimator`` on the other folds (with groups,
    given to its ``fit`` too, so that its internal validation split holds out
    whole patients) and predicts the fold's samples; the out-of-fold
    probabilities then go to :meth:`Evaluation.from_predictions`.

    Parameters
    ----------
    estimator : classifier or regressor
        Any scikit-learn classifier with ``predict_proba``, such as
        :class:`~skimgaug.AugmentedKerasClassifier`, or any regressor, such as
        :class:`~skimgaug.AugmentedKerasRegressor` (its out-of-fold values go
        to :meth:`Evaluation.from_values`: MAE, RMSE and R² with intervals).
    X : array-like or sequence of image file paths
    y : array-like of shape (n,)
    groups : array-like of shape (n,), default=None
        The patient of each sample: the folds are then a
        ``StratifiedGroupKFold`` (no patient on both sides of a split), the
        intervals resample patients, and patient-level results are added.
    cv : int or splitter, default=5
        An int is a shuffled ``StratifiedKFold`` (``StratifiedGroupKFold`` with
        groups) seeded from ``random_state``.
    n_bootstraps : int, default=2000
        As in :meth:`Evaluation.from_predictions`.
    confidence : float, default=0.95
        As in :meth:`Evaluation.from_predictions`.
    random_state : None or int, default=None
        Seeds the folds and the resampling (not the estimator, which has its own).
    n_jobs : int or None, default=None
        Folds fitted in parallel (joblib).
    threshold : "youden", ("sensitivity", x), ("specificity", x) or float, default="youden"
        As in :meth:`Evaluation.from_predictions`. For a multi-label ``y`` (a
        0/1 indicator matrix; its out-of-fold probabilities go to
        :meth:`Evaluation.from_label_probabilities`, an integer ``cv`` is then
        stratified over every label by iterative stratification): a number or
        one per label, fixed; the default is 0.5 per label. Each fold's threshold is
        chosen on its model's predictions of its internal validation split
        when the estimator has one (``validation_split`` > 0: the
        ``validation_indices_`` of an ``AugmentedKerasClassifier``), otherwise
        from the other folds' out-of-fold predictions (cross-fitting);
        ``threshold["by_fold_source"]`` says which, fold by fold.
    patient_aggregation : {"mean", "max"} or None, default="mean"
        As in :meth:`Evaluation.from_predictions`.
    max_distance : int, default=2
        Images whose difference hashes (64 bits) differ in at most this many
        bits count as duplicates in the audit (0: exact duplicates only).

    Returns
    -------
    Evaluation
    """
    check_settings(n_bootstraps, confidence, patient_aggregation)
    _check_max_distance(max_distance)
    y, groups = _checked_samples(X, y, groups)
    target = _target_of(estimator, y)
    if target == "multilabel":
        threshold = _label_threshold(threshold, y.shape[1])  # before any fit
    else:
        check_threshold(threshold)
    splitter = _splitter(cv, groups, random_state, target)
    resampling = {
        "groups": groups,
        "n_bootstraps": n_bootstraps,
        "confidence": confidence,
        "random_state": random_state,
    }
    if target == "regression":
        predicted, folds = _out_of_fold_values(estimator, X, y, groups, splitter, n_jobs)
        evaluation = Evaluation.from_values(y, predicted, folds=folds, **resampling)
    elif target == "multilabel":
        proba, folds = _out_of_fold_values(
            estimator, X, y, groups, splitter, n_jobs, "predict_proba"
        )
        evaluation = Evaluation.from_label_probabilities(
            y, proba, folds=folds, threshold=threshold, **resampling
        )
    else:
        classes = np.unique(y)
        proba, folds, held_out = _out_of_fold(estimator, X, y, groups, splitter, classes, n_jobs)
        evaluation = Evaluation.from_predictions(
            y,
            proba,
            folds=folds,
            classes=classes,
            threshold=threshold,
            patient_aggregation=patient_aggregation,
            threshold_data=held_out,
            **resampling,
        )
    if groups is None:
        warn_if_names_look_like_patients(X)
    hashes = image_hashes(X, *_as_read(estimator))
    if hashes is not None:
        record_duplicates(evaluation.audit, hashes, folds, max_distance)
    return evaluation


def _check_max_distance(max_distance):
    if (
        isinstance(max_distance, bool)
        or not isinstance(max_distance, int)
        or not 0 <= max_distance <= 64
    ):
        raise ValueError(
            "The 'max_distance' parameter must be an int from 0 to 64 (bits of the image "
            f"hashes). Got {max_distance!r} instead."
        )


def _checked_samples(X, y, groups):
    """``(y, groups)`` as arrays, with one entry per sample of ``X``."""
    y = np.asarray(y)
    n = n_samples(X)
    if len(y) != n:
        raise ValueError(f"X has {n} samples but y has {len(y)}.")
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(f"groups must have one entry per sample ({n}); got {groups.shape}.")
    return y, groups


def _is_regressor(estimator):
    """scikit-learn's ``is_regressor``, False for objects without scikit-learn's tags."""
    from sklearn.base import is_regressor

    try:
        return is_regressor(estimator)
    except (AttributeError, TypeError):
        return False


def _target_of(estimator, y):
    """``"regression"``, ``"multilabel"`` (a 0/1 indicator ``y``) or ``"classification"``."""
    if _is_regressor(estimator):
        return "regression"
    from .._estimator._split import _indicator

    return "multilabel" if _indicator(y) is not None else "classification"


def _label_threshold(threshold, n_labels):
    """A multi-label evaluation's thresholds: the default rule "youden" is 0.5 per label.

    Rules that choose a threshold (a sensitivity or specificity to reach) are
    defined for two classes; per label they are not offered (ValueError).
    """
    from ._multilabel import check_label_thresholds

    if isinstance(threshold, str) and threshold == "youden":
        return np.full(n_labels, 0.5)
    if isinstance(threshold, (str, tuple)):
        raise ValueError(
            f"threshold={threshold!r} chooses a threshold for two classes; a multi-label "
            "evaluation takes fixed thresholds: a number in (0, 1) or one per label."
        )
    return check_label_thresholds(threshold, n_labels)
