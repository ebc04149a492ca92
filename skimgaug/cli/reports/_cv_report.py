"""The ``report.html`` that ``skimgaug cv --out`` writes.

One self-contained page (:func:`skimgaug._html.page`, the one
page engine and stylesheet of every report): its figures are inline
``data:`` URIs, it has no script and loads nothing, so it opens offline and
can be sent as one file. It renders the document that results.json holds
(see :func:`skimgaug.cli.runs._cv_outputs.results_document`) plus the PNG figures. Every text
from the data or the command line goes through :func:`html.escape`.
"""

import math

from ..._html import page
from ._cells import _e, _facts, _figure, _number, _paragraph, _points, _seconds, _table

#: Column titles of the metrics.
METRIC_NAMES = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "macro_f1": "macro F1",
    "roc_auc": "ROC AUC",
    "average_precision": "average precision",
    "subset_accuracy": "subset accuracy",
    "r2": "R²",
    "mae": "MAE",
    "rmse": "RMSE",
}
#: What the note under the per-fold table says of the task's scores.
SCORES_NOTE = {
    "classification": (
        "ROC AUC is one-vs-rest and macro-averaged for more than two classes, n/a where a "
        "test fold lacks a class."
    ),
    "multilabel": (
        "ROC AUC, average precision and F1 are macro averages over the labels (F1 at 0.5); "
        "n/a where a test fold lacks a label or has it on every image. Subset accuracy: "
        "every label of an image right."
    ),
    "regression": "R² is scikit-learn's r2_score; MAE and RMSE are in the target's units.",
}
#: The sections, in page order: anchor and title.
SECTIONS = {
    "verdict": "Verdict",
    "results": "Results per fold",
    "evaluation": "Out-of-fold evaluation",
    "curves": "Learning curves",
    "confusion": "Confusion matrices",
    "scatter": "Predicted against true",
    "data": "Data",
    "settings": "Settings",
    "timings": "Timings",
    "versions": "Versions",
}


def _section(anchor, body, title=None):
    title = title or SECTIONS[anchor]
    return f'<section id="{anchor}">\n<h2>{_e(title)}</h2>\n{body}\n</section>'


def _fold_count(document):
    return len(document["folds"]) + len(document["missing_folds"])


def _partial_notice(document):
    missing = {}
    for item in document["missing_folds"]:
        missing.setdefault(item["setting"], []).append(str(item["fold"]))
    listed = "; ".join(
        f"{s}: fold{'s' if len(f) > 1 else ''} {', '.join(f)}" for s, f in missing.items()
    )
    stopped_by = document.get("stopped_by")
    if stopped_by == "KeyboardInterrupt":
        stopped = "was interrupted"
    else:
        stopped = f"failed ({stopped_by})" if stopped_by else "stopped"
    text = (
        f"The run {stopped} after {len(document['folds'])} of {_fold_count(document)} folds. "
        f"Missing: {listed}. Means, figures and files cover the finished folds only, and "
        "there is no verdict."
    )
    return f'<div class="partial"><strong>Partial results.</strong> {_e(text)}</div>'


def _verdict_section(document):
    verdict = document.get("verdict")
    if verdict is None:
        if document["partial"]:
            reason = "No verdict: the run did not finish."
        elif len(document["settings"]) < 2:
            reason = (
                "No verdict: only one setting was run. Run again with --compare to fit "
                "with and without augmentation on the same folds and compare them."
            )
        else:
            reason = "No verdict: the settings share fewer than two folds."
        return _section("verdict", _paragraph(reason, "note"))
    treatment, baseline, metric = verdict["treatment"], verdict["baseline"], verdict["metric"]
    css = {"better": "better", "worse": "worse"}.get(verdict["outcome"], "noise")
    scores = {(f["setting"], f["fold"]): f["metrics"][metric] for f in document["folds"]}
    rows = [
        [
            fold,
            _number(scores.get((baseline, fold))),
            _number(scores.get((treatment, fold))),
            _points(difference),
        ]
        for fold, difference in zip(verdict["folds"], verdict["differences"], strict=True)
    ]
    span = f"{verdict['confidence']:.0%}".replace("%", " %")
    low, high = verdict["interval"]
    plain_low, plain_high = verdict["plain_interval"]
    k = len(verdict["folds"])
    body = [
        f'<p class="verdict {css}">{_e(verdict["sentence"])}</p>',
        _table(
            ["fold", f"{baseline}: {metric}", f"{treatment}: {metric}", "difference (points)"],
            rows,
            footer=[["mean", "", "", _points(verdict["mean"])]],
        ),
        _facts(
            [
                ("Mean difference", f"{_points(verdict['mean'])} points of {metric}"),
                (
                    f"{span} interval (corrected)",
                    f"{_points(low)} to {_points(high)} points: corrected resampled t "
                    "(Nadeau and Bengio, 2003)",
                ),
                (
                    f"{span} interval (plain t)",
                    f"{_points(plain_low)} to {_points(plain_high)} points: optimistic",
                ),
                *_bootstrap_fact(document.get("bootstrap_comparison")),
                ("Total time", _seconds(document["timings"]["total_seconds"])),
            ]
        ),
        _paragraph(
            f"Each fold's difference is {treatment} minus {baseline} on the same test "
            f"images. The plain t-interval over the {k} folds (mean ± t · sd / √k, "
            f"t = {verdict['t']:.3f} with {k - 1} degree{'s' if k > 2 else ''} of "
            "freedom) treats the folds as independent; they are not, since every two "
            "folds share most of their training data, so it is too narrow. The "
            "corrected resampled t of Nadeau and Bengio replaces 1/k by "
            "1/k + n_test/n_train in the variance of the mean (here "
            f"1/{k} + {verdict['n_test']:g}/{verdict['n_train']:g}), and the verdict "
            "uses it. It was derived for repeated random splits; on k-fold "
            "cross-validation it is a common, still approximate, correction.",
            "note",
        ),
    ]
    return _section("verdict", "\n".join(body))


