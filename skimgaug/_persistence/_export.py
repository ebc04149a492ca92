"""Export a fitted estimator for deployment: ONNX or a TensorFlow SavedModel, preprocessing inside.

The exported graph takes the images the estimator's ``predict`` takes
(float32: cast uint8 images with ``.astype(np.float32)``; rows, for an
estimator fitted on rows with ``image_shape``, reshaped to that shape),
applies what ``predict`` applies before the network (``rescale``, a
Keras-registered ``preprocessing_function``, sample-wise and feature-wise
centering and normalization, ZCA whitening, with the statistics learned in
``fit`` as constants), runs a copy of the fitted Keras model (no optimizer),
and returns what ``predict_proba`` returns (a classifier's class
probabilities, two columns for two classes; a multi-label classifier's label
probabilities) or what ``predict`` returns (a regressor's values, target
standardization undone). Keras' own ``Model.export`` writes both formats
(ONNX through tf2onnx, the ``skimgaug[export]`` extra). Test-time
augmentation is random and is not exported; the metadata says so.
"""

import json
import os

import numpy as np

#: What the metadata says of test-time augmentation.
TTA_NOTE = "test-time augmentation (tta) is not exported: the graph predicts each image once"
FORMATS = ("onnx", "saved_model")


def _standardize_layer(standardizer, function):
    """A Keras layer applying ``ImageDataGenerator.standardize`` with fixed statistics."""
    import keras
    from keras import ops

    settings = {
        "rescale": standardizer.rescale or None,
        "samplewise_center": bool(standardizer.samplewise_center),
        "samplewise_std_normalization": bool(standardizer.samplewise_std_normalization),
    }
    mean = standardizer.mean if standardizer.featurewise_center else None
    std = standardizer.std if standardizer.featurewise_std_normalization else None
    zca = standardizer.zca_whitening_matrix if standardizer.zca_whitening else None

    class Standardize(keras.layers.Layer):
        def call(self, x):
            if function is not None:
                x = function(x)
            if settings["rescale"]:
                x = x * settings["rescale"]
            axes = tuple(range(1, len(x.shape)))
            if settings["samplewise_center"]:
                x = x - ops.mean(x, axis=axes, keepdims=True)
            if settings["samplewise_std_normalization"]:
                x = x / (ops.std(x, axis=axes, keepdims=True) + 1e-6)
            if mean is not None:
                x = x - ops.convert_to_tensor(np.asarray(mean, dtype=np.float32))
            if std is not None:
                x = x / (ops.convert_to_tensor(np.asarray(std, dtype=np.float32)) + 1e-6)
            if zca is not None:  # in float64, as NumPy does: the matrix amplifies rounding
                shape = ops.shape(x)
                flat = ops.cast(ops.reshape(x, (-1, int(np.prod(x.shape[1:])))), "float64")
                white = ops.matmul(flat, ops.convert_to_tensor(np.asarray(zca, np.float64)))
                x = ops.cast(ops.reshape(white, shape), "float32")
            return x

    return Standardize(name="skimgaug_standardize")


def _preprocessing_function(standardizer):
    """The registered ``preprocessing_function``, or None; refused clearly when not registered."""
    import keras

    function = standardizer.preprocessing_function
    if function is None:
        return None
    name = getattr(function, "__name__", repr(function))
    registered = keras.saving.get_registered_name(function)
    if ">" not in registered:
        raise ValueError(
            f"Cannot export: the preprocessing_function {name} is not registered with Keras, "
            "so it cannot be put inside the exported graph. Register it with "
            "@keras.saving.register_keras_serializable(package=...) and write it with "
            "keras.ops (it then runs on tensors), or apply it before the exported model."
        )
    return function


def _head(estimator, task):
    """What turns the network's output into ``predict_proba``'s (or ``predict``'s) numbers."""
    from keras import ops

    if task == "regression":
        encoder = estimator.target_encoder_
        mean, scale = getattr(encoder, "mean_", None), getattr(encoder, "scale_", None)
        if mean is None:
            return None
        mean, scale = (np.asarray(v, dtype=np.float32) for v in (mean, scale))
        return lambda y: y * scale + mean
    units = estimator.model_.outputs[0].shape[-1]
    if estimator.target_type_ == "binary" and units == 1:  # one sigmoid unit: two columns
        return lambda p: ops.concatenate([1 - p, p], axis=-1)
    return None


def estimator_task(estimator):
    """``"classification"``, ``"multilabel"`` (a 0/1 indicator ``y``) or ``"regression"``."""
    from sklearn.base import is_regressor

    if is_regressor(estimator):
        return "regression"
    if getattr(estimator, "target_type_", None) == "multilabel-indicator":
        return "multilabel"
    return "classification"


def output_columns(estimator, task):
    """The names of the prediction's columns: classes, or saved label or output names.

    Without saved names (``label_names_``): ``label_0``, ``label_1``, ... or ``output_0``, ...
    """
    if task == "classification":
        return [str(c) for c in estimator.classes_]
    names = getattr(estimator, "label_names_", None)
    if names is not None:
        return [str(n) for n in names]
    count = estimator.n_classes_ if task == "multilabel" else estimator.n_outputs_
    return [f"{'label' if task == 'multilabel' else 'output'}_{j}" for j in range(int(count))]


