"""The ``skimgaug`` command line.

``skimgaug`` (no arguments)
    Stratified 5-fold cross-validation of the default CNN on scikit-learn's
    bundled 8x8 digits (no download), without and with augmentation on the
    same folds.
``skimgaug cv SOURCE``
    The same for a folder of images (one subfolder per class) or a CSV of
    image paths and labels, with groups, model, augmentation and outputs.

Heavy imports happen inside the functions, so ``--help`` is instant.
Usage errors exit with status 2, failures with status 1, each with a
one-line message.
"""

import argparse
import os
import re
import sys
from fractions import Fraction

#: Augmentation used by the digits demo: small geometric changes, no flips
#: (a mirrored digit is another symbol).
DIGITS_AUGMENTATION = {
    "rotation_range": 10,
    "width_shift_range": 0.1,
    "height_shift_range": 0.1,
    "zoom_range": 0.1,
}
DIGITS_STANDARDIZATION = {"rescale": 1 / 16}
FILES_STANDARDIZATION = {"rescale": 1 / 255}


class UsageError(Exception):
    """A bad command line: reported with exit status 2."""


# ----------------------------------------------------------------------------
# Argument parsing
# ----------------------------------------------------------------------------
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _image_size(text):
    parts = text.lower().split("x")
    try:
        height, width = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected HEIGHTxWIDTH such as 128x128, got {text!r}"
        ) from None
    if height < 1 or width < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes, got {text!r}")
    return height, width


def parse_value(text):
    """A ``--datagen`` value: bool, None, number, fraction, list of numbers or text."""
    lowered = text.strip().lower()
    if lowered in {"true", "yes", "on"}:
        return True
    if lowered in {"false", "no", "off"}:
        return False
    if lowered in {"none", "null"}:
        return None
    if "," in text:
        return [parse_value(part) for part in text.split(",")]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError):
        return text


def parse_datagen(items):
    """``["key=value", ...]`` to a validated settings dict (UsageError if wrong)."""
    from ._datagen import resolve_datagen

    settings = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--datagen expects key=value, got {item!r}")
        if key == "preprocessing_function":
            raise UsageError("--datagen preprocessing_function cannot be set from the command line")
        settings[key.strip()] = parse_value(value)
    try:
        resolve_datagen(settings, {}, owner="skimgaug cv")
    except ValueError as exc:
        problems = "; ".join(str(exc).split("\n- ")[1:])
        raise UsageError(re.sub(r"datagen\['(\w+)'\]", r"--datagen \1", problems)) from None
    return settings


