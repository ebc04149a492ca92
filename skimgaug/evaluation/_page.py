"""An evaluation as one self-contained HTML page, on the project's one page engine."""

import numpy as np

from .._html import Report

#: Up to this many assessed classes, one reliability diagram each; more share one panel.
PANELS_UP_TO = 3


def _bins(result):
    """``(mean predicted, observed, count)`` of the non-empty bins, as arrays (or None)."""
    pairs = [
        (p, o, c)
        for p, o, c in zip(
            result["mean_predicted"], result["observed"], result["count"], strict=True
        )
        if c
    ]
    if not pairs:
        return None
    return tuple(np.array(v, dtype=float) for v in zip(*pairs, strict=True))


def _reliability_axes(ax, title):
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed frequency")
    ax.set_title(title, fontsize=10)


def reliability_figure(calibration, level):
    """Reliability diagrams: observed rate against mean prediction, per assessed class.

    One panel per class, the count of each bin by its point, for up to
    :data:`PANELS_UP_TO` classes; more classes share one panel (a line each),
    their ECEs in the table beside it.
    """
    from matplotlib.figure import Figure

    classes = list(calibration)
    if len(classes) > PANELS_UP_TO:
        fig = Figure(figsize=(6.2, 4.6), layout="constrained")
        ax = fig.subplots()
        _reliability_axes(ax, f"{level}: every class, one-vs-rest")
        for index, name in enumerate(classes):
            bins = _bins(calibration[name])
            if bins is not None:
                color = f"C{index % 10}"
                ax.plot(bins[0], bins[1], color=color, linewidth=1.2, marker=".", label=name)
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=2, title="class")
        return fig
    fig = Figure(figsize=(3.6 * len(classes), 3.6), layout="constrained")
    for ax, name in zip(fig.subplots(1, len(classes), squeeze=False)[0], classes, strict=True):
        result = calibration[name]
        _reliability_axes(ax, f"{level}: class {name} (ECE {result['ece']:.3f})")
        bins = _bins(result)
        if bins is not None:
            ax.plot(bins[0], bins[1], marker="o", color="C0", label="observed")
            for x, y, n in zip(*bins, strict=True):
                ax.annotate(
                    f"{int(n)}",
                    (x, y),
                    textcoords="offset points",
                    xytext=(4, -10),
                    fontsize=7,
                    color="0.35",
                )
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def _number(value):
    return None if value is None else float(value)


