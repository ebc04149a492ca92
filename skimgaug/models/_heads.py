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


def output_layer_and_loss(meta):
    """The output layer and loss that fit the labels scikeras encoded.

    Parameters
    ----------
    meta : dict
        scikeras' fitted metadata (``target_type_``, ``n_classes_``, ...).

    Returns
    -------
    layer : keras.layers.Dense
    loss : str
    """
    import keras

    target_type = meta["target_type_"]
    n_classes = meta["n_classes_"]
    if target_type == "binary":
        return keras.layers.Dense(1, activation="sigmoid"), "binary_crossentropy"
    if target_type == "multiclass-onehot":
        return keras.layers.Dense(n_classes, activation="softmax"), "categorical_crossentropy"
    if target_type == "multilabel-indicator":
        return keras.layers.Dense(n_classes, activation="sigmoid"), "binary_crossentropy"
    if target_type == "multiclass":
        return (
            keras.layers.Dense(n_classes, activation="softmax"),
            "sparse_categorical_crossentropy",
        )
    raise ValueError(
        f"The default model cannot handle targets of type {target_type!r}; pass your own model=..."
    )
