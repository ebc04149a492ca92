"""A fitted estimator <-> the JSON document of its model folder.

:func:`saved_form` reads the estimator's fitted state through
``AugmentedKerasClassifier._get_fitted_state`` and returns the document of
``skimgaug.json`` and the standardization statistics; :func:`new_estimator`
and :func:`restore_fitted_state` rebuild an estimator from them and hand the
state back through ``_set_fitted_state``. The folder itself (files, atomic
writes, safe reading) is :mod:`skimgaug._persistence._folder`'s.
"""

import inspect

import numpy as np

from .._estimator._settings import FittedState, is_fitted_name
from ._codec import NotSaveable, decode, describe, encode

FORMAT = "skimgaug-model"
#: Bumped when a change of layout makes older skimgaug versions unable to read a folder.
FORMAT_VERSION = 1
#: The files of a model folder (named in messages).
SETTINGS_FILE = "skimgaug.json"
MODEL_FILE = "model.keras"
STATISTICS_FILE = "statistics.npz"

#: ImageDataGenerator attributes that ``fit`` learns (Keras 3 names the ZCA matrix
#: ``zca_whitening_matrix``, Keras 2 ``principal_components``).
STATISTICS = ("mean", "std", "zca_whitening_matrix", "principal_components")
#: Fitted attributes rebuilt from their own files or from the saved parameters.
_REBUILT = ("model_", "target_encoder_", "feature_encoder_", "standardizer_")
#: Fitted attributes without which ``predict`` cannot work.
_REQUIRED = ("classes_", "n_classes_", "target_type_", "X_shape_", "X_dtype_", "y_dtype_")
#: The same for a regressor, which has outputs instead of classes.
_REQUIRED_REGRESSOR = ("n_outputs_", "target_type_", "X_shape_", "X_dtype_", "y_dtype_")
_REGRESSION_TYPES = ("continuous", "continuous-multioutput")
_TARGET_TYPES = ("binary", "multiclass", "multiclass-onehot", "multilabel-indicator")
#: Parameters naming the code that builds the model: recorded, never imported.
_BUILDERS = ("model", "build_fn")


def saved_form(estimator):
    """The JSON document and statistics of a fitted estimator; raise before any write."""
    from sklearn.utils.validation import check_is_fitted

    from .._augment._keys import changed_model_settings

    if _task_of(estimator) is None:
        raise TypeError(
            "The 'estimator' parameter of save_model must be a fitted "
            f"AugmentedKerasClassifier or AugmentedKerasRegressor. Got {estimator!r} instead."
        )
    check_is_fitted(estimator, "model_")
    owner = type(estimator).__name__
    fitted_settings = estimator._settings
    if fitted_settings.datagen.needs_statistics and estimator.standardizer_.mean is None:
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(
            f"This {owner} was initialized but not fitted: its feature-wise standardization "
            "statistics are learned in fit. Call fit before save_model."
        )
    changed = changed_model_settings(fitted_settings.datagen, estimator.check_settings().datagen)
    if changed:
        listed = ", ".join(f"{key} ({was!r} -> {now!r})" for key, was, now in changed)
        raise ValueError(
            f"The standardization settings of this {owner} changed since it was fitted: "
            f"{listed}. Set them back, or fit it again, before save_model."
        )

    state = estimator._get_fitted_state()
    params, not_saved = _encode_params(estimator)
    attributes, attributes_not_saved = {}, []
    for name, value in state.attributes.items():
        if name in _REBUILT:
            continue
        try:
            attributes[name] = encode(value, name)
        except NotSaveable:
            attributes_not_saved.append(name)
    regression = _task_of(estimator) == "regression"
    lost = [
        name
        for name in (_REQUIRED_REGRESSOR if regression else _REQUIRED)
        if name not in attributes
    ]
    if lost:
        raise ValueError(
            f"Cannot save this {owner}: its fitted attributes {', '.join(lost)} have no "
            "JSON form (labels must be numbers, strings or booleans)."
        )
    if regression:
        target = {"regression_target": _regression_target(estimator, owner)}
    else:
        one_hot, categories_given = _check_target_encoding(estimator, owner)
        target = {"one_hot_targets": one_hot, "categories_given": categories_given}

    standardizer = state.attributes["standardizer_"]
    statistics = {
        name: np.asarray(getattr(standardizer, name))
        for name in STATISTICS
        if getattr(standardizer, name, None) is not None
    }
    cls = type(estimator)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "estimator": f"{cls.__module__}:{cls.__qualname__}",
        "task": _task_of(estimator),
        "params": params,
        # Routed parameters (datagen__*, model__*, ...), given to __init__ or set_params.
        "kwargs": sorted(set(params) - _init_parameters(cls)),
        "not_saved": not_saved,
        "fitted": {
            "attributes": attributes,
            "not_saved": attributes_not_saved,
            "random_state": encode(state.random_state, "random_state"),
            "y_sample_shape": encode(state.y_sample_shape, "y_sample"),
            **target,
            "statistics": sorted(statistics),
        },
    }
    return document, statistics


