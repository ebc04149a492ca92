"""One contract for parameters: constraint primitives, and the function applying them.

A :class:`Constraint` says what a parameter accepts, in words used verbatim
in the message, and turns an accepted value into the form used downstream.
Every refusal is an :class:`~skimgaug.exceptions.InvalidParameterError`
(both a ``ValueError`` and a ``TypeError``) worded as scikit-learn words it:
"The 'x' parameter of Est must be ... Got ... instead." The estimator's
table of constraints is :data:`skimgaug._estimator._parameters.PARAMETER_CONSTRAINTS`;
the default model, the pretrained builder, the preview, the grid checks and
the command line's options use the same primitives.

Also here: the per-sample checks run before training (``sample_weight``)
and the check of what a model builder returned.
"""

import math
import numbers
import os

import numpy as np

from .exceptions import InvalidParameterError

#: The augmentation engines (see :mod:`skimgaug._augment._transforms`).
ENGINES = ("vectorized", "imagedatagenerator")
#: Color modes of decoded image files: PIL mode and channels.
COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
#: What ``balance`` accepts.
BALANCE_MODES = (None, "oversample")
#: Seeds: ints in [0, SEED_LIMIT), as NumPy's legacy ``RandomState`` takes them.
SEED_LIMIT = 2**32


