"""The one version-aware module.

Every import or behaviour that depends on the release of Keras, TensorFlow,
scikeras or scikit-learn goes through here, so that a new release breaks one
file, not the package.
"""

import contextlib
import functools
import logging
import os
import random
import warnings

from ._parallel import SharedSetting


def import_tensorflow():
    """Import TensorFlow, Keras and scikeras with Python's global ``random`` left as it was.

    Importing them draws from Python's ``random`` (a dependency seeds its own
    generator from it); the first estimator a process imports would otherwise
    advance the caller's generator.
    """
    state = random.getstate()
    try:
        import keras  # noqa: F401
        import scikeras.wrappers  # noqa: F401
        import tensorflow  # noqa: F401
    finally:
        random.setstate(state)


@functools.cache
def image_data_generator_class():
    """Return Keras' legacy ``ImageDataGenerator`` class.

    In Keras 3, ``keras.preprocessing.image`` no longer exports it; the legacy
    implementation is still reachable as
    ``tf.keras.preprocessing.image.ImageDataGenerator``.
    """
    import tensorflow as tf

    try:
        return tf.keras.preprocessing.image.ImageDataGenerator
    except AttributeError:  # pragma: no cover - depends on the installed Keras
        from keras.src.legacy.preprocessing.image import ImageDataGenerator

        return ImageDataGenerator


def make_image_data_generator(**kwargs):
    """Instantiate ``ImageDataGenerator`` without its chatty override warnings.

    ``ImageDataGenerator`` warns when ``zca_whitening`` implies
    ``featurewise_center`` and similar; skimgaug documents those implications
    instead of repeating them on every fit.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*which overrides setting of.*")
        return image_data_generator_class()(**kwargs)


@contextlib.contextmanager
def quiet_legacy_transforms():
    """Silence the deprecation warnings the legacy transforms emit per image.

    Keras' legacy ``apply_affine_transform`` reaches
    ``scipy.ndimage.interpolation.affine_transform``, which SciPy deprecates,
    so every augmented image would warn. Scoped to one batch.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r".*scipy\.ndimage\.interpolation.*",
            category=DeprecationWarning,
        )
        yield


def py_dataset_class():
    """Return the Keras ``PyDataset`` base class (``Sequence`` before Keras 3)."""
    import keras

    return keras.utils.PyDataset


def route_params(params, destination, pass_filter, strict=False):
    """scikeras' parameter router (``fit__batch_size`` -> ``batch_size``)."""
    from scikeras._utils import route_params as _route_params

    return _route_params(params, destination, pass_filter, strict=strict)


def classifier_tags(tags):
    """Make scikeras' tags say *classifier* on scikit-learn >= 1.6.

    scikeras 0.13 sets ``_estimator_type`` and ``_more_tags``, which
    scikit-learn >= 1.6 no longer reads: ``BaseEstimator.__sklearn_tags__``
    comes before ``ClassifierMixin`` in scikeras' MRO, so ``is_classifier``
    is False and ``cv=5`` silently stops stratifying.
    """
    from sklearn.utils import ClassifierTags

    tags.estimator_type = "classifier"
    tags.classifier_tags = ClassifierTags(poor_score=True, multi_label=True)
    tags.target_tags.required = True
    tags.input_tags.three_d_array = True
    return tags


def regressor_tags(tags):
    """Make scikeras' tags say *regressor* on scikit-learn >= 1.6 (see :func:`classifier_tags`).

    Without it ``is_regressor`` is False, and ``cross_val_score(reg, X, y,
    cv=5)`` would still split with a plain ``KFold`` but ``GridSearchCV``'s
    refit, scorers and meta-estimators would not know what they hold.
    """
    from sklearn.utils import RegressorTags

    tags.estimator_type = "regressor"
    tags.regressor_tags = RegressorTags(poor_score=True)
    tags.target_tags.required = True
    tags.input_tags.three_d_array = True
    return tags


def as_2d_proba(proba, n_samples):
    """Undo scikeras' ``np.squeeze`` of ``predict_proba`` for one sample."""
    if proba.ndim == 1 and n_samples == 1:
        return proba.reshape(1, -1)
    return proba


def refine_target_type(target_type, y):
    """Tell one-hot targets from multilabel ones in scikeras' ``target_type_``.

    scikeras' encoder treats an indicator matrix with exactly one 1 per row as
    ``"multiclass-onehot"`` but reports ``target_type_`` as
    ``"multilabel-indicator"``, so a model builder could not pick softmax.
    """
    if target_type == "multilabel-indicator" and y.min() == 0 and (y.sum(axis=1) == 1).all():
        return "multiclass-onehot"
    return target_type


def _op_determinism():
    from tensorflow.python.framework import config

    return config.is_op_determinism_enabled()


def _set_op_determinism(enabled):
    from tensorflow.python.framework import config

    if config.is_op_determinism_enabled() != enabled:
        if enabled:
            config.enable_op_determinism()
        else:
            config.disable_op_determinism()


def _seeded_state():
    """What scikeras' seeded fit sets besides op determinism: an environment
    variable and TensorFlow's global seed."""
    from scikeras.utils.random_state import tf_get_seed

    return os.environ.get("TF_DETERMINISTIC_OPS"), tf_get_seed()


