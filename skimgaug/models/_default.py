"""The default model: a small CNN sized from the images, trained with a cosine schedule."""

from .._validation import integer, real, validate_params
from ._heads import output_layer_and_loss

#: Adam's initial learning rate for :func:`default_model` when the estimator's
#: optimizer is left at its default ("adam") and no ``optimizer__learning_rate``
#: is given; it decays along a cosine to 5 % of it over the planned epochs.
DEFAULT_LEARNING_RATE = 0.003


def default_learning_rate(steps):
    """The default model's learning rate: a cosine decay over ``steps`` training steps.

    From :data:`DEFAULT_LEARNING_RATE` to 5 % of it; steps beyond ``steps``
    (a continued fit) stay at 5 %.
    """
    import keras

    return keras.optimizers.schedules.CosineDecay(DEFAULT_LEARNING_RATE, steps, alpha=0.05)


#: The feature map size at which the default CNN stops pooling.
_SMALLEST_MAP = 8


#: What :func:`default_model`'s arguments accept (``model__<name>`` on the estimator).
DEFAULT_MODEL_CONSTRAINTS = {
    "filters": integer(1),
    "max_filters": integer(1),
    "dense_units": integer(0, note="(0: no hidden dense layer)"),
    "dropout": real(0, 1, high_open=True),
}


def default_model(meta, compile_kwargs, filters=16, max_filters=128, dense_units=0, dropout=0.25):
    """A CNN whose depth follows the image size, or an MLP for feature rows.

    For images ``(h, w, c)``: blocks of 3x3 convolution, batch normalization
    and ReLU. After each block the feature map is halved by 2x2 max pooling
    while it is at least 16 pixels on its shorter side, and the next block
    has twice the filters (up to ``max_filters``). So 8x8 images get one
    block, 32x32 three, 128x128 five, and the last map is 8 to 15 pixels
    wide, whatever the input size. Global average pooling, dropout and the
    output layer follow. For feature rows: one hidden dense layer.

    With ``AugmentedKerasClassifier``'s default optimizer, Adam, this model
    is trained at a learning rate of :data:`DEFAULT_LEARNING_RATE` (0.003)
    decaying along a cosine to 5 % of it over the planned steps (unless
    ``optimizer__learning_rate`` is given): 3-fold CV on
    scikit-learn's digits upscaled to 32, 64 or 128 pixels reaches an
    accuracy of 0.85 or more within 10 epochs (see
    ``benchmarks/bench_default_model.py`` and ``benchmarks/RESULTS.md``).

    Parameters
    ----------
    meta : dict
        scikeras metadata: ``X_shape_``, ``target_type_``, ``n_classes_``.
    compile_kwargs : dict
        scikeras' compile arguments (optimizer, loss, metrics, ...). A loss
        given to the estimator is used; otherwise one that fits the labels
        (binary or categorical cross-entropy).
    filters : int, default=16
        Filters in the first convolution.
    max_filters : int, default=128
        Most filters in any convolution.
    dense_units : int, default=0
        Units of a hidden dense layer before the output (0: none; 64 for
        feature rows when 0).
    dropout : float, default=0.25
        Dropout rate before the output layer.

    Returns
    -------
    keras.Model
        A compiled model.

    Examples
    --------
    >>> from skimgaug import AugmentedKerasClassifier
    >>> clf = AugmentedKerasClassifier(model__filters=8, epochs=1, verbose=0)
    """
    arguments = {
        "filters": filters,
        "max_filters": max_filters,
        "dense_units": dense_units,
        "dropout": dropout,
    }
    validate_params(arguments, DEFAULT_MODEL_CONSTRAINTS, "default_model")
    import keras

    input_shape = tuple(meta["X_shape_"][1:])
    inputs = keras.Input(shape=input_shape)
    x = inputs
    if len(input_shape) == 3:
        size = min(input_shape[:2])
        small = size < 2 * _SMALLEST_MAP
        block_filters = filters
        for block in range(1000):
            x = keras.layers.Conv2D(block_filters, 3, padding="same", use_bias=False)(x)
            x = keras.layers.BatchNormalization(momentum=0.9)(x)
            x = keras.layers.Activation("relu")(x)
            block_filters = min(2 * block_filters, max_filters)
            if small and block == 0:
                continue  # a second block: the receptive field must cover the digit
            if size < 2 * _SMALLEST_MAP:
                break
            x = keras.layers.MaxPooling2D(2)(x)
            size //= 2
        # Small images keep where things are; larger ones are pooled over space.
        x = keras.layers.Flatten()(x) if small else keras.layers.GlobalAveragePooling2D()(x)
    else:
        x = keras.layers.Flatten()(x)
        dense_units = dense_units or 64
    if dense_units:
        x = keras.layers.Dense(dense_units, activation="relu")(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    output, loss = output_layer_and_loss(meta, compile_kwargs.get("loss"))
    model = keras.Model(inputs, output(x))
    compile_kwargs = dict(compile_kwargs)
    if compile_kwargs.get("loss") is None:
        compile_kwargs["loss"] = loss
    model.compile(**compile_kwargs)
    return model
