"""``skimgaug search``: grid search over estimator, model and augmentation parameters."""

import argparse
import contextlib
import os
import sys
import time

from . import _common as common
from . import _options as options
from . import _quiet as quiet
from ._augment_option import add_augment_option
from ._distributions import NAMES as DISTRIBUTIONS
from ._strategy_options import (
    add_strategy_options,
    check_strategy,
    describe_strategy,
    strategy_of,
)
from ._tasks import SCORINGS as TASK_SCORINGS
from ._tasks import describe_target, task_of

#: The scores candidates can be ranked by (scikit-learn scorer names), of every --task.
SCORINGS = tuple(dict.fromkeys(s for scorings in TASK_SCORINGS.values() for s in scorings))
#: skimgaug.cli._grid.MAX_CANDIDATES, without importing NumPy to build the parser.
_MAX_CANDIDATES = 1000


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of processes, or -1 for one per core, got {text!r}"
        )
    return value


def add_parser(commands):
    parser = commands.add_parser(
        "search",
        help="grid-search parameters with cross-validation (GridSearchCV) and rank them",
        description=(
            "Grid-search parameters of the classifier with scikit-learn's GridSearchCV on "
            "the folds the cv command uses, augmentation applied to training folds only. "
            "Writes cv_results.csv (one row per candidate), best.json and report.html to "
            "--out, and prints the ten best candidates and the best parameters."
        ),
        epilog=(
            "grid:\n"
            "  --grid KEY=V1,V2,... searches one parameter of AugmentedKerasClassifier: its "
            "own\n"
            "  (epochs, batch_size, tta, validation_split, engine, optimizer, ...), an\n"
            "  ImageDataGenerator setting (datagen__rotation_range, datagen__horizontal_flip,\n"
            "  ...), a model builder parameter (model__filters, model__dropout, ...) or a Keras\n"
            "  one (optimizer__learning_rate, ...). Values are read as --datagen values are;\n"
            "  commas separate values, so a pair such as zoom_range=0.9,1.1 needs --grid-file.\n"
            "  --grid-file FILE.toml holds [[grid]] tables, each a grid as GridSearchCV takes\n"
            "  it (lists of values; a list or table value is written inside the list):\n"
            "      [[grid]]\n"
            "      datagen__rotation_range = [0, 15]\n"
            "      datagen__zoom_range = [0.1, [0.9, 1.2]]\n"
            "      [[grid]]\n"
            "      datagen = [{rotation_range = 10, zoom_range = 0.1}, {horizontal_flip = true}]\n"
            "  --grid options are added to every [[grid]] table, replacing that key's values\n"
            "  where a table has it. A datagen = [...] value is a whole augmentation policy: it\n"
            "  replaces the --datagen augmentation and keeps its standardization (rescale=1/255\n"
            "  by default for files) unless it sets those keys itself.\n"
            "\n"
            "parallel:\n"
            "  --n-jobs N fits N candidates at a time in local processes; --dask ADDRESS sends\n"
            "  the fits to a running Dask cluster, whose workers must import skimgaug (and the\n"
            "  --model module) and read SOURCE's files at the same paths. TensorFlow's threads\n"
            "  are capped to each worker's share. Serial runs print a line per epoch, parallel\n"
            "  ones a line per finished fit.\n"
            "\n"
            "examples:\n"
            "  skimgaug search --digits --grid datagen__rotation_range=0,10,20 --epochs 5 \\\n"
            "      --out search/\n"
            "  skimgaug search scans/ --groups '^(patient\\d+)_' --image-size 96x96 \\\n"
            "      --grid model__filters=16,32 --grid optimizer__learning_rate=0.001,0.003 \\\n"
            "      --n-jobs 2 --scoring balanced_accuracy --refit-out best-model/ --out search/\n"
            "  skimgaug search photos/ --grid-file policies.toml --dask tcp://10.0.0.5:8786 \\\n"
            "      --out search/"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_fit_command_options(parser, n_jobs=False)  # its own --n-jobs | --dask
    add_augment_option(parser)
    options.add_tensorboard_option(
        parser, "one folder per candidate run and fold (DIR/candidate_1_of_4/fold_1); serial only"
    )
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a parameter and the values to try, repeatable (see grid: below)",
    )
    parser.add_argument(
        "--grid-file", metavar="FILE.toml", help="parameter grids as [[grid]] tables (see below)"
    )
    parser.add_argument(
        "--scoring",
        choices=SCORINGS,
        default=None,
        help=(
            "the score candidates are ranked by: accuracy, balanced_accuracy, f1_macro or "
            "roc_auc_ovr for classification (accuracy); roc_auc, average_precision, "
            "f1_macro, f1_micro or accuracy (subset accuracy) for multilabel (roc_auc); r2, "
            "neg_mean_absolute_error or neg_root_mean_squared_error for regression (r2)"
        ),
    )
    add_strategy_options(parser)
    parallel = parser.add_mutually_exclusive_group()
    parallel.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=1,
        metavar="N",
        help="fits run at a time in local processes (1; -1: one per core)",
    )
    parallel.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the fits on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786)",
    )
    options.add_fresh_process_option(parser)
    parser.add_argument(
        "--refit-out",
        metavar="MODEL_DIR",
        help=(
            "refit the best candidate on all the data (an internal validation part is held "
            "out only for --early-stopping) and save it there (for skimgaug predict)"
        ),
    )
    options.add_mlflow_option(
        parser,
        "a child run per candidate (with its round) and per fold with its score and, "
        "serially, its epochs, the refit with its model, and the --out files",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help=f"run a grid of more than {_MAX_CANDIDATES:,} candidates",
    )
    parser.add_argument(
        "--out", metavar="DIR", required=True, help="write cv_results.csv, best.json, report.html"
    )
    return parser


