"""The command line's options: their types, the options the commands share, ``--datagen``.

An option that sets a parameter of the estimator is checked with the
library's own table (:mod:`skimgaug._estimator._parameters`), so that a value is
refused with the same words from Python, from a grid file and from an option.
Nothing here imports TensorFlow: ``--help`` and usage errors are instant.
"""

import argparse
import re

from .._estimator._parameters import OWNER, constraint_for
from ..exceptions import InvalidParameterError

#: Estimator settings someone may try as ``--datagen KEY=VALUE``, and the option that sets each.
DATAGEN_OPTIONS = {
    "validation_split": "--validation-split FRACTION",
    "epochs": "--epochs N",
    "batch_size": "--batch-size N",
    "target_size": "--image-size HxW",
    "color_mode": "--color-mode",
    "random_state": "--seed N",
}


class UsageError(Exception):
    """A bad command line: reported with the usage and exit status 2."""


def option_type(name, constraint, parse=int, owner=OWNER):
    """An argparse type: ``parse`` the text, then check it as the library does.

    The value is refused with the library's own message, so that the same
    value is refused the same way from Python, from a grid file and from an
    option.
    """

    def convert(text):
        try:
            value = parse(text)
        except ValueError:
            value = text  # refused below: not a number
        try:
            return constraint.check(value, name, owner)
        except InvalidParameterError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name
    return convert


def parameter_type(parameter, parse=int):
    """The argparse type of an option that sets the estimator's ``parameter``."""
    return option_type(parameter, constraint_for(parameter), parse)


def _integer(text, allowed, low, high=None):
    """An option of the command line only (not a parameter of the library)."""
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


def _parse_image_size(text):
    parts = text.lower().split("x")
    try:
        height, width = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected HEIGHTxWIDTH such as 128x128, got {text!r}"
        ) from None
    return height, width


def _image_size(text):
    # A malformed HxW raises its own message; a parsed size is checked as target_size.
    return parameter_type("target_size", parse=_parse_image_size)(text)


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
        if "/" in text:  # 1/255, 1/127.5
            numerator, denominator = text.split("/")
            return float(numerator) / float(denominator)
        return float(text)
    except (ValueError, ZeroDivisionError):
        return text


def parse_datagen(items):
    """``["key=value", ...]`` to a validated settings dict (UsageError listing every problem)."""
    from .._augment._keys import resolve_datagen

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
        resolve_datagen(settings, {}, owner="skimgaug")
    except ValueError as exc:
        found = str(exc).split("\n- ")[1:]
        problems += [re.sub(r"datagen\['(\w+)'\]", r"--datagen \1", p) for p in found]
    if problems:
        raise UsageError("; ".join(problems))
    return settings


def add_common_options(parser, names, defaults):
    """Options that may come before the command too (``skimgaug --epochs 1 cv ...``).

    A command's parser leaves them unset (``SUPPRESS``) when not given, so that
    a value given before the command is kept; the top-level parser
    (``defaults=True``) gives the defaults.
    """

    def default(value):
        return value if defaults else argparse.SUPPRESS

    options = {
        "folds": lambda: parser.add_argument(
            "--folds", type=_fold_count, default=default(5), help="number of folds, >= 2 (5)"
        ),
        "epochs": lambda: parser.add_argument(
            "--epochs",
            type=parameter_type("epochs"),
            default=default(10),
            help="epochs per fit (10)",
        ),
        "batch_size": lambda: parser.add_argument(
            "--batch-size",
            type=parameter_type("batch_size"),
            default=default(32),
            help="batch size (32)",
        ),
        "seed": lambda: parser.add_argument(
            "--seed",
            type=parameter_type("random_state"),
            default=default(0),
            help="random seed for folds, fits and augmentation, 0 to 2**32 - 1 (0)",
        ),
        "traceback": lambda: parser.add_argument(
            "--traceback",
            action="store_true",
            default=default(False),
            help="on an error, show Python's traceback too (for bug reports)",
        ),
    }
    for name in names:
        options[name]()


