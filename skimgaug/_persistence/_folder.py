"""Save a fitted skimgaug estimator to a folder and load it back, without pickle.

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

import json
import os
import shutil
import uuid
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ._codec import REGISTER_HINT
from ._state import (
    FORMAT,
    FORMAT_VERSION,
    MODEL_FILE,
    SETTINGS_FILE,
    STATISTICS,
    STATISTICS_FILE,
    checked_label_names,
    new_estimator,
    restore_fitted_state,
    saved_form,
)

_FILES = (SETTINGS_FILE, MODEL_FILE, STATISTICS_FILE)


# --------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------
def save_model(estimator, path, *, label_names=None):
    """Save a fitted ``AugmentedKerasClassifier`` or ``AugmentedKerasRegressor`` to ``path``.

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
    estimator : AugmentedKerasClassifier or AugmentedKerasRegressor
        A fitted estimator (a regressor's ``standardize_target`` mean and
        scale are saved with it). A ``preprocessing_function``, custom layers,
        losses and metrics must be registered with
        ``@keras.saving.register_keras_serializable(package=...)``.
    path : str or path-like
        The folder to write. It must not exist, be empty, or hold a model
        saved by ``save_model`` (which is replaced). Parent folders are
        created.
    label_names : sequence of str, optional
        The names of a multi-label classifier's labels or of a regressor's
        outputs (one per column of ``predict_proba`` or ``predict``), which
        ``y`` cannot carry. Saved in ``skimgaug.json``; :func:`load_model`
        gives them back as the ``label_names_`` attribute. Single-label
        classifiers have their names in ``classes_``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If ``estimator`` is neither an ``AugmentedKerasClassifier`` nor an
        ``AugmentedKerasRegressor``.
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
    document, statistics = saved_form(estimator)
    if label_names is not None:
        document["label_names"] = checked_label_names(estimator, label_names)
    destination = _checked_destination(path)
    _write_atomically(destination, document, statistics, estimator.model_)


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
                    f"{REGISTER_HINT}."
                ) from exc
            reason = " ".join(str(exc).split())
            reason = reason if len(reason) <= 300 else reason[:297] + "..."
            raise ValueError(
                f"Cannot save the Keras model so that it loads safely ({type(exc).__name__}: "
                f"{reason}). Custom layers, models, losses and metrics must be registered: "
                f"{REGISTER_HINT}. Lambda layers hold Python bytecode, which load_model "
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
    AugmentedKerasClassifier or AugmentedKerasRegressor
        A fitted estimator of the saved kind whose ``predict_proba`` (a
        classifier's), ``predict`` and ``score`` give the saved estimator's
        results.

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
    except (KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
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
    except RecursionError:
        raise ValueError(
            f"{file.name} is nested too deeply to be a skimgaug model description."
        ) from None
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
    document = _read_document(folder / SETTINGS_FILE)
    estimator, notes, attributes = new_estimator(document)
    X_shape = tuple(attributes["X_shape_"])
    statistics = _read_statistics(
        folder / STATISTICS_FILE, document["fitted"]["statistics"], X_shape
    )
    model = _read_keras_model(folder / MODEL_FILE)
    estimator = restore_fitted_state(estimator, document, attributes, statistics, model)
    if document.get("label_names") is not None:
        estimator.label_names_ = np.array(checked_label_names(estimator, document["label_names"]))
    return estimator, notes


def _read_statistics(file, names, X_shape):
    if not (isinstance(names, list) and set(names) <= set(STATISTICS)):
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

    from ..models._layers import define_layers

    define_layers()  # skimgaug's own registered layers (a pretrained backbone's preprocessing)
    if not zipfile.is_zipfile(file):
        raise ValueError(f"{file.name} is damaged or truncated: it is not a zip archive.")
    try:
        return keras.saving.load_model(str(file), safe_mode=True)
    except Exception as exc:  # Keras reports a damaged file in many ways
        raise ValueError(
            f"{file.name} is not a Keras model that loads safely ({type(exc).__name__}: {exc})."
        ) from exc
