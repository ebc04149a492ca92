"""Save a fitted ``AugmentedKerasClassifier`` to a folder and load it back, without pickle.

A saved model is a folder of three files:

- ``model.keras``: the Keras model in Keras' own format, loaded with
  ``safe_mode=True``;
- ``skimgaug.json``: the estimator's parameters, its fitted attributes (classes,
  target type, input shape and dtype, history) and the versions that wrote it;
- ``statistics.npz``: the feature-wise standardization statistics learned in
  ``fit`` (``mean``, ``std``, the ZCA whitening matrix, whichever exist), read
  with ``allow_pickle=False``.

Loading never unpickles and never imports: functions (a ``preprocessing_function``,
a loss) are saved by their Keras-registered name and looked up in Keras'
registry; Keras losses, metrics and optimizers by their Keras configuration.
"""

import inspect
import json
import math
import os
import shutil
import types
import uuid
import warnings
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np

FORMAT = "skimgaug-model"
#: Bumped when a change of layout makes older skimgaug versions unable to read a folder.
FORMAT_VERSION = 1
SETTINGS_FILE = "skimgaug.json"
MODEL_FILE = "model.keras"
STATISTICS_FILE = "statistics.npz"
_FILES = (SETTINGS_FILE, MODEL_FILE, STATISTICS_FILE)

#: ImageDataGenerator attributes that ``fit`` learns (Keras 3 names the ZCA matrix
#: ``zca_whitening_matrix``, Keras 2 ``principal_components``).
_STATISTICS = ("mean", "std", "zca_whitening_matrix", "principal_components")
#: Fitted attributes rebuilt from their own files or from the saved parameters.
_REBUILT = ("model_", "target_encoder_", "feature_encoder_", "standardizer_")
#: Fitted attributes without which ``predict`` cannot work.
_REQUIRED = ("classes_", "n_classes_", "target_type_", "X_shape_", "X_dtype_", "y_dtype_")
_TARGET_TYPES = ("binary", "multiclass", "multiclass-onehot", "multilabel-indicator")
#: Parameters naming the code that builds the model: recorded, never imported.
_BUILDERS = ("model", "build_fn")
#: Marks a JSON object that stands for a value JSON has no type for.
_TAG = "__skimgaug_type__"
_REGISTER_HINT = (
    'decorate it with @keras.saving.register_keras_serializable(package="my_package") '
    "in a module that is imported before load_model; load_model finds it by that name "
    "and never imports or unpickles code"
)


# --------------------------------------------------------------------------
# Values <-> JSON
# --------------------------------------------------------------------------
class _NotSaveable(Exception):
    """A value has no JSON form; the message says which value and why."""


def _describe(value):
    """``module:qualname`` for functions and classes, else the type's name."""
    qualname = getattr(value, "__qualname__", None)
    if qualname is not None and callable(value):
        return f"{getattr(value, '__module__', '?')}:{qualname}"
    return f"a {type(value).__module__}.{type(value).__qualname__} object"


def _registered_name(obj):
    """The name ``obj`` is registered under with Keras, or None."""
    import keras

    try:
        name = keras.saving.get_registered_name(obj)
    except (AttributeError, TypeError):  # no __name__ (functools.partial), unhashable
        return None
    return name if keras.saving.get_registered_object(name) is obj else None


def _keras_object(value):
    """True for what Keras serializes by configuration: losses, metrics, optimizers."""
    import keras

    kinds = (keras.losses.Loss, keras.metrics.Metric, keras.optimizers.Optimizer)
    if isinstance(value, kinds):
        return True
    return isinstance(value, types.FunctionType) and value.__module__.split(".")[0] == "keras"


def _encode_keras(value, where):
    import keras

    try:
        config = keras.saving.serialize_keras_object(value)
        json.dumps(config, allow_nan=False)
        rebuilt = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except (TypeError, ValueError) as exc:
        raise _NotSaveable(
            f"{where} is {_describe(value)}, which Keras cannot rebuild ({exc})"
        ) from exc
    if isinstance(value, types.FunctionType) and rebuilt is not value:
        raise _NotSaveable(f"{where} is {_describe(value)}, which Keras cannot rebuild")
    return {_TAG: "keras", "config": config}


