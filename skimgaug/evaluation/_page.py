"""An evaluation as one self-contained HTML page, on the project's one page engine."""

import numpy as np

from .._html import Report


def reliability_figure(calibration, level):
    """One reliability diagram per assessed class: observed rate against mean prediction."""
    from matplotlib.figure import Figure

    classes = list(calibration)
    fig = Figure(figsize=(3.6 * len(classes), 3.6), layout="constrained")
    axes = fig.subplots(1, len(classes), squeeze=False)[0]
    for ax, name in zip(axes, classes, strict=True):
        result = calibration[name]
        pairs = [
            (p, o, c)
            for p, o, c in zip(
                result["mean_predicted"], result["observed"], result["count"], strict=True
            )
            if c
        ]
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="calibrated")
        if pairs:
            p, o, c = (np.array(v, dtype=float) for v in zip(*pairs, strict=True))
            ax.plot(p, o, marker="o", color="C0", label="observed")
            for x, y, n in zip(p, o, c, strict=True):
                ax.annotate(
                    f"{int(n)}",
                    (x, y),
                    textcoords="offset points",
                    xytext=(4, -10),
                    fontsize=7,
                    color="0.35",
                )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("mean predicted probability")
        ax.set_ylabel("observed frequency")
        ax.set_title(f"{level}: class {name} (ECE {result['ece']:.3f})", fontsize=10)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def _number(value):
    return None if value is None else float(value)


def evaluation_report(evaluation, title="Evaluation"):
    """The :class:`skimgaug._html.Report` of ``evaluation``: metrics, threshold, calibration."""
    settings = evaluation.settings
    percent = f"{settings['confidence']:.0%}"
    report = Report(
        title,
        subtitle=(
            f"{len(evaluation.oof_proba)} images, {len(evaluation.classes)} classes; "
            f"{percent} intervals by {settings['interval']}, "
            f"{settings['n_bootstraps']} resamples"
        ),
    )
    rows = [
        {
            "level": row["level"],
            "metric": row["metric"],
            "estimate": _number(row["estimate"]),
            f"{percent} low": _number(row["low"]),
            f"{percent} high": _number(row["high"]),
            "n": row["n"],
        }
        for row in evaluation.metrics
    ]
    section = report.section("Metrics")
    section.table(rows)
    section.paragraph(
        "Out-of-fold predictions: each image was predicted by a model that never saw it. "
        "Metrics are named as scikit-learn's scorers; for more than two classes ROC AUC and "
        "average precision are one-vs-rest macro averages. The interval of a metric is the "
        "percentile interval of its bootstrap values (resamples in which it is undefined, a "
        "class being absent, are left out)."
    )
    if evaluation.threshold is not None:
        section = report.section("Decision threshold")
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
    for level, calibration in evaluation.calibration.items():
        section = report.section(f"Calibration ({level} level)")
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
            "(the number of images by each point); the dashed line is perfect calibration.",
        )
    _audit_section(report, evaluation.audit)
    report.add_versions()
    return report


def _audit_section(report, audit):
    section = report.section("Audit of the folds")
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
        section.paragraph(
            "Patients in more than one test fold: "
            + ", ".join(map(str, crossing[:20]))
            + (" ..." if len(crossing) > 20 else "")
            + ". Their images were on both sides of a split: the scores are optimistic."
        )
    if duplicates:
        section.paragraph(
            "Duplicate pairs (indices): "
            + ", ".join(f"{i}-{j}" for i, j in duplicates[:20])
            + (" ..." if len(duplicates) > 20 else "")
        )
    for key, caption in (
        ("images_per_fold_and_class", "Images per test fold and class"),
        ("patients_per_fold_and_class", "Patients per test fold and class"),
    ):
        table = audit.get(key)
        if table:
            section.table(
                [{"fold": fold, **counts} for fold, counts in table.items()], caption=caption
            )