def _encode_params(estimator):
    """``(saved, not_saved)``: every parameter, in JSON form or described by type."""
    saved, not_saved, problems = {}, {}, []
    for name, value in estimator.get_params(deep=False).items():
        if name in _BUILDERS and value is not None:
            not_saved[name] = describe(value)
            continue
        try:
            saved[name] = encode(value, name)
        except NotSaveable as exc:
            if name == "datagen" or name.startswith("datagen__"):
                problems.append(str(exc))  # standardization: predictions depend on it
            else:
                not_saved[name] = describe(value)
    if problems:
        raise ValueError(
            f"Cannot save this {type(estimator).__name__}: its ImageDataGenerator settings "
            "decide how images are standardized and must be saved.\n- " + "\n- ".join(problems)
        )
    return saved, not_saved


def _task_of(estimator):
    """``"classification"`` or ``"regression"`` for skimgaug's estimators, else None."""
    from .._estimator._classifier import AugmentedKerasClassifier
    from .._estimator._regressor import AugmentedKerasRegressor

    if isinstance(estimator, AugmentedKerasClassifier):
        return "classification"
    if isinstance(estimator, AugmentedKerasRegressor):
        return "regression"
    return None


def _regression_target(estimator, owner):
    """What rebuilds a regressor's target encoder: outputs and the standardization, if any."""
    from scikeras.utils.transformers import RegressorTargetEncoder

    encoder = estimator.target_encoder_
    if estimator.target_type_ not in _REGRESSION_TYPES or not isinstance(
        encoder, RegressorTargetEncoder
    ):
        raise ValueError(
            f"Cannot save this {owner}: save_model supports scikeras' regressor target "
            f"encoder (standardized or not). Got a {type(encoder).__name__}."
        )
    standardized = hasattr(encoder, "mean_")
    return {
        "sample_shape": [int(n) for n in encoder._y_shape[1:]],
        "mean": encoder.mean_.tolist() if standardized else None,
        "scale": encoder.scale_.tolist() if standardized else None,
    }


def _check_target_encoding(estimator, owner):
    """``(one_hot, categories_given)`` of scikeras' label encoder, checked to be rebuildable."""
    from scikeras.utils.transformers import ClassifierLabelEncoder
    from sklearn.preprocessing import FunctionTransformer

    encoder, features = estimator.target_encoder_, estimator.feature_encoder_
    if estimator.target_type_ not in _TARGET_TYPES or not isinstance(
        encoder, ClassifierLabelEncoder
    ):
        raise ValueError(
            f"Cannot save this {owner}: save_model supports scikeras' label encoder with "
            f"targets of type {', '.join(_TARGET_TYPES)}. Got a "
            f"{type(encoder).__name__} with targets of type {estimator.target_type_!r}."
        )
    if not (
        isinstance(features, FunctionTransformer)
        and features.func is None
        and features.inverse_func is None
    ):
        raise ValueError(
            f"Cannot save this {owner}: save_model supports the identity feature encoder "
            f"only. Got {features!r}."
        )
    classes = estimator.classes_
    if np.ndim(classes) == 2:  # multilabel: the classes of each label, one row per label
        classes = np.arange(len(classes))
    template = _label_template(estimator.target_type_, classes, estimator.y_dtype_)
    return _encodes_one_hot(encoder, template), not _is_auto(encoder.categories)