def add_source_options(parser, groups=True):
    """SOURCE or ``--digits``, and how to read a CSV source."""
    parser.add_argument("source", nargs="?", help="image folder or CSV file")
    parser.add_argument(
        "--digits", action="store_true", help="use scikit-learn's bundled 8x8 digits instead"
    )
    if groups:
        parser.add_argument(
            "--groups",
            metavar="SPEC",
            help=(
                "keep groups (e.g. patients) on one side of every split, with "
                "StratifiedGroupKFold: a CSV column name, or for a folder a regular "
                "expression on the file name whose first group is the group id"
            ),
        )
    parser.add_argument("--path-column", default="path", help="CSV column of image paths (path)")
    parser.add_argument("--label-column", default="label", help="CSV column of labels (label)")
    add_task_options(parser)
    parser.add_argument(
        "--standardize-target",
        action="store_true",
        help=(
            "--task regression: train on the values standardized with the training images' "
            "mean and std, undone in predict (the regressor's standardize_target)"
        ),
    )


#: What a label is, by ``--task``.
TASKS = ("classification", "multilabel", "regression")


def add_task_options(parser):
    """``--task`` and ``--label-separator`` (see :mod:`skimgaug.cli._tasks`)."""
    parser.add_argument(
        "--task",
        choices=TASKS,
        default="classification",
        help=(
            "what a label is: one class per image (classification, the default), several "
            "labels per image (multilabel: a CSV cell such as 'Cardiomegaly|Effusion'), or "
            "a number (regression: a CSV cell such as '12.5'); folders of class "
            "subfolders are classification only"
        ),
    )
    parser.add_argument(
        "--label-separator",
        default="|",
        metavar="TEXT",
        help="what separates the labels of a multilabel CSV cell (|)",
    )


def _parse_window(text):
    """``"-600,1500"`` as ``(-600.0, 1500.0)``; a name as it is."""
    if "," in text:
        return tuple(float(part) for part in text.split(","))
    return text.strip().lower()


def add_image_options(parser):
    """How image files are decoded."""
    parser.add_argument(
        "--image-size",
        type=_image_size,
        default=None,
        metavar="HxW",
        help=(
            "size images are resized to (default: their own size; the most common one "
            "if sizes differ)"
        ),
    )
    parser.add_argument(
        "--color-mode",
        choices=("grayscale", "rgb", "rgba"),
        default="rgb",
        help="channels images are converted to (rgb)",
    )
    parser.add_argument(
        "--window",
        type=parameter_type("window", _parse_window),
        default=None,
        metavar="C,W|PRESET|dicom",
        help=(
            "window of grayscale DICOM files: CENTER,WIDTH (e.g. --window=-600,1500), a "
            "preset (brain, "
            "soft_tissue, mediastinum, lung, bone) or dicom (each file's own); maps the "
            "window onto 0-255 (default: the modality values, e.g. Hounsfield units)"
        ),
    )
    parser.add_argument(
        "--cache",
        default="auto",
        metavar="auto|none|DIR",
        help=(
            "keep decoded images for the next epoch, fold and fit: auto (in memory, then "
            "in ~/.cache/skimgaug), none, or a private folder kept for later runs (auto)"
        ),
    )


def add_datagen_option(parser):
    parser.add_argument(
        "--datagen",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=(
            "an ImageDataGenerator setting, repeatable: rotation_range=15, "
            "horizontal_flip=true, zoom_range=0.9,1.1, rescale=1/255, fill_mode=reflect "
            "(default for files: rescale=1/255, none with a pretrained --model; for "
            "--digits: the demo's settings)"
        ),
    )


def add_fit_command_options(parser, n_jobs=True, validation_split=0.1):
    """The data, image, model and datagen options of the commands that fit (cv, train, search).

    ``validation_split`` is the default of ``--validation-split``: ``train``
    fits on all the data unless asked.
    """
    add_source_options(parser)
    add_common_options(
        parser, ("folds", "epochs", "batch_size", "seed", "traceback"), defaults=False
    )
    add_image_options(parser)
    add_model_options(parser)
    parser.set_defaults(validation_split=validation_split)
    if n_jobs:
        add_n_jobs_option(parser)
    add_datagen_option(parser)


