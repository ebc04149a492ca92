"""Checks of the estimator's parameters and per-sample values, run before any training.

Every message names the parameter, the value received and what is allowed,
in scikit-learn's wording ("The 'x' parameter of Est must be ... Got ...
instead."). A value of the wrong kind and a value out of range are both
``ValueError``; only a wrong container type (not a number at all) is a
``TypeError``.
"""

import numbers
import os

import numpy as np

#: The augmentation engines (see :mod:`skimgaug._augment._transforms`).
ENGINES = ("vectorized", "imagedatagenerator")
#: Color modes of decoded image files: PIL mode and channels.
COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_validation_split(value, owner):
    """``validation_split`` must be a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(
            f"The 'validation_split' parameter of {owner} must be a float in "
            f"[0, 1). Got {value!r} instead."
        )
    return float(value)


def check_engine(engine, owner="AugmentedKerasClassifier"):
    """``engine`` must name one of :data:`ENGINES`."""
    if engine not in ENGINES:
        raise ValueError(
            f"The 'engine' parameter of {owner} must be one of "
            f"{', '.join(repr(e) for e in ENGINES)}. Got {engine!r} instead."
        )
    return engine


def check_tta(tta, owner="AugmentedKerasClassifier"):
    """``tta`` must be an integer >= 0 (augmented copies averaged at prediction)."""
    if isinstance(tta, bool) or not isinstance(tta, (int, np.integer)) or tta < 0:
        raise ValueError(
            f"The 'tta' parameter of {owner} must be an int >= 0 (the number of augmented "
            f"copies averaged with each image at prediction; 0 for none). Got {tta!r} instead."
        )
    return int(tta)


def check_cache(cache, owner="AugmentedKerasClassifier"):
    """``cache`` must be None, "auto" or a folder path (str or path-like)."""
    if cache is None or (isinstance(cache, str) and cache == "auto"):
        return cache
    if isinstance(cache, (str, os.PathLike)):
        folder = os.fspath(cache)
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise ValueError(
                f"The 'cache' parameter of {owner} must be None, 'auto' or a folder; "
                f"{folder!r} is a file."
            )
        return folder
    raise ValueError(
        f"The 'cache' parameter of {owner} must be None, 'auto' or a folder path. "
        f"Got {cache!r} instead."
    )


BALANCE_MODES = (None, "oversample")


def check_balance(balance, class_weight, owner="AugmentedKerasClassifier"):
    """``balance`` must be None or "oversample", and not double-count with ``class_weight``."""
    if not any(balance is mode or balance == mode for mode in BALANCE_MODES):
        raise ValueError(
            f"The 'balance' parameter of {owner} must be None or 'oversample'. "
            f"Got {balance!r} instead."
        )
    if balance is not None and class_weight is not None:
        raise ValueError(
            f"{owner}: balance={balance!r} already shows every class equally often in each "
            f"epoch; class_weight={class_weight!r} would weight the classes a second time. "
            "Set one of them to None."
        )
    return balance


def check_target_size(target_size, owner):
    """``target_size`` must be None (the images' own size) or (height, width) of positive ints."""
    if target_size is None:
        return None
    ok = (
        isinstance(target_size, (tuple, list))
        and len(target_size) == 2
        and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
            for v in target_size
        )
    )
    if not ok:
        raise ValueError(
            f"The 'target_size' parameter of {owner} must be None (the images' own size) "
            f"or a tuple (height, width) of positive integers. Got {target_size!r} instead."
        )
    return int(target_size[0]), int(target_size[1])


def check_color_mode(color_mode, owner):
    """``color_mode`` must be one of :data:`COLOR_MODES`."""
    if color_mode not in COLOR_MODES:
        raise ValueError(
            f"The 'color_mode' parameter of {owner} must be one of "
            f"{', '.join(repr(m) for m in COLOR_MODES)}. Got {color_mode!r} instead."
        )
    return color_mode


def check_random_state(random_state, owner="AugmentedKerasClassifier"):
    """``random_state`` must be None, an int or a ``numpy.random.RandomState``."""
    if random_state is None or isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if 0 <= random_state < 2**32:
            return random_state
        raise ValueError(
            f"The 'random_state' parameter of {owner} must be None, an int in "
            f"[0, 2**32) or a numpy.random.RandomState. Got {random_state!r} instead."
        )
    raise TypeError(
        f"The 'random_state' parameter of {owner} must be None, an int in "
        f"[0, 2**32) or a numpy.random.RandomState. Got {random_state!r} instead."
    )


def check_image_shape(image_shape, owner):
    """Validate the ``image_shape`` parameter; return ``(h, w, c)`` or None."""
    if image_shape is None:
        return None
    ok = (
        isinstance(image_shape, (tuple, list))
        and len(image_shape) in (2, 3)
        and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
            for v in image_shape
        )
    )
    if not ok:
        raise ValueError(
            f"The 'image_shape' parameter of {owner} must be None or a tuple "
            "(height, width, channels) of positive integers (or (height, "
            f"width) for one channel). Got {image_shape!r} instead."
        )
    shape = tuple(int(v) for v in image_shape)
    return shape if len(shape) == 3 else shape + (1,)


