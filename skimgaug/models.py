"""Default model builders, with scikeras' builder signature.

Every keyword argument except ``meta`` and ``compile_kwargs`` can be set and
grid-searched through the estimator as ``model__<name>``, for example
``AugmentedKerasClassifier(model__filters=16)``.
"""

__all__ = ["default_model", "output_layer_and_loss"]


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


def default_model(meta, compile_kwargs, filters=32, dense_units=64, dropout=0.25):
    """A small CNN for images, or an MLP for feature rows, sized from the data.

    For images ``(h, w, c)``: two blocks of 3x3 convolution (``filters``, then
    ``2 * filters``) each followed by 2x2 max pooling while the image is still
    larger than 4 pixels, then global average pooling if the feature map is
    still larger than 8x8 (flatten otherwise), a dense layer and the output.
    For feature rows: one hidden dense layer.

    Parameters
    ----------
    meta : dict
        scikeras metadata: ``X_shape_``, ``target_type_``, ``n_classes_``.
    compile_kwargs : dict
        scikeras' compile arguments (optimizer, loss, metrics, ...). A loss
        given to the estimator is used; otherwise one that fits the labels
        (binary or categorical cross-entropy).
    filters : int, default=32
        Filters in the first convolution.
    dense_units : int, default=64
        Units in the hidden dense layer.
    dropout : float, default=0.25
        Dropout rate before the output layer.

    Returns
    -------
    keras.Model
        A compiled model.

    Examples
    --------
    >>> from skimgaug import AugmentedKerasClassifier
    >>> clf = AugmentedKerasClassifier(model__filters=16, epochs=1, verbose=0)
    """
    import keras

    input_shape = tuple(meta["X_shape_"][1:])
    inputs = keras.Input(shape=input_shape)
    x = inputs
    if len(input_shape) == 3:
        height, width = input_shape[:2]
        for block_filters in (filters, 2 * filters):
            x = keras.layers.Conv2D(block_filters, 3, padding="same", activation="relu")(x)
            if min(height, width) >= 4:
                x = keras.layers.MaxPooling2D(2)(x)
                height, width = height // 2, width // 2
        if height * width > 64:
            x = keras.layers.GlobalAveragePooling2D()(x)
        else:
            x = keras.layers.Flatten()(x)
    else:
        x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(dense_units, activation="relu")(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    output, loss = output_layer_and_loss(meta)
    model = keras.Model(inputs, output(x))
    compile_kwargs = dict(compile_kwargs)
    if compile_kwargs.get("loss") is None:
        compile_kwargs["loss"] = loss
    model.compile(**compile_kwargs)
    return model