def _is_auto(categories):
    return isinstance(categories, str) and categories == "auto"


def _label_template(target_type, classes, y_dtype):
    """Labels from which scikeras' encoder learns ``classes`` and ``target_type`` again."""
    if target_type in ("binary", "multiclass"):
        return np.asarray(classes, dtype=y_dtype)
    identity = np.eye(len(classes), dtype=y_dtype)
    if target_type == "multiclass-onehot":
        return identity
    # multilabel-indicator: a row with several labels keeps it from looking one-hot
    return np.vstack([identity, np.ones((1, len(classes)), dtype=y_dtype)])


def _encodes_one_hot(encoder, template):
    encoded = np.asarray(encoder.transform(template))
    return bool(encoded.ndim == 2 and encoded.shape[1] > 1)


def _versions():
    from .._version import DISTRIBUTIONS, __version__, distribution_version

    versions = {"skimgaug": __version__}
    for key, label in (
        ("keras", "Keras"),
        ("tensorflow", "TensorFlow"),
        ("scikeras", "scikeras"),
        ("scikit-learn", "scikit-learn"),
        ("numpy", "NumPy"),
    ):
        versions[key] = distribution_version(DISTRIBUTIONS[label])
    return versions


def new_estimator(document):
    """``(estimator, notes, attributes)``: saved parameters, fitted attributes decoded."""
    from .._estimator._classifier import AugmentedKerasClassifier
    from .._estimator._regressor import AugmentedKerasRegressor

    task = document.get("task", "classification")
    if task not in ("classification", "regression"):
        raise ValueError(f"{SETTINGS_FILE} names an unknown task {task!r}.")
    cls = AugmentedKerasRegressor if task == "regression" else AugmentedKerasClassifier
    params, ignored = _decode_params(document, cls)
    notes = _notes(document, cls, ignored)
    estimator = cls(**params)
    attributes = {}
    for name, value in document["fitted"]["attributes"].items():
        if not (is_fitted_name(name) and name.isidentifier()) or name in _REBUILT:
            raise ValueError(f"{SETTINGS_FILE} names an invalid fitted attribute {name!r}.")
        attributes[name] = decode(value, name)
    required = _REQUIRED_REGRESSOR if task == "regression" else _REQUIRED
    missing = [name for name in required if name not in attributes]
    if missing:
        raise ValueError(f"{SETTINGS_FILE} lacks the fitted attributes {', '.join(missing)}.")
    return estimator, notes, attributes


def restore_fitted_state(estimator, document, attributes, statistics, model):
    """Make ``estimator`` fitted: its encoders, statistics and model, checked to fit together."""
    fitted = document["fitted"]
    X_shape = tuple(attributes["X_shape_"])
    settings = estimator.check_settings()
    standardizer = settings.datagen.standardizer()
    for name, array in statistics.items():
        setattr(standardizer, name, array)
    missing = [name for name in _needed_statistics(standardizer) if name not in statistics]
    if missing:
        raise ValueError(
            f"{STATISTICS_FILE} lacks {', '.join(missing)}, which the saved standardization "
            "settings need."
        )
    target_encoder = _target_encoder(estimator, attributes, fitted)
    feature_encoder = estimator.feature_encoder.fit(
        np.zeros((1, *X_shape[1:]), dtype=attributes["X_dtype_"])
    )
    _check_model_fits(model, feature_encoder, attributes)
    y_sample_shape = decode(fitted.get("y_sample_shape"), "y_sample_shape")
    rebuilt = {
        "standardizer_": standardizer,
        "target_encoder_": target_encoder,
        "feature_encoder_": feature_encoder,
        "model_": model,
    }
    state = FittedState(
        attributes={**attributes, **rebuilt},
        settings=settings,
        random_state=decode(fitted.get("random_state"), "random_state"),
        y_sample_shape=None if y_sample_shape is None else tuple(y_sample_shape),
    )
    return estimator._set_fitted_state(state)