def build_parser():
    """The argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="skimgaug",
        description=(
            "Leak-free k-fold cross-validation of Keras image classifiers: augmentation "
            "is applied to training folds only. Without a command, cross-validates the "
            "default CNN on scikit-learn's bundled 8x8 digits, without and with "
            "augmentation on the same stratified folds."
        ),
    )
    parser.add_argument("--folds", type=_positive_int, default=5, help="number of folds (5)")
    parser.add_argument("--epochs", type=_positive_int, default=10, help="epochs per fit (10)")
    parser.add_argument("--batch-size", type=_positive_int, default=32, help="batch size (32)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    cv = commands.add_parser(
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
            "  skimgaug cv index.csv --groups patient_id --model mymodels:build --compare"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cv.add_argument("source", nargs="?", help="image folder or CSV file")
    cv.add_argument("--digits", action="store_true", help="use the bundled 8x8 digits instead")
    cv.add_argument("--folds", type=_positive_int, default=5, help="number of folds (5)")
    cv.add_argument(
        "--groups",
        metavar="SPEC",
        help=(
            "keep groups (e.g. patients) on one side of every split, with "
            "StratifiedGroupKFold: a CSV column name, or for a folder a regular "
            "expression on the file name whose first group is the group id"
        ),
    )
    cv.add_argument("--epochs", type=_positive_int, default=10, help="epochs per fit (10)")
    cv.add_argument("--batch-size", type=_positive_int, default=32, help="batch size (32)")
    cv.add_argument(
        "--image-size", type=_image_size, default=(128, 128), metavar="HxW",
        help="size images are resized to (128x128)",
    )  # fmt: skip
    cv.add_argument(
        "--color-mode", choices=("grayscale", "rgb", "rgba"), default="rgb",
        help="channels images are converted to (rgb)",
    )  # fmt: skip
    cv.add_argument(
        "--model", metavar="MODULE:FUNCTION",
        help="a scikeras model builder, e.g. mypackage.models:build (default: built-in CNN)",
    )  # fmt: skip
    cv.add_argument(
        "--datagen", action="append", default=[], metavar="KEY=VALUE",
        help=(
            "an ImageDataGenerator setting, repeatable: rotation_range=15, "
            "horizontal_flip=true, zoom_range=0.9,1.1, rescale=1/255, fill_mode=reflect "
            "(default for files: rescale=1/255; for --digits: the demo's settings)"
        ),
    )  # fmt: skip
    cv.add_argument(
        "--compare", action="store_true",
        help="also run without the random augmentation on the same folds",
    )  # fmt: skip
    cv.add_argument(
        "--validation-split", type=float, default=0.1, metavar="FRACTION",
        help="internal validation fraction per fit, for learning curves (0.1; 0 to disable)",
    )  # fmt: skip
    cv.add_argument("--path-column", default="path", help="CSV column of image paths (path)")
    cv.add_argument("--label-column", default="label", help="CSV column of labels (label)")
    cv.add_argument("--seed", type=int, default=0, help="random seed for folds and fits (0)")
    cv.add_argument("--out", metavar="DIR", help="write results, predictions and plots here")
    cv.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")
    return parser


# ----------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------
def _load_source(args):
    """X, y, groups, sample names, and a description of the data."""
    import numpy as np

    from . import datasets

    if args.digits:
        if args.source:
            raise UsageError("give either SOURCE or --digits, not both")
        if args.groups:
            raise UsageError("--groups needs a folder or CSV SOURCE")
        X, y = datasets.load_digits_images()
        samples = np.array([f"digits[{i}]" for i in range(len(X))])
        return X, y, None, samples, "scikit-learn digits"
    if not args.source:
        raise UsageError("give a SOURCE folder or CSV file, or --digits")
    if os.path.isdir(args.source):
        loaded = datasets.load_image_folder(args.source, groups=args.groups)
    elif os.path.isfile(args.source):
        loaded = datasets.load_image_csv(
            args.source, args.path_column, args.label_column, group_column=args.groups
        )
    else:
        raise FileNotFoundError(f"no such folder or CSV file: {args.source!r}")
    paths, labels = loaded[:2]
    groups = loaded[2] if len(loaded) == 3 else None
    return paths, labels, groups, paths, args.source


def _load_model(spec):
    if spec is None:
        return None
    import importlib

    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name:
        raise UsageError(f"--model expects MODULE:FUNCTION, got {spec!r}")
    sys.path.insert(0, os.getcwd())
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"--model {spec}: {exc}") from None
    if not callable(function):
        raise UsageError(f"--model {spec} is not a function")
    return function


def _settings(datagen, compare):
    """``{name: datagen}``: with and/or without the random augmentation."""
    from ._datagen import resolve_datagen

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
    datagen = parse_datagen(args.datagen)
    X, y, groups, samples, description = _load_source(args)
    if args.digits and not args.datagen:
        datagen = {**DIGITS_AUGMENTATION, **DIGITS_STANDARDIZATION}
    elif not args.digits and "rescale" not in datagen:
        datagen = {**datagen, **FILES_STANDARDIZATION}
    model = _load_model(args.model)

    # TensorFlow is imported only once the command line and the data are valid.
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    from ._classifier import AugmentedKerasClassifier
    from ._cv import format_summary, run_cv, summarize, write_outputs

    if groups is not None:
        cv = StratifiedGroupKFold(args.folds, shuffle=True, random_state=args.seed)
    else:
        cv = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
    settings = _settings(datagen, args.compare)
    estimators = {
        name: AugmentedKerasClassifier(
            model,
            datagen=setting,
            target_size=args.image_size,
            color_mode=args.color_mode,
            epochs=args.epochs,
            batch_size=args.batch_size,
            validation_split=args.validation_split,
            optimizer="adam",
            metrics=["accuracy"],
            verbose=0,
            random_state=args.seed,
        )
        for name, setting in settings.items()
    }
    n_classes = len(set(y.tolist()))
    shape = "x".join(str(v) for v in (X.shape[1:] if X.ndim == 4 else args.image_size))
    print(
        f"skimgaug: {'stratified group' if groups is not None else 'stratified'} "
        f"{args.folds}-fold cross-validation on {description} "
        f"({len(X)} images, {shape}, {n_classes} classes"
        + (f", {len(set(groups.tolist()))} groups" if groups is not None else "")
        + ")\n"
        f"model: {args.model or 'default CNN'}, epochs={args.epochs}, "
        f"batch_size={args.batch_size}, validation_split={args.validation_split}, "
        f"seed={args.seed}",
        file=out,
    )
    for name, setting in settings.items():
        text = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in setting.items())  # fmt: skip
        print(f"{name}: {text or '(none)'}", file=out, flush=True)
    results = run_cv(estimators, X, y, cv, groups, progress=not args.quiet)
    summary = summarize(results)
    print(format_summary(summary), file=out, flush=True)
    if args.out:
        config = {key: value for key, value in vars(args).items() if key != "command"}
        config["datagen"] = settings
        written = write_outputs(args.out, results, summary, y, samples, config)
        print(f"\nwrote {', '.join(written)} to {args.out}", file=out)
    return summary


def main(argv=None):
    """Entry point of the ``skimgaug`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.command is None:  # the digits demo
        args = parser.parse_args(
            ["cv", "--digits", "--compare", "--folds", str(args.folds), "--epochs",
             str(args.epochs), "--batch-size", str(args.batch_size), "--seed", str(args.seed)]
        )  # fmt: skip
    try:
        run(args)
    except UsageError as exc:
        parser.exit(2, f"skimgaug: error: {exc}\n")
    except (ValueError, TypeError, OSError) as exc:
        print(f"skimgaug: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
