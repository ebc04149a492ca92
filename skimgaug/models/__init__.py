"""Model builders, with scikeras' builder signature.

Every keyword argument except ``meta`` and ``compile_kwargs`` can be set and
grid-searched through the estimator as ``model__<name>``, for example
``AugmentedKerasClassifier(model__filters=32)``.

- :func:`default_model`: a small CNN that adapts its depth to the image size.
- :func:`pretrained`: a ``keras.applications`` backbone with a new head.
"""

from ._default import DEFAULT_LEARNING_RATE, default_model
from ._heads import loss_for, output_layer_and_loss
from ._pretrained import PRETRAINED_NAMES, pretrained

__all__ = [
    "DEFAULT_LEARNING_RATE",
    "PRETRAINED_NAMES",
    "default_model",
    "loss_for",
    "output_layer_and_loss",
    "pretrained",
]


def __getattr__(name):
    # The Keras layer is defined when first asked for (importing Keras is slow).
    if name == "ImageNetPreprocessing":
        from . import _pretrained

        return _pretrained.ImageNetPreprocessing
    raise AttributeError(f"module 'skimgaug.models' has no attribute {name!r}")
