"""skimgaug: cross-validate Keras image classifiers with augmentation inside ``fit``.

Random augmentation only ever touches training batches and standardization
statistics come from the training data of each ``fit`` call, so scikit-learn's
``cross_val_score``, ``GridSearchCV`` and ``Pipeline`` give honest scores.

``import skimgaug`` is light: TensorFlow is imported on first use of
:class:`AugmentedKerasClassifier` or :class:`AugmentedKerasRegressor`.
"""

import random as _python_random

# Importing scikit-learn, TensorFlow and their dependencies draws from Python's
# global random (rich, for one, seeds itself from it): the caller's generator is
# put back as it was, here and when the estimator is first imported.
_state = _python_random.getstate()
try:
    from ._augment._keys import DATAGEN_KEYS
    from ._fresh import fresh_processes
    from ._persistence._export import export_model
    from ._persistence._folder import load_model, save_model
    from ._version import __version__ as __version__
finally:
    _python_random.setstate(_state)
    del _state

__all__ = [
    "AugmentedKerasClassifier",
    "AugmentedKerasRegressor",
    "DATAGEN_KEYS",
    "Evaluation",
    "evaluate",
    "export_model",
    "fresh_processes",
    "load_model",
    "plot_augmentations",
    "save_augmentation_preview",
    "save_model",
]


#: The estimators, imported on first use (they import TensorFlow).
_ESTIMATORS = {
    "AugmentedKerasClassifier": "._estimator._classifier",
    "AugmentedKerasRegressor": "._estimator._regressor",
}


def __getattr__(name):
    if name in _ESTIMATORS:
        import importlib

        state = _python_random.getstate()
        try:
            module = importlib.import_module(_ESTIMATORS[name], __name__)
        finally:
            _python_random.setstate(state)
        return getattr(module, name)
    if name in ("Evaluation", "evaluate"):
        from . import evaluation

        return getattr(evaluation, name)
    if name in ("plot_augmentations", "save_augmentation_preview"):
        from ._augment import _preview

        return getattr(_preview, name)
    raise AttributeError(f"module 'skimgaug' has no attribute {name!r}")


def __dir__():
    return sorted(__all__ + ["__version__"])
