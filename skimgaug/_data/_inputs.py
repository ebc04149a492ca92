"""Checking and shaping ``X`` and ``y`` before anything is trained.

Errors here name the argument, what was received and what is allowed, so
that a wrong input never surfaces as a TensorFlow stack trace.
"""

import math

import numpy as np
from sklearn.utils.validation import column_or_1d


def _square_hint(n_features):
    side = math.isqrt(n_features)
    if side * side == n_features:
        return f", for example image_shape=({side}, {side}, 1)"
    if n_features % 3 == 0 and math.isqrt(n_features // 3) ** 2 == n_features // 3:
        side = math.isqrt(n_features // 3)
        return f", for example image_shape=({side}, {side}, 3)"
    return ""


def _as_numeric_array(X):
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "X must be a dense array of images or feature rows; sparse input is "
            "not supported. Convert it with X.toarray()."
        )
    X = np.asarray(X)
    if X.dtype.kind in "biuf":
        return X
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported: X must contain real pixel values.")
    if X.dtype.kind in "OUS":
        try:
            return X.astype(np.float32)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"X must contain numbers (pixel values or features); an array of "
                f"dtype {X.dtype} could not be converted: {exc}"
            ) from None
    raise TypeError(
        f"X must contain numbers (pixel values or features); got an array of dtype {X.dtype}."
    )


def as_model_input(X, image_shape, requires_images, owner):
    """Return ``X`` as images ``(n, h, w, c)`` or, for plain rows, ``(n, f)``.

    Never copies unless ``X`` is not already a numeric array; reshaping is a
    view.

    Parameters
    ----------
    X : array-like
        ``(n, h, w, c)`` images, ``(n, h, w)`` grayscale images, ``(n, h*w*c)``
        rows with ``image_shape``, or ``(n, f)`` feature rows.
    image_shape : tuple (h, w, c) or None
        Already validated (:data:`skimgaug._validation.IMAGE_SHAPE`).
    requires_images : bool
        True when ImageDataGenerator settings are active, so rows without
        ``image_shape`` cannot be used.
    owner : str
        Estimator name for messages.
    """
    X = _as_numeric_array(X)
    if X.ndim == 2 and image_shape is not None:
        if X.shape[1] != math.prod(image_shape):
            raise ValueError(
                f"X has {X.shape[1]} values per row, but image_shape={image_shape} "
                f"needs {math.prod(image_shape)}."
            )
        return X.reshape((len(X),) + image_shape)
    if X.ndim == 2:
        if requires_images:
            raise ValueError(
                f"X has shape {X.shape}: rows of features, but ImageDataGenerator "
                f"settings need images. Pass images of shape (n, height, width, "
                f"channels), or set {owner}(image_shape=(height, width, channels))"
                f"{_square_hint(X.shape[1])}."
            )
        return X
    if X.ndim == 3:
        X = X[..., np.newaxis]
    if X.ndim != 4:
        raise ValueError(
            f"X must be images of shape (n, height, width, channels) or (n, height, "
            f"width), or rows of shape (n, height*width*channels) with image_shape; "
            f"got an array of shape {X.shape}. Reshape your data accordingly, e.g. "
            "X.reshape(1, -1) for a single row."
        )
    if image_shape is not None and X.shape[1:] != image_shape:
        raise ValueError(f"X holds images of shape {X.shape[1:]}, but image_shape={image_shape}.")
    return X


def check_same_sample_shape(X, fitted_shape, owner):
    """At predict time, samples must look like those seen in ``fit``."""
    fitted_shape = tuple(fitted_shape)
    if X.shape[1:] == fitted_shape:
        return
    if X.ndim == 2 and len(fitted_shape) == 1:
        detail = f"{X.shape[1]} features, but {owner} is expecting {fitted_shape[0]} features"
    elif X.ndim == 4 and len(fitted_shape) == 3 and X.shape[1:3] == fitted_shape[:2]:
        detail = (
            f"images with {X.shape[3]} channels, but {owner} is expecting "
            f"{fitted_shape[2]} channels"
        )
    else:
        detail = (
            f"samples of shape {X.shape[1:]}, but {owner} is expecting samples of "
            f"shape {fitted_shape}"
        )
    raise ValueError(f"X has {detail} as input (the shape seen in fit).")


def check_n_samples(X, y):
    """``X`` and ``y`` must have the same number of samples."""
    y = np.asarray(y)
    n_y = y.shape[0] if y.ndim else 1
    if len(X) != n_y:
        raise ValueError(
            f"X and y must have the same number of samples; X has {len(X)} and y has {n_y}."
        )


def column_to_1d(y):
    """A column vector ``y`` of shape (n, 1) becomes (n,), with scikit-learn's warning."""
    y_array = np.asarray(y)
    if y_array.ndim == 2 and y_array.shape[1] == 1:
        return column_or_1d(y_array, warn=True)
    return y


def check_classes(y):
    """A classifier needs at least two classes in ``y``."""
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot or multilabel indicator
        return
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"y must contain at least 2 classes to train a classifier; got only "
            f"1 class: {classes.tolist()!r}."
        )


def check_label_values(y):
    """Labels must be all numbers or all strings, with no missing value.

    NumPy would otherwise fail deep inside scikeras' encoder with
    ``'<' not supported between instances of 'str' and 'int'``, or (for a
    list) silently turn ``['cat', 1]`` into the strings ``'cat'`` and ``'1'``.
    """
    dtype = getattr(y, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "O") != "O":
        return  # a typed array: one kind of label
    try:
        values = np.asarray(y, dtype=object)
    except ValueError:  # ragged nested lists: left to scikeras' checks
        return
    flat = values.reshape(-1)

    def where(i):
        index = np.unravel_index(i, values.shape) if values.ndim > 1 else (i,)
        return f"y[{', '.join(str(int(k)) for k in index)}]"

    for i, value in enumerate(flat):
        if _is_missing(value):
            raise ValueError(
                f"y must not contain missing labels; {where(i)} is {value!r}. Remove the "
                "sample or give it a label."
            )
    is_text = np.array([isinstance(v, (str, bytes)) for v in flat], dtype=bool)
    if is_text.any() and not is_text.all():
        text, other = int(np.argmax(is_text)), int(np.argmin(is_text))
        raise ValueError(
            "y must hold labels of one kind, all strings or all numbers; it mixes "
            f"strings such as {flat[text]!r} ({where(text)}) with other values such as "
            f"{flat[other]!r} ({where(other)}). Convert them, e.g. with y.astype(str)."
        )


def _is_missing(value):
    """None, NaN of any float type, or pandas' ``NA`` / ``NaT``."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def check_same_target_shape(sample_shape, estimator, owner):
    """A continued fit's ``y`` has the first fit's dimensions and columns (as in scikeras)."""
    fitted = getattr(estimator, "_y_sample_shape", None)
    if fitted is None or sample_shape == fitted:
        return
    if len(sample_shape) != len(fitted):
        raise ValueError(
            f"y has {len(sample_shape) + 1} dimensions, but this {owner} is expecting "
            f"{len(fitted) + 1} dimensions in y."
        )
    raise ValueError(
        f"y has samples of shape {sample_shape}, but this {owner} is expecting samples of "
        f"shape {fitted}: the target features seen in fit cannot change."
    )