def _set_seeded_state(state):
    from scikeras.utils.random_state import tf_set_seed

    variable, seed = state
    if variable is None:
        os.environ.pop("TF_DETERMINISTIC_OPS", None)
    else:
        os.environ["TF_DETERMINISTIC_OPS"] = variable
    tf_set_seed(seed)


_OP_DETERMINISM = SharedSetting(
    lambda: (_op_determinism(), _seeded_state()),
    lambda state: (_set_op_determinism(state[0]), _set_seeded_state(state[1])),
)


@contextlib.contextmanager
def preserved_op_determinism(seeded=False):
    """Context: TensorFlow's op determinism is left as it was before the block.

    scikeras 0.13 wraps a seeded ``model.fit`` in
    ``scikeras.utils.random_state.tensorflow_random_state``, which sets
    ``TF_DETERMINISTIC_OPS=1`` *before* asking TensorFlow whether op
    determinism was enabled. In a fresh process TensorFlow reads that
    variable on its first query and latches the answer, so scikeras believes
    determinism was already on and never turns it off: every later
    computation of the process is forced deterministic (and slower). The
    setting is read here before scikeras touches it, and put back after the
    last of overlapping fits (threads) ends.

    With ``seeded=True`` the variable is set ("1", as scikeras sets it) for
    the block: scikeras removes it with ``os.environ.pop`` without a default,
    which raises ``KeyError`` when two seeded fits in threads both found it
    absent; found present, it is put back instead.
    """
    with _OP_DETERMINISM.preserved():
        if seeded:
            os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
        yield


def _keras_seed_module():
    """Keras' module whose ``python_random`` draws default seeds, or None if it moved."""
    try:
        from keras.src.random import seed_generator
    except ImportError:
        return None
    return seed_generator if hasattr(seed_generator, "python_random") else None


def _keras_seed_source():
    module = _keras_seed_module()
    return None if module is None else module.python_random


def _set_keras_seed_source(source):
    module = _keras_seed_module()
    if module is not None and source is not None:
        module.python_random = source


_KERAS_SEEDS = SharedSetting(_keras_seed_source, _set_keras_seed_source)


@contextlib.contextmanager
def private_keras_seeds(seed):
    """Context: Keras draws its default seeds from a generator of its own, seeded.

    Keras 3 draws the seeds of initializers and dropout layers made without
    one from Python's global ``random`` (``keras.src.random.seed_generator``).
    Another thread drawing from it meanwhile (Dask's worker does, to sample
    sizes) changes which seeds a fit gets, so the same ``random_state`` gave
    different models on Dask workers. A seeded fit draws them from
    ``random.Random(seed)`` instead. ``seed=None`` changes nothing.
    """
    if seed is None or _keras_seed_module() is None:
        yield
        return
    with _KERAS_SEEDS.preserved():
        _set_keras_seed_source(random.Random(seed))
        yield


class _CrossModelRetracingFilter(logging.Filter):
    """Drop TensorFlow's retracing warning about Keras' own step functions."""

    def filter(self, record):
        message = record.getMessage()
        return not (
            "triggered tf.function retracing" in message and "TensorFlowTrainer." in message
        )


@contextlib.contextmanager
def quiet_cross_model_retracing():
    """Silence TensorFlow's retracing warning for Keras' step functions, in the block.

    TensorFlow counts traces by the Python code of the traced function, not
    by model: every fold of a cross-validation builds a new model whose
    ``predict`` function is traced once, so five folds look like "5 out of
    the last 11 calls ... triggered tf.function retracing". Within one model
    skimgaug avoids retracing (predict batches all have one shape), so the
    warning would only be noise. The filter is removed on exit.
    """
    logger = logging.getLogger("tensorflow")
    retracing = _CrossModelRetracingFilter()
    logger.addFilter(retracing)
    try:
        yield
    finally:
        logger.removeFilter(retracing)


def mlflow_current_experiment():
    """The id of MLflow's current experiment (``mlflow.set_experiment``, the environment).

    MLflow has no public getter for it; its fluent API's own helper is used
    when present, else the environment's ``MLFLOW_EXPERIMENT_ID`` or MLflow's
    default experiment ``"0"``.
    """
    import os

    import mlflow

    getter = getattr(getattr(mlflow.tracking, "fluent", None), "_get_experiment_id", None)
    if getter is not None:
        return getter()
    return os.environ.get("MLFLOW_EXPERIMENT_ID", "0")


def joblib_backend_base():
    """The base class of joblib's backends (in a private module of joblib, as Dask uses it)."""
    from joblib._parallel_backends import ParallelBackendBase

    return ParallelBackendBase


def recompile_with_loss(model, loss):
    """Compile ``model`` again with ``loss``, keeping its optimizer, metrics and options.

    Keras 3 keeps the arguments of the last ``compile`` in ``_compile_config``;
    the optimizer object is reused (it has not trained yet).
    """
    config = getattr(model, "_compile_config", None)
    kwargs = dict(getattr(config, "config", None) or {})
    kwargs["optimizer"] = model.optimizer
    kwargs["loss"] = loss
    model.compile(**kwargs)
