"""Output layers and losses that fit the labels scikeras encoded."""


def loss_for(meta, units=None):
    """The loss that fits the labels scikeras encoded and a model's output units.

    Parameters
    ----------
    meta : dict
        scikeras' fitted metadata (``target_type_``, ``n_classes_``, ...).
    units : int, optional
        Units of the model's output layer: binary labels take binary
        cross-entropy with one unit and sparse categorical cross-entropy
        with one unit per class. Default: as :func:`output_layer_and_loss`.

    Returns
    -------
    str
    """
    if meta["target_type_"] in ("binary", "multiclass") and units is not None:
        return "binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy"
    return output_layer_and_loss(meta)[1]


def _loss_kind(loss):
    """``(kind, from_logits)`` of a loss given as a name, class, instance or function.

    ``kind`` is ``"sparse_categorical"``, ``"categorical"``, ``"binary"`` or None
    (another loss, or none given).
    """
    if loss is None:
        return None, False
    if isinstance(loss, str):
        name = loss
    elif isinstance(loss, type):
        name = loss.__name__
    else:
        name = getattr(loss, "name", None) or getattr(loss, "__name__", "") or ""
    config = {}
    if not isinstance(loss, (str, type)) and callable(getattr(loss, "get_config", None)):
        try:
            config = loss.get_config() or {}
        except (TypeError, NotImplementedError):
            config = {}
    name = str(name).lower()
    kinds = (("sparse", "sparse_categorical"), ("categorical", "categorical"), ("binary", "binary"))
    kind = next((k for word, k in kinds if word in name), None)
    return kind, bool(config.get("from_logits", False))


def output_layer_and_loss(meta, loss=None):
    """The output layer and loss that fit the labels scikeras encoded (and a given loss).

    Parameters
    ----------
    meta : dict
        scikeras' fitted metadata (``target_type_``, ``n_classes_``, ...).
    loss : str, keras.losses.Loss, class or callable, optional
        The loss the model will be compiled with, when the user chose one:
        a sparse categorical cross-entropy on binary labels gets a softmax
        over the two classes instead of one sigmoid unit.

    Returns
    -------
    layer : keras.layers.Dense
    loss : str
        The loss that fits the layer when none is given.

    Raises
    ------
    ValueError
        For a loss with ``from_logits=True`` (the layer outputs probabilities),
        and for a non-sparse categorical cross-entropy on binary labels (which
        scikeras does not one-hot encode).
    """
    import keras

    target_type = meta["target_type_"]
    if target_type in ("continuous", "continuous-multioutput"):
        # a regressor's values: one linear unit per output
        return keras.layers.Dense(int(meta.get("n_outputs_", 1)), activation="linear"), "mse"
    n_classes = meta["n_classes_"]
    kind, from_logits = _loss_kind(loss)
    if from_logits:
        shown = getattr(loss, "__name__", None) or type(loss).__name__
        raise ValueError(
            f"The default model outputs probabilities (a sigmoid or softmax layer), so its "
            f"loss must not take logits; got loss={shown}(from_logits=True). Pass the loss "
            "with from_logits=False, or your own model=... that outputs logits."
        )
    if target_type == "binary" and kind == "categorical":
        raise ValueError(
            "A (non-sparse) categorical cross-entropy needs one-hot labels, but scikeras "
            "passes two classes as one column of 0/1 labels. Use loss="
            "'binary_crossentropy' (one sigmoid unit, the default) or "
            "'sparse_categorical_crossentropy' (a softmax over the two classes)."
        )
    if target_type == "binary" and kind != "sparse_categorical":
        return keras.layers.Dense(1, activation="sigmoid"), "binary_crossentropy"
    if target_type == "multiclass-onehot":
        return keras.layers.Dense(n_classes, activation="softmax"), "categorical_crossentropy"
    if target_type == "multilabel-indicator":
        return keras.layers.Dense(n_classes, activation="sigmoid"), "binary_crossentropy"
    if target_type in ("multiclass", "binary"):
        return (
            keras.layers.Dense(n_classes, activation="softmax"),
            "sparse_categorical_crossentropy",
        )
    raise ValueError(
        f"The default model cannot handle targets of type {target_type!r}; pass your own model=..."
    )
