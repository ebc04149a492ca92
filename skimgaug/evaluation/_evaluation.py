"""``Evaluation``: cross-validated results with intervals, patients, calibration, thresholds."""

import numpy as np

from ._audit import fold_audit
from ._bootstrap import (
    cluster_weights,
    evaluation_settings,
    metric_row,
    resampling_record,
)
from ._calibration import calibration
from ._curves import CurveBands
from ._inputs import check_predictions, check_settings, held_out_predictions, patients_of
from ._metrics import rankings, weighted_metrics, weighted_threshold_metrics
from ._threshold import decision as _decision


def _predicted(proba, thresholds_by_sample):
    """Class indices: argmax, or for two classes class 1 at or above the sample's threshold."""
    if proba.shape[1] == 2 and thresholds_by_sample is not None:
        return (proba[:, 1] >= thresholds_by_sample).astype(int)
    return np.argmax(proba, axis=1)


def _all_metrics(W, labels, proba, predicted, ranked=None):
    """Every metric of one level, one value per row of the weights ``W``."""
    values = weighted_metrics(W, labels, proba, predicted, ranked)
    if proba.shape[1] == 2:
        values.update(weighted_threshold_metrics(W, labels, predicted))
    return values


def _metric_rows(levels, clusters, n_bootstraps, rng, confidence, class_names):
    """``(rows of metrics, curves, draws)``: each level's estimates, intervals and curves.

    ``draws`` maps ``(level, metric)`` to the metric's value in every resample.

    ``levels`` holds ``(name, labels, proba, predicted)`` of the images and,
    with patients, of the patients. The batches of resamples are drawn once and
    go to both levels (the images weighted by their cluster's draws, the
    patients by their own), one batch at a time, so memory stays bounded.
    """
    drawn = [{} for _ in levels]
    bands = [CurveBands(labels, proba, class_names) for _, labels, proba, _ in levels]
    ranked = [rankings(labels, proba) for _, labels, proba, _ in levels]  # sorted once
    for weights, counts in cluster_weights(clusters, n_bootstraps, rng):
        for (level, labels, proba, predicted), values, band, ranks in zip(
            levels, drawn, bands, ranked, strict=True
        ):
            W = weights if level == "image" else counts
            for name, batch in _all_metrics(W, labels, proba, predicted, ranks).items():
                values.setdefault(name, []).append(batch)
            band.add(W)
    curves = {
        level: band.summary(confidence) for (level, *_), band in zip(levels, bands, strict=True)
    }
    rows, draws = [], {}
    for (level, labels, proba, predicted), values in zip(levels, drawn, strict=True):
        ranks = rankings(labels, proba)
        estimates = _all_metrics(np.ones((1, len(labels))), labels, proba, predicted, ranks)
        for name, estimate in estimates.items():
            if values:
                draws[level, name] = np.concatenate(values[name])
            resampled = draws.get((level, name))
            rows.append(metric_row(level, name, estimate[0], resampled, confidence, len(labels)))
    return rows, curves, draws


def _patient_level(patients, by_sample):
    """``(labels, proba, predicted)`` of the patients, each at its fold's threshold."""
    names, labels, proba, index = patients
    thresholds = None
    if by_sample is not None:
        thresholds = np.zeros(len(names))
        thresholds[index] = by_sample  # each patient's fold (the audit checks)
    return labels, proba, _predicted(proba, thresholds)