def _bootstrap_fact(comparison):
    """The paired bootstrap interval of the metric's difference, as a (name, value) fact."""
    if not comparison:
        return []
    value = f"{comparison['difference']:+.4f} ({comparison['a']:.4f} vs {comparison['b']:.4f})"
    if comparison["low"] is not None:
        value += (
            f"; {comparison['confidence']:.0%} interval {comparison['low']:+.4f} to "
            f"{comparison['high']:+.4f}, paired bootstrap of the pooled out-of-fold "
            f"predictions ({comparison['n_bootstraps']} resamples of "
            f"{comparison['resampled']}; it holds the models fixed, so it is narrower than "
            "the fold-level interval above)"
        )
    name = {"roc_auc": "ROC AUC", "roc_auc_macro": "ROC AUC (macro)", "r2": "R²"}
    return [(f"{name.get(comparison.get('metric'), comparison.get('metric'))} difference", value)]


def _results_section(document):
    body = []
    by_setting = {}
    for fold in document["folds"]:
        by_setting.setdefault(fold["setting"], []).append(fold)
    stopping = any(f.get("early_stopping") for f in document["folds"])
    for setting, result in document["settings"].items():
        METRICS = list(result["mean"])  # noqa: N806 (the task's metrics, in table order)
        rows = [
            [
                f["fold"],
                f["n_train"] if f["n_train"] is not None else "n/a",
                f["n_test"],
                *(_number(f["metrics"][m]) for m in METRICS),
                *([_epochs(f.get("early_stopping"))] if stopping else []),
                _seconds(f["fit_seconds"]),
                _seconds(f["predict_seconds"]),
            ]
            for f in by_setting.get(setting, [])
        ]
        footer = [
            ["mean ± std", "", ""]
            + [
                f"{_number(result['mean'][m])} ± {_number(result['std'][m])}"
                + _over(m, by_setting.get(setting, []))
                for m in METRICS
            ]
            + ([""] if stopping else [])
            + ["", ""]
        ]
        header = ["fold", "train images", "test images"]
        header += [METRIC_NAMES.get(m, m) for m in METRICS]
        header += (["epochs (weights kept)"] if stopping else []) + ["fit", "predict"]
        body.append(f"<h3>{_e(setting)}</h3>")
        body.append(_table(header, rows, footer=footer))
    body.append(
        _paragraph(
            "Scores are on each fold's test images, which the fold's model never saw. "
            f"The std is over folds. {SCORES_NOTE[document.get('task', 'classification')]} "
            "Train images include the internal validation split."
            + (
                " Epochs: those run of those planned (early stopping), and the epoch whose "
                "weights the model kept (the best internal validation loss)."
                if stopping
                else ""
            ),
            "note",
        )
    )
    return _section("results", "\n".join(body))


def _over(metric, folds):
    """``" (4 of 5 folds)"`` when the metric is undefined in some folds, else ``""``."""
    values = [f["metrics"][metric] for f in folds]
    defined = sum(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in values)
    return f" ({defined} of {len(values)} folds)" if 0 < defined < len(values) else ""


def _epochs(stopping):
    """``"4 of 10 (2)"``: epochs run, planned, and the epoch whose weights were kept."""
    if not stopping:
        return "n/a"
    text = f"{stopping['epochs_run']} of {stopping['epochs']}"
    if stopping.get("restored_epoch") is not None:
        text += f" ({stopping['restored_epoch']})"
    return text


