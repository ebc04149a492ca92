"""One table of parameter constraints: the same value is refused the same way everywhere."""

import argparse
import inspect

import pytest
from conftest import FAST

from skimgaug import AugmentedKerasClassifier
from skimgaug._estimator._parameters import (
    PARAMETER_CONSTRAINTS,
    PARAMETERS,
    ROUTED_CONSTRAINTS,
)
from skimgaug.cli import _grid as grids
from skimgaug.cli import build_parser
from skimgaug.exceptions import InvalidParameterError

#: (parameter, a refused value, the option that sets it or None, that value as typed).
REFUSED = [
    ("shuffle", "yes", None, None),
    ("warm_start", "no", None, None),
    ("run_eagerly", 1, None, None),
    ("verbose", 3, None, None),
    ("verbose", "loud", None, None),
    ("class_weight", "balancd", None, None),
    ("class_weight", {0: -1.0, 1: 1.0}, None, None),
    ("class_weight", {0: float("nan"), 1: 1.0}, None, None),
    ("class_weight", {0: 0, 1: 0}, None, None),
    ("optimizer__learning_rate", -1.0, "--learning-rate", "-1"),
    ("optimizer__learning_rate", float("inf"), "--learning-rate", "inf"),
    ("epochs", 0, "--epochs", "0"),
    ("epochs", "ten", "--epochs", "ten"),
    ("batch_size", 0, "--batch-size", "0"),
    ("tta", -1, "--tta", "-1"),
    ("validation_split", 1.5, "--validation-split", "1.5"),
    ("random_state", 2**32, "--seed", str(2**32)),
    ("random_state", -1, "--seed", "-1"),
    ("target_size", (0, 5), "--image-size", "0x5"),
    ("engine", "fast", None, None),
    ("color_mode", "bgr", None, None),
    ("balance", "undersample", None, None),
    ("image_shape", (8, 8, 0), None, None),
    ("fit__epochs", 0, None, None),
    ("predict__batch_size", "32", None, None),
]


def _python_message(toy, name, value):
    X, y = toy
    clf = AugmentedKerasClassifier(**{**FAST, name: value})
    with pytest.raises(InvalidParameterError) as err:
        clf.fit(X, y)
    assert not hasattr(clf, "history_")  # refused before any training
    return str(err.value)


@pytest.mark.parametrize(("name", "value", "option", "text"), REFUSED)
def test_a_value_is_refused_the_same_way_from_python_a_grid_and_an_option(
    toy, name, value, option, text, capsys
):
    message = _python_message(toy, name, value)
    assert message.startswith(f"The {name!r} parameter of AugmentedKerasClassifier must be ")
    assert f"Got {value!r}" in message
    with pytest.raises(grids.GridError) as err:
        grids.check_grid([{name: [value]}])
    assert str(err.value) == message.rstrip(".")
    if option is not None:
        with pytest.raises(SystemExit):
            build_parser().parse_args(["cv", "--digits", option, text])
        assert capsys.readouterr().err.splitlines()[-1].endswith(f"argument {option}: {message}")


def test_every_problem_is_listed_in_one_error(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(**{**FAST, "shuffle": "yes", "tta": -1, "engine": "fast"})
    with pytest.raises(InvalidParameterError) as err:
        clf.fit(X, y)
    lines = str(err.value).splitlines()
    assert lines[0] == "AugmentedKerasClassifier got 3 invalid parameters:"
    assert sorted(line.split("'")[1] for line in lines[1:]) == ["engine", "shuffle", "tta"]


def test_the_error_is_both_a_value_error_and_a_type_error():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


def test_the_declared_names_are_the_signature_and_every_default_is_accepted():
    from skimgaug import AugmentedKerasRegressor
    from skimgaug._estimator._parameters import REGRESSOR_PARAMETERS

    for cls, names in (
        (AugmentedKerasClassifier, PARAMETERS),
        (AugmentedKerasRegressor, REGRESSOR_PARAMETERS),
    ):
        signature = inspect.signature(cls.__init__).parameters
        assert names == tuple(n for n, p in signature.items() if p.kind is not p.VAR_KEYWORD)[1:]
    defaults = {**AugmentedKerasClassifier().get_params(), **AugmentedKerasRegressor().get_params()}
    for name, constraint in PARAMETER_CONSTRAINTS.items():
        assert name in PARAMETERS + REGRESSOR_PARAMETERS
        constraint.check(defaults[name], name, "test")  # raises if a default were refused
    for name in ROUTED_CONSTRAINTS:
        prefix, _, plain = name.partition("__")
        assert prefix in AugmentedKerasClassifier._routing_prefixes and plain


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("shuffle", False, False),
        ("verbose", "auto", "auto"),
        ("verbose", False, False),  # scikeras' own tests pass a bool
        ("class_weight", {0: 1, 1: 2.5}, {0: 1, 1: 2.5}),
        ("optimizer__learning_rate", 0.01, 0.01),
        ("target_size", [8, 8], (8, 8)),
        ("image_shape", (8, 8), (8, 8, 1)),
    ],
)
def test_accepted_values_come_out_in_the_form_used_downstream(name, value, expected):
    from skimgaug._estimator._parameters import validate_parameter

    assert validate_parameter(name, value) == expected


def test_fit_arguments_are_checked_like_the_parameters(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(**FAST)
    with pytest.raises(InvalidParameterError, match=r"'fit\(shuffle=...\)' parameter .* Got 'y'"):
        clf.fit(X, y, shuffle="y")


def test_an_option_type_gives_the_parameter_in_its_downstream_form():
    from skimgaug.cli._options import parameter_type

    assert parameter_type("validation_split", parse=float)("0.25") == 0.25
    with pytest.raises(argparse.ArgumentTypeError, match="'tta' parameter"):
        parameter_type("tta")("many")
