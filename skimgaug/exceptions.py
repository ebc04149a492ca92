"""Warnings and errors skimgaug raises, to filter, catch or turn into errors.

Examples
--------
>>> import warnings
>>> from skimgaug.exceptions import ChanceLevelWarning
>>> warnings.simplefilter("error", ChanceLevelWarning)  # fail instead of warning
>>> warnings.resetwarnings()
"""

__all__ = [
    "CacheWarning",
    "ChanceLevelWarning",
    "InputRangeWarning",
    "InvalidParameterError",
    "MixedImageSizesWarning",
]


class CacheWarning(UserWarning):
    """A decoded-image cache folder that is not safe to use; images stay in memory only.

    The folder is a symbolic link, is not owned by the user, or others may
    write to it (see :mod:`skimgaug`'s ``cache`` parameter).
    """


class ChanceLevelWarning(UserWarning):
    """A fit whose training loss ended at chance level: the model has not learned."""


class InputRangeWarning(UserWarning):
    """Images predicted on hold pixel values far outside those the model was trained on.

    Such as 8-bit PNG files (0-255) given to a model trained on the digits'
    arrays (0-16): the model sees values it never saw and its predictions
    mean little. Scale them as the training images were scaled.
    """


class MixedImageSizesWarning(UserWarning):
    """Image files of different sizes were resized to the most common size."""


class InvalidParameterError(ValueError, TypeError):
    """A parameter whose value (or type) its owner does not accept.

    Raised before any training, by ``fit``, the preview, the grid checks and
    the command line alike, with one wording: "The 'x' parameter of Owner
    must be ... Got ... instead." Both a ``ValueError`` and a ``TypeError``,
    as scikit-learn's exception of the same name, so either can be caught.
    """
