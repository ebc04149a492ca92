"""Parameter grids for ``skimgaug search``: reading, combining and checking them.

A grid is what :class:`~sklearn.model_selection.GridSearchCV` takes: a list
of dicts from parameter names of :class:`~skimgaug.AugmentedKerasClassifier`
(``epochs``, ``datagen__rotation_range``, ``model__filters``, ...) to lists of
values. :func:`check_grid` finds every unknown name and every value the
estimator would refuse before anything is trained, without importing
TensorFlow, with the estimator's own table of parameters and constraints.
"""

import difflib
import inspect
import json
import math
import os

from .._augment._augment_keys import AUGMENT_KEYS
from .._augment._keys import DATAGEN_KEYS, resolve_datagen
from .._estimator._parameters import (
    OWNER,
    PARAMETER_CONSTRAINTS,
    PARAMETERS,
    ROUTED_CONSTRAINTS,
    model_constraints,
)
from .._validation import short_repr
from ..exceptions import InvalidParameterError
from ._distributions import Distribution

#: A grid of more candidates than this needs ``--yes`` from the command line.
MAX_CANDIDATES = 1000
#: Prefixes scikeras (and skimgaug, for ``datagen``) route to their destination.
ROUTING_PREFIXES = (
    "model",
    "fit",
    "compile",
    "predict",
    "optimizer",
    "loss",
    "metrics",
    "datagen",
    "augment",
)
#: The arguments scikeras fills in when it calls a model builder.
_BUILDER_ARGUMENTS = ("meta", "compile_kwargs", "params")
#: Parameters a grid cannot hold, and what to do instead.
_NOT_SEARCHABLE = {
    "model": "choose the model with --model; search its parameters as model__<name>",
    "build_fn": "choose the model with --model; search its parameters as model__<name>",
    "callbacks": "callbacks cannot be searched from the command line",
    "datagen__preprocessing_function": "functions cannot be searched from the command line",
}
_MAX_PROBLEMS = 12


class GridError(ValueError):
    """A grid that cannot be searched; the message lists every problem found."""


