"""The out-of-fold evaluation of ``skimgaug cv``: intervals, patients, calibration, audit.

After the folds, each setting's out-of-fold probabilities (every image
predicted by the fold model that never saw it) go to
:meth:`skimgaug.evaluation.Evaluation.from_predictions`, with the folds
numbered from 1 as everywhere in the command's output, the groups (patients)
when given, and the command's ``--bootstraps``, ``--confidence``,
``--threshold`` and ``--patient-aggregation``. The images are hashed once for
the audit of duplicates across folds (image files through the cache the folds
filled: not decoded again). With ``--compare``, :func:`compare_by_bootstrap`
adds the paired bootstrap interval of the ROC AUC difference.
"""

import math

import numpy as np


def _shown(target=None):
    """The metrics printed after the per-fold table, in order: the evaluation's own."""
    from ...evaluation._metrics import METRICS, THRESHOLD_METRICS
    from ...evaluation._multilabel import SUMMARY_METRICS
    from ...evaluation._regression import REGRESSION_METRICS

    if target == "multilabel":
        return SUMMARY_METRICS
    if target == "regression":
        return REGRESSION_METRICS
    return METRICS + THRESHOLD_METRICS


def _label_lines(evaluation):
    """A table of each label's metrics (with intervals) and positive images."""
    from ...evaluation._multilabel import LABEL_METRICS

    names = [str(name) for name in evaluation.classes]
    width = max(12, *(len(name) for name in names)) + 2
    thresholds = evaluation.settings["thresholds"]
    same = len(set(thresholds)) == 1
    lines = [
        "per label"
        + (f" (F1 at {thresholds[0]:g})" if same else " (F1 at each label's threshold)")
        + ":",
        "label".ljust(width)
        + "images".rjust(8)
        + "  "
        + "".join(metric.ljust(34) for metric in LABEL_METRICS).rstrip(),
    ]
    for name, label in zip(names, evaluation.classes.tolist(), strict=True):
        rows = [evaluation.metric(metric, label=label) for metric in LABEL_METRICS]
        lines.append(
            (
                name.ljust(width)
                + str(rows[0]["positives"]).rjust(8)
                + "  "
                + "".join(_cell(row).ljust(34) for row in rows)
            ).rstrip()
        )
    return lines


def evaluation_options(args):
    """The keyword arguments of ``Evaluation.from_predictions`` the command line sets.

    Commands without the evaluation options (``train --cross-validate``) get their
    defaults.
    """
    aggregation = getattr(args, "patient_aggregation", None) or "mean"
    return {
        "n_bootstraps": getattr(args, "bootstraps", 2000),
        "confidence": getattr(args, "confidence", 0.95),
        "random_state": args.seed,
        "threshold": getattr(args, "threshold", "youden"),
        "patient_aggregation": None if aggregation == "none" else aggregation,
    }


def audit_hashes(X, read_as):
    """The images' difference hashes; ``read_as`` is ``(target_size, color_mode, cache)``."""
    from ...evaluation._audit import image_hashes

    return image_hashes(X, *read_as)


def out_of_fold(results, setting, n, n_classes):
    """``(proba, folds)`` of one setting: each sample's probabilities and test fold (from 1)."""
    proba = np.zeros((n, n_classes))
    folds = np.zeros(n, dtype=int)
    for result in results:
        if result.setting == setting:
            proba[result.test] = np.reshape(result.proba, (len(result.test), n_classes))
            folds[result.test] = result.fold + 1
    return proba, folds


def _task_evaluation(results, setting, y, groups, options, task, names):
    """The evaluation of a multi-label or regression setting."""
    from ...evaluation import Evaluation

    width = 1 if np.ndim(y) == 1 else y.shape[1]
    values, folds = out_of_fold(results, setting, len(y), width)
    resampling = {key: options[key] for key in ("n_bootstraps", "confidence", "random_state")}
    if task == "regression":
        values = values[:, 0] if np.ndim(y) == 1 else values
        return Evaluation.from_values(y, values, groups=groups, folds=folds, **resampling)
    return Evaluation.from_label_probabilities(
        y,
        values,
        label_names=names,
        groups=groups,
        folds=folds,
        # a number given to --threshold, else 0.5 (rules are refused before any fit)
        threshold=options["threshold"] if isinstance(options["threshold"], float) else 0.5,
        **resampling,
    )