def short_repr(value, limit=60):
    """``repr(value)``, cut to ``limit`` characters (for messages)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_int(value):
    """An integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value):
    """A real number (an int or a float), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def refusal(name, owner, allowed, value, reason=""):
    """The one wording of a refused parameter."""
    reason = f" ({reason})" if reason else ""
    got = short_repr(value)
    return f"The {name!r} parameter of {owner} must be {allowed}. Got {got}{reason} instead."


class Constraint:
    """What one parameter accepts.

    Parameters
    ----------
    description : str
        What is allowed, as the message says it ("an int >= 1").
    accepts : callable
        ``accepts(value)``: True, False, or a string saying why a value of
        the right kind is still refused (shown in the message).
    convert : callable, optional
        The accepted value's form downstream (``int(value)``, say).
    """

    def __init__(self, description, accepts, convert=None):
        self.description = description
        self._accepts = accepts
        self._convert = convert

    def __repr__(self):
        return f"Constraint({self.description!r})"

    def check(self, value, name, owner):
        """``value`` converted, or an :class:`InvalidParameterError` naming ``name``."""
        verdict = self._accepts(value)
        if verdict is not True:
            reason = verdict if isinstance(verdict, str) else ""
            raise InvalidParameterError(refusal(name, owner, self.description, value, reason))
        return self._convert(value) if self._convert is not None else value


def _bounds(low, high, low_open, high_open, name):
    if low is not None and high is not None:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        return f"{name} in {left}{low}, {high}{right}"
    if low is not None:
        return f"{name} {'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{name} {'<' if high_open else '<='} {high}"
    return name


def _within(value, low, high, low_open, high_open):
    return (low is None or (value > low if low_open else value >= low)) and (
        high is None or (value < high if high_open else value <= high)
    )


def integer(low=None, high=None, *, high_open=False, note=""):
    """An int in a range (bools refused); ``note`` is added to the description."""
    description = _bounds(low, high, False, high_open, "an int") + (f" {note}" if note else "")
    return Constraint(
        description,
        lambda v: is_int(v) and _within(v, low, high, False, high_open),
        int,
    )


def real(low=None, high=None, *, low_open=False, high_open=False, note=""):
    """A finite real number in a range (bools refused)."""
    description = _bounds(low, high, low_open, high_open, "a number")
    description += f" {note}" if note else ""
    return Constraint(
        description,
        lambda v: is_real(v) and math.isfinite(v) and _within(v, low, high, low_open, high_open),
        float,
    )


def one_of(*values):
    """One of ``values`` (compared by equality, bools apart from ints)."""
    shown = [repr(v) for v in values]
    if len(values) == 2 and None in values:
        description = " or ".join(shown)  # None or 'oversample'
    else:
        description = "one of " + ", ".join(shown)

    def accepts(value):
        return any(_same(value, v) for v in values)

    return Constraint(description, accepts)


def _same(value, option):
    if value is option:
        return True
    if option is None or isinstance(value, (bool, np.bool_)) != isinstance(option, bool):
        return False
    try:
        return bool(value == option)
    except (TypeError, ValueError):  # an array, say
        return False


BOOLEAN = Constraint("a bool (True or False)", lambda v: isinstance(v, (bool, np.bool_)), bool)


def none_or(constraint):
    """None, or what ``constraint`` accepts."""
    return Constraint(
        f"None or {constraint.description}",
        lambda v: True if v is None else constraint._accepts(v),
        lambda v: None if v is None else constraint.check(v, "", ""),
    )


def positive_pair(names):
    """A tuple of ``len(names)`` positive ints, e.g. ``(height, width)``."""
    return Constraint(
        f"a tuple ({', '.join(names)}) of positive ints",
        lambda v: (
            isinstance(v, (tuple, list))
            and len(v) == len(names)
            and all(is_int(x) and x > 0 for x in v)
        ),
        lambda v: tuple(int(x) for x in v),
    )


#: ``engine``, ``color_mode`` and ``target_size``, shared by the estimator and the preview.
ENGINE = one_of(*ENGINES)
COLOR_MODE = one_of(*COLOR_MODES)
TARGET_SIZE = none_or(positive_pair(("height", "width")))


def _accepts_image_shape(value):
    return (
        isinstance(value, (tuple, list))
        and len(value) in (2, 3)
        and all(is_int(x) and x > 0 for x in value)
    )


#: ``image_shape``: (height, width, channels), or (height, width) for one channel.
IMAGE_SHAPE = Constraint(
    "None or a tuple (height, width, channels) of positive ints (or (height, width) "
    "for one channel)",
    lambda v: v is None or _accepts_image_shape(v),
    lambda v: None if v is None else tuple(int(x) for x in v) + ((1,) if len(v) == 2 else ()),
)


def _accepts_random_state(value):
    if value is None or isinstance(value, np.random.RandomState):
        return True
    return is_int(value) and 0 <= value < SEED_LIMIT


#: ``random_state``: None, a seed or a legacy ``RandomState``.
RANDOM_STATE = Constraint(
    "None, an int in [0, 2**32) or a numpy.random.RandomState", _accepts_random_state
)


def _accepts_cache(value):
    if value is None or (isinstance(value, str) and value == "auto"):
        return True
    if not isinstance(value, (str, os.PathLike)):
        return False
    folder = os.fspath(value)
    if os.path.exists(folder) and not os.path.isdir(folder):
        return "it is a file"
    return True


#: ``cache``: None, "auto" or a folder.
CACHE = Constraint(
    "None, 'auto' or a folder path",
    _accepts_cache,
    lambda v: v if v is None or v == "auto" else os.fspath(v),
)

#: Batch sizes: None (Keras' default), -1 (all samples in one batch) or a size.
BATCH_SIZE = Constraint(
    "None, -1 (all samples in one batch) or an int >= 1",
    lambda v: v is None or (is_int(v) and (v >= 1 or v == -1)),
    lambda v: None if v is None else int(v),
)


def _accepts_class_weight(value):
    if value is None or (isinstance(value, str) and value == "balanced"):
        return True
    if not isinstance(value, dict):
        return False
    for label, weight in value.items():
        if not is_real(weight):
            return f"class {label!r} has weight {short_repr(weight, 30)}"
        if not math.isfinite(weight) or weight < 0:
            return f"class {label!r} has weight {weight!r}; weights are finite and >= 0"
    if value and not any(w > 0 for w in value.values()):
        return "every weight is 0"
    return True


#: ``class_weight``: None, "balanced" or {class: weight >= 0}.
CLASS_WEIGHT = Constraint(
    "None, 'balanced' or a dict {class: weight} of finite numbers >= 0",
    _accepts_class_weight,
)


def _accepts_learning_rate(value):
    if callable(value):  # a keras.optimizers.schedules.LearningRateSchedule
        return True
    return is_real(value) and math.isfinite(value) and value > 0


#: A learning rate: a number > 0, or a schedule.
LEARNING_RATE = Constraint("a number > 0 or a learning-rate schedule", _accepts_learning_rate)


def check_param(name, value, constraint, owner):
    """``value`` converted by ``constraint``; raises naming ``name`` and ``owner``."""
    return constraint.check(value, name, owner)


def validate_params(values, constraints, owner):
    """Check every value that has a constraint; report every problem at once.

    Parameters
    ----------
    values : dict
        Parameter name to value.
    constraints : dict
        Parameter name to :class:`Constraint`; names without one pass as they are.
    owner : str
        Who the parameters belong to, for messages.

    Returns
    -------
    dict
        The values, converted.

    Raises
    ------
    InvalidParameterError
        One line per refused parameter.
    """
    checked, problems = {}, []
    for name, value in values.items():
        constraint = constraints.get(name)
        try:
            checked[name] = value if constraint is None else constraint.check(value, name, owner)
        except InvalidParameterError as exc:
            problems.append(str(exc))
    if len(problems) == 1:
        raise InvalidParameterError(problems[0])
    if problems:
        raise InvalidParameterError(
            f"{owner} got {len(problems)} invalid parameters:\n- " + "\n- ".join(problems)
        )
    return checked


def check_sample_weight(sample_weight):
    """A float64 copy of ``sample_weight``: finite, non-negative numbers, one per sample.

    A scalar (the same weight for every sample) is accepted, as in scikit-learn.

    A copy, because scikeras multiplies class weights into it in place.

    Returns
    -------
    ndarray of float64 or None

    Raises
    ------
    ValueError
        If the weights are not numbers, not one-dimensional, not finite or
        negative; the message names the first offending index.
    """
    if sample_weight is None:
        return None
    try:
        weights = np.array(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "sample_weight must be numbers, one per sample. Got "
            f"{short_repr(sample_weight)} instead."
        ) from None
    if weights.ndim > 1:
        raise ValueError(
            f"sample_weight must be one-dimensional, one weight per sample. Got an array "
            f"of shape {weights.shape} instead."
        )
    weights_1d = weights.reshape(-1)
    bad = np.flatnonzero(~np.isfinite(weights_1d))
    if bad.size:
        raise ValueError(
            f"sample_weight must be finite; sample_weight[{bad[0]}] is {weights_1d[bad[0]]}."
        )
    bad = np.flatnonzero(weights_1d < 0)
    if bad.size:
        raise ValueError(
            f"sample_weight must be non-negative; sample_weight[{bad[0]}] is "
            f"{weights_1d[bad[0]]:g} ({bad.size} negative weight{'s' if bad.size > 1 else ''})."
        )
    return weights


def check_built_model(model, builder, loss_given):
    """What a model builder returned must be a ``keras.Model`` that can be compiled.

    Parameters
    ----------
    model : object
        The builder's return value.
    builder : str
        How to name the builder in messages (its name, or ``--model m:f``).
    loss_given : bool
        Whether the estimator has a ``loss`` to compile an uncompiled model with
        (without one, a model with one output is compiled with the loss that
        fits the labels).

    Returns
    -------
    keras.Model
    """
    import keras

    if not isinstance(model, keras.Model):
        got = "None" if model is None else f"a {type(model).__name__}"
        raise TypeError(
            f"The model builder {builder} must return a keras.Model; it returned {got}. "
            "Build the model in the function and end it with 'return model'."
        )
    if not model.compiled and not loss_given and len(model.outputs) != 1:
        # One output is compiled with the loss that fits the labels (see
        # AugmentedKerasClassifier._ensure_compiled_model); several need theirs.
        raise ValueError(
            f"The model built by {builder} is not compiled and has {len(model.outputs)} "
            "outputs, whose losses cannot be chosen for it. Compile it in the builder "
            "before returning it, or pass loss=[...], e.g. "
            "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
            "metrics=['accuracy'])."
        )
    return model


def _window_accepts(value):
    from ._data._dicom import check_window

    try:
        check_window(value)
    except ValueError:
        return False
    return True


def _window_value(value):
    from ._data._dicom import check_window

    return check_window(value)


#: The window of grayscale DICOM files (:mod:`skimgaug._data._dicom`).
WINDOW = Constraint(
    "None, a (center, width) pair with width > 0, 'dicom' (each file's own Window Center "
    "and Width) or a preset among 'brain', 'soft_tissue', 'mediastinum', 'lung', 'bone'",
    _window_accepts,
    _window_value,
)
