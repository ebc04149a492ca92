"""skimgaug: cross-validate Keras image classifiers with augmentation inside ``fit``.

Random augmentation only ever touches training batches and standardization
statistics come from the training data of each ``fit`` call, so scikit-learn's
``cross_val_score``, ``GridSearchCV`` and ``Pipeline`` give honest scores.
"""

from ._classifier import AugmentedKerasClassifier
from ._datagen import DATAGEN_KEYS

__all__ = ["AugmentedKerasClassifier", "DATAGEN_KEYS"]
__version__ = "0.1.0"
