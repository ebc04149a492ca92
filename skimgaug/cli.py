"""The ``skimgaug`` command line.

``skimgaug`` (no arguments)
    Stratified 5-fold cross-validation of the default CNN on scikit-learn's
    bundled 8x8 digits (no download), without and with augmentation on the
    same folds.
``skimgaug cv SOURCE``
    The same for a folder of images (one subfolder per class) or a CSV of
    image paths and labels, with groups, model, augmentation and outputs.

Heavy imports happen inside the functions, so ``--help`` is instant, and
everything that can be checked without TensorFlow is checked before it is
imported. Exit statuses: 2 for a bad command line (with the usage), 1 for a
failure, 130 when interrupted (Ctrl-C), each with a one-line message and no
traceback (``--traceback`` shows it). TensorFlow's C++ log lines are kept off
the terminal unless ``TF_CPP_MIN_LOG_LEVEL`` is set.
"""

import argparse
import contextlib
import importlib
import os
import re
import sys
import tempfile
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

#: Estimator settings someone may try as ``--datagen KEY=VALUE``, and the option that sets each.
DATAGEN_OPTIONS = {
    "validation_split": "--validation-split FRACTION",
    "epochs": "--epochs N",
    "batch_size": "--batch-size N",
    "target_size": "--image-size HxW",
    "color_mode": "--color-mode",
    "random_state": "--seed N",
}
#: The arguments scikeras passes to a model builder; any other parameter needs a default.
BUILDER_ARGUMENTS = ("meta", "compile_kwargs", "params")
MAX_SEED = 2**32 - 1
#: A line of TensorFlow's C++ (absl) logging, such as
#: "E0000 00:00:1795613249.997777    5787 cuda_platform.cc:52] failed call to cuInit: ...".
_CPP_LOG_LINE = re.compile(
    r"[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
)


class UsageError(Exception):
    """A bad command line: reported with the usage and exit status 2."""


# ----------------------------------------------------------------------------
# Argument parsing
# ----------------------------------------------------------------------------
def _integer(text, allowed, low, high=None):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}")
    return value


def _positive_int(text):
    return _integer(text, "a positive integer", 1)


def _fold_count(text):
    return _integer(text, "an integer >= 2 (each fold is tested once)", 2)


def _seed(text):
    return _integer(text, f"an integer from 0 to 2**32 - 1 = {MAX_SEED}", 0, MAX_SEED)


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number >= 0 and < 1 (0 for no validation set), got {text!r}"
        )
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
    """``["key=value", ...]`` to a validated settings dict (UsageError listing every problem)."""
    from ._datagen import resolve_datagen

    settings, problems = {}, []
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"--datagen expects key=value, got {item!r}")
        elif key == "preprocessing_function":
            problems.append("--datagen preprocessing_function cannot be set from the command line")
        elif key in DATAGEN_OPTIONS:
            problems.append(
                f"--datagen {key} is not an ImageDataGenerator setting here "
                f"(use {DATAGEN_OPTIONS[key]})"
            )
        else:
            settings[key] = parse_value(value)
    try:
        resolve_datagen(settings, {}, owner="skimgaug cv")
    except ValueError as exc:
        found = str(exc).split("\n- ")[1:]
        problems += [re.sub(r"datagen\['(\w+)'\]", r"--datagen \1", p) for p in found]
    if problems:
        raise UsageError("; ".join(problems))
    return settings


def _version():
    from importlib import metadata

    try:
        return metadata.version("skimgaug")
    except metadata.PackageNotFoundError:
        from . import __version__

        return __version__


def _add_run_options(parser, defaults):
    """Options of both the top level and ``cv``.

    ``cv`` leaves them unset (``SUPPRESS``) when not given, so that
    ``skimgaug --epochs 1 cv ...`` keeps the value given before the command.
    """

    def default(value):
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--folds", type=_fold_count, default=default(5), help="number of folds, >= 2 (5)"
    )
    parser.add_argument(
        "--epochs", type=_positive_int, default=default(10), help="epochs per fit (10)"
    )
    parser.add_argument(
        "--batch-size", type=_positive_int, default=default(32), help="batch size (32)"
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=default(0),
        help="random seed for folds and fits, 0 to 2**32 - 1 (0)",
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        default=default(False),
        help="on an error, show Python's traceback too (for bug reports)",
    )


