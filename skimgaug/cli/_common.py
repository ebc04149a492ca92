"""What the ``skimgaug`` commands share: option types, data and model options, checks.

Heavy imports happen inside the functions, so ``--help`` is instant, and
everything that can be checked without TensorFlow is checked before it is
imported.
"""

import argparse
import contextlib
import importlib
import os
import re
import sys
import tempfile

from .._estimator._parameters import OWNER, constraint_for
from ..exceptions import InvalidParameterError

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
    return parameter_type("target_size", parse=lambda t: t)(_parse_image_size(text))


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


def _version():
    from importlib import metadata

    try:
        return metadata.version("skimgaug")
    except metadata.PackageNotFoundError:
        from .. import __version__

        return __version__


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
        "--cache",
        default="auto",
        metavar="auto|none|DIR",
        help=(
            "keep decoded images for the next epoch, fold and fit: auto (in memory, then "
            "in a temporary folder), none, or a folder kept for later runs (auto)"
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


def check_model_dir(path, option="--out"):
    """``option`` must name a new folder or an earlier model folder (before any training)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{option} {path!r} is a file; give a folder for the model")
    if os.path.isdir(path) and os.listdir(path):
        if not os.path.isfile(os.path.join(path, "skimgaug.json")):
            raise UsageError(
                f"{option} {path!r} is a folder holding other files; give a new folder (or an "
                "earlier model folder, to replace that model)"
            )
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise UsageError(f"{option} {path!r}: cannot write in {parent!r}")


def add_n_jobs_option(parser):
    parser.add_argument(
        "--n-jobs",
        type=_positive_int,
        default=1,
        metavar="N",
        help="folds fitted in parallel, in N worker processes sharing the cores (1)",
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


def describe_settings(args):
    """The ``model: ...`` line of the commands' headers: every training option given."""
    model = args.model or "default CNN"
    if _pretrained_name(args.model) is not None:
        trainable = {None: "frozen", "all": "trainable"}.get(
            args.trainable, f"last {args.trainable} layers trainable"
        )
        model += f" (weights {args.weights or 'imagenet'}, {trainable})"
    parts = [
        f"model: {model}",
        f"epochs={args.epochs}",
        f"batch_size={args.batch_size}",
        f"validation_split={args.validation_split}",
        f"tta={args.tta}",
        f"seed={args.seed}",
    ]
    for option in ("optimizer", "learning_rate", "loss", "class_weight", "balance"):
        value = getattr(args, option, None)
        if value is not None and not (option == "optimizer" and value == "adam"):
            parts.append(f"{option}={value}")
    if getattr(args, "early_stopping", None):
        parts.append(f"early_stopping={args.early_stopping}")
    return ", ".join(parts)


def check_source_args(args):
    """SOURCE or --digits, and a valid --groups (UsageError)."""
    trainable = getattr(args, "trainable", None)
    if trainable not in (None, "all") and not trainable.isdigit() and not args.source:
        # "--trainable scans/": the bare flag, then SOURCE (argparse took it as N).
        args.source, args.trainable = trainable, "all"
    if args.digits:
        if args.source:
            raise UsageError("give either SOURCE or --digits, not both")
        if getattr(args, "groups", None):
            raise UsageError("--groups needs a folder or CSV SOURCE")
    elif not args.source:
        raise UsageError("give a SOURCE folder or CSV file, or --digits")
    groups = getattr(args, "groups", None)
    if groups is not None and os.path.isdir(args.source or ""):
        try:
            re.compile(groups)
        except re.error as exc:
            raise UsageError(
                f"--groups {groups!r} is not a valid regular expression ({exc}); for a "
                "folder it is searched in each file name, e.g. '^(patient\\d+)_'"
            ) from None


def check_model_args(args):
    """--model, --weights, --trainable and training options, before TensorFlow (UsageError)."""
    if getattr(args, "early_stopping", None) and not args.validation_split:
        raise UsageError(
            "--early-stopping watches the internal validation loss: give --validation-split > 0 too"
        )
    if getattr(args, "balance", None) and getattr(args, "class_weight", None):
        raise UsageError(
            "--balance oversample and --class-weight balanced would weight the classes "
            "twice: give one of them"
        )
    spec = args.model
    pretrained_name = _pretrained_name(spec)
    if spec is not None and pretrained_name is None:
        _split_model_spec(spec)
    if pretrained_name is None:
        for option in ("weights", "trainable"):
            if getattr(args, option) is not None:
                raise UsageError(
                    f"--{option} applies to a pretrained --model (e.g. --model mobilenet_v3_small)"
                )
        return
    if args.trainable not in (None, "all"):
        try:
            layers = int(args.trainable)
        except ValueError:
            layers = 0
        if layers < 1:
            raise UsageError(
                f"--trainable expects nothing (all layers) or a positive number of "
                f"layers, got {args.trainable!r}"
            )
    weights = args.weights
    if weights is not None and weights.lower() not in ("imagenet", "none"):
        if not os.path.isfile(weights):
            raise UsageError(f"--weights {weights!r}: no such file (or use imagenet, none)")


def _split_model_spec(spec):
    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name:
        raise UsageError(f"--model expects a backbone name or MODULE:FUNCTION, got {spec!r}")
    return module_name, function_name


def _pretrained_name(spec):
    """The canonical backbone name for ``--model NAME``, or None for a builder."""
    if spec is None or ":" in spec:
        return None
    from ..models._pretrained import PRETRAINED_NAMES, _check_name

    try:
        return _check_name(spec)
    except ValueError as exc:
        hint = exc.args[0].partition("instead.")[2]
        raise UsageError(
            f"--model {spec!r} is neither a pretrained backbone "
            f"({', '.join(PRETRAINED_NAMES)}) nor MODULE:FUNCTION.{hint}"
        ) from None


def default_datagen(args):
    """``--datagen`` settings, with the defaults for the data and the model."""
    datagen = parse_datagen(args.datagen)
    pretrained = _pretrained_name(getattr(args, "model", None)) is not None
    if args.digits and not args.datagen:
        datagen = {**DIGITS_AUGMENTATION, **DIGITS_STANDARDIZATION}
        if pretrained:  # backbones take pixel values 0-255
            datagen["rescale"] = 255 / 16
    elif not args.digits and "rescale" not in datagen and not pretrained:
        datagen = {**datagen, **FILES_STANDARDIZATION}
    return datagen


def load_model_arg(args):
    """The model builder that ``--model`` (with ``--weights``, ``--trainable``) names."""
    name = _pretrained_name(args.model)
    if name is None:
        return _load_model(args.model)
    from ..models import pretrained

    weights = args.weights or "imagenet"
    weights = None if weights.lower() == "none" else weights
    trainable = args.trainable
    trainable = True if trainable == "all" else (int(trainable) if trainable else False)
    return pretrained(name, weights=weights, trainable=trainable)


def make_estimator(args, model, datagen, **params):
    """An AugmentedKerasClassifier from the command line's settings."""
    from .._estimator._classifier import AugmentedKerasClassifier

    if getattr(args, "learning_rate", None) is not None:
        params["optimizer__learning_rate"] = args.learning_rate
    if getattr(args, "early_stopping", None):
        import keras

        params["callbacks"] = [
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=args.early_stopping, restore_best_weights=True
            )
        ]
    return AugmentedKerasClassifier(
        model,
        datagen=datagen,
        target_size=args.image_size,
        color_mode=args.color_mode,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=args.validation_split,
        tta=args.tta,
        balance=args.balance,
        cache=None if getattr(args, "cache", "auto").lower() == "none" else args.cache,
        optimizer=getattr(args, "optimizer", "adam"),
        loss=getattr(args, "loss", None),
        class_weight=getattr(args, "class_weight", None),
        metrics=["accuracy"],
        verbose=0,
        random_state=args.seed,
        **params,
    )


