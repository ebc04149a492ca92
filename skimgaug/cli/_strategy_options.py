"""``skimgaug search --strategy grid|random|halving`` and the options of each, checked early.

What the strategies do is in :mod:`skimgaug.cli.runs._strategies`.
"""

from . import _options as options


def add_strategy_options(parser):
    """``--strategy`` and what random and halving searches take."""
    group = parser.add_argument_group("strategy (how candidates are chosen and trained)")
    group.add_argument(
        "--strategy",
        choices=("grid", "random", "halving"),
        default="grid",
        help=(
            "grid: every candidate of the grid (the default); random: --n-candidates drawn "
            "from the lists and distributions of the grid; halving: successive halving with "
            "epochs as the resource, from --min-epochs for every candidate to --max-epochs "
            "for the best (the grid's candidates, or --n-candidates drawn)"
        ),
    )
    group.add_argument(
        "--n-candidates",
        type=options._positive_int,
        default=None,
        metavar="N",
        help=(
            "candidates drawn by random (10); with halving, draw N from the lists and "
            "distributions instead of taking the whole grid (needed with distributions)"
        ),
    )
    group.add_argument(
        "--min-epochs",
        type=options._positive_int,
        default=None,
        metavar="N",
        help="halving: the epochs of the first round (default: --max-epochs / factor^rounds)",
    )
    group.add_argument(
        "--max-epochs",
        type=options._positive_int,
        default=None,
        metavar="N",
        help="halving: the epochs of the last round (default: --epochs)",
    )
    group.add_argument(
        "--factor",
        type=options._positive_int,
        default=3,
        metavar="N",
        help="halving: candidates kept per round are 1/N of the last, with N times the epochs (3)",
    )


def check_strategy(args, grid, n_candidates):
    """The number of candidates the strategy trains first; its options checked (UsageError)."""
    from ._distributions import has_distributions

    strategy = args.strategy
    halving_only = [
        option
        for option, value in (("--min-epochs", args.min_epochs), ("--max-epochs", args.max_epochs))
        if value is not None
    ]
    if strategy != "halving" and halving_only:
        raise options.UsageError(f"{halving_only[0]} is an option of --strategy halving")
    if strategy == "grid":
        if args.n_candidates is not None:
            raise options.UsageError(
                "--n-candidates draws candidates: give --strategy random or halving (grid "
                "trains every candidate of the grid)"
            )
        if has_distributions(grid):
            raise options.UsageError(
                "the grid holds distributions (such as loguniform(a, b)), which only "
                "--strategy random or halving can sample; give lists of values for grid"
            )
        return n_candidates
    if strategy == "halving":
        if any("epochs" in table or "fit__epochs" in table for table in grid):
            raise options.UsageError(
                "--strategy halving sets epochs itself (the resource of each round): take "
                "epochs out of the grid, and give --min-epochs and --max-epochs"
            )
        most = args.max_epochs or args.epochs
        if args.min_epochs is not None and args.min_epochs > most:
            raise options.UsageError(
                f"--min-epochs {args.min_epochs} is more than --max-epochs {most}"
            )
        if args.factor < 2:
            raise options.UsageError("--factor must be 2 or more (halving keeps 1/factor)")
    drawn = args.n_candidates or (10 if strategy == "random" else None)
    if n_candidates is None:  # distributions: as many as drawn
        if drawn is None:
            raise options.UsageError(
                "the grid holds distributions: give --n-candidates N (how many to draw)"
            )
        return drawn
    return min(drawn, n_candidates) if drawn else n_candidates


def strategy_of(args, seed, n_candidates):
    """The :class:`~skimgaug.cli.runs._strategies.Strategy` the options describe.

    ``n_candidates``: what :func:`check_strategy` returned (the draws, at most the grid's size).
    """
    from .runs._strategies import Strategy

    drawn = args.strategy == "random" or (args.strategy == "halving" and args.n_candidates)
    return Strategy(
        name=args.strategy,
        n_candidates=n_candidates if drawn else None,
        min_epochs=args.min_epochs,
        max_epochs=args.max_epochs,
        factor=args.factor,
        seed=seed,
    )


def describe_strategy(strategy, n_candidates, folds, kind, epochs):
    """The header's first words: what will be trained, and how much."""
    from .runs._strategies import halving_plan

    if strategy.name == "halving":
        plan = halving_plan(n_candidates, strategy, epochs)
        rounds = ", ".join(f"{count} x {e} epoch{'s' if e != 1 else ''}" for count, e in plan)
        spent = folds * sum(count * e for count, e in plan)
        full = folds * n_candidates * (strategy.max_epochs or epochs)
        most = strategy.max_epochs or epochs
        short = ""
        if plan[-1][1] < most:  # the candidates run out before the epochs
            short = (
                f"; the last round trains {plan[-1][1]} epochs, not --max-epochs {most}: "
                f"with factor {strategy.factor}, {n_candidates} candidates last "
                f"{len(plan)} rounds"
            )
        return (
            f"successive halving of {n_candidates} candidates over epochs (rounds: {rounds}; "
            f"{spent} epochs with {folds} {kind} folds, against {full} for the whole grid"
            f"{short})"
        )
    what = "grid search" if strategy.name == "grid" else "random search"
    drawn = " drawn" if strategy.name == "random" else ""
    return (
        f"{what} of {n_candidates} candidates{drawn} x {folds} {kind} folds = "
        f"{n_candidates * folds} fits"
    )