def _build_parsers():
    """The top-level parser and the ``cv`` command's parser."""
    parser = argparse.ArgumentParser(
        prog="skimgaug",
        description=(
            "Leak-free k-fold cross-validation of Keras image classifiers: augmentation "
            "is applied to training folds only. Without a command, cross-validates the "
            "default CNN on scikit-learn's bundled 8x8 digits, without and with "
            "augmentation on the same stratified folds. Options given before a command "
            "apply to it too."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _add_run_options(parser, defaults=True)
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
    cv.add_argument(
        "--groups",
        metavar="SPEC",
        help=(
            "keep groups (e.g. patients) on one side of every split, with "
            "StratifiedGroupKFold: a CSV column name, or for a folder a regular "
            "expression on the file name whose first group is the group id"
        ),
    )
    _add_run_options(cv, defaults=False)
    cv.add_argument(
        "--image-size",
        type=_image_size,
        default=(128, 128),
        metavar="HxW",
        help="size images are resized to (128x128)",
    )
    cv.add_argument(
        "--color-mode",
        choices=("grayscale", "rgb", "rgba"),
        default="rgb",
        help="channels images are converted to (rgb)",
    )
    cv.add_argument(
        "--model",
        metavar="MODULE:FUNCTION",
        help=(
            "a scikeras model builder returning a compiled keras.Model, e.g. "
            "mypackage.models:build (default: built-in CNN)"
        ),
    )
    cv.add_argument(
        "--datagen",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=(
            "an ImageDataGenerator setting, repeatable: rotation_range=15, "
            "horizontal_flip=true, zoom_range=0.9,1.1, rescale=1/255, fill_mode=reflect "
            "(default for files: rescale=1/255; for --digits: the demo's settings)"
        ),
    )
    cv.add_argument(
        "--compare",
        action="store_true",
        help="also run without the random augmentation on the same folds",
    )
    cv.add_argument(
        "--validation-split",
        type=_fraction,
        default=0.1,
        metavar="FRACTION",
        help="internal validation fraction per fit, for learning curves (0.1; 0 to disable)",
    )
    cv.add_argument("--path-column", default="path", help="CSV column of image paths (path)")
    cv.add_argument("--label-column", default="label", help="CSV column of labels (label)")
    cv.add_argument("--out", metavar="DIR", help="write results, predictions and plots here")
    cv.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")
    return parser, cv


def build_parser():
    """The argument parser (exposed for tests and documentation)."""
    return _build_parsers()[0]


# ----------------------------------------------------------------------------
# Checks before TensorFlow
# ----------------------------------------------------------------------------
def _check_args(args):
    """What the command line alone can tell is wrong (UsageError)."""
    if args.digits:
        if args.source:
            raise UsageError("give either SOURCE or --digits, not both")
        if args.groups:
            raise UsageError("--groups needs a folder or CSV SOURCE")
    elif not args.source:
        raise UsageError("give a SOURCE folder or CSV file, or --digits")
    if args.groups is not None and os.path.isdir(args.source or ""):
        try:
            re.compile(args.groups)
        except re.error as exc:
            raise UsageError(
                f"--groups {args.groups!r} is not a valid regular expression ({exc}); for a "
                "folder it is searched in each file name, e.g. '^(patient\\d+)_'"
            ) from None
    if args.model is not None:
        _split_model_spec(args.model)


def _split_model_spec(spec):
    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name:
        raise UsageError(f"--model expects MODULE:FUNCTION, got {spec!r}")
    return module_name, function_name


def _make_out_dir(path):
    """Create ``--out`` now rather than after the run; True if it did not exist."""
    if path is None:
        return False
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--out {path!r} is a file; give a folder (new or existing)")
    existed = os.path.isdir(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {path!r}: cannot create the folder: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"--out {path!r}: the folder is not writable")
    return not existed


@contextlib.contextmanager
def _without_cpp_logs():
    """Keep TensorFlow's C++ log lines off stderr while TensorFlow loads.

    ``TF_CPP_MIN_LOG_LEVEL=3`` silences them once absl logging is set up, but
    lines logged while TensorFlow's libraries load (cuda stubs) come before
    that and are written whatever the level. Meanwhile file descriptor 2
    points to a temporary file; its other lines are then written to stderr.
    Does nothing once TensorFlow is loaded, or when the user chose a level.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3" or "tensorflow" in sys.modules:
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no stderr
        yield
        return
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not _CPP_LOG_LINE.match(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


# ----------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------
def _load_source(args):
    """``(X, y, groups, sample names, description of the data)``."""
    import numpy as np

    from . import datasets

    if args.digits:
        X, y = datasets.load_digits_images()
        samples = np.array([f"digits[{i}]" for i in range(len(X))])
        return X, y, None, samples, "scikit-learn digits"
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
    """The builder named by ``--model``, checked to accept scikeras' arguments."""
    if spec is None:
        return None
    import inspect

    module_name, function_name = _split_model_spec(spec)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"--model {spec}: {exc}") from None
    if not callable(function):
        raise UsageError(f"--model {spec} is not a function")
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # no signature to read: let the call tell
        parameters = ()
    unfilled = [
        p.name
        for p in parameters
        if p.default is p.empty
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        and (p.kind is p.POSITIONAL_ONLY or p.name not in BUILDER_ARGUMENTS)
    ]
    if unfilled:
        raise UsageError(
            f"--model {spec}: nothing is passed to its parameter "
            f"{', '.join(map(repr, unfilled))}; a model builder is called with keyword "
            f"arguments among {', '.join(BUILDER_ARGUMENTS)} (as scikeras does), so give "
            "any other parameter a default"
        )
    return _checked_builder(function, spec)


def _checked_builder(function, spec):
    """``function``, raising an error that says what to do unless it builds a compiled model.

    ``functools.wraps`` keeps the signature scikeras reads to choose the arguments.
    """
    import functools

    @functools.wraps(function)
    def build(*args, **kwargs):
        from ._validation import check_built_model

        return check_built_model(function(*args, **kwargs), f"--model {spec}", loss_given=False)

    return build


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
    _check_args(args)
    datagen = parse_datagen(args.datagen)
    if args.digits and not args.datagen:
        datagen = {**DIGITS_AUGMENTATION, **DIGITS_STANDARDIZATION}
    elif not args.digits and "rescale" not in datagen:
        datagen = {**datagen, **FILES_STANDARDIZATION}
    created = _make_out_dir(args.out)
    try:
        source = _load_source(args)
        # TensorFlow is imported only once the command line and the data are valid
        # (by the --model module, or else by the classifier's module).
        with _without_cpp_logs():
            model = _load_model(args.model)
            importlib.import_module("skimgaug._classifier")
        return _cross_validate(args, source, datagen, model, out)
    except BaseException:
        if created:  # leave no empty folder behind
            with contextlib.suppress(OSError):
                os.rmdir(args.out)
        raise


def _cross_validate(args, source, datagen, model, out):
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    from ._classifier import AugmentedKerasClassifier
    from ._cv import format_summary, run_cv, summarize, write_outputs

    X, y, groups, samples, description = source

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


def _one_line(exc):
    """``exc``'s message on one line; only its first line if it is not one of ours."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not isinstance(exc, (ValueError, TypeError, OSError)):
        first = lines[0] if lines else ""
        return f"{type(exc).__name__}: {first} (run again with --traceback for the details)"
    if len(lines) < 2:
        return "".join(lines) or type(exc).__name__
    rest = "; ".join(line.removeprefix("- ") for line in lines[1:])
    return f"{lines[0].rstrip(':')}: {rest}"


def main(argv=None):
    """Entry point of the ``skimgaug`` console script; returns the exit status."""
    parser, cv_parser = _build_parsers()
    args = parser.parse_args(argv)
    if args.command is None:  # the digits demo, with the options given
        args = parser.parse_args(["cv", "--digits", "--compare"], namespace=args)
    # Silences TensorFlow's C++ logging once it is set up (level 2 lets ERROR lines through).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        run(args)
    except UsageError as exc:
        cv_parser.error(str(exc))
    except KeyboardInterrupt:
        print("skimgaug: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(f"skimgaug: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
