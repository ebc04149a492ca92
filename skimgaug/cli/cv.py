"""``skimgaug cv``: stratified (group) k-fold cross-validation of one or two settings."""

import argparse
import sys
import time

from . import _common as common
from . import _options as options
from . import _quiet as quiet
from ._augment_option import add_augment_option
from ._evaluation_options import add_evaluation_options


def add_parser(commands):
    parser = commands.add_parser(
        "cv",
        help="cross-validate a folder of images, a CSV of image paths, or the digits",
        description=(
            "Cross-validate a Keras image classifier with augmentation applied to "
            "training folds only. SOURCE is a folder with one subfolder of images per "
            "class, or a CSV file with a column of image paths (relative to the CSV) "
            "and a column of labels. Prints accuracy, balanced accuracy, macro F1 and "
            "ROC AUC per fold and their mean ± std; then, per setting, the out-of-fold "
            "metrics with bootstrap intervals (patients resampled with --groups, and "
            "patient-level results), sensitivity, specificity, PPV and NPV at a threshold "
            "chosen without the test fold (two classes), the calibration error and an "
            "audit of the folds (patients or near-identical images on both sides of a "
            "split); then, with --compare, the paired bootstrap interval of the ROC AUC "
            "difference and the verdict (the paired difference in accuracy per fold, its "
            "mean and a 95 % interval corrected for the training data that folds share), "
            "and the total time."
        ),
        epilog=(
            "examples:\n"
            "  skimgaug cv --digits --compare\n"
            "  skimgaug cv scans/ --groups '^(patient\\d+)_' --image-size 96x96 \\\n"
            "      --datagen rotation_range=15 --datagen horizontal_flip=true --out results/\n"
            "  skimgaug cv index.csv --groups patient_id --model mymodels:build --compare\n"
            "  skimgaug cv photos/ --model mobilenet_v3_small --weights imagenet"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_fit_command_options(parser)
    add_augment_option(parser)
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also run without the random augmentation on the same folds",
    )
    add_evaluation_options(parser)
    options.add_tensorboard_option(
        parser, "one folder per setting and fold (DIR/augmentation/fold_1)"
    )
    options.add_mlflow_option(
        parser,
        "a child run per setting and fold with its epochs and scores, the "
        "out-of-fold metrics with intervals and the --out files",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help=(
            "write report.html (one page to open), results.json, results.csv, "
            "out-of-fold predictions and plots here; an interrupted or failed run "
            "writes its finished folds, marked partial"
        ),
    )
    return parser


def check_args(args):
    """What the command line alone can tell is wrong (UsageError)."""
    common.check_source_args(args)
    common.check_model_args(args)
    if args.patient_aggregation is not None and not args.groups:
        raise options.UsageError("--patient-aggregation needs --groups (the patient of each image)")


def settings_to_compare(datagen, compare, augment=None):
    """``{name: datagen}``: with and/or without the random augmentation.

    ``augment`` (``--augment``'s settings) is random augmentation too; the
    setting without augmentation has neither.
    """
    from .._augment._keys import resolve_datagen

    config = resolve_datagen(datagen, {})
    plain = {**config.standardization, **config.format}
    if not config.augments and not augment:
        return {"no augmentation": plain}
    if compare:
        return {"no augmentation": plain, "augmentation": datagen}
    return {"augmentation": datagen}


def run(args, out=None):
    """Run the cross-validation described by parsed ``args``; return the summary."""
    started = time.perf_counter()
    out = out or sys.stdout
    check_args(args)
    datagen = common.default_datagen(args)
    created = common.make_out_dir(args.out)

    def go():
        from ._tasks import task_of
        from .runs._evaluation import evaluation_options

        source = common.load_source(args)
        if task_of(args) == "classification":
            check_patients(source.y, source.groups, evaluation_options(args)["patient_aggregation"])
        common.make_splitter(args, source.y, source.groups, source.names)  # its checks, now
        if source.groups is None and not args.digits:
            from ..evaluation._audit import warn_if_dicom_patients_ungrouped

            warn_if_dicom_patients_ungrouped(source.X)
        # TensorFlow is imported only once the command line and the data are valid
        # (by the --model module, or else by the classifier's module).
        with quiet.without_cpp_logs():
            model = common.load_model_arg(args)
        quiet.import_tensorflow_quietly()
        return _cross_validate(args, source, datagen, model, out, started)

    return common.with_cleanup(args.out, created, go)


def describe_data(X, y, groups, description, images, folds, task="classification", names=None):
    """The Data block of results.json and report.html."""
    import numpy as np

    from ._tasks import describe_target

    data = {
        "source": description,
        "n_images": len(X),
        "images": images,
        "target": describe_target(y, task, names),
        "groups": None if groups is None else len(set(groups.tolist())),
    }
    if task == "multilabel":
        data["labels"] = {name: int(n) for name, n in zip(names, y.sum(axis=0), strict=True)}
        kind = "iterative stratified" + (" group" if groups is not None else "")
    elif task == "regression":
        data["values"] = {
            "min": float(np.min(y)),
            "max": float(np.max(y)),
            "mean": float(np.mean(y)),
        }
        kind = "group" if groups is not None else "shuffled"
    else:
        labels, counts = np.unique(y, return_counts=True)
        data["classes"] = {str(c): int(n) for c, n in zip(labels, counts, strict=True)}
        kind = "stratified group" if groups is not None else "stratified"
    data["splitter"] = f"{kind} {folds}-fold cross-validation"
    return data


def _cross_validate(args, source, datagen, model, out, started, parent=None):
    from ._tasks import task_of
    from .runs._mlflow import tracked, where

    X, y, groups, samples, description, names = source
    task = task_of(args)
    cv = common.make_splitter(args, y, groups, names)
    from ._augment_option import parse_augment

    augment = parse_augment(getattr(args, "augment", None))
    settings = settings_to_compare(datagen, args.compare, augment)
    if args.compare and len(settings) == 1:
        print(
            "note: --compare needs random augmentation (--datagen rotation_range=15, "
            "--augment mixup_alpha=0.2, ...): "
            "there is one setting to score",
            file=sys.stderr,
            flush=True,
        )
    estimators = {
        name: common.make_estimator(
            args, model, setting, augment=augment if name == "augmentation" else None
        )
        for name, setting in settings.items()
    }
    images = common.describe_images(X, args)
    data = describe_data(X, y, groups, description, images, args.folds, task, names)
    print(
        f"skimgaug: {data['splitter']} on {description} "
        f"({data['images']}, {data['target']}"
        + (f", {data['groups']} groups" if groups is not None else "")
        + ")\n"
        + common.describe_settings(argparse.Namespace(**{**vars(args), "augment": None})),
        file=out,
    )
    for name, setting in settings.items():
        text = ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in setting.items()
        )
        if augment and name == "augmentation":
            text += f"; augment: {', '.join(args.augment)}"
        print(f"{name}: {text or '(none)'}", file=out, flush=True)
    config = {k: v for k, v in vars(args).items() if k not in ("command", "traceback")}
    config["datagen"] = settings
    if augment:  # --augment's settings go to the augmentation setting only
        config["augment_by_setting"] = {
            name: augment if name == "augmentation" else {} for name in settings
        }
    outputs = {"y": y, "samples": samples, "config": config, "data": data}
    outputs.update(task=task, names=names)
    params = {f"args.{k}": v for k, v in config.items()}
    params.update({f"data.{k}": v for k, v in data.items()})
    with tracked(args.mlflow, "cv", params, parent) as tracker:
        summary = _folds_and_results(
            args, source, cv, settings, estimators, outputs, tracker, out, started
        )
        if tracker is not None and parent is None:
            print(f"recorded in MLflow: {where(tracker)}", file=out, flush=True)
    return summary


