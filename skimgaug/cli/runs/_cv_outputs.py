"""What ``skimgaug cv --out`` writes: results.json, results.csv, out-of-fold predictions, plots.

The report page itself is :mod:`skimgaug.cli.reports._cv_report`; the plots are
:mod:`skimgaug.cli.reports._plots`. Columns follow the task: probabilities of
the classes, of each label (multilabel), or predicted values (regression).
"""

import csv
import datetime
import json
import math
import os

import numpy as np

from ..._version import versions


def results_document(
    results,
    summary,
    y,
    config,
    *,
    data=None,
    verdict=None,
    total_seconds=None,
    missing=(),
    stopped_by=None,
    evaluations=None,
    comparison=None,
    evaluation_seconds=None,
    task="classification",
    names=None,
):
    """The content of results.json (and of report.html): a dict of plain values.

    ``task`` and ``names`` (of a multi-label target's labels, or of a
    regression target) say what the targets are: ``"classes"`` holds the
    classes, the label names, or None for values.

    ``missing`` lists the ``(setting, fold)`` pairs (fold from 0) that did
    not finish; any makes the document ``"partial"``. ``stopped_by`` says
    why (``"interrupted"`` or the error). ``evaluations`` maps each setting
    to its :class:`~skimgaug.evaluation.Evaluation` (kept under
    ``"evaluation"``, without the out-of-fold rows, which
    oof_predictions.csv holds); ``comparison`` is the paired bootstrap
    difference of ROC AUC (``"bootstrap_comparison"``).
    """
    from ._evaluation import evaluation_document

    fit = [r.fit_seconds for r in results if r.fit_seconds is not None]
    predict = [r.predict_seconds for r in results if r.predict_seconds is not None]
    return {
        "written_at": datetime.datetime.now().isoformat(sep=" ", timespec="seconds"),
        "partial": bool(missing),
        "missing_folds": [{"setting": s, "fold": f + 1} for s, f in missing],
        "stopped_by": stopped_by,
        "config": config,
        "data": data or {},
        "task": task,
        "classes": np.unique(y).tolist() if task == "classification" else None,
        "labels": names if task != "classification" else None,
        "settings": summary,
        "evaluation": {
            name: evaluation_document(evaluation) for name, evaluation in evaluations.items()
        }
        if evaluations
        else None,
        "verdict": verdict,
        "bootstrap_comparison": comparison,
        "folds": [
            {
                "setting": r.setting,
                "fold": r.fold + 1,
                "n_train": r.n_train,
                "n_test": len(r.test),
                "fit_seconds": r.fit_seconds,
                "predict_seconds": r.predict_seconds,
                "metrics": {m: _plain(value) for m, value in r.metrics.items()},
                "history": r.history,
                "early_stopping": r.early_stopping,
            }
            for r in results
        ],
        "timings": {
            "total_seconds": total_seconds,
            "fit_seconds": float(sum(fit)),
            "predict_seconds": float(sum(predict)),
            "evaluation_seconds": evaluation_seconds,
        },
        "versions": versions(),
    }


def _plain(value):
    """A float for JSON; None for NaN (JSON has no NaN)."""
    value = float(value)
    return None if math.isnan(value) else value