def _data_section(document):
    data = document["data"]
    classes = data.get("classes") or {}
    labels = data.get("labels")
    groups = data.get("groups")
    if labels is not None:  # multilabel: images carrying each label
        target = (
            f"Labels ({len(labels)}, images with each)",
            ", ".join(f"{label}: {count}" for label, count in labels.items()),
        )
    elif data.get("values") is not None:
        values = data["values"]
        target = (
            "Values (regression)",
            f"from {values['min']:g} to {values['max']:g}, mean {values['mean']:.4g}",
        )
    else:
        target = (
            f"Classes ({len(classes)})",
            ", ".join(f"{label}: {count}" for label, count in classes.items()) or "n/a",
        )
    facts = [
        ("Source", data.get("source", "n/a")),
        ("Images", data.get("images", data.get("n_images", "n/a"))),
        target,
        (
            "Groups",
            f"{groups}, each kept on one side of every split" if groups else "none",
        ),
        ("Folds", data.get("splitter", "n/a")),
    ]
    return _section("data", _facts(facts))


def _patience(patience):
    if not patience:
        return "none"
    epochs = "epoch" if patience == 1 else "epochs"
    return f"after {patience} {epochs} without a better validation loss (best weights kept)"


def _balancing(config):
    if config.get("balance"):
        return f"balance={config['balance']} (every class equally often per epoch)"
    if config.get("class_weight"):
        return f"class_weight={config['class_weight']}"
    return "none"


def _window(window):
    """``"center -600, width 1500 (onto 0-255)"``, ``"each file's own"`` or ``"none"``."""
    if window is None:
        return "none (modality values, e.g. Hounsfield units)"
    if window == "dicom":
        return "each file's own Window Center and Width (onto 0-255)"
    center, width = window
    return f"center {center:g}, width {width:g} (onto 0-255)"


def _settings_section(document):
    config = document["config"]
    model = config.get("model") or "default CNN"
    facts = [("Model", model)]
    if config.get("weights") is not None or config.get("trainable") is not None:
        facts.append(("Weights", config.get("weights") or "imagenet"))
        facts.append(("Trainable", config.get("trainable") or "frozen"))
    size = config.get("image_size")
    facts += [
        ("Epochs", config.get("epochs", "n/a")),
        ("Batch size", config.get("batch_size", "n/a")),
        ("Validation split", config.get("validation_split", "n/a")),
        ("Optimizer", config.get("optimizer") or "adam"),
        ("Learning rate", config.get("learning_rate") or "the default"),
        ("Loss", config.get("loss") or "the one that fits the labels"),
        ("Early stopping", _patience(config.get("early_stopping"))),
        ("Test-time augmentation", config.get("tta") or "none"),
        ("Class balancing", _balancing(config)),
        ("Parallel folds (n_jobs)", config.get("n_jobs") or 1),
        ("Seed", config.get("seed", "n/a")),
        ("Image size", "x".join(map(str, size)) if size else "as read"),
        ("Color mode", config.get("color_mode", "n/a")),
        ("DICOM window", _window(config.get("window"))),
    ]
    augment = config.get("augment_by_setting") or {}
    rows = [
        [
            name,
            _settings_text(s),
            *([_settings_text(augment.get(name) or {})] if augment else []),
        ]
        for name, s in (config.get("datagen") or {}).items()
    ]
    body = [
        _facts(facts),
        "<h3>Augmentation settings</h3>" if augment else "<h3>ImageDataGenerator settings</h3>",
        _table(["setting", "datagen", *(["augment"] if augment else [])], rows, css_class="text"),
        _paragraph(
            "Random augmentation (datagen's random transforms and augment's) touches training "
            "batches only; standardization (such as rescale) is applied to every batch, "
            "training and test.",
            "note",
        ),
    ]
    return _section("settings", "\n".join(body))


def _settings_text(settings):
    """``"rotation_range=10, rescale=0.0625"``; pairs as ``0.8,1.25``; "(none)" when empty."""

    def value(v):
        if isinstance(v, float):
            return f"{v:g}"
        if isinstance(v, (list, tuple)):
            return ",".join(value(x) for x in v)
        return str(v)

    return ", ".join(f"{k}={value(v)}" for k, v in settings.items()) or "(none)"


def _timings_section(document):
    timings = document["timings"]
    folds = document["folds"]
    facts = [
        ("Total", _seconds(timings["total_seconds"])),
        (f"Fitting ({len(folds)} folds)", _seconds(timings["fit_seconds"])),
        ("Predicting", _seconds(timings["predict_seconds"])),
    ]
    if folds:
        facts.append(("Fit per fold, mean", _seconds(timings["fit_seconds"] / len(folds))))
    note = _paragraph(
        "Total is the command's wall-clock time up to the writing of these files, loading "
        "the data included. The time of each fold is in the tables above.",
        "note",
    )
    return _section("timings", _facts(facts) + "\n" + note)


