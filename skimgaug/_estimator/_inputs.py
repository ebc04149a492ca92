"""Input checks of the estimator, shared by fit and predict (scikeras' ``_validate_data``)."""

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils import check_array

from .._compat import route_params
from .._data._inputs import (
    as_model_input,
    check_classes,
    check_label_values,
    check_n_samples,
    check_same_sample_shape,
    check_same_target_shape,
    column_to_1d,
)
from .._data._paths import (
    COLOR_MODES,
    ImagePaths,
    is_path_input,
    size_of_images,
    warn_if_converted_at_predict,
    warn_if_gray_read_as_color,
)
from .._validation import BATCH_SIZE, check_param


def validate_inputs(estimator, X, y, reset, y_numeric, base):
    """scikeras' ``_validate_data`` hook: ``X`` and ``y`` checked, shared by fit and predict.

    ``base`` is scikeras' own ``_validate_data`` (bound to ``estimator``).
    """
    owner = type(estimator).__name__
    # X and y without reset: a continued fit (partial_fit, warm_start), whose
    # data must look like the first fit's, as scikeras requires.
    continued = not reset and X is not None and y is not None
    if y is not None:
        check_label_values(y)
        y_sample_shape = np.asarray(y).shape[1:]  # as given: a column y becomes 1-D below
        if reset:
            estimator._y_sample_shape = y_sample_shape
        elif continued:
            check_same_target_shape(y_sample_shape, estimator, owner)
        y = column_to_1d(y)
    if X is not None and is_path_input(X):
        return validate_paths(estimator, X, y, reset, y_numeric, base)
    if X is not None:
        # fit: the image_shape parameter; predict: rows take the fitted shape
        # and images are compared with it below.
        image_shape = estimator._settings.image_shape
        if not reset:
            X = np.asarray(X)
            image_shape = fitted_image_shape(estimator) if X.ndim == 2 else None
        X = as_model_input(
            X,
            image_shape,
            requires_images=reset and not estimator._settings.datagen.is_empty,
            owner=owner,
        )
        if continued and not np.can_cast(X.dtype, estimator.X_dtype_):
            raise ValueError(
                f"Got X with dtype {X.dtype}, but this {owner} expected {estimator.X_dtype_} "
                f"and casting from {X.dtype} to {estimator.X_dtype_} is not safe!"
            )
        if y is not None:
            check_n_samples(X, y)
    if reset:
        X, y = base(X, y, reset=True, y_numeric=y_numeric)
        if X is not None:
            estimator.n_features_in_ = int(np.prod(X.shape[1:]))
        if y is not None:
            if is_classifier(estimator):
                check_classes(y)
        return X, y
    # Inference: any numeric dtype will do (batches are cast to float), but
    # samples must have the shape seen in fit.
    _, y = base(None, y, y_numeric=y_numeric)
    if X is not None:
        X = check_array(X, allow_nd=True, dtype=None)
        check_same_sample_shape(X, estimator.X_shape_[1:], owner)
    return X, y


def validate_paths(estimator, X, y, reset, y_numeric, base):
    """Image files as X: checked up front, decoded batch by batch later."""
    if reset:
        target_size = estimator._settings.target_size
        cache = estimator._settings.cache
        window = estimator._settings.window
        paths = ImagePaths(X, target_size or (1, 1), estimator._settings.color_mode, cache, window)
        if y is not None:
            check_n_samples(paths, y)
        headers = paths.check_headers()
        sizes = [(h, w) for h, w, _ in headers]
        owner = type(estimator).__name__
        warn_if_gray_read_as_color(headers, estimator._settings.color_mode, owner)
        if target_size is None and len(paths):
            target_size = size_of_images(sizes, owner)
            paths = ImagePaths(
                paths.paths, target_size, estimator._settings.color_mode, cache, window
            )
    else:  # decode to the shape the model was fitted on
        height, width, channels = estimator.X_shape_[1:]
        mode = next((m for m, (_, c) in COLOR_MODES.items() if c == channels), None)
        if mode is None:
            raise ValueError(
                f"This {type(estimator).__name__} was fitted on images with {channels} "
                "channels; image files decode to 1 (grayscale), 3 (rgb) or 4 (rgba)."
            )
        cache = estimator._inference_settings()["cache"]
        paths = ImagePaths(X, (height, width), mode, cache, estimator._settings.window)
        if y is not None:
            check_n_samples(paths, y)
        headers = paths.check_headers()
        owner = type(estimator).__name__
        fitted = (height, width, channels)
        settings = estimator._settings
        warn_if_converted_at_predict(
            headers, fitted, settings.target_size, settings.color_mode, owner
        )
    _, y = base(None, y, reset=reset, y_numeric=y_numeric)
    if reset:
        estimator.X_shape_ = paths.shape
        estimator.X_dtype_ = np.dtype(np.float32)
        estimator.n_features_in_ = int(np.prod(paths.shape[1:]))
        if y is not None:
            if is_classifier(estimator):
                check_classes(y)
    return paths, y


def fitted_image_shape(estimator):
    """``(h, w, c)`` of the images ``estimator`` was fitted on, or None."""
    shape = getattr(estimator, "X_shape_", None)
    return tuple(shape[1:]) if shape is not None and len(shape) == 4 else None


def predict_batch_size(estimator, kwargs):
    """The batch size ``keras.Model.predict`` will use (1 for "all at once")."""
    owner = type(estimator).__name__
    batch_size = check_param("predict(batch_size=...)", kwargs.get("batch_size"), BATCH_SIZE, owner)
    if batch_size is None:
        routed = route_params(
            estimator.get_params(), destination="predict", pass_filter={"batch_size"}
        )
        batch_size = check_param("batch_size", routed.get("batch_size"), BATCH_SIZE, owner)
    if batch_size is None:
        return 32  # keras.Model.predict's default
    return 1 if batch_size == -1 else int(batch_size)