def deployment_model(estimator):
    """A Keras model from raw pixels to ``predict_proba``'s (or ``predict``'s) numbers."""
    import keras
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "model_")
    model = estimator.model_
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            "Cannot export a model with several inputs or outputs: the exported graph takes "
            "one array of images."
        )
    task = estimator_task(estimator)
    standardizer = estimator.standardizer_
    function = _preprocessing_function(standardizer)
    try:
        core = keras.models.clone_model(model)
    except Exception as exc:  # Keras raises many kinds for layers it cannot rebuild
        raise ValueError(
            f"Cannot export: the Keras model cannot be rebuilt from its configuration "
            f"({type(exc).__name__}: {exc}). Custom layers must be registered with "
            "@keras.saving.register_keras_serializable(package=...)."
        ) from None
    core.set_weights(model.get_weights())
    raw_shape = tuple(int(d) for d in estimator.X_shape_[1:])  # images (rows reshaped)
    pixels = keras.Input(raw_shape, dtype="float32", name="pixels")
    x = _standardize_layer(standardizer, function)(pixels)
    y = core(x)
    head = _head(estimator, task)
    if head is not None:
        y = keras.layers.Lambda(head, name="skimgaug_output")(y)
    wrapper = keras.Model(pixels, y, name="skimgaug_deployment")
    wrapper.predict(np.zeros((1, *raw_shape), np.float32), verbose=0)  # built and traced once
    return wrapper, task


def _metadata(estimator, task, format):
    from .._version import __version__

    columns = output_columns(estimator, task)
    return {
        "format": format,
        "task": task,
        "input": {
            "name": "pixels",
            "shape": ["batch", *(int(d) for d in estimator.X_shape_[1:])],
            "dtype": "float32",
            "values": "images as given to predict, as float32 (rows reshaped to the shape)",
            "decoding": {
                "color_mode": getattr(estimator, "color_mode", None),
                "window": estimator.get_params().get("window"),
                "note": "image files are decoded (resized, converted, DICOM windowed) by the "
                "caller, as skimgaug decodes them, before the graph",
            },
        },
        "output": "probabilities" if task != "regression" else "values",
        "columns": columns,
        "tta": TTA_NOTE,
        "skimgaug_version": __version__,
    }


def export_model(estimator, path, format="onnx"):
    """Export a fitted estimator as one graph from raw pixels to its predictions.

    Parameters
    ----------
    estimator : AugmentedKerasClassifier or AugmentedKerasRegressor
        Fitted (or loaded with :func:`skimgaug.load_model`).
    path : str or path-like
        ``format="onnx"``: the ``.onnx`` file to write. ``format="saved_model"``:
        a new folder, holding the SavedModel and ``export.json``.
    format : {"onnx", "saved_model"}, default="onnx"

    Returns
    -------
    dict
        The metadata written with the model: task, input, output columns
        (class, label or output names), the note on test-time augmentation.

    Raises
    ------
    ValueError
        For an unknown format, an existing ``path``, a ``preprocessing_function``
        not registered with Keras, a model that cannot be rebuilt from its
        configuration, or several inputs or outputs.
    ImportError
        For ONNX without tf2onnx and onnx (``pip install 'skimgaug[export]'``).

    Notes
    -----
    The graph takes float32 pixels of the fitted shape; ONNX Runtime and
    TensorFlow give ``predict_proba``'s numbers within float32 rounding
    (tested at 1e-4). Class names are in the ONNX file's metadata
    (``metadata_props``) or in ``export.json``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn.datasets import load_digits
    >>> from skimgaug import AugmentedKerasClassifier, export_model
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = AugmentedKerasClassifier(image_shape=(8, 8, 1), epochs=1, verbose=0,
    ...                                random_state=0).fit(X[:100], y[:100])
    >>> folder = tempfile.mkdtemp()
    >>> meta = export_model(clf, os.path.join(folder, "digits"), format="saved_model")
    >>> meta["input"]["shape"], meta["columns"][:3]
    (['batch', 8, 8, 1], ['0', '1', '2'])
    """
    if format not in FORMATS:
        raise ValueError(
            f"The 'format' parameter of export_model must be 'onnx' or 'saved_model'. Got "
            f"{format!r} instead."
        )
    path = os.fspath(path)
    if os.path.exists(path):
        raise ValueError(
            f"The 'path' parameter of export_model must not exist yet; {path!r} does. "
            "Choose a new file or folder."
        )
    if format == "onnx":
        _check_onnx_packages()
    wrapper, task = deployment_model(estimator)
    metadata = _metadata(estimator, task, format)
    if format == "onnx":
        import warnings

        with warnings.catch_warnings():  # tf2onnx's own NumPy deprecations, not the user's
            warnings.filterwarnings("ignore", message=".*np\\.object.*", category=FutureWarning)
            wrapper.export(path, format="onnx", verbose=False)
        _add_onnx_metadata(path, metadata)
    else:
        wrapper.export(path, format="tf_saved_model", verbose=False)
        with open(os.path.join(path, "export.json"), "w", encoding="utf-8") as f:
            json.dump(metadata, f, indent=2)
    return metadata


def _check_onnx_packages():
    import importlib.util

    missing = [name for name in ("tf2onnx", "onnx") if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"Exporting to ONNX needs {' and '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed: "
            "pip install 'skimgaug[export]' (or format='saved_model')."
        )


def _add_onnx_metadata(path, metadata):
    import onnx

    model = onnx.load(path)
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = value if isinstance(value, str) else json.dumps(value)
    onnx.save(model, path)
