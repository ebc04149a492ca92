"""The checks of an evaluation's inputs, and the patients made from the images."""

import numbers

import numpy as np

#: How a patient's probability is made from its images' probabilities.
PATIENT_AGGREGATIONS = ("mean", "max")


def check_settings(n_bootstraps, confidence, patient_aggregation):
    integer = isinstance(n_bootstraps, numbers.Integral) and not isinstance(n_bootstraps, bool)
    if not integer or n_bootstraps < 0:
        raise ValueError(
            f"The 'n_bootstraps' parameter must be an int >= 0 (0: no intervals). "
            f"Got {n_bootstraps!r} instead."
        )
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, numbers.Real)
        or not 0 < confidence < 1
    ):
        raise ValueError(
            f"The 'confidence' parameter must be a number in (0, 1), such as 0.95. "
            f"Got {confidence!r} instead."
        )
    if patient_aggregation is not None and patient_aggregation not in PATIENT_AGGREGATIONS:
        raise ValueError(
            f"The 'patient_aggregation' parameter must be 'mean', 'max' or None (groups "
            f"resampled, no patient-level results). Got {patient_aggregation!r} instead."
        )


def check_predictions(y, proba, classes, groups, folds):
    """``(labels, proba, classes)``: class indices, float probabilities, class names."""
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y)
    if proba.ndim != 2 or proba.shape[0] != len(y) or proba.shape[1] < 2:
        raise ValueError(
            f"proba must have one row per sample of y ({len(y)}) and one column per class "
            f"(at least 2); got shape {proba.shape}."
        )
    if not np.all(np.isfinite(proba)) or (proba < 0).any():
        raise ValueError("proba must hold finite, non-negative probabilities.")
    sums = proba.sum(axis=1)
    if not np.allclose(sums, 1, atol=1e-4):
        bad = int(np.argmax(np.abs(sums - 1)))
        raise ValueError(
            f"Each row of proba must sum to 1 (probabilities of the classes); row {bad} "
            f"sums to {sums[bad]:.6g}."
        )
    classes = np.unique(y) if classes is None else np.asarray(classes)
    if len(classes) != proba.shape[1]:
        raise ValueError(
            f"proba has {proba.shape[1]} columns but there are {len(classes)} classes "
            f"({classes.tolist()!r}); give classes=... in the order of the columns."
        )
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    unknown = sorted({v for v in y.tolist() if v not in lookup}, key=str)
    if unknown:
        raise ValueError(f"y holds labels that are not classes: {unknown[:5]!r}.")
    labels = np.array([lookup[v] for v in y.tolist()], dtype=int)
    for name, values in (("groups", groups), ("folds", folds)):
        if values is not None and len(values) != len(y):
            raise ValueError(
                f"{name} must have one entry per sample ({len(y)}); got {len(values)}."
            )
    return labels, proba, classes


def groups_with_several_labels(labels, groups):
    """The groups whose samples carry more than one label, sorted by their text."""
    found = {}
    for group, label in zip(np.asarray(groups).tolist(), np.asarray(labels).tolist(), strict=True):
        found.setdefault(group, set()).add(label)
    return sorted((group for group, seen in found.items() if len(seen) > 1), key=str)


def patients_of(labels, proba, groups, aggregation):
    """``(names, labels, proba, index of each image's patient)`` of the patients."""
    names, first, index = np.unique(np.asarray(groups), return_index=True, return_inverse=True)
    mixed = groups_with_several_labels(labels, groups)
    if mixed:
        shown = ", ".join(repr(str(m)) for m in mixed[:3])
        raise ValueError(
            f"Patient-level results need one label per patient, but the images of "
            f"{len(mixed)} patients carry different labels ({shown}). Give groups "
            "that hold one label each, or, when the groups are not patients (sites, "
            "scanners), patient_aggregation=None: the groups are then resampled, with "
            "image-level results only."
        )
    if aggregation == "mean":
        totals = np.zeros((len(names), proba.shape[1]))
        np.add.at(totals, index, proba)
        patient_proba = totals / np.bincount(index)[:, None]
    else:  # the highest probability of each class, renormalized to sum to 1
        patient_proba = np.zeros((len(names), proba.shape[1]))
        np.maximum.at(patient_proba, index, proba)
        patient_proba /= patient_proba.sum(axis=1, keepdims=True)
    return names, labels[first], patient_proba, index


def held_out_predictions(threshold_data, classes, folds):
    """``threshold_data`` as ``{fold: (scores of class 1, positive)}``, checked."""
    if not threshold_data:
        return None
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    known = set(np.unique(folds).tolist()) if folds is not None else set()
    held_out = {}
    for fold, (y_held, proba_held) in threshold_data.items():
        if fold not in known:
            raise ValueError(
                f"threshold_data has fold {fold!r}, which is not one of the folds "
                f"({sorted(known, key=str)!r})."
            )
        y_held = np.asarray(y_held)
        proba_held = np.asarray(proba_held, dtype=np.float64)
        if proba_held.shape != (len(y_held), len(classes)):
            raise ValueError(
                f"threshold_data[{fold!r}]: the probabilities must have shape "
                f"({len(y_held)}, {len(classes)}); got {proba_held.shape}."
            )
        unknown = sorted({v for v in y_held.tolist() if v not in lookup}, key=str)
        if unknown:
            raise ValueError(
                f"threshold_data[{fold!r}] holds labels that are not classes: {unknown[:5]!r}."
            )
        labels = np.array([lookup[v] for v in y_held.tolist()], dtype=int)
        held_out[fold] = (proba_held[:, 1], labels == 1)
    return held_out
