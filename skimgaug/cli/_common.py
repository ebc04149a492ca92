"""What the ``skimgaug`` commands share: checks of their arguments, the estimator, the data.

Heavy imports happen inside the functions, so ``--help`` is instant, and
everything that can be checked without TensorFlow is checked before it is
imported.
"""

import contextlib
import importlib
import os
import re
import sys
import typing

from ._options import UsageError, parse_datagen

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

#: The arguments scikeras passes to a model builder; any other parameter needs a default.
BUILDER_ARGUMENTS = ("meta", "compile_kwargs", "params")


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
    for option in ("optimizer", "learning_rate", "loss", "class_weight", "balance", "window"):
        value = getattr(args, option, None)
        if value is not None and not (option == "optimizer" and value == "adam"):
            parts.append(f"{option}={value}")
    if getattr(args, "early_stopping", None):
        parts.append(f"early_stopping={args.early_stopping}")
    if getattr(args, "augment", None):
        parts.append(f"augment: {', '.join(args.augment)}")
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
    from ._tasks import check_task_args

    check_task_args(args)


def check_tensorboard_arg(args):
    """``--tensorboard`` needs the tensorboard package: said before any fit (UsageError)."""
    import importlib.util

    if getattr(args, "tensorboard", None) and importlib.util.find_spec("tensorboard") is None:
        raise UsageError(
            "--tensorboard needs the tensorboard package, which is not installed: "
            "pip install 'skimgaug[tensorboard]' (or pip install tensorboard)"
        )


def check_mlflow_arg(args):
    """``--mlflow`` needs the mlflow package: said before any fit (UsageError)."""
    import importlib.util

    uri = getattr(args, "mlflow", None)
    if uri is None:
        return
    if importlib.util.find_spec("mlflow") is None:
        raise UsageError(
            "--mlflow needs the mlflow package, which is not installed: "
            "pip install 'skimgaug[mlflow]' (or pip install mlflow)"
        )


def check_model_args(args):
    """--model, --weights, --trainable and training options, before TensorFlow (UsageError)."""
    check_tensorboard_arg(args)
    check_mlflow_arg(args)
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
    if getattr(args, "augment", None):
        from ._augment_option import parse_augment

        parse_augment(args.augment)  # a bad --augment is said before any data is read
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
    """An AugmentedKerasClassifier (AugmentedKerasRegressor with ``--task regression``)."""
    from ._tasks import task_of

    if getattr(args, "learning_rate", None) is not None:
        params["optimizer__learning_rate"] = args.learning_rate
    if getattr(args, "early_stopping", None):
        import keras

        params["callbacks"] = [
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=args.early_stopping, restore_best_weights=True
            )
        ]
    if "augment" not in params:  # cv --compare's setting without augmentation gives None
        from ._augment_option import parse_augment

        params["augment"] = parse_augment(getattr(args, "augment", None))
    if task_of(args) == "regression":
        from .._estimator._regressor import AugmentedKerasRegressor as Estimator

        params.update(standardize_target=getattr(args, "standardize_target", False))
    else:
        from .._estimator._classifier import AugmentedKerasClassifier as Estimator

        params.update(
            balance=args.balance,
            class_weight=getattr(args, "class_weight", None),
            metrics=["accuracy"],
        )
    return Estimator(
        model,
        datagen=datagen,
        target_size=args.image_size,
        color_mode=args.color_mode,
        window=getattr(args, "window", None),
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=args.validation_split,
        tta=args.tta,
        cache=cache_arg(args),
        optimizer=getattr(args, "optimizer", "adam"),
        loss=getattr(args, "loss", None),
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


def cache_arg(args):
    """The estimator's ``cache`` from ``--cache`` (None for ``none``)."""
    cache = getattr(args, "cache", "auto")
    return None if cache.lower() == "none" else cache


def read_as(X, args):
    """``(target_size, color_mode, cache, window)`` the folds read image files with (X: paths)."""
    window = getattr(args, "window", None)
    if getattr(X, "ndim", 1) == 4:
        return None, args.color_mode, None, window
    size = args.image_size
    if size is None:
        from .._data._paths import ImagePaths, most_common_size

        size = most_common_size(ImagePaths(X, (1, 1), args.color_mode).check_files())[0]
    return tuple(size), args.color_mode, cache_arg(args), window


def with_cleanup(out_dir, created, function):
    """Run ``function()``; remove ``out_dir`` if it was created and the run fails."""
    try:
        return function()
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                os.rmdir(out_dir)
        raise


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


class Source(typing.NamedTuple):
    """The data of a command: images (or paths), targets, groups and what they are."""

    X: object
    y: object
    groups: object
    samples: object
    description: str
    #: The names of a multi-label target's labels or a regression target's output.
    names: list = None


def load_source(args):
    """The :class:`Source` of ``args``, its targets as ``--task`` reads them."""
    import numpy as np

    from .. import datasets
    from ._tasks import digits_targets, targets, task_of

    if args.digits:
        X, digit = datasets.load_digits_images()
        y, names = digits_targets(digit, task_of(args))
        samples = np.array([f"digits[{i}]" for i in range(len(X))])
        size = getattr(args, "image_size", None)
        if size is not None:  # as files are: resized to --image-size (bilinear)
            X = _resized(X, size)
        return Source(X, y, None, samples, "scikit-learn digits", names)
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
    y, names = targets(labels, args, args.source)
    return Source(paths, y, groups, paths, args.source, names)


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


def make_splitter(args, y, groups, names=None):
    """The folds of cv and search, checked against the data first (UsageError).

    ``StratifiedKFold``, or ``StratifiedGroupKFold`` with groups. Every class
    needs at least ``--folds`` images (and, with groups, to be in at least
    ``--folds`` groups), or some folds would test or train without it:
    scikit-learn would warn four times and a fold would fail later with
    "only 1 class". Said once, naming the classes and their counts.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    from ._tasks import task_of

    folds = args.folds
    if task_of(args) != "classification":
        from ._tasks import task_splitter

        return task_splitter(args, y, groups, names)
    labels, counts = np.unique(y, return_counts=True)
    short = [(label, count) for label, count in zip(labels, counts, strict=True) if count < folds]
    if short:
        listed = ", ".join(f"class {str(label)!r} has {count}" for label, count in short)
        most = int(counts.min())
        raise UsageError(
            f"--folds {folds} needs at least {folds} images of each class (every fold tests "
            f"some of each); {listed}. Use --folds {max(2, most)} or fewer, or add images"
        )
    if groups is None:
        return StratifiedKFold(folds, shuffle=True, random_state=args.seed)
    in_groups = {label: len(set(groups[y == label].tolist())) for label in labels}
    short = [(label, n) for label, n in in_groups.items() if n < folds]
    if short:
        listed = ", ".join(f"class {str(label)!r} is in {n}" for label, n in short)
        most = min(in_groups.values())
        raise UsageError(
            f"--folds {folds} with --groups needs each class in at least {folds} groups (a "
            f"group is on one side of every split); {listed}. Use --folds {max(2, most)} "
            "or fewer, or add groups"
        )
    return StratifiedGroupKFold(folds, shuffle=True, random_state=args.seed)