def describe_images(X, args):
    """``"1797 images, 8x8"`` or, for files, their size and what happens to it."""
    if getattr(X, "ndim", 1) == 4:
        return f"{len(X)} images, {'x'.join(map(str, X.shape[1:3]))}"
    if args.image_size is not None:
        return f"{len(X)} images, resized to {args.image_size[0]}x{args.image_size[1]}"
    from .._data._paths import ImagePaths, most_common_size

    sizes = ImagePaths(X, (1, 1), args.color_mode).check_files()
    (height, width), count, n_sizes = most_common_size(sizes)
    if n_sizes == 1:
        return f"{len(X)} images, {height}x{width}"
    return (
        f"{len(X)} images of {n_sizes} sizes, resized to the most common, {height}x{width} "
        f"({count} images; --image-size to choose)"
    )


def with_cleanup(out_dir, created, function):
    """Run ``function()``; remove ``out_dir`` if it was created and the run fails."""
    try:
        return function()
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                os.rmdir(out_dir)
        raise


def import_tensorflow_quietly():
    """Import the classifier (and TensorFlow) with TensorFlow's C++ log lines hidden."""
    with without_cpp_logs():
        importlib.import_module("skimgaug._estimator._classifier")


def make_out_dir(path, option="--out"):
    """Create ``--out`` now rather than after the run; True if it did not exist."""
    if path is None:
        return False
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{option} {path!r} is a file; give a folder (new or existing)")
    existed = os.path.isdir(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{option} {path!r}: cannot create the folder: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path!r}: the folder is not writable")
    return not existed


@contextlib.contextmanager
def without_cpp_logs():
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


def load_source(args):
    """``(X, y, groups, sample names, description of the data)``."""
    import numpy as np

    from .. import datasets

    if args.digits:
        X, y = datasets.load_digits_images()
        samples = np.array([f"digits[{i}]" for i in range(len(X))])
        size = getattr(args, "image_size", None)
        if size is not None:  # as files are: resized to --image-size (bilinear)
            X = _resized(X, size)
        return X, y, None, samples, "scikit-learn digits"
    if os.path.isdir(args.source):
        loaded = datasets.load_image_folder(args.source, groups=getattr(args, "groups", None))
    elif os.path.isfile(args.source):
        loaded = datasets.load_image_csv(
            args.source,
            args.path_column,
            args.label_column,
            group_column=getattr(args, "groups", None),
        )
    else:
        raise FileNotFoundError(f"no such folder or CSV file: {args.source!r}")
    paths, labels = loaded[:2]
    groups = loaded[2] if len(loaded) == 3 else None
    return paths, labels, groups, paths, args.source


def _resized(X, size):
    """Images ``(n, h, w, c)`` resized to ``size`` ``(height, width)`` as float files are."""
    import numpy as np

    from .._data._paths import resize_plane

    return np.stack(
        [
            np.stack([resize_plane(image[..., c], size) for c in range(X.shape[-1])], axis=-1)
            for image in X
        ]
    )


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
        from .._validation import check_built_model

        return check_built_model(function(*args, **kwargs), f"--model {spec}", loss_given=False)

    return build


def one_line(exc):
    """``exc``'s message on one line; only its first line if it is not one of ours."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not isinstance(exc, (ValueError, TypeError, OSError)):
        first = lines[0] if lines else ""
        return f"{type(exc).__name__}: {first} (run again with --traceback for the details)"
    if len(lines) < 2:
        return "".join(lines) or type(exc).__name__
    rest = "; ".join(line.removeprefix("- ") for line in lines[1:])
    return f"{lines[0].rstrip(':')}: {rest}"
