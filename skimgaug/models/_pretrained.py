"""Transfer learning: model builders around a ``keras.applications`` backbone.

:func:`pretrained` returns a builder with scikeras' builder signature, so that
``AugmentedKerasClassifier(model=pretrained("mobilenet_v3_small"))`` trains a
new classification head on an ImageNet backbone. The builder is a small
picklable object with a readable ``repr`` and ``==``, so ``sklearn.base.clone``,
``GridSearchCV(n_jobs=...)`` and pickling keep it.

Importing this module does not import Keras: the preprocessing layer
:class:`ImageNetPreprocessing` is defined and registered with Keras the first
time a model is built, a builder is unpickled, or the name is imported
(``from skimgaug.models._pretrained import ImageNetPreprocessing``), which is what a
new process needs before ``keras.saving.load_model`` of a saved model.
"""

import difflib
import functools
import os
import warnings
from dataclasses import dataclass

import numpy as np

from .._validation import Constraint, is_int, real, refusal, validate_params
from ..exceptions import InvalidParameterError
from ._layers import define_layers

__all__ = ["PRETRAINED_NAMES", "PretrainedBuilder", "pretrained"]

_OWNER = "pretrained"

#: Smallest height and width every backbone below accepts.
_MIN_SIZE = 32


@dataclass(frozen=True)
class _Backbone:
    """One supported ``keras.applications`` architecture."""

    keras_name: str
    #: ImageNetPreprocessing mode put in front of the backbone, or None when the
    #: backbone preprocesses its 0..255 input itself.
    preprocessing: str | None
    #: The file Keras downloads into its cache for ``include_top=False``.
    imagenet_file: str
    #: Extra keyword arguments of the application.
    options: tuple = ()