def evaluate_settings(results, y, groups, hashes, options, task="classification", names=None):
    """``{setting: Evaluation}`` of every setting of a finished run."""
    from ...evaluation import Evaluation
    from ...evaluation._audit import record_duplicates

    evaluations = {}
    for setting in dict.fromkeys(r.setting for r in results):
        if task != "classification":
            evaluation = _task_evaluation(results, setting, y, groups, options, task, names)
            if hashes is not None:
                record_duplicates(evaluation.audit, hashes, evaluation.fold)
            evaluations[setting] = evaluation
            continue
        classes = np.unique(y)
        proba, folds = out_of_fold(results, setting, len(y), len(classes))
        held_out = {
            r.fold + 1: (y[r.validation[0]], r.validation[1])
            for r in results
            if r.setting == setting and r.validation is not None
        }
        evaluation = Evaluation.from_predictions(
            y,
            proba,
            groups=groups,
            folds=folds,
            classes=classes,
            threshold_data=held_out,
            **options,
        )
        if hashes is not None:
            record_duplicates(evaluation.audit, hashes, folds)
        evaluations[setting] = evaluation
    return evaluations


def compare_by_bootstrap(
    results, y, groups, options, treatment, baseline, evaluations=None, metric="roc_auc"
):
    """The paired bootstrap interval of ``metric``, ``treatment`` minus ``baseline``.

    Taken from the two settings' ``evaluations`` when they drew the same
    resamples (they do: same labels, groups and seed), else computed again
    (ROC AUC of classes only; None for other metrics).
    """
    from ...evaluation import paired_difference
    from ...evaluation._compare import difference_of_evaluations

    if evaluations is not None:
        comparison = difference_of_evaluations(
            evaluations[treatment], evaluations[baseline], metric
        )
        if comparison is not None:
            return {"treatment": treatment, "baseline": baseline, **comparison}
    if metric != "roc_auc":
        return None
    classes = np.unique(y)
    proba = {s: out_of_fold(results, s, len(y), len(classes))[0] for s in (treatment, baseline)}
    comparison = paired_difference(
        y,
        proba[treatment],
        proba[baseline],
        groups=groups,
        metric="roc_auc",
        classes=classes,
        n_bootstraps=options["n_bootstraps"],
        confidence=options["confidence"],
        random_state=options["random_state"],
    )
    return {"treatment": treatment, "baseline": baseline, **comparison}


def evaluation_document(evaluation):
    """What results.json keeps of an evaluation (the out-of-fold rows are in their CSV)."""
    document = evaluation.to_dict()
    for key in ("oof_proba", "oof_pred", "fold"):
        document.pop(key)
    return document


def _cell(row):
    if row is None or row["estimate"] is None:
        return "n/a"
    if row["low"] is None:
        return f"{row['estimate']:.4f}"
    return f"{row['estimate']:.4f} [{row['low']:.4f}, {row['high']:.4f}]"


