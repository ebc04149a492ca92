"""``skimgaug cv``: stratified (group) k-fold cross-validation of one or two settings."""

import argparse
import sys

from . import _common as common


def add_parser(commands):
    parser = commands.add_parser(
        "cv",
        help="cross-validate a folder of images, a CSV of image paths, or the digits",
        description=(
            "Cross-validate a Keras image classifier with augmentation applied to "
            "training folds only. SOURCE is a folder with one subfolder of images per "
            "class, or a CSV file with a column of image paths (relative to the CSV) "
            "and a column of labels. Prints accuracy, balanced accuracy, macro F1 and "
            "ROC AUC per fold and their mean ± std."
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
    common.add_source_options(parser)
    common.add_common_options(
        parser, ("folds", "epochs", "batch_size", "seed", "traceback"), defaults=False
    )
    common.add_image_options(parser)
    common.add_model_options(parser)
    common.add_datagen_option(parser)
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also run without the random augmentation on the same folds",
    )
    parser.add_argument("--out", metavar="DIR", help="write results, predictions and plots here")
    return parser


def check_args(args):
    """What the command line alone can tell is wrong (UsageError)."""
    common.check_source_args(args)
    common.check_model_args(args)


def settings_to_compare(datagen, compare):
    """``{name: datagen}``: with and/or without the random augmentation."""
    from .._datagen import resolve_datagen

    config = resolve_datagen(datagen, {})
    plain = {**config.standardization, **config.format}
    if not config.augments:
        return {"no augmentation": plain}
    if compare:
        return {"no augmentation": plain, "augmentation": datagen}
    return {"augmentation": datagen}


def run(args, out=None):
    """Run the cross-validation described by parsed ``args``; return the summary."""
    out = out or sys.stdout
    check_args(args)
    datagen = common.default_datagen(args)
    created = common.make_out_dir(args.out)

    def go():
        source = common.load_source(args)
        # TensorFlow is imported only once the command line and the data are valid
        # (by the --model module, or else by the classifier's module).
        with common.without_cpp_logs():
            model = common.load_model_arg(args)
        common.import_tensorflow_quietly()
        return _cross_validate(args, source, datagen, model, out)

    return common.with_cleanup(args.out, created, go)


def _cross_validate(args, source, datagen, model, out):
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    from .._cv import format_summary, run_cv, summarize, write_outputs

    X, y, groups, samples, description = source

    if groups is not None:
        cv = StratifiedGroupKFold(args.folds, shuffle=True, random_state=args.seed)
    else:
        cv = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
    settings = settings_to_compare(datagen, args.compare)
    estimators = {
        name: common.make_estimator(args, model, setting) for name, setting in settings.items()
    }
    n_classes = len(set(y.tolist()))
    print(
        f"skimgaug: {'stratified group' if groups is not None else 'stratified'} "
        f"{args.folds}-fold cross-validation on {description} "
        f"({common.describe_images(X, args)}, {n_classes} classes"
        + (f", {len(set(groups.tolist()))} groups" if groups is not None else "")
        + ")\n"
        f"model: {args.model or 'default CNN'}, epochs={args.epochs}, "
        f"batch_size={args.batch_size}, validation_split={args.validation_split}, "
        f"tta={args.tta}, seed={args.seed}",
        file=out,
    )
    for name, setting in settings.items():
        text = ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in setting.items()
        )
        print(f"{name}: {text or '(none)'}", file=out, flush=True)
    results = run_cv(estimators, X, y, cv, groups, progress=not args.quiet)
    summary = summarize(results)
    print(format_summary(summary), file=out, flush=True)
    if args.out:
        config = {k: v for k, v in vars(args).items() if k not in ("command", "traceback")}
        config["datagen"] = settings
        written = write_outputs(args.out, results, summary, y, samples, config)
        print(f"\nwrote {', '.join(written)} to {args.out}", file=out)
    return summary