# ----------------------------------------------------------------------------
# Reading and combining grids
# ----------------------------------------------------------------------------
def read_grid_file(path):
    """The parameter grids of a TOML file, as a list of dicts.

    The file holds one ``[[grid]]`` table per parameter grid (or a single
    ``[grid]`` table), each mapping a parameter name to the list of values
    to try, as ``GridSearchCV`` takes them. A value that is itself a list or
    a table is written inside the list::

        [[grid]]
        datagen__rotation_range = [0, 15]
        datagen__zoom_range = [0.1, [0.9, 1.2]]

        [[grid]]
        datagen = [{rotation_range = 10, zoom_range = 0.1}, {horizontal_flip = true}]

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    list of dict

    Raises
    ------
    GridError
        If the file cannot be read, is not TOML, or is not shaped as above;
        and on Python < 3.11, which has no ``tomllib``.
    """
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import platform

        raise GridError(
            f"reading a grid file needs Python 3.11 or later (the standard library's "
            f"tomllib); this is Python {platform.python_version()}. Give the grid as "
            "--grid KEY=V1,V2 options instead"
        ) from None
    name = os.fspath(path)
    try:
        with open(path, "rb") as f:
            document = tomllib.load(f)
    except FileNotFoundError:
        raise GridError(f"{name!r}: no such file") from None
    except OSError as exc:
        raise GridError(f"{name!r}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise GridError(f"{name!r} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise GridError(
            f"{name!r} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at position "
            f"{exc.start}); a grid file is a TOML text file"
        ) from None
    example = "e.g. [[grid]] then datagen__rotation_range = [0, 15] on the next line"
    others = sorted(key for key in document if key != "grid")
    if others:
        raise GridError(
            f"{name!r}: parameters go in [[grid]] tables, one per parameter grid ({example}); "
            f"found top-level key{'s' if len(others) > 1 else ''} {', '.join(others)}"
        )
    tables = document.get("grid")
    if isinstance(tables, dict):
        tables = [tables]
    if not tables:
        raise GridError(f"{name!r} has no [[grid]] table ({example})")
    problems = []
    for number, table in enumerate(tables, 1):
        if not isinstance(table, dict):
            problems.append(f"grid entry {number} is not a table; write [[grid]] tables")
            continue
        for key, values in table.items():
            if not isinstance(values, list) and not _written_as_distribution(values):
                problems.append(
                    f"[[grid]] {number}: {key} = {_toml_value(values)} is not a list of values "
                    f"to try; write {key} = [{_toml_value(values)}]"
                )
    if problems:
        raise GridError(f"{name!r}: " + "; ".join(problems))
    return tables


def _written_as_distribution(value):
    """A grid-file string such as ``"loguniform(1e-4, 1e-2)"`` (checked when parsed)."""
    from ._distributions import NAMES

    return isinstance(value, str) and value.strip().startswith(NAMES)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def combine_grids(options, tables=None):
    """One grid from ``--grid`` options and the tables of a grid file.

    Parameters
    ----------
    options : dict of str to list
        The ``--grid KEY=V1,V2`` options, in order.
    tables : list of dict, optional
        The grid file's tables.

    Returns
    -------
    list of dict
        Without tables: one dict, ``options``. With tables: each table with
        ``options`` added, an option replacing the table's values for the
        same key (the command line wins).
    """
    if not tables:
        return [dict(options)] if options else []
    return [{**table, **options} for table in tables]


# ----------------------------------------------------------------------------
# Checking a grid
# ----------------------------------------------------------------------------
def estimator_parameters():
    """The names of ``AugmentedKerasClassifier``'s parameters (a declared tuple).

    Returns
    -------
    list of str
    """
    return sorted(PARAMETERS)


def builder_parameters(builder):
    """The names ``model__<name>`` can set on a model builder.

    Parameters
    ----------
    builder : callable
        A scikeras model builder, such as :func:`skimgaug.models.default_model`.

    Returns
    -------
    list of str or None
        None when the builder takes ``**kwargs`` (any name may be meant) or
        has no signature to read.
    """
    try:
        parameters = inspect.signature(builder).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return [
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in _BUILDER_ARGUMENTS
    ]


def check_grid_with_keras(grid):
    """What only Keras can tell: optimizer and loss names, ``fit__`` argument names.

    Called once TensorFlow is imported, before anything is trained.

    Raises
    ------
    GridError
    """
    import keras

    fit_arguments = set(inspect.signature(keras.Model.fit).parameters) - {"self"}
    problems = []
    for table in grid:
        for key, values in table.items():
            argument = key.removeprefix("fit__")
            if key.startswith("fit__") and argument not in fit_arguments:
                hint = _did_you_mean(argument, sorted(fit_arguments))
                problems.append(
                    f"unknown parameter {key!r}: keras.Model.fit has no argument {argument!r}{hint}"
                )
                continue
            lookup = {"optimizer": keras.optimizers.get, "loss": keras.losses.get}.get(key)
            for value in values if lookup else ():
                if isinstance(value, str):
                    try:
                        lookup(value)
                    except (ValueError, TypeError):
                        problems.append(f"{key}={value!r}: Keras has no {key} of that name")
    if problems:
        raise GridError("; ".join(dict.fromkeys(problems)))


def _key_problem(key, known, model_parameters):
    """Why ``key`` cannot be searched, or None."""
    if key in _NOT_SEARCHABLE:
        return f"{key!r} cannot be searched: {_NOT_SEARCHABLE[key]}"
    if key in known:
        return None
    prefix, sep, name = key.partition("__")
    if sep and name and prefix == "model":
        if model_parameters is None:  # a builder taking **kwargs, or not imported yet
            return None
        shown = ", ".join(model_parameters) or "none"
        return (
            f"unknown parameter {key!r}: the model builder has no parameter {name!r}"
            f"{_did_you_mean(key, known)} (its parameters: {shown})"
        )
    if sep and name and prefix == "augment":
        if name in AUGMENT_KEYS:
            return None
        return f"unknown parameter {key!r}{_did_you_mean(key, known)}"
    if sep and name and prefix in ROUTING_PREFIXES and prefix != "datagen":
        return None  # routed to Keras (fit__, optimizer__, ...), which checks them
    if key in DATAGEN_KEYS:
        return f"unknown parameter {key!r}; did you mean 'datagen__{key}'?"
    if model_parameters and key in model_parameters:
        return f"unknown parameter {key!r}; did you mean 'model__{key}'?"
    return f"unknown parameter {key!r}{_did_you_mean(key, known)}"


def _did_you_mean(key, known):
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _value_problems(key, value, constraints):
    """What is wrong with one value of one key (a list of messages, usually empty)."""
    if key == "datagen":
        if value is not None and not isinstance(value, dict):
            return [
                f"datagen={short_repr(value)}: a datagen value is a table of ImageDataGenerator "
                "settings, such as {rotation_range = 10} in a --grid-file; search single "
                "settings as datagen__<name>=V1,V2"
            ]
        try:
            resolve_datagen(value, {}, owner=OWNER)
        except (TypeError, ValueError) as exc:
            return [f"datagen={short_repr(value)}: {p}" for p in str(exc).split("\n- ")[1:]]
        return []
    if key.startswith("datagen__"):
        try:
            resolve_datagen(None, {key[len("datagen__") :]: value}, owner=OWNER)
        except ValueError as exc:
            return str(exc).split("\n- ")[1:]
        return []
    if key == "augment" or key.startswith("augment__"):
        from .._augment._augment_keys import resolve_augment

        given = value if key == "augment" else {key[len("augment__") :]: value}
        try:
            resolve_augment(given, owner=OWNER)
        except (TypeError, ValueError) as exc:
            return [f"{key}={short_repr(value)}: {str(exc).partition(': ')[2] or exc}"]
        return []
    constraint = constraints.get(key)
    if constraint is None:
        return []
    try:
        constraint.check(value, key, OWNER)
    except InvalidParameterError as exc:
        return [str(exc)]
    return []


def check_grid(grid, model_parameters=None, default_model=False):
    """Check every name and value of a grid; return its number of candidates.

    Parameters
    ----------
    grid : list of dict
        Parameter grids as ``GridSearchCV`` takes them.
    model_parameters : list of str or None, default=None
        The model builder's parameters (:func:`builder_parameters`), to check
        ``model__<name>`` keys; None accepts any ``model__<name>``.
    default_model : bool, default=False
        The builder is :func:`skimgaug.models.default_model`: its arguments'
        values are checked too.

    Returns
    -------
    int
        The number of candidates.

    Raises
    ------
    GridError
        Listing every problem: an empty grid, a key with no values, unknown
        names (with "did you mean"), values the estimator would refuse.
    """
    if not grid or not any(grid):
        raise GridError("the grid is empty: it has no parameters to search")
    known = estimator_parameters()
    known += [f"datagen__{k}" for k in DATAGEN_KEYS if k != "validation_split"]
    known += [f"augment__{k}" for k in AUGMENT_KEYS]
    known += [f"model__{name}" for name in model_parameters or ()]
    constraints = {
        **PARAMETER_CONSTRAINTS,
        **ROUTED_CONSTRAINTS,
        **model_constraints(default_model),
    }
    problems = []
    for table in grid:
        for key, values in table.items():
            problem = _key_problem(key, known, model_parameters)
            if problem:
                problems.append(problem)
                continue
            if isinstance(values, Distribution):  # both ends must be values of the key
                for value in values.bounds():
                    problems += _value_problems(key, value, constraints)
                continue
            if not isinstance(values, (list, tuple)) or not values:
                problems.append(f"{key} has no values to try")
                continue
            for value in values:
                problems += _value_problems(key, value, constraints)
    problems = list(dict.fromkeys(problems))
    if problems:
        more = len(problems) - _MAX_PROBLEMS
        shown = problems[:_MAX_PROBLEMS] + ([f"and {more} more"] if more > 0 else [])
        raise GridError("; ".join(problem.rstrip(".") for problem in shown))
    return count_candidates(grid)


def count_candidates(grid):
    """The number of parameter combinations of ``grid``; None when it holds distributions."""
    if any(isinstance(v, Distribution) for table in grid for v in table.values()):
        return None
    return sum(math.prod(len(values) for values in table.values()) for table in grid if table)


def with_standardization(grid, datagen):
    """``grid`` with ``datagen``'s standardization under every ``datagen`` candidate.

    A ``datagen`` candidate is a whole augmentation policy; it replaces the
    fixed ``datagen``'s random augmentation but keeps its standardization
    (``rescale``, centering, ...) and format settings, unless it sets those
    keys itself. ``datagen__<name>`` candidates override one key of the fixed
    ``datagen``, as the estimator does.

    Parameters
    ----------
    grid : list of dict
    datagen : dict or None
        The estimator's fixed ``datagen``.

    Returns
    -------
    list of dict
    """
    config = resolve_datagen(datagen, {}, owner=OWNER)
    fixed = {**config.standardization, **config.format}
    combined = []
    for table in grid:
        table = dict(table)
        if "datagen" in table:
            table["datagen"] = [
                {**fixed, **policy} if isinstance(policy, dict) else policy
                for policy in table["datagen"]
            ]
        combined.append(table)
    return combined


def format_value(value):
    """A parameter value as the command line shows it (floats with ``:g``)."""
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def format_params(params):
    """``"datagen__rotation_range=10, model__filters=32"``."""
    return ", ".join(f"{k}={format_value(v)}" for k, v in params.items()) or "(no parameters)"