def parse_grid_options(items):
    """``["KEY=V1,V2", ...]`` to ``{KEY: [V1, V2]}`` (UsageError listing every problem)."""
    grid, problems = {}, []
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"--grid expects KEY=V1,V2,..., got {item!r}")
        elif key in grid:
            problems.append(f"--grid {key} is given twice; list all its values once: {key}=V1,V2")
        elif not text.strip():
            problems.append(f"--grid {key}= has no values")
        elif any(not part.strip() for part in text.split(",")):
            problems.append(f"--grid {item!r} has an empty value between commas")
        elif text.strip().startswith(DISTRIBUTIONS):  # loguniform(1e-4, 1e-2): one value
            grid[key] = [text.strip()]
        else:
            grid[key] = [options.parse_value(part) for part in text.split(",")]
    if problems:
        raise options.UsageError("; ".join(problems))
    return grid


def _model_parameters(args, model=None):
    """The model builder's parameters (None: unknown until a --model module is imported)."""
    from ._grid import builder_parameters

    if model is not None:
        return builder_parameters(model)
    if args.model is None:
        from ..models import default_model

        return builder_parameters(default_model)
    if common._pretrained_name(args.model) is not None:
        return builder_parameters(common.load_model_arg(args))
    return None


def check_grid_args(args):
    """The grid of the command line, checked before TensorFlow is imported (UsageError)."""
    from ._distributions import with_distributions
    from ._grid import MAX_CANDIDATES, GridError, check_grid, combine_grids, read_grid_file

    if not args.grid and not args.grid_file:
        raise options.UsageError(
            "give the parameters to search: --grid KEY=V1,V2,... (repeatable) or "
            "--grid-file FILE.toml"
        )
    given = parse_grid_options(args.grid)
    try:
        tables = read_grid_file(args.grid_file) if args.grid_file else None
    except GridError as exc:
        raise options.UsageError(f"--grid-file {exc}") from None
    grid = combine_grids(given, tables)
    try:
        grid = with_distributions(grid)
        n_candidates = check_grid(grid, _model_parameters(args), default_model=args.model is None)
    except (GridError, ValueError) as exc:
        raise options.UsageError(f"bad grid: {exc}") from None
    n_candidates = check_strategy(args, grid, n_candidates)
    if n_candidates > MAX_CANDIDATES and not args.yes:
        raise options.UsageError(
            f"the grid has {n_candidates:,} candidates ({n_candidates * args.folds:,} fits "
            f"with {args.folds} folds); narrow it, or give --yes to run more than "
            f"{MAX_CANDIDATES:,}"
        )
    return grid, n_candidates


def _check_scoring(args):
    """``--scoring`` of the task (its default when not given), or a UsageError."""
    task = task_of(args)
    allowed = TASK_SCORINGS[task]
    if args.scoring is None:
        args.scoring = allowed[0]
    elif args.scoring not in allowed:
        raise options.UsageError(
            f"--scoring {args.scoring} is not a score of --task {task}; choose one of "
            f"{', '.join(allowed)}"
        )


def _check_refit_out(args):
    """--refit-out must be a new folder, or one holding an earlier saved model."""
    path = args.refit_out
    if path is None:
        return
    if os.path.abspath(path) == os.path.abspath(args.out):
        raise options.UsageError(
            "--refit-out must differ from --out (a model folder holds the model only); "
            f"e.g. --refit-out {os.path.join(args.out, 'best-model')}"
        )
    common.check_model_dir(path, "--refit-out")