def _check_model_fits(model, feature_encoder, attributes):
    """The Keras model takes the saved input shape and gives one output per saved class.

    Catches a folder whose files come from different saves before ``predict``
    fails with Keras' message (or writes columns for classes the model lacks).
    """
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return  # several inputs or outputs: their encoders decide
    X_shape = tuple(attributes["X_shape_"])
    encoded = feature_encoder.transform(np.zeros((1, *X_shape[1:]), attributes["X_dtype_"]))
    expected = tuple(getattr(encoded, "shape", ())[1:])
    takes = tuple(model.inputs[0].shape[1:])
    if len(takes) != len(expected) or any(
        t is not None and t != e for t, e in zip(takes, expected, strict=True)
    ):
        raise ValueError(
            f"{MODEL_FILE} takes inputs of shape {takes}, but {SETTINGS_FILE} says the model "
            f"was fitted on samples of shape {expected}: the files come from different models."
        )
    units = model.outputs[0].shape[-1]
    target_type = attributes["target_type_"]
    if target_type in _REGRESSION_TYPES:
        outputs = int(attributes["n_outputs_"])
        if units is not None and units != outputs:
            raise ValueError(
                f"{MODEL_FILE} has {units} output units, but {SETTINGS_FILE} names {outputs} "
                "outputs: the files come from different models."
            )
        return
    n_classes = int(attributes["n_classes_"])
    allowed = {"binary": (1, 2), "multiclass": (n_classes,), "multiclass-onehot": (n_classes,)}
    if units is not None and target_type in allowed and units not in allowed[target_type]:
        raise ValueError(
            f"{MODEL_FILE} has {units} output units, but {SETTINGS_FILE} names {n_classes} "
            f"classes: the files come from different models."
        )


def _notes(document, cls, ignored):
    """What the loaded estimator lacks compared with the saved one, for one warning."""
    notes = []
    saved_as = document.get("estimator")
    if saved_as != f"{cls.__module__}:{cls.__qualname__}":
        notes.append(
            f"It was saved from {saved_as}, whose code load_model does not import; it is "
            f"loaded as {cls.__name__}."
        )
    not_saved = document["not_saved"]
    if not_saved:
        listed = ", ".join(f"{name} ({what})" for name, what in not_saved.items())
        notes.append(f"Parameters that could not be saved are back to their defaults: {listed}.")
        if any(name in not_saved for name in _BUILDERS):
            notes.append(
                "Refitting would build the default model: call set_params(model=...) first "
                "to refit the original architecture."
            )
    if ignored:
        notes.append(f"Parameters this version does not accept were ignored: {', '.join(ignored)}.")
    if document["fitted"].get("not_saved"):
        notes.append(f"Fitted attributes not saved: {', '.join(document['fitted']['not_saved'])}.")
    return notes


def _init_parameters(cls):
    """The names ``cls.__init__`` lists explicitly."""
    signature = inspect.signature(cls.__init__).parameters.values()
    return {p.name for p in signature if p.kind is not p.VAR_KEYWORD and p.name != "self"}


def _decode_params(document, cls):
    """``(params, ignored)``: the saved parameters ``cls`` accepts, and the others' names.

    Routed parameters (``datagen__rescale``, ``model__filters``, ...) are accepted
    whenever their prefix is one ``cls`` routes, however they were set.
    """
    prefixes = getattr(cls, "_routing_prefixes", set())
    routed = {name for name in document["params"] if name.partition("__")[0] in prefixes}
    accepted = _init_parameters(cls) | set(document["kwargs"]) | routed
    params, ignored = {}, []
    for name, value in document["params"].items():
        if not name.isidentifier() or name.startswith("_") or name.endswith("_"):
            raise ValueError(f"{SETTINGS_FILE} names an invalid parameter {name!r}.")
        if name in accepted:
            params[name] = decode(value, f"params[{name!r}]")
        else:
            ignored.append(name)
    return params, ignored