def curves_figure(curves, level, confidence):
    """ROC and precision-recall curves of one level, with their bootstrap bands.

    Bands are drawn for up to three assessed classes (more would hide the
    lines); their values are in ``Evaluation.curves`` either way.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.5, 4.2), layout="constrained")
    roc_ax, pr_ax = fig.subplots(1, 2)
    names = list(curves)
    banded = len(names) <= 3
    for index, name in enumerate(names):
        curve = curves[name]
        grid = np.array(curve["grid"], dtype=float)
        color = f"C{index % 10}"
        label = f"class {name}" if len(names) > 1 else f"positive class {name}"
        for ax, key in ((roc_ax, "tpr"), (pr_ax, "precision")):
            ax.plot(grid, _values(curve[key]), color=color, linewidth=1.8, label=label)
            if banded and curve[f"{key}_low"] is not None:
                ax.fill_between(
                    grid,
                    _values(curve[f"{key}_low"]),
                    _values(curve[f"{key}_high"]),
                    color=color,
                    alpha=0.18,
                    linewidth=0,
                )
        if len(names) == 1:
            pr_ax.axhline(curve["prevalence"], color="0.6", linestyle="--", linewidth=1)
    roc_ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1)
    band = f", {confidence:.0%} bootstrap band" if banded else ""
    for ax, (x, y, title) in (
        (roc_ax, ("false positive rate", "true positive rate", "ROC")),
        (pr_ax, ("recall", "precision (interpolated)", "Precision-recall")),
    ):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{title} ({level} level{band})", fontsize=10)
        ax.grid(alpha=0.3)
    roc_ax.legend(loc="lower right", fontsize=8, frameon=False)
    return fig


def _values(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def evaluation_sections(evaluation):
    """The :class:`skimgaug._html.Section` s of an evaluation, in page order.

    Metrics, curves, decision threshold, calibration per level, audit: the
    standalone page of :meth:`Evaluation.to_html` and the cv command's report
    both show these.
    """
    from .._html import Section

    settings = evaluation.settings
    percent = f"{settings['confidence']:.0%}"
    target = settings.get("target", "classification")

    def cells(row):
        return {
            "estimate": _number(row["estimate"]),
            f"{percent} low": _number(row["low"]),
            f"{percent} high": _number(row["high"]),
        }

    labelled = [row for row in evaluation.metrics if row.get("label") is not None]
    rows = [
        {"level": row["level"], "metric": row["metric"], **cells(row), "n": row["n"]}
        for row in evaluation.metrics
        if row.get("label") is None
    ]
    sections = [Section("Metrics with intervals")]
    sections[0].table(rows)
    if labelled:
        sections[0].table(
            [
                {"label": row["label"], "images with it": row["positives"], "metric": row["metric"]}
                | cells(row)
                for row in labelled
            ],
            caption="Per label (F1 at "
            + ", ".join(f"{t:g}" for t in dict.fromkeys(settings["thresholds"]))
            + ")",
        )
    what = {
        "classification": (
            "for more than two classes ROC AUC and average precision are one-vs-rest macro averages"
        ),
        "multilabel": (
            "each label is scored as a two-class problem, and the _macro metrics average the "
            "labels; subset accuracy counts the images with every label right"
        ),
        "regression": (
            "with several outputs each metric is the mean over the outputs; a patient's "
            "value and prediction are the means of its images'"
        ),
    }[target]
    sections[0].paragraph(
        "Out-of-fold predictions: each image was predicted by a model that never saw it. "
        f"Metrics are named as scikit-learn's scorers; {what}. The interval of a metric is "
        f"the percentile interval of its bootstrap values ({settings['interval']}, "
        f"{settings['n_bootstraps']} resamples; resamples in which it is undefined, a "
        "class or label being absent, are left out).",
        "note",
    )
    for level, curves in getattr(evaluation, "curves", {}).items():
        section = Section(f"ROC and precision-recall curves ({level} level)")
        section.figure(
            curves_figure(curves, level, settings["confidence"]),
            alt=f"ROC and precision-recall curves at the {level} level",
            caption="Out-of-fold curves (one-vs-rest for more than two classes); "
            + (
                "the shaded band is the pointwise bootstrap interval, from the first 500 "
                "resamples. "
                if len(curves) <= 3
                else "no bands for more than three classes (they would hide each other; "
                "the intervals of ROC AUC and average precision above say how sure the curves "
                "are). "
            )
            + "Dashed: a model that guesses (the diagonal; the prevalence).",
        )
        sections.append(section)
    if evaluation.threshold is not None:
        section = Section("Decision threshold")
        section.key_values(
            {
                "rule": evaluation.threshold["rule"],
                "how": evaluation.threshold["source"],
                "threshold by test fold": ", ".join(
                    f"{fold}: {value:.4f}"
                    for fold, value in evaluation.threshold["by_fold"].items()
                )
                or f"{evaluation.threshold['value']:.4f} (no folds)",
            }
        )
        section.paragraph(
            "Sensitivity, specificity, PPV and NPV above are at these thresholds, each test "
            "fold judged with its own (class "
            f"{evaluation.classes[1]} is the positive class).",
            "note",
        )
        sections.append(section)
    for level, calibration in evaluation.calibration.items():
        section = Section(f"Calibration ({level} level)")
        section.table(
            [
                {
                    "class": name,
                    "ECE": result["ece"],
                    "slope": _number(result["slope"]),
                    "intercept": _number(result["intercept"]),
                    "Brier": result["brier"],
                }
                for name, result in calibration.items()
            ]
        )
        section.figure(
            reliability_figure(calibration, level),
            alt=f"Reliability diagram at the {level} level",
            caption="Observed frequency against mean predicted probability in 10 bins "
            + (
                "(the number of images by each point)"
                if len(calibration) <= PANELS_UP_TO
                else "(one-vs-rest, a line per class)"
            )
            + "; the dashed line is perfect calibration. Slope and intercept of the "
            "logistic recalibration: 1 and 0 when calibrated.",
        )
        sections.append(section)
    sections.append(audit_section(evaluation.audit))
    return sections


def evaluation_report(evaluation, title="Evaluation"):
    """The :class:`skimgaug._html.Report` of ``evaluation``: metrics, threshold, calibration."""

    settings = evaluation.settings
    report = Report(
        title,
        subtitle=(
            f"{evaluation._description()}; "
            f"{settings['confidence']:.0%} intervals by {settings['interval']}, "
            f"{settings['n_bootstraps']} resamples"
        ),
    )
    report.sections += evaluation_sections(evaluation)
    report.add_versions()
    return report


def audit_section(audit):
    """The audit as a :class:`skimgaug._html.Section`, in red when something crossed a split."""
    from .._html import Section

    section = Section("Audit of the folds")
    crossing = audit.get("groups_in_several_folds")
    duplicates = audit.get("duplicates_across_folds")
    facts = {
        "patients in more than one test fold": (
            "not checked (no groups or folds)" if crossing is None else len(crossing)
        ),
        "duplicate images in different folds": (
            "not checked (no images)"
            if duplicates is None
            else audit.get("duplicates_across_folds_count", len(duplicates))
        ),
    }
    section.key_values(facts)
    if crossing:
        section.alert(
            f"{len(crossing)} patients are in more than one test fold: "
            + ", ".join(map(str, crossing[:20]))
            + (" ..." if len(crossing) > 20 else "")
            + ". Their images were on both sides of a split: the scores are optimistic."
        )
    if duplicates:
        count = audit.get("duplicates_across_folds_count", len(duplicates))
        section.alert(
            f"{'1 pair' if count == 1 else f'{count} pairs'} of identical or near-identical "
            "images in different folds (one trained on, one tested): check them; duplicates "
            "across a split make the scores optimistic. Pairs (indices of the samples): "
            + ", ".join(f"{i}-{j}" for i, j in duplicates[:20])
            + (" ..." if len(duplicates) > 20 else "")
        )
    clean = [
        what
        for what, found in (("patient", crossing), ("duplicate image", duplicates))
        if found == []
    ]
    if clean:
        section.paragraph(f"No {' and no '.join(clean)} crossed a split.", "ok")
    for key, caption in (
        ("images_per_fold_and_class", "Images per test fold and class"),
        ("patients_per_fold_and_class", "Patients per test fold and class"),
    ):
        table = audit.get(key)
        if table:
            section.table(
                [{"fold": fold, **counts} for fold, counts in table.items()], caption=caption
            )
    return section