def _connect_dask(address):
    from .runs._dask import connect_dask

    return connect_dask(address)


def run(args, out=None):
    """Run the grid search described by parsed ``args``; return its SearchResult."""
    out = out or sys.stdout
    common.check_source_args(args)
    common.check_model_args(args)
    _check_scoring(args)
    grid, n_candidates = check_grid_args(args)
    datagen = common.default_datagen(args)
    _check_refit_out(args)
    if args.tensorboard and (args.dask or args.n_jobs != 1 or args.fresh_process_per_fit):
        raise options.UsageError(
            "--tensorboard follows the fits of a search in this process: not with --dask, "
            "--n-jobs other than 1 or --fresh-process-per-fit"
        )
    if args.dask and args.fresh_process_per_fit:
        raise options.UsageError(
            "--fresh-process-per-fit runs the fits in local worker processes; a Dask "
            "cluster's workers are its own: give one of --dask and --fresh-process-per-fit"
        )
    created = common.make_out_dir(args.out)

    def go():
        client = _connect_dask(args.dask) if args.dask else None
        try:
            start = time.perf_counter()
            source = common.load_source(args)
            common.make_splitter(args, source.y, source.groups, source.names)  # its checks
            with quiet.without_cpp_logs():
                model = common.load_model_arg(args)
            if model is not None and args.model and common._pretrained_name(args.model) is None:
                _recheck_model_keys(grid, model)
            quiet.import_tensorflow_quietly()
            _check_grid_with_keras(grid)
            return _search(args, source, datagen, model, grid, n_candidates, client, start, out)
        finally:
            if client is not None:
                client.close()

    return common.with_cleanup(args.out, created, go)


def _recheck_model_keys(grid, model):
    """model__<name> keys against a --model builder, once its module is imported."""
    from ._grid import GridError, builder_parameters, check_grid

    try:
        check_grid(grid, builder_parameters(model))
    except GridError as exc:
        raise options.UsageError(f"bad grid: {exc}") from None


def _check_grid_with_keras(grid):
    """Optimizer and loss names and fit__ arguments, once Keras is imported (UsageError)."""
    from ._grid import GridError, check_grid_with_keras

    try:
        check_grid_with_keras(grid)
    except GridError as exc:
        raise options.UsageError(f"bad grid: {exc}") from None


def _refit_data(best, n_images):
    """What the refit trained on, exactly: all images, or all but an internal validation part."""
    split = best.validation_split
    if not split:
        return f"all {n_images} images"
    return (
        f"{n_images} images, {split:.0%} of them held out as internal validation "
        "(for early stopping and the learning curves)"
    )


def _where(args, client):
    if client is not None:
        info = client.scheduler_info()
        workers = info.get("workers", {})
        threads = sum(w.get("nthreads", 0) for w in workers.values())
        return f"the Dask cluster at {args.dask} ({len(workers)} workers, {threads} threads)"
    n = args.n_jobs if args.n_jobs > 0 else os.cpu_count()
    if args.fresh_process_per_fit:
        return f"a fresh process per fit ({n} at a time)"
    if args.n_jobs == 1:
        return "this process"
    return f"{n} local processes"


def _grid_tables(grid):
    """Each table of ``grid`` as one line of text."""
    from ._grid import format_value

    return [
        "; ".join(f"{key}: {format_value(values)}" for key, values in table.items())
        for table in grid
    ]


def _search(args, source, datagen, model, grid, n_candidates, client, start, out):
    from ._grid import format_value, with_standardization
    from .runs import _mlflow as tracking

    X, y, groups, _, description, names = source
    task = task_of(args)
    cv = common.make_splitter(args, y, groups, names)
    grid = with_standardization(grid, datagen)
    target = describe_target(y, task, names)
    n_groups = f", {len(set(groups.tolist()))} groups" if groups is not None else ""
    data = f"{description} ({common.describe_images(X, args)}, {target}{n_groups})"
    kind = {
        "classification": "stratified group" if groups is not None else "stratified",
        "multilabel": "iterative stratified" + (" group" if groups is not None else ""),
        "regression": "group" if groups is not None else "shuffled",
    }[task]
    fixed = ", ".join(f"{k}={format_value(v)}" for k, v in datagen.items()) or "(none)"
    where = _where(args, client)
    strategy = strategy_of(args, args.seed, n_candidates)
    tables = _grid_tables(grid)
    print(
        f"skimgaug: {describe_strategy(strategy, n_candidates, args.folds, kind, args.epochs)} "
        f"on {data}, scoring {args.scoring}\n"
        f"{common.describe_settings(_header_args(args))}\n"
        f"datagen (fixed): {fixed}\n"
        + "".join(f"grid: {table}\n" for table in tables)
        + f"running on {where}",
        file=out,
        flush=True,
    )
    params = {f"args.{k}": v for k, v in vars(args).items() if k not in ("command", "traceback")}
    params.update({"data": data, "grid": " | ".join(tables), "candidates": n_candidates})
    header = (data, cv, fixed, tables, n_candidates, where, strategy)
    with tracking.tracked(args.mlflow, "search", params) as tracker:
        result = _run(args, source, datagen, model, grid, client, start, out, tracker, header)
        if tracker is not None:
            print(f"recorded in MLflow: {tracking.where(tracker)}", file=out, flush=True)
    return result