def _folds_and_results(args, source, cv, settings, estimators, outputs, tracker, out, started):
    """Fit the folds, print and write the results (and record them with ``--mlflow``)."""
    from .._html import format_duration
    from ._tasks import COMPARED, FOLD_METRICS
    from .reports._verdict import compare_settings, format_verdict
    from .runs._cv import format_summary, iter_cv, summarize
    from .runs._cv_outputs import write_outputs
    from .runs._evaluation import (
        audit_hashes,
        compare_by_bootstrap,
        evaluate_settings,
        evaluation_options,
        format_comparison,
        format_evaluation,
    )
    from .runs._mlflow import evaluation_metrics, log_fold

    X, y, groups, _, _, names = source
    task = outputs["task"]
    evaluation = evaluation_options(args)
    results = []
    try:
        progress = not args.quiet
        for result in iter_cv(
            estimators,
            X,
            y,
            cv,
            groups,
            progress,
            args.n_jobs,
            task,
            args.tensorboard,
            getattr(args, "fresh_process_per_fit", False),
        ):
            results.append(result)
            log_fold(tracker, result, estimators[result.setting])
    except BaseException as exc:
        if args.out and results:
            missing = [
                (name, fold)
                for name in settings
                for fold in range(args.folds)
                if not any(r.setting == name and r.fold == fold for r in results)
            ]
            _write_partial(args.out, results, outputs, missing, exc, started)
        raise
    order = list(settings)
    results.sort(key=lambda r: (order.index(r.setting), r.fold))  # parallel folds: any order
    summary = summarize(results)
    print(format_summary(summary), file=out, flush=True)
    evaluated = time.perf_counter()
    hashes = audit_hashes(X, common.read_as(X, args))
    evaluations = evaluate_settings(results, y, groups, hashes, evaluation, task, names)
    for name, result in evaluations.items():
        print(format_evaluation(name, result), file=out, flush=True)
    verdict = comparison = None
    if len(settings) == 2:
        verdict = compare_settings(
            results, "augmentation", "no augmentation", metric=FOLD_METRICS[task][0]
        )
        comparison = compare_by_bootstrap(
            results,
            y,
            groups,
            evaluation,
            "augmentation",
            "no augmentation",
            evaluations,
            metric=COMPARED[task],
        )
    evaluated = time.perf_counter() - evaluated
    total = time.perf_counter() - started
    if args.out:
        written = write_outputs(
            args.out,
            results,
            summary,
            **outputs,
            verdict=verdict,
            total_seconds=total,
            evaluations=evaluations,
            comparison=comparison,
            evaluation_seconds=evaluated,
        )
        print(f"\nwrote {', '.join(written)} to {args.out}", file=out)
    if verdict is not None:
        if comparison is not None:
            print(f"\n{format_comparison(comparison)}", file=out)
        print(format_verdict(verdict), file=out)
    print(f"\ntotal time {format_duration(total)}", file=out, flush=True)
    if tracker is not None:
        for name, result in evaluations.items():
            tracker.metrics(evaluation_metrics(name, result))
        tracker.metrics({"total_seconds": total})
        if args.out:
            tracker.artifacts(args.out)
        else:
            tracker.client.log_dict(tracker.run_id, summary, "summary.json")
    return summary


