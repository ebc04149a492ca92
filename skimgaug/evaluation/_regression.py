"""The evaluation of a regressor's out-of-fold values: MAE, RMSE and R² with intervals.

The same bootstrap as for classifiers (patients resampled when groups are
given), on the metrics of values: every metric of a batch of resamples at
once, from the weighted sums of the errors. With several outputs (a 2-D
``y``), each metric is the mean over the outputs, as scikit-learn's
``"uniform_average"``. A patient's value and prediction are the means of its
images'.
"""

import numpy as np

from ._audit import fold_audit
from ._bootstrap import (
    cluster_weights,
    evaluation_settings,
    metric_row,
    resampling_record,
)
from ._inputs import check_settings
from ._metrics import _ratio

#: The metrics of values, named as scikit-learn's scorers name them (without ``neg_``).
REGRESSION_METRICS = ("mean_absolute_error", "root_mean_squared_error", "r2")


def weighted_regression_metrics(W, y, predicted):
    """MAE, RMSE and R² of ``predicted`` for ``y`` (both ``(n, outputs)``), per row of ``W``."""
    W = np.asarray(W, dtype=np.float64)
    total = W.sum(axis=1)
    errors = predicted - y
    absolute = _ratio(W @ np.abs(errors), total[:, None])
    squared = _ratio(W @ errors**2, total[:, None])
    mean = _ratio(W @ y, total[:, None])  # the weighted mean of each output, per resample
    # sum of w (y - mean)^2 = sum of w y^2 - total * mean^2
    spread = W @ y**2 - total[:, None] * mean**2
    varies = spread > 1e-12 * np.maximum(W @ y**2, 1)  # R² is undefined for constant y
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(varies, 1 - (squared * total[:, None]) / spread, np.nan)
    return {
        "mean_absolute_error": absolute.mean(axis=1),
        "root_mean_squared_error": np.sqrt(squared).mean(axis=1),
        "r2": r2.mean(axis=1),
    }


def _as_2d(values, name, n):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or len(values) != n:
        raise ValueError(f"{name} must have one row per sample ({n}); got shape {values.shape}.")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} must hold finite numbers (no NaN or infinity).")
    return values


def regression_evaluation(
    cls, y, predicted, *, groups, folds, n_bootstraps, confidence, random_state
):
    """An ``cls`` (:class:`Evaluation`) of out-of-fold values (see ``Evaluation.from_values``)."""
    check_settings(n_bootstraps, confidence, "mean")
    y_2d = _as_2d(y, "y", len(np.asarray(y)))
    pred_2d = _as_2d(predicted, "predicted", len(y_2d))
    if pred_2d.shape != y_2d.shape:
        raise ValueError(
            f"predicted has shape {pred_2d.shape}, but y has {y_2d.shape}: one value per output."
        )
    for name, values in (("groups", groups), ("folds", folds)):
        if values is not None and len(values) != len(y_2d):
            raise ValueError(
                f"{name} must have one entry per sample ({len(y_2d)}); got {len(values)}."
            )
    folds = None if folds is None else np.asarray(folds)
    levels = [("image", y_2d, pred_2d)]
    clusters = np.arange(len(y_2d))
    if groups is not None:
        names, clusters = np.unique(np.asarray(groups), return_inverse=True)
        sizes = np.bincount(clusters)[:, None]
        patient_y = np.zeros((len(names), y_2d.shape[1]))
        patient_pred = np.zeros_like(patient_y)
        np.add.at(patient_y, clusters, y_2d)
        np.add.at(patient_pred, clusters, pred_2d)
        levels.append(("patient", patient_y / sizes, patient_pred / sizes))
    drawn = {level: [] for level, *_ in levels}
    rng = np.random.default_rng(random_state)
    for weights, counts in cluster_weights(clusters, n_bootstraps, rng):
        for level, values, estimates in levels:
            W = weights if level == "image" else counts
            drawn[level].append(weighted_regression_metrics(W, values, estimates))
    rows, kept = [], {}
    for level, values, estimates in levels:
        point = weighted_regression_metrics(np.ones((1, len(values))), values, estimates)
        for metric in REGRESSION_METRICS:
            resampled = None
            if drawn[level]:
                resampled = np.concatenate([batch[metric] for batch in drawn[level]])
                kept[level, metric] = resampled
            row = metric_row(level, metric, point[metric][0], resampled, confidence, len(values))
            rows.append(row)
    audit = fold_audit(np.zeros(len(y_2d), dtype=int), np.array(["images"]), groups, folds)
    resampling = resampling_record(random_state, n_bootstraps, clusters, y_2d)
    evaluation = cls(
        draws=kept,
        resampling=resampling,
        oof_proba=None,
        oof_pred=pred_2d[:, 0] if np.ndim(predicted) == 1 else pred_2d,
        fold=folds,
        classes=None,
        metrics=rows,
        calibration={},
        curves={},
        threshold=None,
        audit=audit,
        settings=evaluation_settings(
            n_bootstraps,
            confidence,
            groups is not None,
            "regression",
            patient_aggregation="mean" if groups is not None else None,
        ),
    )
    return evaluation