def _run(args, source, datagen, model, grid, client, start, out, tracker, header):
    """Search, refit, print and write; record in MLflow with a ``tracker``."""
    from ._grid import format_params
    from .reports import _search_outputs as outputs
    from .runs import _search as search
    from .runs._mlflow import log_refit, log_search

    X, y, groups, _, _, names = source
    task = task_of(args)
    data, cv, fixed, tables, n_candidates, where, strategy = header
    estimator = common.make_estimator(args, model, datagen)
    local_workers = client is None and (args.n_jobs != 1 or args.fresh_process_per_fit)
    with quiet.cpp_logs_of_workers_hidden() if local_workers else contextlib.nullcontext():
        result = search.run_search(
            estimator,
            grid,
            X,
            y,
            cv,
            groups,
            scoring=args.scoring,
            n_jobs=args.n_jobs if client is None else None,
            backend="dask" if client is not None else None,
            fresh=args.fresh_process_per_fit,
            tensorboard=args.tensorboard,
            progress=not args.quiet,
            strategy=strategy,
            record_histories=tracker is not None,
        )
    for line in result.warnings:
        print(line, file=sys.stderr, flush=True)
    rows = outputs.result_rows(result)
    timings = {
        f"search ({len(rows) * result.n_splits} fits)": result.seconds,
        "mean time per fit": sum(row["mean_fit_time"] for row in rows) / len(rows),
    }
    best = _refit(args, estimator, result, X, y, groups, timings) if args.refit_out else None
    timings["total (with data loading)"] = time.perf_counter() - start
    settings = outputs.settings_table(args, data, cv, fixed, tables, n_candidates, where)
    title = f"{n_candidates} candidates x {args.folds} folds on {data}, scoring {args.scoring}"
    if result.rounds:
        title += f", successive halving over epochs ({len(result.rounds)} rounds)"
    written = outputs.write_outputs(args.out, result, rows, settings, timings, title)
    print("\n" + outputs.format_ranking(rows, args.scoring), file=out)
    if result.rounds:
        full = args.folds * n_candidates * (args.max_epochs or args.epochs)
        print("\n" + outputs.format_rounds(result.rounds, result.epochs_trained, full), file=out)
    print(f"\nwrote {', '.join(written)} to {args.out}", file=out)
    log_search(tracker, result, rows, result.histories, args.scoring)
    if best is not None:
        from .._persistence._folder import save_model

        save_model(best, args.refit_out, label_names=None if task == "classification" else names)
        log_refit(tracker, best, args.refit_out)
        print(
            f"saved the best candidate, refitted on {_refit_data(best, len(y))}, to "
            f"{args.refit_out}; predict with: skimgaug predict {args.refit_out} IMAGES "
            "--out predictions.csv",
            file=out,
        )
    row = rows[result.search.best_index_]
    print(
        f"best: {format_params(row['params'])} "
        f"(mean {args.scoring} {row['mean_test_score']:.4f} ± {row['std_test_score']:.4f}, "
        f"candidate {row['candidate']})",
        file=out,
        flush=True,
    )
    if tracker is not None:
        tracker.artifacts(args.out)
    return result


def _header_args(args):
    """``args`` as the header shows them: with halving, the epochs are the rounds'."""
    if args.strategy != "halving":
        return args
    return argparse.Namespace(**{**vars(args), "epochs": "by round (above)"})


def _refit(args, estimator, result, X, y, groups, timings):
    """The best candidate fitted on all images (an internal validation part only to stop)."""
    from .runs import _search as search

    params = dict(result.search.best_params_)
    if not args.early_stopping:  # all images train, as in train (unless the grid chose)
        params.setdefault("validation_split", 0.0)
    best, seconds, notes = search.refit_best(
        estimator, params, X, y, groups, progress=not args.quiet
    )
    for line in notes:
        print(line, file=sys.stderr, flush=True)
    timings[f"refit of the best candidate on {_refit_data(best, len(y))}"] = seconds
    return best
