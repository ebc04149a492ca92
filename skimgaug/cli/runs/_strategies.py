"""How ``skimgaug search`` chooses and trains its candidates: grid, random or successive halving.

``grid`` is scikit-learn's ``GridSearchCV``; ``random`` its ``RandomizedSearchCV``
(lists sampled uniformly, distributions by their ``rvs``); ``halving`` its
``HalvingGridSearchCV`` (or ``HalvingRandomSearchCV`` when candidates are
drawn) with the estimator's ``epochs`` as the resource: the first round trains
every candidate for few epochs, each next round keeps the best ``1 / factor``
of them with ``factor`` times the epochs. Each fit builds its model for its
own epochs, so the default model's learning-rate schedule spans them.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Strategy:
    """``--strategy`` and its options, as the search runs them."""

    name: str = "grid"
    n_candidates: int = None  # drawn (random; halving from distributions)
    min_epochs: int = None
    max_epochs: int = None
    factor: int = 3
    seed: int = 0


def make_search(strategy, estimator, grid, cv, scoring, n_jobs):
    """The scikit-learn search object (not fitted; ``refit=False``, failures scored NaN)."""
    import numpy as np

    common = {"scoring": scoring, "cv": cv, "n_jobs": n_jobs, "refit": False}
    common["error_score"] = np.nan
    if strategy.name == "grid":
        from sklearn.model_selection import GridSearchCV

        return GridSearchCV(estimator, grid, **common)
    if strategy.name == "random":
        from sklearn.model_selection import RandomizedSearchCV

        return RandomizedSearchCV(
            estimator, grid, n_iter=strategy.n_candidates, random_state=strategy.seed, **common
        )
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV, HalvingRandomSearchCV

    halving = {
        "resource": "epochs",
        "max_resources": strategy.max_epochs or estimator.epochs,
        "min_resources": strategy.min_epochs or "exhaust",
        "factor": strategy.factor,
        "random_state": strategy.seed,
    }
    if strategy.n_candidates is not None:
        return HalvingRandomSearchCV(
            estimator, grid, n_candidates=strategy.n_candidates, **halving, **common
        )
    return HalvingGridSearchCV(estimator, grid, **halving, **common)


def first_candidates(strategy, grid):
    """The candidates the first round trains, in scikit-learn's order (as its search draws them)."""
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    if strategy.n_candidates is None:
        return list(ParameterGrid(grid))
    return list(ParameterSampler(grid, strategy.n_candidates, random_state=strategy.seed))


def halving_plan(n_candidates, strategy, default_epochs):
    """``[(candidates, epochs), ...]`` per round, as scikit-learn's halving schedules them.

    The same rule as scikit-learn's successive halving without aggressive
    elimination: as many rounds as both the candidates and the epochs allow;
    with ``min_epochs`` left to "exhaust", the first round's epochs make the
    last round reach ``max_epochs``.
    """
    factor = strategy.factor
    most = strategy.max_epochs or default_epochs
    required = 1 + math.floor(math.log(n_candidates, factor)) if n_candidates > 1 else 1
    least = strategy.min_epochs or max(1, most // factor ** (required - 1))
    possible = 1 + math.floor(math.log(most // least, factor)) if most >= least else 1
    rounds = min(required, possible)
    return [(math.ceil(n_candidates / factor**i), least * factor**i) for i in range(rounds)]


def rounds_of(search):
    """A halving search's rounds: candidates, epochs and best mean score of each (else [])."""
    results = search.cv_results_
    if "iter" not in results:
        return []
    import numpy as np

    rounds = []
    for i in sorted(set(results["iter"].tolist())):
        rows = results["iter"] == i
        scores = results["mean_test_score"][rows]
        best = float(np.nanmax(scores)) if np.isfinite(scores).any() else None
        epochs = int(results["n_resources"][rows][0])
        rounds.append(
            {"round": i + 1, "candidates": int(rows.sum()), "epochs": epochs, "best": best}
        )
    return rounds


def epochs_spent(search, n_splits, default_epochs):
    """The epochs every fit of the search trained, summed (early stopping aside)."""
    results = search.cv_results_
    if "n_resources" in results:
        return int(sum(results["n_resources"])) * n_splits
    return n_splits * sum(
        int(p.get("fit__epochs", p.get("epochs", default_epochs))) for p in results["params"]
    )