def write_outputs(
    out,
    results,
    summary,
    y,
    samples,
    config,
    *,
    data=None,
    verdict=None,
    total_seconds=None,
    missing=(),
    stopped_by=None,
    evaluations=None,
    comparison=None,
    evaluation_seconds=None,
    task="classification",
    names=None,
):
    """Write report.html, results.json, results.csv, oof_predictions.csv and the plots.

    With ``missing`` folds, results.json says ``"partial": true`` and which
    folds are missing, results.csv has a row with status ``missing`` for
    each, and the report says that it is partial. See
    :func:`results_document` for the keyword arguments.

    Returns
    -------
    list of str
        The names of the files written, report.html first.
    """
    from ..reports._cv_report import write_report

    os.makedirs(out, exist_ok=True)
    document = results_document(
        results,
        summary,
        y,
        config,
        data=data,
        verdict=verdict,
        total_seconds=total_seconds,
        missing=missing,
        stopped_by=stopped_by,
        evaluations=evaluations,
        comparison=comparison,
        evaluation_seconds=evaluation_seconds,
        task=task,
        names=names,
    )
    written = []

    def path(name):
        written.append(name)
        return os.path.join(out, name)

    with open(path("results.json"), "w") as f:
        json.dump(document, f, indent=2, default=str)
    metrics = list(results[0].metrics) if results else list(summary_metrics(summary))
    with open(path("results.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["setting", "fold", "status", *metrics, "fit_seconds", "predict_seconds"])
        for r in results:
            times = [f"{r.fit_seconds:.3f}" if r.fit_seconds is not None else ""]
            times.append(f"{r.predict_seconds:.3f}" if r.predict_seconds is not None else "")
            writer.writerow(
                [r.setting, r.fold + 1, "done", *(r.metrics[m] for m in metrics)] + times
            )
        for setting, fold in missing:
            writer.writerow([setting, fold + 1, "missing"] + [""] * (len(metrics) + 2))
    with open(path("oof_predictions.csv"), "w", newline="") as f:
        _write_out_of_fold(csv.writer(f), results, y, samples, evaluations, task, names)
    figures = _plots(results, y, task, names, path)
    write_report(path("report.html"), document, figures, evaluations)
    return [written[-1], *written[:-1]]


def summary_metrics(summary):
    """The metric names of a summary (none when no fold finished)."""
    for result in summary.values():
        return result["mean"]
    return {}


def _write_out_of_fold(writer, results, y, samples, evaluations, task, names):
    """One row per setting and image: its fold, its truth and its out-of-fold prediction."""
    head = ["setting", "index", "sample", "fold"]
    if task == "regression":
        outputs = names if np.ndim(y) == 2 else names[:1]
        writer.writerow(head + [f"true_{n}" for n in outputs] + [f"predicted_{n}" for n in outputs])
        for r in results:
            values = np.reshape(r.proba, (len(r.test), -1))
            for row, index in enumerate(r.test):
                truth = np.reshape(y[index], -1)
                writer.writerow(
                    [r.setting, int(index), samples[index], r.fold + 1]
                    + [f"{v:g}" for v in truth]
                    + [f"{v:.6g}" for v in values[row]]
                )
        return
    if task == "multilabel":
        thresholds = {s: e.settings["thresholds"] for s, e in (evaluations or {}).items()}
        writer.writerow(
            head
            + [f"true_{n}" for n in names]
            + [f"predicted_{n}" for n in names]
            + [f"proba_{n}" for n in names]
        )
        for r in results:
            called = (r.proba >= np.asarray(thresholds.get(r.setting, 0.5))).astype(int)
            for row, index in enumerate(r.test):
                writer.writerow(
                    [r.setting, int(index), samples[index], r.fold + 1]
                    + y[index].tolist()
                    + called[row].tolist()
                    + [f"{p:.6f}" for p in r.proba[row]]
                )
        return
    classes = np.unique(y)
    header = head + ["true_label", "predicted_label"]
    # two classes: also the label at the fold's threshold (sensitivity, ... use it)
    at_threshold = bool(evaluations) and len(classes) == 2
    header += ["predicted_at_threshold"] if at_threshold else []
    writer.writerow(header + [f"proba_{c}" for c in classes])
    for r in results:
        predicted = classes[np.argmax(r.proba, axis=1)]
        decided = evaluations[r.setting].oof_pred[r.test] if at_threshold else None
        for row, index in enumerate(r.test):
            sample = [r.setting, int(index), samples[index], r.fold + 1, y[index]]
            sample.append(predicted[row])
            sample += [decided[row]] if at_threshold else []
            writer.writerow(sample + [f"{p:.6f}" for p in r.proba[row]])


def _plots(results, y, task, names, path):
    """Write the task's figures: learning curves, then confusion matrices or a scatter plot."""
    from ..reports._plots import (
        plot_confusion_matrices,
        plot_learning_curves,
        plot_predicted_against_true,
    )

    curves = path("learning_curves.png")
    plot_learning_curves(results, curves)
    figures = {"curves": [(curves, "")]}
    if task == "classification":
        counts = path("confusion_matrix.png")
        recall = path("confusion_matrix_normalized.png")
        plot_confusion_matrices(results, y, counts)
        plot_confusion_matrices(results, y, recall, normalize="true")
        figures["confusion"] = [
            (counts, "Counts: row = true label, column = predicted label."),
            (recall, "Recall: each row divided by its total; the diagonal is each class's recall."),
        ]
    elif task == "regression":
        scatter = path("predicted_vs_true.png")
        plot_predicted_against_true(results, y, names, scatter)
        figures["scatter"] = [
            (
                scatter,
                "Out-of-fold predicted value against the true value, one point per image; "
                "the dashed line is a perfect prediction.",
            )
        ]
    return figures