def format_evaluation(setting, evaluation):
    """The lines ``skimgaug cv`` prints for one setting's evaluation."""
    settings = evaluation.settings
    levels = list(dict.fromkeys(row["level"] for row in evaluation.metrics))
    rows = {(row["level"], row["metric"]): row for row in evaluation.metrics}
    intervals = (
        f"{settings['confidence']:.0%} intervals by {settings['interval']}, "
        f"{settings['n_bootstraps']} resamples"
        if settings["n_bootstraps"]
        else "no intervals (--bootstraps 0)"
    )
    lines = [f"\n{setting}: out-of-fold metrics, {intervals}"]
    counts = {row["level"]: row["n"] for row in evaluation.metrics}
    header = "metric".ljust(24) + "".join(
        f"{level} ({counts[level]})".ljust(34) for level in levels
    )
    lines.append(header.rstrip())
    for metric in _shown(settings.get("target")):
        if (levels[0], metric) not in rows:
            continue
        cells = "".join(_cell(rows.get((level, metric))).ljust(34) for level in levels)
        lines.append((metric.ljust(24) + cells).rstrip())
    if settings.get("target") == "multilabel":
        lines += _label_lines(evaluation)
    if evaluation.threshold is not None:
        by_fold = ", ".join(
            f"{fold}: {value:.3f}" for fold, value in evaluation.threshold["by_fold"].items()
        )
        sources = set(evaluation.threshold["by_fold_source"].values())
        where = {
            True: "on its model's internal validation split",
            False: "from the other folds' predictions",
        }
        internal = {source.startswith("internal") for source in sources}
        how = where[True] if internal == {True} else where[False]
        if internal == {True, False}:
            how = f"on its internal validation split or, where that was too small, {where[False]}"
        if evaluation.threshold["rule"] == "fixed":
            how = "fixed"
        lines.append(
            f"threshold ({evaluation.threshold['rule']}, class {evaluation.classes[1]} "
            f"positive), chosen for each test fold {how}: {by_fold}; accuracy, "
            "balanced_accuracy, f1_macro, sensitivity, specificity, ppv and npv above are "
            "of the labels at these thresholds (predicted_at_threshold in "
            "oof_predictions.csv), not of the most probable class"
        )
    if evaluation.calibration:
        lines.append(_calibration_line(evaluation.calibration["image"]))
    lines.append(format_audit(evaluation.audit))
    return "\n".join(lines)


def _calibration_line(calibration):
    if len(calibration) == 1:
        ((name, result),) = calibration.items()
        slope = "n/a" if result["slope"] is None else f"{result['slope']:.2f}"
        return (
            f"calibration (class {name}): ECE {result['ece']:.4f}, slope {slope} "
            "(1 when calibrated)"
        )
    eces = [result["ece"] for result in calibration.values()]
    return (
        f"calibration: ECE {np.mean(eces):.4f} averaged over the {len(eces)} classes "
        f"(from {min(eces):.4f} to {max(eces):.4f})"
    )


def format_audit(audit):
    """One line: what crossed a split, or that nothing did."""
    crossing = audit.get("groups_in_several_folds")
    duplicates = audit.get("duplicates_across_folds")
    problems = []
    if crossing:
        problems.append(
            f"{len(crossing)} patients in more than one test fold "
            f"({', '.join(map(str, crossing[:3]))}{' ...' if len(crossing) > 3 else ''})"
        )
    if duplicates:
        count = audit.get("duplicates_across_folds_count", len(duplicates))
        shown = ", ".join(f"{i}-{j}" for i, j in duplicates[:3])
        pairs = "1 pair" if count == 1 else f"{count} pairs"
        problems.append(
            f"{pairs} of identical or near-identical images in different folds "
            f"(sample indices {shown}{' ...' if count > 3 else ''})"
        )
    if problems:
        return (
            "audit: WARNING " + "; ".join(problems) + ". Check them: an image (or patient) "
            "on both sides of a split makes the scores optimistic"
        )
    checked = []
    if crossing is not None:
        checked.append("no patient in two test folds")
    if duplicates is not None:
        checked.append("no duplicate image in different folds")
    return "audit: " + ("; ".join(checked) if checked else "nothing to check")


def format_comparison(comparison):
    """The paired bootstrap line printed after the verdict."""
    difference = f"{comparison['difference']:+.4f}"
    if comparison["low"] is None:
        interval = "no interval (--bootstraps 0)"
    else:
        interval = (
            f"{comparison['confidence']:.0%} interval {comparison['low']:+.4f} to "
            f"{comparison['high']:+.4f}, paired bootstrap over the same out-of-fold "
            f"predictions, {comparison['n_bootstraps']} resamples of {comparison['resampled']}"
        )
    a, b = comparison["a"], comparison["b"]
    values = "n/a" if any(math.isnan(v) for v in (a, b)) else f"{a:.4f} vs {b:.4f}"
    name = {"roc_auc": "ROC AUC", "roc_auc_macro": "ROC AUC (macro over labels)", "r2": "R²"}
    return (
        f"{name.get(comparison['metric'], comparison['metric'])}, "
        f"{comparison['treatment']} minus {comparison['baseline']}: {difference} "
        f"({values}; {interval})"
    )
