"""The estimator's parameters: their names and one table of constraints.

Read by ``fit`` (through :func:`~skimgaug._estimator._settings.check_settings`),
by ``predict`` for the inference parameters, by ``skimgaug search``'s grid
checks and by the command line's option types, so that a value is refused
the same way from Python, from a grid file and from an option. Importing
this module does not import TensorFlow.
"""

import numpy as np

from .._validation import (
    BATCH_SIZE,
    BOOLEAN,
    CACHE,
    CLASS_WEIGHT,
    COLOR_MODE,
    ENGINE,
    IMAGE_SHAPE,
    LEARNING_RATE,
    RANDOM_STATE,
    TARGET_SIZE,
    WINDOW,
    Constraint,
    check_param,
    integer,
    one_of,
    real,
    validate_params,
)

#: Who the parameters belong to, in messages.
OWNER = "AugmentedKerasClassifier"

#: ``AugmentedKerasClassifier.__init__``'s parameters, in order (pinned to the
#: signature by a test): skimgaug's own, then scikeras'.
PARAMETERS = (
    "model",
    "datagen",
    "augment",
    "image_shape",
    "engine",
    "target_size",
    "color_mode",
    "window",
    "tta",
    "balance",
    "cache",
    "build_fn",
    "warm_start",
    "random_state",
    "optimizer",
    "loss",
    "metrics",
    "batch_size",
    "validation_batch_size",
    "verbose",
    "callbacks",
    "validation_split",
    "shuffle",
    "run_eagerly",
    "epochs",
    "class_weight",
)

#: ``AugmentedKerasRegressor.__init__``'s parameters, in order (pinned by a test):
#: the classifier's without ``balance`` and ``class_weight``, with ``standardize_target``.
REGRESSOR_PARAMETERS = tuple(name for name in PARAMETERS if name not in ("balance", "class_weight"))
REGRESSOR_PARAMETERS = (
    *REGRESSOR_PARAMETERS[: REGRESSOR_PARAMETERS.index("cache") + 1],
    "standardize_target",
    *REGRESSOR_PARAMETERS[REGRESSOR_PARAMETERS.index("cache") + 1 :],
)


EPOCHS = integer(1)
VALIDATION_SPLIT = real(0, 1, high_open=True)
#: Keras' verbosity: 0, 1, 2 or "auto" (a bool, as scikeras' tests pass it, is 0 or 1).
_VERBOSITY = one_of(0, 1, 2, "auto")
VERBOSE = Constraint(
    "one of 0, 1, 2, 'auto' or a bool",
    lambda v: isinstance(v, (bool, np.bool_)) or _VERBOSITY._accepts(v),
)

#: What each parameter accepts. ``model``, ``build_fn``, ``optimizer``,
#: ``loss``, ``metrics`` and ``callbacks`` are Keras objects or names that
#: Keras checks when the model is compiled; ``datagen``'s keys are checked by
#: :func:`skimgaug._augment._keys.resolve_datagen` and ``augment``'s by
#: :func:`skimgaug._augment._augment_keys.resolve_augment` (their own key tables).
PARAMETER_CONSTRAINTS = {
    "datagen": Constraint(
        "None or a dict of ImageDataGenerator settings",
        lambda v: v is None or isinstance(v, dict),
    ),
    "augment": Constraint(
        "None or a dict of augment settings", lambda v: v is None or isinstance(v, dict)
    ),
    "image_shape": IMAGE_SHAPE,
    "engine": ENGINE,
    "target_size": TARGET_SIZE,
    "color_mode": COLOR_MODE,
    "window": WINDOW,
    "tta": integer(
        0,
        note="(the number of augmented copies averaged with each image at prediction; 0 for none)",
    ),
    "balance": one_of(None, "oversample"),
    "cache": CACHE,
    "standardize_target": BOOLEAN,  # AugmentedKerasRegressor's
    "warm_start": BOOLEAN,
    "random_state": RANDOM_STATE,
    "batch_size": BATCH_SIZE,
    "validation_batch_size": BATCH_SIZE,
    "verbose": VERBOSE,
    "validation_split": VALIDATION_SPLIT,
    "shuffle": BOOLEAN,
    "run_eagerly": BOOLEAN,
    "epochs": EPOCHS,
    "class_weight": CLASS_WEIGHT,
}

#: Routed parameters (scikeras' ``fit__``, ``predict__``, ``optimizer__``
#: prefixes) that skimgaug checks like their plain forms.
ROUTED_CONSTRAINTS = {
    "fit__batch_size": BATCH_SIZE,
    "fit__validation_batch_size": BATCH_SIZE,
    "predict__batch_size": BATCH_SIZE,
    "fit__epochs": EPOCHS,
    "fit__verbose": VERBOSE,
    "predict__verbose": VERBOSE,
    "fit__shuffle": BOOLEAN,
    "fit__class_weight": CLASS_WEIGHT,
    "fit__validation_split": VALIDATION_SPLIT,
    "optimizer__learning_rate": LEARNING_RATE,
}

#: Keyword arguments of ``fit``/``partial_fit`` (passed on to Keras) checked like the parameters.
FIT_ARGUMENT_CONSTRAINTS = {
    "batch_size": BATCH_SIZE,
    "validation_batch_size": BATCH_SIZE,
    "epochs": EPOCHS,
    "verbose": VERBOSE,
    "shuffle": BOOLEAN,
    "class_weight": CLASS_WEIGHT,
    "validation_split": VALIDATION_SPLIT,
}

#: The parameters read at prediction time (they may change after ``fit``).
INFERENCE_PARAMETERS = ("tta", "cache")


def constraint_for(name):
    """The constraint of parameter ``name`` (plain or routed), or None."""
    return PARAMETER_CONSTRAINTS.get(name) or ROUTED_CONSTRAINTS.get(name)


def model_constraints(default_model):
    """``model__<name>`` constraints: the default model's arguments, or none."""
    if not default_model:
        return {}
    from ..models._default import DEFAULT_MODEL_CONSTRAINTS

    return {f"model__{name}": c for name, c in DEFAULT_MODEL_CONSTRAINTS.items()}


def validate_parameters(params, owner=OWNER, default_model=False):
    """Every parameter of ``params`` that has a constraint, checked and converted.

    Parameters
    ----------
    params : dict
        ``get_params()`` of the estimator (routed keys included), or part of it.
    owner : str, default="AugmentedKerasClassifier"
    default_model : bool, default=False
        The model is :func:`skimgaug.models.default_model`: its ``model__<name>``
        arguments are checked too.

    Returns
    -------
    dict

    Raises
    ------
    InvalidParameterError
        Listing every refused parameter.
    """
    constraints = {
        **PARAMETER_CONSTRAINTS,
        **ROUTED_CONSTRAINTS,
        **model_constraints(default_model),
    }
    return validate_params(params, constraints, owner)


def validate_fit_arguments(kwargs, owner=OWNER):
    """``fit(**kwargs)``'s arguments that have a constraint, named ``fit(name=...)``."""
    for name, value in kwargs.items():
        constraint = FIT_ARGUMENT_CONSTRAINTS.get(name)
        if constraint is not None:
            check_param(f"fit({name}=...)", value, constraint, owner)


def validate_parameter(name, value, owner=OWNER):
    """One parameter's value, checked and converted (unchanged if it has no constraint)."""
    constraint = constraint_for(name)
    return value if constraint is None else check_param(name, value, constraint, owner)