_BACKBONES = {
    "mobilenet_v3_small": _Backbone(
        "MobileNetV3Small",
        None,
        "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
        (("include_preprocessing", True),),
    ),
    "mobilenet_v3_large": _Backbone(
        "MobileNetV3Large",
        None,
        "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
        (("include_preprocessing", True),),
    ),
    "efficientnet_b0": _Backbone("EfficientNetB0", None, "efficientnetb0_notop.h5"),
    "resnet50": _Backbone(
        "ResNet50", "caffe", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
}

#: The backbone names :func:`pretrained` accepts (the Keras class names, in
#: any case, work too).
PRETRAINED_NAMES = tuple(_BACKBONES)

_ALIASES = {
    **{name: name for name in _BACKBONES},
    **{spec.keras_name.lower(): name for name, spec in _BACKBONES.items()},
}


# ----------------------------------------------------------------------
# Validation of pretrained()'s arguments
# ----------------------------------------------------------------------
def _check_name(name):
    if not isinstance(name, str):
        raise InvalidParameterError(refusal("name", _OWNER, "a str", name))
    key = name.strip().lower().replace("-", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    close = difflib.get_close_matches(key, _ALIASES, n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(_ALIASES[match] for match in close))
    hint = f" Did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    keras_names = ", ".join(spec.keras_name for spec in _BACKBONES.values())
    allowed = (
        f"one of {', '.join(repr(n) for n in PRETRAINED_NAMES)} (or the Keras class names "
        f"{keras_names}, in any case)"
    )
    raise InvalidParameterError(refusal("name", _OWNER, allowed, name) + hint)


#: What :func:`pretrained`'s other arguments accept.
_CONSTRAINTS = {
    "weights": Constraint(
        "'imagenet', None or the path to a weights file",
        lambda v: v is None or v == "imagenet" or isinstance(v, (str, os.PathLike)),
        lambda v: v if v is None or v == "imagenet" else os.fspath(v),
    ),
    "trainable": Constraint(
        "a bool or a positive int (the number of last layers to fine-tune)",
        lambda v: isinstance(v, (bool, np.bool_)) or (is_int(v) and v > 0),
        lambda v: bool(v) if isinstance(v, (bool, np.bool_)) else int(v),
    ),
    "dropout": real(0, 1, high_open=True),
}


# ----------------------------------------------------------------------
# The public factory and the builder it returns
# ----------------------------------------------------------------------
def pretrained(name, weights="imagenet", trainable=False, dropout=0.2):
    """A model builder: an ImageNet backbone from ``keras.applications`` and a new head.

    The model is ``input -> [upsample] -> [grayscale to RGB] -> [preprocess]
    -> backbone (include_top=False) -> global average pooling -> dropout ->
    output``, where the output layer and loss fit the labels, as in
    :func:`skimgaug.models.default_model`.

    Parameters
    ----------
    name : str
        One of :data:`PRETRAINED_NAMES` (``"mobilenet_v3_small"``,
        ``"mobilenet_v3_large"``, ``"efficientnet_b0"``, ``"resnet50"``), or
        the Keras class name (``"MobileNetV3Small"``, any case).
    weights : "imagenet", None or path-like, default="imagenet"
        ``"imagenet"``: Keras' ImageNet weights, downloaded once into its
        cache (``~/.keras/models/``, or ``$KERAS_HOME/models/``). ``None``:
        random initialization. A path: a weights file (``.weights.h5``, or
        Keras' own ``.h5``) saved from the same architecture built with
        ``include_top=False``, for example by
        ``keras.applications.ResNet50(include_top=False).save_weights(
        "resnet50.weights.h5")``.
    trainable : bool or int, default=False
        ``False``: the backbone is frozen, only the head trains; its
        BatchNorm layers keep their ImageNet statistics (a frozen
        BatchNormalization runs in inference mode). With ``weights=None``
        that backbone stays random: useful for tests only.
        ``True``: every backbone layer trains, BatchNorm statistics included
        (for ``weights=None`` or large data sets). An int ``N > 0``: only the
        last ``N`` backbone layers that have weights, not counting
        BatchNormalization, train; BatchNorm layers stay frozen, in
        inference mode, as Keras' transfer-learning guide recommends for
        fine-tuning. ``N`` larger than the number of such layers unfreezes
        all of them.
    dropout : float, default=0.2
        Dropout rate between the pooled features and the output layer; 0
        leaves the dropout layer out.

    Returns
    -------
    PretrainedBuilder
        A ``functools.partial`` called as ``builder(meta, compile_kwargs)``,
        picklable and comparable with ``==``.

    Raises
    ------
    ValueError
        For an unknown ``name`` (with a "did you mean"), an out-of-range
        ``trainable`` or ``dropout``.
    TypeError
        For a ``trainable``, ``dropout`` or ``weights`` that is not of an
        accepted type at all.

    When the model is built (in ``fit``) the builder raises ``ValueError`` for
    images without 1 or 3 channels and for a weights file of another
    architecture, ``FileNotFoundError`` for a missing weights file, and
    ``OSError`` when Keras cannot get the ImageNet weights.

    Notes
    -----
    **Inputs are pixel values in 0..255.** The backbone's own ImageNet
    preprocessing is part of the model and runs exactly once on every image,
    in training and in prediction: MobileNetV3 and EfficientNet include it
    (a ``Rescaling`` layer), ResNet50 gets an :class:`ImageNetPreprocessing`
    layer (``"caffe"``: RGB to BGR, minus the ImageNet channel means). So
    leave ``rescale=1/255``, ``featurewise_center`` and the other
    standardization options out of ``datagen``; the builder cannot see them
    and would preprocess already-rescaled images.

    **Image size.** The backbones need at least 32x32 pixels: smaller images
    are upsampled inside the model (bilinear ``Resizing``, keeping the aspect
    ratio, so that the smaller side is 32). Larger images are used at their
    size; the backbones are fully convolutional.

    **Channels.** Grayscale images (1 channel) are repeated to 3 channels
    inside the model; 3 channels are read as RGB; other channel counts
    (such as RGBA) are refused when the model is built.

    **Weights.** Offline, ``weights="imagenet"`` fails with the name of the
    file Keras looks for in its cache: copy that file there, or pass its path
    as ``weights``. For EfficientNet prefer the cache: Keras adds an extra
    ImageNet-only rescaling layer when it loads ``"imagenet"`` itself, not
    when it loads a file.

    **Training mode.** Keras 3 functional models pass ``fit``'s
    ``training=True`` to every nested layer, so the backbone's own
    training-only layers other than frozen BatchNorm, such as EfficientNet's
    stochastic-depth dropout, are active during ``fit`` even when the
    backbone is frozen (MobileNetV3 and ResNet50 have none without their top).

    The settings can be overridden and grid-searched through the estimator
    as ``model__name``, ``model__weights``, ``model__trainable`` and
    ``model__dropout``.

    Examples
    --------
    >>> from skimgaug import AugmentedKerasClassifier
    >>> builder = pretrained("MobileNetV3Small", weights=None, trainable=2)
    >>> builder
    pretrained('mobilenet_v3_small', weights=None, trainable=2, dropout=0.2)
    >>> clf = AugmentedKerasClassifier(model=builder, epochs=1, verbose=0)
    """
    name = _check_name(name)
    checked = validate_params(
        {"weights": weights, "trainable": trainable, "dropout": dropout}, _CONSTRAINTS, _OWNER
    )
    return PretrainedBuilder(name, checked["weights"], checked["trainable"], checked["dropout"])


class PretrainedBuilder(functools.partial):
    """A scikeras model builder made by :func:`pretrained`; see there.

    scikeras accepts a function or a ``functools.partial`` as ``model``, and
    reads its signature to pass ``meta`` and ``compile_kwargs``; this is a
    ``partial`` of ``_build_pretrained(meta, compile_kwargs, *, name, weights,
    trainable, dropout)`` with a readable ``repr``, ``==`` and pickling.
    Because the settings are keyword arguments of the partial, scikeras can
    override them: ``model__trainable=2``, ``model__dropout=0.5``, or a grid
    over ``model__name``.

    Parameters
    ----------
    name : str
        Canonical backbone name, one of :data:`PRETRAINED_NAMES`.
    weights : "imagenet", None or str
    trainable : bool or int
    dropout : float
    """

    def __new__(cls, name, weights, trainable, dropout):
        return super().__new__(
            cls,
            _build_pretrained,
            name=name,
            weights=weights,
            trainable=trainable,
            dropout=dropout,
        )

    name = property(lambda self: self.keywords["name"])
    weights = property(lambda self: self.keywords["weights"])
    trainable = property(lambda self: self.keywords["trainable"])
    dropout = property(lambda self: self.keywords["dropout"])

    def _key(self):
        # True == 1 in Python, but trainable=True and trainable=1 differ.
        trainable = (isinstance(self.trainable, bool), self.trainable)
        return (self.name, self.weights, trainable, self.dropout)

    def __eq__(self, other):
        if not isinstance(other, PretrainedBuilder):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return (
            f"{_OWNER}({self.name!r}, weights={self.weights!r}, "
            f"trainable={self.trainable!r}, dropout={self.dropout!r})"
        )

    def __reduce__(self):
        # Unpickling registers the preprocessing layer, so that a pickled
        # estimator's Keras model, which comes after its builder, can be loaded.
        return (_unpickle_builder, (self.name, self.weights, self.trainable, self.dropout))

    def build(self, meta, compile_kwargs):
        """Build and compile the model.

        Parameters
        ----------
        meta : dict
            scikeras metadata: ``X_shape_`` (images ``(n, h, w, c)``),
            ``target_type_``, ``n_classes_``.
        compile_kwargs : dict
            scikeras' compile arguments. A loss given to the estimator is
            used; otherwise one that fits the labels.

        Returns
        -------
        keras.Model
            A compiled model taking ``(h, w, c)`` images with values in 0..255.
        """
        import keras

        from ._heads import output_layer_and_loss

        spec = _BACKBONES[self.name]
        height, width, channels = self._image_shape(meta)
        if self.weights not in (None, "imagenet"):
            _check_weights_file(self.weights, spec, self)
        inputs = keras.Input(shape=(height, width, channels), name="image")
        x = inputs
        size = _backbone_size(height, width)
        if size != (height, width):
            x = keras.layers.Resizing(*size, interpolation="bilinear", name="upsample")(x)
        if channels == 1:
            x = keras.layers.Concatenate(name="grayscale_to_rgb")([x, x, x])
        if spec.preprocessing is not None:
            preprocessing = define_layers()
            x = preprocessing(spec.preprocessing, name=f"{self.name}_preprocessing")(x)
        backbone = self._backbone(spec, size)
        _set_trainable(backbone, self.trainable)
        # Frozen or partly fine-tuned: what keeps BatchNorm in inference mode is
        # its trainable=False (Keras 3 BatchNormalization then ignores
        # training=True). training=False is the transfer-learning guide's call,
        # but Keras 3.15 functional models pass fit's training=True to nested
        # calls over it, so it only holds outside fit.
        x = backbone(x) if self.trainable is True else backbone(x, training=False)
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if self.dropout:
            x = keras.layers.Dropout(self.dropout, name="head_dropout")(x)
        output, loss = output_layer_and_loss(meta)
        model = keras.Model(inputs, output(x), name=f"{self.name}_transfer")
        compile_kwargs = dict(compile_kwargs)
        if compile_kwargs.get("loss") is None:
            compile_kwargs["loss"] = loss
        model.compile(**compile_kwargs)
        return model

    def _image_shape(self, meta):
        shape = tuple(meta["X_shape_"][1:])
        if len(shape) != 3:
            raise ValueError(
                f"{self!r} needs images (n, height, width, channels); got samples of "
                f"shape {shape}. Pass images, or image_shape=(h, w, c) for rows."
            )
        if shape[2] not in (1, 3):
            raise ValueError(
                f"{self!r} takes images with 1 (grayscale) or 3 (RGB) channels; got "
                f"{shape[2]} channels{' (RGBA?)' if shape[2] == 4 else ''}, shape {shape}. "
                "Drop the extra channels, e.g. color_mode='rgb' for image files."
            )
        return shape

    def _backbone(self, spec, size):
        """The ``keras.applications`` model, with the weights asked for."""
        import keras

        application = getattr(keras.applications, spec.keras_name)
        kwargs = dict(spec.options, input_shape=(*size, 3), include_top=False)
        if self.weights != "imagenet":
            backbone = application(weights=None, **kwargs)
            if self.weights is not None:
                _load_weights(backbone, self.weights, spec, self)
                if spec.keras_name.startswith("EfficientNetB"):
                    _match_imagenet_efficientnet(backbone)
            return backbone
        try:
            with warnings.catch_warnings():
                # MobileNetV3 warns that it loads the 224x224 weights for other
                # sizes: without the top, the same weights fit every size.
                warnings.filterwarnings("ignore", "`input_shape` is undefined or non-square")
                return application(weights="imagenet", **kwargs)
        except Exception as err:  # the download, the hash check or the file
            cache = os.path.join(_keras_cache_dir(), "models")
            raise OSError(
                f"{self!r} could not get the ImageNet weights of {spec.keras_name}: Keras "
                f"looks for {spec.imagenet_file!r} in {cache}{os.sep} and downloads it "
                f"when it is missing ({type(err).__name__}: {err}). Without internet, "
                f"copy that file there (download it elsewhere with keras.applications."
                f"{spec.keras_name}(include_top=False)), or pass a local file: "
                f"pretrained({self.name!r}, weights='path/to/{spec.imagenet_file}') (on "
                f"the command line: --weights path/to/{spec.imagenet_file}). "
                "weights=None starts from random weights."
            ) from err


def _build_pretrained(meta, compile_kwargs, *, name, weights, trainable, dropout):
    """What a :class:`PretrainedBuilder` calls: validate the settings, then build.

    scikeras may have overridden any setting with ``model__<name>=...``, so
    they are checked here again.
    """
    return pretrained(name, weights, trainable, dropout).build(meta, compile_kwargs)


def _unpickle_builder(name, weights, trainable, dropout):
    define_layers()
    return PretrainedBuilder(name, weights, trainable, dropout)


# ----------------------------------------------------------------------
# Model pieces
# ----------------------------------------------------------------------
def _backbone_size(height, width):
    """(height, width) scaled up so that the smaller side is at least _MIN_SIZE."""
    smaller = min(height, width)
    if smaller >= _MIN_SIZE:
        return height, width
    return -(-height * _MIN_SIZE // smaller), -(-width * _MIN_SIZE // smaller)


def _set_trainable(backbone, trainable):
    """Freeze the backbone, unfreeze it, or unfreeze its last layers (not BatchNorm)."""
    import keras

    if trainable is True or trainable is False:
        backbone.trainable = trainable
        return
    backbone.trainable = True
    tunable = [
        layer
        for layer in backbone.layers
        if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)
    ]
    unfrozen = {id(layer) for layer in tunable[-trainable:]}
    for layer in backbone.layers:
        layer.trainable = id(layer) in unfrozen


def _check_weights_file(path, spec, builder):
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{builder!r}: the weights file {path!r} does not exist. weights must be "
            f"'imagenet', None or the path to a weights file saved from keras.applications."
            f"{spec.keras_name}(include_top=False)."
        )


def _load_weights(backbone, path, spec, builder):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            backbone.load_weights(path)
        except (ValueError, OSError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(
                f"{builder!r}: the weights file {path!r} does not fit {spec.keras_name}"
                f"(include_top=False) ({reason}). Pass a .weights.h5 file saved from "
                f"keras.applications.{spec.keras_name}(include_top=False) with "
                f"save_weights, or Keras' own {spec.imagenet_file!r}."
            ) from err
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


#: ImageNet's channel means and standard deviations, as EfficientNet normalizes with them.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _match_imagenet_efficientnet(backbone):
    """Make an EfficientNet built with a local ImageNet weights file compute as Keras' own.

    Keras' ImageNet file stores ImageNet's std, not std², as the variance of
    the stem's ``Normalization`` (tensorflow/tensorflow#49930), so with
    ``weights="imagenet"`` Keras adds a ``Rescaling(1 / sqrt(std))`` after it;
    with ``weights=None`` and the file loaded after, it does not, and every
    image would be scaled differently from the ImageNet training. When the
    loaded normalization holds ImageNet's mean and std, its variance is
    multiplied by std, which gives Keras' outputs: ``(x - mean) / sqrt(std ·
    std)``. A file whose statistics differ (a backbone saved after this
    correction, say) is left as it is.
    """
    import keras

    layers = [layer for layer in backbone.layers if isinstance(layer, keras.layers.Normalization)]
    if not layers:
        return
    mean, variance, *rest = layers[0].get_weights()
    std = np.array(_IMAGENET_STD, dtype=variance.dtype)
    if np.allclose(mean.ravel(), _IMAGENET_MEAN, atol=1e-3) and np.allclose(
        variance.ravel(), std, rtol=1e-2
    ):
        layers[0].set_weights([mean, variance * std.reshape(variance.shape), *rest])
        layers[0].finalize_state()  # the layer computes with what this derives from them


def _keras_cache_dir():
    """Where ``keras.utils.get_file`` keeps downloads (``~/.keras`` or ``$KERAS_HOME``)."""
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp", ".keras")
    return base


def __getattr__(name):
    if name == "ImageNetPreprocessing":
        return define_layers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