class Evaluation:
    """Cross-validated results a reviewer accepts: intervals, patients, calibration, threshold.

    Made by :func:`skimgaug.evaluate` or :meth:`from_predictions`; see there for
    how each part is computed.

    Parameters
    ----------
    **parts : dict
        The attributes below, by name (as :meth:`from_predictions` computes them),
        and optionally ``draws`` (the bootstrap values of each level and metric)
        and ``resampling`` (what drew them), which let two evaluations of the same
        resamples be paired.

    Attributes
    ----------
    oof_proba : ndarray of shape (n, k)
        Out-of-fold probabilities, columns in the order of ``classes``.
    oof_pred : ndarray of shape (n,)
        Out-of-fold predicted labels (for two classes, at each fold's threshold).
    fold : ndarray of shape (n,) or None
        The test fold of each sample.
    classes : ndarray of shape (k,)
    metrics : list of dict
        One per (level, metric): ``level`` ("image" or "patient"), ``metric``,
        ``estimate``, ``low``, ``high`` (the interval; None without bootstraps),
        ``n`` (images or patients counted), ``bootstraps_defined`` (resamples in
        which the metric was defined).
    calibration : dict
        Per assessed class (class 1 for two classes): reliability bins,
        ``ece``, ``slope``, ``intercept``, ``brier``; with groups, per level.
    curves : dict
        Per level and assessed class: the ROC curve (``tpr`` at the false
        positive rates ``grid``) and the interpolated precision-recall curve
        (``precision`` at the recalls ``grid``), each with its pointwise
        bootstrap band (``tpr_low``, ``tpr_high``, ...; None without
        bootstraps or for more than three classes), made from the first 500
        resamples.
    threshold : dict or None
        Two classes only: ``rule``, ``value``, ``by_fold`` (the threshold each
        test fold used), ``by_fold_source`` (how each was chosen: on the fold
        model's internal validation split, or by cross-fitting) and ``source``
        (in one sentence).
    audit : dict
        Images (and patients) per fold and class, ``groups_in_several_folds``,
        and (from :func:`skimgaug.evaluate`, which has the images)
        ``duplicates_across_folds``: index pairs of exact or near-duplicate
        images in different folds, with ``duplicates_across_folds_count``.
    settings : dict
        ``n_bootstraps``, ``confidence``, ``patient_aggregation``, ``interval``.
    """

    def __init__(self, **parts):
        for name in (
            "oof_proba",
            "oof_pred",
            "fold",
            "classes",
            "metrics",
            "calibration",
            "curves",
            "threshold",
            "audit",
            "settings",
        ):
            setattr(self, name, parts[name])
        # The bootstrap values of each (level, metric) and what drew them: two
        # evaluations of the same samples, clusters and random_state pair up (_compare).
        self._draws = parts.get("draws", {})
        self._resampling = parts.get("resampling")

    @classmethod
    def from_predictions(
        cls,
        y,
        proba,
        *,
        groups=None,
        folds=None,
        classes=None,
        n_bootstraps=2000,
        confidence=0.95,
        random_state=None,
        threshold="youden",
        patient_aggregation="mean",
        threshold_data=None,
    ):
        """An evaluation of out-of-fold probabilities made by any model.

        Parameters
        ----------
        y : array-like of shape (n,)
            True labels.
        proba : array-like of shape (n, k)
            Out-of-fold probabilities (rows sum to 1), columns in the order of
            ``classes`` (by default the sorted labels).
        groups : array-like of shape (n,), default=None
            The patient (or other cluster) of each sample: intervals then
            resample patients, not images, and patient-level metrics are added
            (a patient's probability aggregated from its images').
        folds : array-like of shape (n,), default=None
            The test fold of each sample. Needed for a threshold rule (chosen
            per fold from the other folds' predictions) and for the audit.
        classes : array-like of shape (k,), default=None
        n_bootstraps : int, default=2000
            Bootstrap resamples of the intervals; 0 for none.
        confidence : float, default=0.95
        random_state : None or int, default=None
            Seeds the resampling.
        threshold : "youden", ("sensitivity", x), ("specificity", x) or float, default="youden"
            Two classes: the rule choosing each fold's decision threshold from
            the out-of-fold predictions outside that fold (cross-fitting), or a
            fixed threshold. Without ``folds`` a rule cannot be applied
            honestly: 0.5 is used, with a warning.
        patient_aggregation : {"mean", "max"} or None, default="mean"
            How a patient's probability is made from its images': their mean,
            or the highest probability of each class (renormalized). None: the
            groups are clusters of the bootstrap only (sites, scanners, groups
            whose images carry different labels), with image-level results only.
        threshold_data : dict, default=None
            ``{fold: (y, proba)}``: labels and probabilities that each fold's
            model gave rows of its own training part that did not train it
            (its internal validation split, as
            ``AugmentedKerasClassifier.validation_indices_`` names them). A
            fold found here, with at least 5 images of each class, chooses its
            threshold on them; the others by cross-fitting. :func:`skimgaug.evaluate` passes them.

        Returns
        -------
        Evaluation

        Examples
        --------
        >>> import numpy as np
        >>> from skimgaug.evaluation import Evaluation
        >>> y = np.array([0, 0, 1, 1, 0, 1])
        >>> proba = np.array([[.9, .1], [.6, .4], [.3, .7], [.2, .8], [.4, .6], [.5, .5]])
        >>> ev = Evaluation.from_predictions(y, proba, n_bootstraps=0, threshold=0.5)
        >>> [m["estimate"] for m in ev.metrics if m["metric"] == "accuracy"]
        [0.8333333333333334]
        """
        check_settings(n_bootstraps, confidence, patient_aggregation)
        labels, proba, classes = check_predictions(y, proba, classes, groups, folds)
        folds = None if folds is None else np.asarray(folds)
        rng = np.random.default_rng(random_state)
        held_out = None
        if proba.shape[1] == 2:
            held_out = held_out_predictions(threshold_data, classes, folds)
        decision = _decision(labels, proba, folds, threshold, held_out)
        by_sample = None  # each sample's threshold (two classes)
        if decision is not None and decision["by_fold"]:
            by_sample = np.array([decision["by_fold"][int(f)] for f in folds])
        elif decision is not None:
            by_sample = np.full(len(labels), decision["value"])
        predicted = _predicted(proba, by_sample)
        levels = [("image", labels, proba, predicted)]
        calibrations = {"image": calibration(labels, proba, classes)}
        clusters = np.arange(len(labels))
        if groups is not None and patient_aggregation is None:
            clusters = np.unique(np.asarray(groups), return_inverse=True)[1]
        elif groups is not None:
            patients = patients_of(labels, proba, groups, patient_aggregation)
            clusters = patients[3]
            patient_labels, patient_proba, patient_pred = _patient_level(patients, by_sample)
            levels.append(("patient", patient_labels, patient_proba, patient_pred))
            calibrations["patient"] = calibration(patient_labels, patient_proba, classes)
        metrics, curves, draws = _metric_rows(
            levels, clusters, n_bootstraps, rng, confidence, classes
        )
        resampling = resampling_record(random_state, n_bootstraps, clusters, labels)
        return cls(
            draws=draws,
            resampling=resampling,
            oof_proba=proba,
            oof_pred=classes[predicted],
            fold=folds,
            classes=classes,
            metrics=metrics,
            calibration=calibrations,
            curves=curves,
            threshold=decision,
            audit=fold_audit(labels, classes, groups, folds),
            settings=evaluation_settings(
                n_bootstraps,
                confidence,
                groups is not None,
                "classification",
                patient_aggregation=patient_aggregation,
            ),
        )

    @classmethod
    def from_values(
        cls,
        y,
        predicted,
        *,
        groups=None,
        folds=None,
        n_bootstraps=2000,
        confidence=0.95,
        random_state=None,
    ):
        """An evaluation of a regressor's out-of-fold values, made by any model.

        Metrics ``mean_absolute_error``, ``root_mean_squared_error`` and ``r2``
        (means over the outputs of a 2-D ``y``), each with its percentile
        bootstrap interval; with ``groups``, patients are resampled and the
        metrics are given again at the patient level (a patient's value and
        prediction are the means of its images'). ``oof_proba``, ``classes``,
        ``threshold`` are None and ``calibration`` and ``curves`` empty.

        Parameters
        ----------
        y : array-like of shape (n,) or (n, outputs)
            True values.
        predicted : array-like of the shape of ``y``
            Out-of-fold predictions.
        groups : array-like of shape (n,), default=None
        folds : array-like of shape (n,), default=None
            The test fold of each sample, for the audit.
        n_bootstraps : int, default=2000
        confidence : float, default=0.95
        random_state : None or int, default=None

        Returns
        -------
        Evaluation

        Examples
        --------
        >>> import numpy as np
        >>> from skimgaug.evaluation import Evaluation
        >>> y = np.array([1.0, 2.0, 3.0, 4.0])
        >>> ev = Evaluation.from_values(y, [1.5, 2.0, 2.5, 4.0], n_bootstraps=0)
        >>> round(ev.metric("mean_absolute_error")["estimate"], 3), ev.metric("r2")["estimate"]
        (0.25, 0.9)
        """
        from ._regression import regression_evaluation

        return regression_evaluation(
            cls,
            y,
            predicted,
            groups=groups,
            folds=folds,
            n_bootstraps=n_bootstraps,
            confidence=confidence,
            random_state=random_state,
        )

    @classmethod
    def from_label_probabilities(
        cls,
        y,
        proba,
        *,
        label_names=None,
        groups=None,
        folds=None,
        threshold=0.5,
        n_bootstraps=2000,
        confidence=0.95,
        random_state=None,
    ):
        """An evaluation of out-of-fold multi-label probabilities, made by any model.

        Per label: ROC AUC, average precision and F1 at the label's threshold
        (rows with the label's name under ``"label"`` and its count of
        positive images under ``"positives"``). Over the labels:
        ``roc_auc_macro``, ``average_precision_macro``, ``f1_macro``,
        ``f1_micro``, ``subset_accuracy`` (every label of an image right) and
        ``hamming_loss``, as scikit-learn's multi-label scorers compute them.
        Each with its percentile bootstrap interval; with ``groups``, patients
        are resampled, and the results stay at the image level (a patient's
        findings are not one label). ``oof_pred`` is the 0/1 indicator at the
        thresholds; ``classes`` holds the label names; ``calibration`` and
        ``curves`` are empty and ``threshold`` None (the thresholds are fixed,
        in ``settings["thresholds"]``).

        Parameters
        ----------
        y : array-like of shape (n, labels)
            The 0/1 indicator matrix of the true labels.
        proba : array-like of shape (n, labels)
            Out-of-fold probability of each label.
        label_names : array-like of shape (labels,), default=None
            By default 0, 1, ...
        groups : array-like of shape (n,), default=None
        folds : array-like of shape (n,), default=None
            The test fold of each sample, for the audit.
        threshold : float or array-like of shape (labels,), default=0.5
            The probability at or above which a label is predicted (one for
            every label, or one per label).
        n_bootstraps : int, default=2000
        confidence : float, default=0.95
        random_state : None or int, default=None

        Returns
        -------
        Evaluation

        Examples
        --------
        >>> import numpy as np
        >>> from skimgaug.evaluation import Evaluation
        >>> y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
        >>> proba = np.array([[.9, .2], [.3, .8], [.6, .4], [.2, .1]])
        >>> ev = Evaluation.from_label_probabilities(
        ...     y, proba, label_names=["even", "big"], n_bootstraps=0)
        >>> ev.metric("subset_accuracy")["estimate"], ev.metric("f1", label="big")["estimate"]
        (0.75, 0.6666666666666666)
        """
        from ._multilabel import multilabel_evaluation

        return multilabel_evaluation(
            cls,
            y,
            proba,
            label_names=label_names,
            groups=groups,
            folds=folds,
            threshold=threshold,
            n_bootstraps=n_bootstraps,
            confidence=confidence,
            random_state=random_state,
        )

    def metric(self, name, level="image", label=None):
        """The row of ``metrics`` of ``name`` at ``level`` (of ``label``, multi-label) (a dict)."""
        for row in self.metrics:
            if row["metric"] == name and row["level"] == level and row.get("label") == label:
                return row
        where = f" of label {label!r}" if label is not None else ""
        raise KeyError(f"no metric {name!r}{where} at level {level!r}")

    def to_dict(self):
        """Everything as JSON-safe values (lists, dicts, numbers, strings, None)."""
        return {
            "classes": None if self.classes is None else self.classes.tolist(),
            "metrics": self.metrics,
            "calibration": self.calibration,
            "curves": self.curves,
            "threshold": self.threshold,
            "audit": self.audit,
            "settings": self.settings,
            "oof_proba": None if self.oof_proba is None else self.oof_proba.tolist(),
            "oof_pred": self.oof_pred.tolist(),
            "fold": None if self.fold is None else self.fold.tolist(),
        }

    def to_html(self, path=None, title="Evaluation"):
        """The evaluation as one self-contained HTML page (no script, images inline).

        Parameters
        ----------
        path : str or path-like, optional
            Where to write the page (UTF-8).
        title : str, default="Evaluation"

        Returns
        -------
        str
            The page.
        """
        from ._page import evaluation_report

        page = evaluation_report(self, title).to_html()
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(page)
        return page

    def to_frame(self):
        """``metrics`` as a pandas DataFrame (pandas is an optional dependency)."""
        import pandas as pd

        return pd.DataFrame(self.metrics)

    def _description(self):
        """``"120 images, 2 classes"`` or, for values, ``"120 images, 1 output (regression)"``."""
        n = len(self.oof_pred)
        if self.settings.get("target") == "multilabel":
            return f"{n} images, {len(self.classes)} labels (multi-label)"
        if self.classes is None:
            outputs = 1 if np.ndim(self.oof_pred) == 1 else self.oof_pred.shape[1]
            return f"{n} images, {outputs} output{'s' if outputs > 1 else ''} (regression)"
        return f"{n} images, {len(self.classes)} classes"

    def __repr__(self):
        percent = f"{self.settings['confidence']:.0%}"
        lines = [f"Evaluation of {self._description()}"]
        names = [
            row["metric"] if row.get("label") is None else f"{row['metric']} ({row['label']})"
            for row in self.metrics
        ]
        width = max([18, *map(len, names)])
        lines.append(f"{'level':<8} {'metric':<{width}} {'estimate':>9}  {percent} interval")
        for row, name in zip(self.metrics, names, strict=True):
            estimate = "n/a" if row["estimate"] is None else f"{row['estimate']:.4f}"
            interval = "" if row["low"] is None else f"[{row['low']:.4f}, {row['high']:.4f}]"
            lines.append(f"{row['level']:<8} {name:<{width}} {estimate:>9}  {interval}")
        if self.threshold is not None:
            lines.append(f"threshold: {self.threshold['source']}")
        return "\n".join(lines)
