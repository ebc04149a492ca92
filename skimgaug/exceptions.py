"""Warnings skimgaug emits, to filter or to turn into errors.

Examples
--------
>>> import warnings
>>> from skimgaug.exceptions import ChanceLevelWarning
>>> warnings.simplefilter("error", ChanceLevelWarning)  # fail instead of warning
>>> warnings.resetwarnings()
"""

__all__ = ["ChanceLevelWarning", "MixedImageSizesWarning"]


class ChanceLevelWarning(UserWarning):
    """A fit whose training loss ended at chance level: the model has not learned."""


class MixedImageSizesWarning(UserWarning):
    """Image files of different sizes were resized to the most common size."""