def _evaluation_section(document, evaluations):
    """Each setting's metrics with intervals, curves, threshold, calibration and audit."""
    from ...evaluation._page import evaluation_sections

    if not evaluations:
        reason = (
            "Not computed: the run did not finish (the out-of-fold predictions are incomplete)."
            if document["partial"]
            else "Not computed."
        )
        return _section("evaluation", _paragraph(reason, "note"))
    what = {
        "classification": (
            "patient-level results, calibration, a decision threshold chosen without the "
            "test fold, and an audit of the folds"
        ),
        "multilabel": (
            "each label's ROC AUC, average precision and F1 (at a fixed threshold), their "
            "averages, and an audit of the folds"
        ),
        "regression": "patient-level results (a patient's mean), and an audit of the folds",
    }[document.get("task", "classification")]
    body = [
        _paragraph(
            "Every image was predicted once, by the model of the fold that tested it; these "
            "out-of-fold predictions are pooled and scored once, with bootstrap intervals "
            f"(patients resampled when groups are given), {what}. "
            'The same numbers are under "evaluation" in results.json.',
            "note",
        )
    ]
    for setting, evaluation in evaluations.items():
        if len(evaluations) > 1:
            body.append(f"<h3>{_e(setting)}</h3>")
        level = 4 if len(evaluations) > 1 else 3
        body += [section.to_html(level) for section in evaluation_sections(evaluation)]
    return _section("evaluation", "\n".join(body))


def render_report(document, figures, evaluations=None):
    """The report page as a string.

    Parameters
    ----------
    document : dict
        What :func:`skimgaug.cli.runs._cv_outputs.results_document` returns.
    figures : dict
        ``"curves"`` and ``"confusion"``, each a list of ``(PNG file,
        caption)`` shown in that section.
    evaluations : dict of str to Evaluation, optional
        Each setting's out-of-fold evaluation (None: a partial run).

    Returns
    -------
    str
    """
    data, config = document["data"], document["config"]
    version = document["versions"].get("skimgaug", "")
    title = f"skimgaug cv: {data.get('source', 'cross-validation')}"
    lead = (
        f"{data.get('splitter', 'Cross-validation')} of {config.get('model') or 'the default CNN'} "
        f"on {data.get('source', 'n/a')} ({data.get('images', 'n/a')}, "
        f"{data.get('target') or str(len(data.get('classes') or {})) + ' classes'}). "
        f"Written {document.get('written_at', '')} "
        f"by skimgaug {version}; all numbers are also in results.json."
    )
    curves = [_figure(p, c, SECTIONS["curves"]) for p, c in figures.get("curves", ())]
    matrices = [_figure(p, c, SECTIONS["confusion"]) for p, c in figures.get("confusion", ())]
    matrices += [_figure(p, c, SECTIONS["scatter"]) for p, c in figures.get("scatter", ())]
    versions = _table(
        ["package", "version"],
        [[name, v] for name, v in document["versions"].items()],
        css_class="text",
    )
    total = _paragraph(f"Total time: {_seconds(document['timings']['total_seconds'])}.", "total")
    shown = {anchor: name for anchor, name in SECTIONS.items() if anchor != "scatter"}
    if "scatter" in figures:
        shown["confusion"] = SECTIONS["scatter"]
    elif "confusion" not in figures:
        del shown["confusion"]
    nav = "".join(f'<a href="#{anchor}">{_e(name)}</a>' for anchor, name in shown.items())
    header = _paragraph(lead, "lead") + f"<nav>{nav}</nav>"
    parts = [
        _partial_notice(document) if document["partial"] else "",
        _verdict_section(document),
        _results_section(document),
        _evaluation_section(document, evaluations),
        _section(
            "curves",
            "\n".join(curves)
            + _paragraph(
                "Loss and accuracy (or the compiled metric) per epoch on the training "
                "batches (augmented when the setting augments) and on the internal "
                "validation split. Thin lines: each fold; bold: the mean over folds.",
                "note",
            ),
        ),
        _section("confusion", "\n".join(matrices), shown.get("confusion"))
        if "confusion" in shown
        else "",
        _data_section(document),
        _settings_section(document),
        _timings_section(document),
        _section("versions", versions),
        total,
    ]
    return page(title, header, "\n".join(part for part in parts if part))


def write_report(path, document, figures, evaluations=None):
    """Write :func:`render_report`'s page to ``path`` (UTF-8)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_report(document, figures, evaluations))