def add_tensorboard_option(parser, where):
    """``--tensorboard DIR``: Keras' TensorBoard callback, one log folder per fit."""
    parser.add_argument(
        "--tensorboard",
        metavar="DIR",
        help=f"write TensorBoard logs (Keras' callback) to DIR, {where}",
    )


def add_mlflow_option(parser, what):
    """``--mlflow [TRACKING_URI]``: record the command in MLflow."""
    parser.add_argument(
        "--mlflow",
        nargs="?",
        const="",
        metavar="TRACKING_URI",
        help=(
            f"record the run in MLflow (experiment 'skimgaug', or $MLFLOW_EXPERIMENT_NAME): "
            f"settings, data, {what}; without TRACKING_URI, MLflow's default store "
            "($MLFLOW_TRACKING_URI, else ./mlflow.db); needs pip install 'skimgaug[mlflow]'"
        ),
    )


def add_n_jobs_option(parser):
    parser.add_argument(
        "--n-jobs",
        type=_positive_int,
        default=1,
        metavar="N",
        help="folds fitted in parallel, in N worker processes sharing the cores (1)",
    )
    add_fresh_process_option(parser)


def add_fresh_process_option(parser):
    """``--fresh-process-per-fit``: every fit in a new worker process (flat memory)."""
    parser.add_argument(
        "--fresh-process-per-fit",
        action="store_true",
        help=(
            "fit every fold (and candidate) in a new worker process, ended after its fit, so "
            "that memory (and GPU memory) returns to the start after each; costs a process "
            "start-up (~4 s) per fit, worth it for long fits or hundreds of them; with "
            "--n-jobs N, N at a time"
        ),
    )


def add_model_options(parser):
    """The model, its training, and test-time augmentation."""
    parser.add_argument(
        "--model",
        metavar="NAME|MODULE:FUNCTION",
        help=(
            "the default CNN (default), a pretrained keras.applications backbone by name "
            "(mobilenet_v3_small, mobilenet_v3_large, efficientnet_b0, resnet50), or a "
            "scikeras model builder returning a keras.Model, e.g. mypackage.models:build"
        ),
    )
    parser.add_argument(
        "--weights",
        metavar="imagenet|none|PATH",
        help="weights of a pretrained --model: imagenet (default), none, or a local file",
    )
    parser.add_argument(
        "--trainable",
        nargs="?",
        const="all",
        metavar="N",
        help=(
            "train a pretrained backbone too: all of it (--trainable) or its last N layers "
            "(--trainable N); default: frozen"
        ),
    )
    parser.add_argument(
        "--validation-split",
        type=parameter_type("validation_split", parse=float),
        default=0.1,
        metavar="FRACTION",
        help=(
            "internal validation fraction per fit, for learning curves and --early-stopping "
            "(default: 0.1 for cv and search, 0 for train: all images train)"
        ),
    )
    parser.add_argument(
        "--tta",
        type=parameter_type("tta"),
        default=0,
        metavar="N",
        help="test-time augmentation: average predictions over N augmented copies too (0)",
    )
    parser.add_argument(
        "--loss",
        metavar="NAME",
        help="a Keras loss name (default: the one that fits the labels)",
    )
    parser.add_argument(
        "--optimizer",
        default="adam",
        metavar="NAME",
        help="a Keras optimizer name: adam, sgd, rmsprop, adamw, ... (adam)",
    )
    parser.add_argument(
        "--learning-rate",
        type=parameter_type("optimizer__learning_rate", parse=float),
        metavar="RATE",
        help="the optimizer's learning rate (default: the optimizer's; the default CNN "
        "with adam: 0.003, decaying along a cosine)",
    )
    parser.add_argument(
        "--class-weight",
        choices=("balanced",),
        default=None,
        help="weight classes inversely to their frequency in each training set",
    )
    parser.add_argument(
        "--early-stopping",
        type=_positive_int,
        metavar="PATIENCE",
        help=(
            "stop when the internal validation loss has not improved for PATIENCE epochs "
            "and restore the best weights (needs --validation-split > 0)"
        ),
    )
    parser.add_argument(
        "--balance",
        choices=("oversample",),
        default=None,
        help=(
            "oversample: every training epoch shows every class as often as the largest "
            "(repeated images are augmented independently)"
        ),
    )
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")
