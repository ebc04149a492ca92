"""``skimgaug search --strategy grid|random|halving`` and distributions in grids."""

import json

import numpy as np
import pytest
from conftest import run_cli_cases
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV, KFold

from skimgaug.cli._distributions import Distribution, parse_distribution, with_distributions
from skimgaug.cli.runs._strategies import Strategy, halving_plan


def test_distributions_draw_within_their_bounds_and_show_as_written():
    rng = np.random.default_rng(0)
    lr = parse_distribution("loguniform(1e-4, 1e-2)")
    draws = [lr.rvs(random_state=rng) for _ in range(200)]
    assert min(draws) >= 1e-4 and max(draws) <= 1e-2 and repr(lr) == "loguniform(0.0001, 0.01)"
    assert np.median(np.log10(draws)) == pytest.approx(-3, abs=0.3)  # log-spaced
    ints = {parse_distribution("randint(1, 3)").rvs(random_state=rng) for _ in range(100)}
    assert ints == {1, 2, 3}  # both ends included
    angle = parse_distribution(" uniform( 0 , 30 ) ").rvs(random_state=rng)
    assert isinstance(angle, float) and 0 <= angle <= 30
    assert parse_distribution("0.5") is None and parse_distribution(3) is None
    for text, message in [
        ("loguniform(0, 1)", "needs 0 < a < b"),
        ("uniform(2, 1)", "needs a < b"),
        ("randint(1.5, 3)", "must be integers"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_distribution(text)
    grid = with_distributions([{"a": ["uniform(0, 1)"], "b": [1, 2]}])
    assert isinstance(grid[0]["a"], Distribution) and grid[0]["b"] == [1, 2]


class _Epochs(ClassifierMixin, BaseEstimator):
    """A classifier that only has ``epochs``: scikit-learn's halving schedules it."""

    def __init__(self, epochs=1, value=0):
        self.epochs = epochs
        self.value = value

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.mark.parametrize(
    ("n", "min_epochs", "max_epochs", "factor"),
    [(9, None, 9, 3), (10, None, 30, 3), (6, 2, 20, 2), (4, None, 5, 3), (27, 1, 9, 3)],
)
def test_the_halving_plan_is_scikit_learns(n, min_epochs, max_epochs, factor):
    X, y = np.zeros((40, 1)), np.arange(40) % 2
    search = HalvingGridSearchCV(
        _Epochs(),
        {"value": list(range(n))},
        resource="epochs",
        min_resources=min_epochs or "exhaust",
        max_resources=max_epochs,
        factor=factor,
        cv=KFold(2),
    ).fit(X, y)
    strategy = Strategy("halving", None, min_epochs, max_epochs, factor)
    plan = halving_plan(n, strategy, max_epochs)
    assert [c for c, _ in plan] == search.n_candidates_
    assert [e for _, e in plan] == search.n_resources_


STRATEGY_ERRORS = [
    (["--grid", "optimizer__learning_rate=loguniform(1e-4,1e-2)"], "only --strategy random"),
    (["--strategy", "halving", "--grid", "epochs=1,2"], "take epochs out of the grid"),
    (["--grid", "epochs=1,2", "--min-epochs", "2"], "--min-epochs is an option of --strategy"),
    (["--grid", "epochs=1,2", "--n-candidates", "2"], "--n-candidates draws candidates"),
    (["--strategy", "random", "--grid", "optimizer__learning_rate=loguniform(0,1)"], "0 < a < b"),
    (
        ["--strategy", "random", "--grid", "optimizer__learning_rate=uniform(-1,1)"],
        "must be a number > 0",
    ),
    (
        ["--strategy", "halving", "--grid", "datagen__rotation_range=0,10", "--factor", "1"],
        "--factor must be 2 or more",
    ),
    (
        ["--strategy", "halving", "--grid", "datagen__rotation_range=uniform(0,30)"],
        "give --n-candidates",
    ),
    (
        [
            "--strategy",
            "halving",
            "--grid",
            "datagen__rotation_range=0,10",
            "--min-epochs",
            "5",
            "--max-epochs",
            "3",
        ],
        "--min-epochs 5 is more than --max-epochs 3",
    ),
]


def test_strategy_mistakes_are_usage_errors_before_tensorflow(tmp_path):
    cases = [["search", "--digits", "--out", "s", *args] for args, _ in STRATEGY_ERRORS]
    for (args, message), (status, _, tensorflow, _, stderr) in zip(
        STRATEGY_ERRORS, run_cli_cases(cases, tmp_path), strict=True
    ):
        assert status == 2 and message in stderr and not tensorflow, (args, stderr)


@pytest.mark.slow  # 13 fits of up to 9 epochs, and 4 of 1
def test_halving_and_random_searches_from_the_command_line(tmp_path, capsys):
    from skimgaug import cli

    grid = ["--grid", "datagen__rotation_range=0,5,10,15,20,25,30,35,40"]
    out = tmp_path / "halving"
    args = ["search", "--digits", "--strategy", "halving", "--max-epochs", "9", "--folds", "2"]
    assert cli.main([*args, *grid, "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rounds: 9 x 1 epoch, 3 x 3 epochs, 1 x 9 epochs; 54 epochs" in printed
    assert "epochs trained: 54, against 162" in printed
    best = json.loads((out / "best.json").read_text())
    assert [r["candidates"] for r in best["rounds"]] == [9, 3, 1]
    assert best["epochs_trained"] == 54 and best["best_params"]["epochs"] == 9
    assert "Rounds of successive halving" in (out / "report.html").read_text()
    (tmp_path / "g.toml").write_text(
        '[[grid]]\noptimizer__learning_rate = "loguniform(1e-4, 1e-2)"\n'
        'datagen__rotation_range = "uniform(0, 30)"\n'
    )
    args = ["search", "--digits", "--strategy", "random", "--n-candidates", "2", "--epochs", "1"]
    args += ["--folds", "2", "--grid-file", str(tmp_path / "g.toml"), "--quiet"]
    assert cli.main([*args, "--out", str(tmp_path / "random")]) == 0
    best = json.loads((tmp_path / "random" / "best.json").read_text())
    assert best["n_candidates"] == 2 and best["epochs_trained"] == 4
    learning_rate = best["best_params"]["optimizer__learning_rate"]
    assert 1e-4 <= learning_rate <= 1e-2