def _encode(value, where):
    """A JSON-representable form of ``value``; raise :class:`_NotSaveable` if none."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        item = value.item()
        if isinstance(item, (bool, int, float, str)):
            return _encode(item, where)
    elif isinstance(value, int):
        return int(value)
    elif isinstance(value, float):
        return value if math.isfinite(value) else {_TAG: "float", "value": repr(value)}
    elif isinstance(value, tuple):
        return {_TAG: "tuple", "value": [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    elif isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    elif isinstance(value, dict):
        if _TAG not in value and all(isinstance(key, str) for key in value):
            return {key: _encode(v, f"{where}[{key!r}]") for key, v in value.items()}
        items = [[_encode(k, where), _encode(v, f"{where}[{k!r}]")] for k, v in value.items()]
        return {_TAG: "dict", "items": items}
    elif isinstance(value, np.dtype):
        if value.kind in "biufUO" and value.fields is None:
            return {_TAG: "dtype", "value": value.str}
    elif isinstance(value, type) and issubclass(value, np.generic):
        return {_TAG: "scalar_type", "value": np.dtype(value).str}
    elif isinstance(value, np.ndarray):
        if value.dtype.kind in "biufUO":
            return {
                _TAG: "ndarray",
                "dtype": _encode(value.dtype, where),
                "shape": list(value.shape),
                "value": _encode(value.tolist(), where),
            }
    elif _keras_object(value):
        return _encode_keras(value, where)
    elif callable(value):
        name = _registered_name(value)
        if name is not None:
            return {_TAG: "registered", "name": name}
        hint = _REGISTER_HINT
        if getattr(value, "__name__", None) == "<lambda>":
            hint = "a lambda has no name to be found by: define it with def and " + hint
        raise _NotSaveable(
            f"{where} is {_describe(value)}, which is not registered as Keras-serializable; {hint}"
        )
    raise _NotSaveable(f"{where} is {_describe(value)}, which has no JSON form")


def _decode(value, where):
    """Undo :func:`_encode`; raise ValueError naming ``where`` for a value it cannot read."""
    if isinstance(value, list):
        return [_decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {key: _decode(v, f"{where}[{key!r}]") for key, v in value.items()}
    if tag == "tuple":
        return tuple(_decode(value["value"], where))
    if tag == "float":
        return float(value["value"])
    if tag == "dict":
        return {_decode(k, where): _decode(v, f"{where}[{k!r}]") for k, v in value["items"]}
    if tag in ("dtype", "scalar_type"):
        dtype = np.dtype(value["value"])
        if dtype.kind not in "biufUO" or dtype.fields is not None:
            raise ValueError(f"{where} has an unsupported dtype {value['value']!r}")
        return dtype if tag == "dtype" else dtype.type
    if tag == "ndarray":
        dtype = _decode(value["dtype"], where)
        items = _decode(value["value"], where)
        return np.array(items, dtype=dtype).reshape(value["shape"])
    if tag == "registered":
        return _registered_object(value["name"], where)
    if tag == "keras":
        return _keras_deserialized(value["config"], where)
    raise ValueError(f"{where} has an unknown value type {tag!r}")


def _registered_object(name, where):
    import keras

    obj = keras.saving.get_registered_object(name)
    if obj is None:
        raise ValueError(
            f"{where} is {name!r}, which is not registered with Keras in this process. "
            "Import the module that defines it (decorated with "
            "@keras.saving.register_keras_serializable) before calling load_model, or "
            "call load_model inside keras.saving.custom_object_scope({...})."
        )
    return obj


def _keras_deserialized(config, where):
    import keras

    try:
        obj = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: Keras cannot rebuild it safely ({exc})") from exc
    if not _keras_object(obj):  # only what _encode_keras writes
        raise ValueError(f"{where} is {_describe(obj)}, not a Keras loss, metric or optimizer")
    return obj


# --------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------
def save_model(estimator, path):
    """Save a fitted ``AugmentedKerasClassifier`` to the folder ``path``.

    The folder holds ``model.keras`` (the Keras model in Keras' format),
    ``skimgaug.json`` (parameters, fitted attributes, format and library
    versions) and ``statistics.npz`` (feature-wise standardization
    statistics). It is written to a temporary sibling folder and renamed
    into place, so an interrupted save never leaves a half-written model.

    Every parameter (``get_params(deep=False)``, routed ones such as
    ``model__filters`` included) is saved in JSON: tuples, dicts with
    non-string keys and NumPy values keep their types, Keras losses, metrics
    and optimizers are saved by their Keras configuration, and functions
    registered with Keras by their registered name. Parameters that have no
    such form (callbacks, a ``keras.Model`` given as ``model``, functions not
    registered with Keras) are listed under ``"not_saved"`` in
    ``skimgaug.json`` and come back as their defaults; they do not change
    predictions. A model-building function is recorded there as
    ``"module:qualname"``, never imported on load.

    Parameters
    ----------
    estimator : AugmentedKerasClassifier
        A fitted estimator. A ``preprocessing_function``, custom layers,
        losses and metrics must be registered with
        ``@keras.saving.register_keras_serializable(package=...)``.
    path : str or path-like
        The folder to write. It must not exist, be empty, or hold a model
        saved by ``save_model`` (which is replaced). Parent folders are
        created.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If ``estimator`` is not an ``AugmentedKerasClassifier``.
    ValueError
        If a standardization setting cannot be saved (such as an unregistered
        ``preprocessing_function``), if the Keras model cannot be loaded back
        with ``safe_mode=True``, or if ``path`` is a file or a folder with
        other content. Nothing is written at ``path`` then.

    See Also
    --------
    load_model : Load the folder back as a fitted estimator.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skimgaug import AugmentedKerasClassifier, load_model, save_model
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = AugmentedKerasClassifier(
    ...     image_shape=(8, 8, 1),
    ...     datagen={"rotation_range": 10, "rescale": 1 / 16, "featurewise_center": True},
    ...     epochs=1, verbose=0, random_state=0,
    ... ).fit(X[:200], y[:200])
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = os.path.join(tmp.name, "digits")
    >>> save_model(clf, folder)
    >>> sorted(os.listdir(folder))
    ['model.keras', 'skimgaug.json', 'statistics.npz']
    >>> loaded = load_model(folder)
    >>> np.allclose(loaded.predict_proba(X[200:210]), clf.predict_proba(X[200:210]),
    ...             rtol=1e-5, atol=1e-6)
    True
    >>> tmp.cleanup()
    """
    document, statistics = _saved_form(estimator)
    destination = _checked_destination(path)
    _write_atomically(destination, document, statistics, estimator.model_)


def _saved_form(estimator):
    """The JSON document and statistics of a fitted estimator; raise before any write."""
    from sklearn.utils.validation import check_is_fitted

    from .._augment._keys import changed_model_settings
    from .._estimator._classifier import AugmentedKerasClassifier

    if not isinstance(estimator, AugmentedKerasClassifier):
        raise TypeError(
            "The 'estimator' parameter of save_model must be a fitted "
            f"AugmentedKerasClassifier. Got {estimator!r} instead."
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
    changed = changed_model_settings(fitted_settings.datagen, estimator._check_settings().datagen)
    if changed:
        listed = ", ".join(f"{key} ({was!r} -> {now!r})" for key, was, now in changed)
        raise ValueError(
            f"The standardization settings of this {owner} changed since it was fitted: "
            f"{listed}. Set them back, or fit it again, before save_model."
        )

    params, not_saved = _encode_params(estimator)
    attributes, attributes_not_saved = {}, []
    for name, value in vars(estimator).items():
        if not _is_fitted_name(name) or name in _REBUILT:
            continue
        try:
            attributes[name] = _encode(value, name)
        except _NotSaveable:
            attributes_not_saved.append(name)
    lost = [name for name in _REQUIRED if name not in attributes]
    if lost:
        raise ValueError(
            f"Cannot save this {owner}: its fitted attributes {', '.join(lost)} have no "
            "JSON form (labels must be numbers, strings or booleans)."
        )
    one_hot, categories_given = _check_target_encoding(estimator, owner)

    standardizer = estimator.standardizer_
    statistics = {
        name: np.asarray(getattr(standardizer, name))
        for name in _STATISTICS
        if getattr(standardizer, name, None) is not None
    }
    cls = type(estimator)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "estimator": f"{cls.__module__}:{cls.__qualname__}",
        "params": params,
        # Routed parameters (datagen__*, model__*, ...), given to __init__ or set_params.
        "kwargs": sorted(set(params) - _init_parameters(cls)),
        "not_saved": not_saved,
        "fitted": {
            "attributes": attributes,
            "not_saved": attributes_not_saved,
            "random_state": _encode(getattr(estimator, "_random_state", None), "random_state"),
            "y_sample_shape": _encode(getattr(estimator, "_y_sample_shape", None), "y_sample"),
            "one_hot_targets": one_hot,
            "categories_given": categories_given,
            "statistics": sorted(statistics),
        },
    }
    return document, statistics


def _encode_params(estimator):
    """``(saved, not_saved)``: every parameter, in JSON form or described by type."""
    saved, not_saved, problems = {}, {}, []
    for name, value in estimator.get_params(deep=False).items():
        if name in _BUILDERS and value is not None:
            not_saved[name] = _describe(value)
            continue
        try:
            saved[name] = _encode(value, name)
        except _NotSaveable as exc:
            if name == "datagen" or name.startswith("datagen__"):
                problems.append(str(exc))  # standardization: predictions depend on it
            else:
                not_saved[name] = _describe(value)
    if problems:
        raise ValueError(
            f"Cannot save this {type(estimator).__name__}: its ImageDataGenerator settings "
            "decide how images are standardized and must be saved.\n- " + "\n- ".join(problems)
        )
    return saved, not_saved


def _is_fitted_name(name):
    return name.endswith("_") and not name.startswith("_") and not name.endswith("__")


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
    template = _label_template(estimator.target_type_, estimator.classes_, estimator.y_dtype_)
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


def _checked_destination(path):
    """``path`` as an absolute Path, if save_model may write there."""
    destination = Path(os.path.abspath(os.fspath(path)))
    if destination.is_dir():
        content = sorted(entry.name for entry in destination.iterdir())
        if content and (SETTINGS_FILE not in content or not set(content) <= set(_FILES)):
            others = [name for name in content if name not in _FILES]
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            why = (
                f"holds files that are not part of a saved model ({shown})"
                if others
                else f"has no {SETTINGS_FILE}, so it is not a folder written by save_model"
            )
            raise ValueError(
                f"The 'path' parameter of save_model must be a new or empty folder, or one "
                f"written by save_model (which is replaced). Got {str(destination)!r}, which "
                f"{why}. Choose another folder."
            )
    elif destination.exists():
        raise ValueError(
            f"The 'path' parameter of save_model must be a folder. Got "
            f"{str(destination)!r}, which is a file."
        )
    return destination


def _write_atomically(destination, document, statistics, model):
    """Write the three files into a sibling folder, check them, then rename it into place."""
    import keras

    parent = destination.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".{destination.name}.{uuid.uuid4().hex[:12]}.saving"
    os.mkdir(staging)
    try:
        model.save(str(staging / MODEL_FILE))
        try:
            keras.saving.load_model(str(staging / MODEL_FILE), safe_mode=True)
        except Exception as exc:  # whatever Keras cannot load back, it must not be saved
            unregistered = _unregistered_layers(model)
            if unregistered:
                raise ValueError(
                    f"Cannot save the Keras model so that it loads safely: its layer "
                    f"classes {', '.join(unregistered)} are not registered with Keras; "
                    f"{_REGISTER_HINT}."
                ) from exc
            reason = " ".join(str(exc).split())
            reason = reason if len(reason) <= 300 else reason[:297] + "..."
            raise ValueError(
                f"Cannot save the Keras model so that it loads safely ({type(exc).__name__}: "
                f"{reason}). Custom layers, models, losses and metrics must be registered: "
                f"{_REGISTER_HINT}. Lambda layers hold Python bytecode, which load_model "
                "refuses to run: replace them with a registered layer."
            ) from exc
        np.savez(staging / STATISTICS_FILE, **statistics)
        text = json.dumps(document, indent=2, allow_nan=False)
        (staging / SETTINGS_FILE).write_text(text + "\n", encoding="utf-8")
        _replace(staging, destination)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _unregistered_layers(model):
    """``'Name' (module)`` of each layer or model class Keras cannot find by name."""
    import keras

    found = {}
    for layer in [model, *model._flatten_layers(include_self=False)]:
        cls = type(layer)
        if cls.__module__.startswith("keras."):
            continue
        if ">" not in keras.saving.get_registered_name(cls):  # "package>Name" once registered
            found[f"{cls.__name__!r} ({cls.__module__})"] = None
    return list(found)


def _replace(staging, destination):
    """Rename ``staging`` to ``destination``, replacing a previous model folder."""
    previous = None
    if destination.exists():
        previous = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:12]}.replaced")
        os.rename(destination, previous)
    try:
        os.rename(staging, destination)
    except BaseException:
        if previous is not None:
            os.rename(previous, destination)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------
def load_model(path):
    """Load an estimator saved by :func:`save_model`, ready to predict.

    Nothing is unpickled and no module is imported: the Keras model is
    loaded with ``keras.saving.load_model(..., safe_mode=True)``, statistics
    with ``numpy.load(..., allow_pickle=False)``, and functions are looked up
    by their Keras-registered name, so the modules that register them must be
    imported first (or the objects given in
    ``keras.saving.custom_object_scope``).

    Parameters that were not saved (see :func:`save_model`) are back to their
    defaults, with one warning naming them; a model-building function among
    them leaves ``model=None``, so set it again with
    ``set_params(model=...)`` before refitting with the original
    architecture.

    Parameters
    ----------
    path : str or path-like
        A folder written by :func:`save_model`.

    Returns
    -------
    AugmentedKerasClassifier
        A fitted estimator whose ``predict_proba``, ``predict`` and ``score``
        give the saved estimator's results.

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing.
    ValueError
        If a file is corrupted, was written by a newer format version, or
        names a registered function or class that is not available; the
        message names the folder.

    See Also
    --------
    save_model : Write the folder.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skimgaug import AugmentedKerasClassifier, load_model, save_model
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = AugmentedKerasClassifier(image_shape=(8, 8, 1), epochs=1, verbose=0)
    >>> clf = clf.fit(X[:200], y[:200])
    >>> tmp = tempfile.TemporaryDirectory()
    >>> save_model(clf, os.path.join(tmp.name, "digits"))
    >>> loaded = load_model(os.path.join(tmp.name, "digits"))
    >>> loaded.classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> round(loaded.score(X[:200], y[:200]), 6) == round(clf.score(X[:200], y[:200]), 6)
    True
    >>> tmp.cleanup()
    """
    folder = Path(os.fspath(path))
    if not folder.exists():
        raise FileNotFoundError(f"No saved model at {str(folder)!r}: the folder does not exist.")
    if not folder.is_dir():
        raise ValueError(
            f"The 'path' parameter of load_model must be a folder written by save_model. "
            f"Got {str(folder)!r}, which is a file."
        )
    for name in _FILES:
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"Cannot load the model in {str(folder)!r}: {name} is missing; the folder "
                "was not written by save_model or was changed since."
            )
    try:
        estimator, notes = _restore(folder)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(
            f"Cannot load the model in {str(folder)!r}: {SETTINGS_FILE} is corrupted or was "
            f"not written by save_model ({type(exc).__name__}: {exc})."
        ) from exc
    except ValueError as exc:
        raise ValueError(f"Cannot load the model in {str(folder)!r}: {exc}") from exc
    if notes:
        warnings.warn(
            f"Loaded the model in {str(folder)!r} with changes: " + " ".join(notes),
            UserWarning,
            stacklevel=2,
        )
    return estimator


def _read_document(file):
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{file.name} is not valid JSON ({exc}).") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{file.name} is not a skimgaug model description.")
    version = document.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{file.name} has no valid format_version (got {version!r}).")
    if version > FORMAT_VERSION:
        written_by = (document.get("versions") or {}).get("skimgaug", "a newer version")
        raise ValueError(
            f"it was written in format version {version} (by skimgaug {written_by}), but "
            f"this skimgaug reads format versions up to {FORMAT_VERSION}. Upgrade skimgaug "
            "to load it."
        )
    for key, kind in (("params", dict), ("kwargs", list), ("not_saved", dict), ("fitted", dict)):
        if not isinstance(document.get(key), kind):
            raise ValueError(f"{file.name} has no valid {key!r} section.")
    return document


def _restore(folder):
    """The fitted estimator saved in ``folder`` and notes for the user."""
    from .._estimator._classifier import AugmentedKerasClassifier

    document = _read_document(folder / SETTINGS_FILE)
    fitted = document["fitted"]
    params, ignored = _decode_params(document, AugmentedKerasClassifier)
    notes = _notes(document, AugmentedKerasClassifier, ignored)
    estimator = AugmentedKerasClassifier(**params)
    settings = estimator._check_settings()
    attributes = {}
    for name, value in fitted["attributes"].items():
        if not (_is_fitted_name(name) and name.isidentifier()) or name in _REBUILT:
            raise ValueError(f"{SETTINGS_FILE} names an invalid fitted attribute {name!r}.")
        attributes[name] = _decode(value, name)
    missing = [name for name in _REQUIRED if name not in attributes]
    if missing:
        raise ValueError(f"{SETTINGS_FILE} lacks the fitted attributes {', '.join(missing)}.")
    X_shape = tuple(attributes["X_shape_"])

    standardizer = settings.datagen.standardizer()
    statistics = _read_statistics(folder / STATISTICS_FILE, fitted["statistics"], X_shape)
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
    model = _read_keras_model(folder / MODEL_FILE)
    _check_model_fits(model, feature_encoder, attributes)

    vars(estimator).update(attributes)
    if isinstance(attributes.get("history_"), dict):
        estimator.history_ = defaultdict(list, attributes["history_"])
    estimator._random_state = _decode(fitted.get("random_state"), "random_state")
    y_sample_shape = _decode(fitted.get("y_sample_shape"), "y_sample_shape")
    if y_sample_shape is not None:
        estimator._y_sample_shape = tuple(y_sample_shape)
    estimator._settings = settings
    estimator.augmentation_ = dict(settings.datagen.augmentation)
    estimator.standardizer_ = standardizer
    estimator.target_encoder_ = target_encoder
    estimator.feature_encoder_ = feature_encoder
    estimator.model_ = model
    estimator._initialize_callbacks()
    return estimator, notes


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
    n_classes = int(attributes["n_classes_"])
    target_type = attributes["target_type_"]
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
            params[name] = _decode(value, f"params[{name!r}]")
        else:
            ignored.append(name)
    return params, ignored


def _target_encoder(estimator, attributes, fitted):
    """scikeras' label encoder, fitted again on labels that reproduce the saved ones."""
    classes = attributes["classes_"]
    target_type = attributes["target_type_"]
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


def _read_statistics(file, names, X_shape):
    if not (isinstance(names, list) and set(names) <= set(_STATISTICS)):
        raise ValueError(f"{SETTINGS_FILE} lists unknown statistics {names!r}.")
    try:
        data = np.load(file, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ValueError(
            f"{STATISTICS_FILE} is not a readable .npz file: it is damaged, or holds pickled "
            "data, which load_model never loads."
        ) from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{STATISTICS_FILE} holds a single array, not an .npz archive.")
    with data:
        missing = [name for name in names if name not in data.files]
        if missing:
            raise ValueError(
                f"{STATISTICS_FILE} lacks the array(s) {', '.join(missing)}; it holds "
                f"{', '.join(data.files) or 'none'}."
            )
        try:
            arrays = {name: np.array(data[name]) for name in names}
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ValueError(
                f"{STATISTICS_FILE} is damaged, or holds Python objects, which load_model "
                f"never unpickles ({exc})."
            ) from exc
    size = int(np.prod(X_shape[1:]))
    for name, array in arrays.items():
        if name in ("zca_whitening_matrix", "principal_components"):
            fits = array.shape == (size, size)
        else:
            try:
                fits = np.broadcast_shapes(array.shape, X_shape[1:]) == X_shape[1:]
            except ValueError:
                fits = False
        if array.dtype.kind != "f" or not fits:
            raise ValueError(
                f"{STATISTICS_FILE}: {name!r} is a {array.dtype} array of shape {array.shape}, "
                f"which does not fit images of shape {X_shape[1:]}."
            )
    return arrays


def _read_keras_model(file):
    import keras

    from ..models._pretrained import _define_layers

    _define_layers()  # skimgaug's own registered layers (a pretrained backbone's preprocessing)
    if not zipfile.is_zipfile(file):
        raise ValueError(f"{file.name} is damaged or truncated: it is not a zip archive.")
    try:
        return keras.saving.load_model(str(file), safe_mode=True)
    except Exception as exc:  # Keras reports a damaged file in many ways
        raise ValueError(
            f"{file.name} is not a Keras model that loads safely ({type(exc).__name__}: {exc})."
        ) from exc