def check_batch_size(value, name, owner):
    """``batch_size``-like parameters: None, -1 (one batch) or an int >= 1.

    Parameters
    ----------
    value : object
    name : str
        The parameter as the user wrote it, e.g. ``"fit__batch_size"``.
    owner : str
        Estimator name for messages.

    Returns
    -------
    int or None
    """
    if value is None:
        return None
    if _is_int(value) and (value >= 1 or value == -1):
        return int(value)
    raise ValueError(
        f"The {name!r} parameter of {owner} must be None, -1 (all samples in one "
        f"batch) or an int >= 1. Got {value!r} instead."
    )


def check_epochs(value, name, owner):
    """``epochs``: an int >= 1 (``epochs=0`` or less would return an untrained model)."""
    if _is_int(value) and value >= 1:
        return int(value)
    raise ValueError(
        f"The {name!r} parameter of {owner} must be an int >= 1. Got {value!r} instead."
    )


def check_training_params(params, owner, fit_kwargs=None):
    """Check batch sizes and epochs however they were given.

    Parameters
    ----------
    params : dict
        ``get_params()`` of the estimator: ``batch_size``, ``epochs``,
        ``validation_batch_size`` and their routed ``fit__`` / ``predict__``
        forms.
    owner : str
    fit_kwargs : dict, optional
        Keyword arguments given to ``fit`` itself, which override the
        parameters (scikeras passes them to ``keras.Model.fit``).
    """
    for name in (
        "batch_size",
        "validation_batch_size",
        "fit__batch_size",
        "fit__validation_batch_size",
        "predict__batch_size",
    ):
        if name in params:
            check_batch_size(params[name], name, owner)
    for name in ("epochs", "fit__epochs"):
        if name in params:
            check_epochs(params[name], name, owner)
    for name, value in (fit_kwargs or {}).items():
        if name in ("batch_size", "validation_batch_size"):
            check_batch_size(value, f"fit({name}=...)", owner)
        elif name == "epochs":
            check_epochs(value, "fit(epochs=...)", owner)


def check_sample_weight(sample_weight):
    """A float64 copy of ``sample_weight``: finite, non-negative numbers, one per sample.

    A scalar (the same weight for every sample) is accepted, as in scikit-learn.

    A copy, because scikeras multiplies class weights into it in place.

    Returns
    -------
    ndarray of float64 or None

    Raises
    ------
    ValueError
        If the weights are not numbers, not one-dimensional, not finite or
        negative; the message names the first offending index.
    """
    if sample_weight is None:
        return None
    try:
        weights = np.array(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"sample_weight must be numbers, one per sample. Got {_short(sample_weight)} instead."
        ) from None
    if weights.ndim > 1:
        raise ValueError(
            f"sample_weight must be one-dimensional, one weight per sample. Got an array "
            f"of shape {weights.shape} instead."
        )
    weights_1d = weights.reshape(-1)
    bad = np.flatnonzero(~np.isfinite(weights_1d))
    if bad.size:
        raise ValueError(
            f"sample_weight must be finite; sample_weight[{bad[0]}] is {weights_1d[bad[0]]}."
        )
    bad = np.flatnonzero(weights_1d < 0)
    if bad.size:
        raise ValueError(
            f"sample_weight must be non-negative; sample_weight[{bad[0]}] is "
            f"{weights_1d[bad[0]]:g} ({bad.size} negative weight{'s' if bad.size > 1 else ''})."
        )
    return weights


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_built_model(model, builder, loss_given):
    """What a model builder returned must be a ``keras.Model`` that can be compiled.

    Parameters
    ----------
    model : object
        The builder's return value.
    builder : str
        How to name the builder in messages (its name, or ``--model m:f``).
    loss_given : bool
        Whether the estimator has a ``loss`` to compile an uncompiled model with
        (without one, a model with one output is compiled with the loss that
        fits the labels).

    Returns
    -------
    keras.Model
    """
    import keras

    if not isinstance(model, keras.Model):
        got = "None" if model is None else f"a {type(model).__name__}"
        raise TypeError(
            f"The model builder {builder} must return a keras.Model; it returned {got}. "
            "Build the model in the function and end it with 'return model'."
        )
    if not model.compiled and not loss_given and len(model.outputs) != 1:
        # One output is compiled with the loss that fits the labels (see
        # AugmentedKerasClassifier._ensure_compiled_model); several need theirs.
        raise ValueError(
            f"The model built by {builder} is not compiled and has {len(model.outputs)} "
            "outputs, whose losses cannot be chosen for it. Compile it in the builder "
            "before returning it, or pass loss=[...], e.g. "
            "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
            "metrics=['accuracy'])."
        )
    return model