def _target_encoder(estimator, attributes, fitted):
    """scikeras' label encoder, fitted again on labels that reproduce the saved ones."""
    if "regression_target" in fitted:
        return _regressor_target_encoder(estimator, attributes, fitted["regression_target"])
    classes = attributes["classes_"]
    target_type = attributes["target_type_"]
    per_label = None
    if target_type == "multilabel-indicator" and np.ndim(classes) == 2:
        # the classes of each label, one row per label: the encoder knows label indices
        per_label, classes = classes, np.arange(len(classes))
    if target_type not in _TARGET_TYPES or not isinstance(classes, np.ndarray):
        raise ValueError(f"{SETTINGS_FILE} has targets of unknown type {target_type!r}.")
    one_hot = fitted["one_hot_targets"]
    estimator.classes_ = classes if fitted["categories_given"] else None
    template = _label_template(target_type, classes, attributes["y_dtype_"])
    encoder = estimator.target_encoder.fit(template)  # one-hot or not: decided by the loss
    rebuilt = encoder.get_metadata()
    if (
        not np.array_equal(rebuilt["classes_"], classes)
        or rebuilt["n_classes_"] != attributes["n_classes_"]
        or _encodes_one_hot(encoder, template) != one_hot
    ):
        raise ValueError(
            f"the label encoder cannot be rebuilt from {SETTINGS_FILE}: classes "
            f"{classes.tolist()!r} of type {target_type!r}."
        )
    if per_label is not None:
        attributes["classes_"] = per_label
    return encoder


def _regressor_target_encoder(estimator, attributes, saved):
    """A regressor's target encoder, fitted on a template of the saved shape, then restored."""
    if attributes["target_type_"] not in _REGRESSION_TYPES:
        raise ValueError(
            f"{SETTINGS_FILE} has targets of unknown type {attributes['target_type_']!r}."
        )
    template = np.zeros((2, *saved["sample_shape"]), dtype=attributes["y_dtype_"])
    encoder = estimator.target_encoder.fit(template)
    if (saved["mean"] is None) != (not hasattr(encoder, "mean_")):
        raise ValueError(
            f"{SETTINGS_FILE}: standardize_target does not match the saved target encoder."
        )
    if saved["mean"] is not None:
        encoder.mean_ = np.asarray(saved["mean"], dtype=np.float64)
        encoder.scale_ = np.asarray(saved["scale"], dtype=np.float64)
    if encoder.n_outputs_ != attributes["n_outputs_"]:
        raise ValueError(
            f"the target encoder cannot be rebuilt from {SETTINGS_FILE}: "
            f"{attributes['n_outputs_']} outputs."
        )
    return encoder


def _needed_statistics(standardizer):
    """The statistics that ``standardizer``'s settings use in ``standardize``."""
    needed = [
        name
        for name, setting in (
            ("mean", "featurewise_center"),
            ("std", "featurewise_std_normalization"),
        )
        if getattr(standardizer, setting)
    ]
    if standardizer.zca_whitening:
        zca = "zca_whitening_matrix"
        needed.append(zca if hasattr(standardizer, zca) else "principal_components")
    return needed


def checked_label_names(estimator, names):
    """``names`` as a list of str, one per label or output of ``estimator`` (ValueError)."""
    owner = type(estimator).__name__
    if _task_of(estimator) == "regression":
        count, what = int(estimator.n_outputs_), "outputs"
    elif estimator.target_type_ == "multilabel-indicator":
        count, what = int(estimator.n_classes_), "labels"
    else:
        raise ValueError(
            f"The 'label_names' parameter of save_model names the labels of a multi-label "
            f"classifier or the outputs of a regressor; this {owner} has one label per image, "
            "whose names are its classes_."
        )
    if (
        isinstance(names, str)
        or not hasattr(names, "__len__")
        or len(names) != count
        or not all(isinstance(name, (str, np.str_)) and name for name in names)
    ):
        raise ValueError(
            f"The 'label_names' parameter of save_model must be {count} non-empty strings, one "
            f"per {what[:-1]} of this {owner}. Got {names!r} instead."
        )
    return [str(name) for name in names]