def check_patients(y, groups, aggregation):
    """Patient-level results need one label per patient: said before any fit (UsageError)."""
    from ..evaluation._inputs import groups_with_several_labels

    if groups is None or aggregation is None:
        return
    mixed = groups_with_several_labels(y, groups)
    if mixed:
        shown = ", ".join(repr(str(g)) for g in mixed[:3])
        raise options.UsageError(
            f"--groups: {len(mixed)} groups hold images of different labels ({shown}"
            f"{' ...' if len(mixed) > 3 else ''}); patient-level results need one label per "
            "patient. If the groups are patients, check the labels; if they are sites or "
            "scanners, add --patient-aggregation none (the groups are then resampled in the "
            "intervals, with image-level results only)"
        )


def _write_partial(directory, results, outputs, missing, exc, started):
    """Write the finished folds of an interrupted or failed run, saying they are partial.

    A failure while writing is reported on stderr and does not hide ``exc``,
    which the caller re-raises.
    """
    from .runs._cv import summarize
    from .runs._cv_outputs import write_outputs

    if isinstance(exc, KeyboardInterrupt):
        stopped_by = "KeyboardInterrupt"
    else:
        stopped_by = common.one_line(exc).removesuffix(
            " (run again with --traceback for the details)"
        )
    try:
        written = write_outputs(
            directory,
            results,
            summarize(results),
            **outputs,
            total_seconds=time.perf_counter() - started,
            missing=missing,
            stopped_by=stopped_by,
        )
    except Exception as error:
        print(
            f"skimgaug: could not write the finished folds to {directory}: "
            f"{common.one_line(error)}",
            file=sys.stderr,
        )
        return
    print(
        f"skimgaug: {len(results)} of {len(results) + len(missing)} folds finished; "
        f"wrote them, marked partial, to {directory}: {', '.join(written)}",
        file=sys.stderr,
        flush=True,
    )
