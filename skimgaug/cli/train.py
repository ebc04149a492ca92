"""``skimgaug train``: fit one model on all the data and save it (``skimgaug predict`` reads it)."""

import argparse
import sys
import time

from . import _common as common
from . import _options as options
from . import _quiet as quiet
from ._augment_option import add_augment_option
from ._tasks import describe_target, task_of
from .runs._progress import early_stopping_of, format_early_stopping


def add_parser(commands):
    parser = commands.add_parser(
        "train",
        help="fit one model on all the data and save it to a folder",
        description=(
            "Fit one model on all the images of SOURCE (a folder with one subfolder per "
            "class, a CSV of image paths and labels, or --digits), with augmentation on "
            "its training batches, and save it to MODEL_DIR with skimgaug.save_model: the "
            "Keras model (.keras), the settings and classes (JSON) and the learned "
            "standardization statistics (.npz). With --cross-validate, the same settings "
            "are first cross-validated (as the cv command does) for an honest score."
        ),
        epilog=(
            "examples:\n"
            "  skimgaug train --digits --out digits-model/\n"
            "  skimgaug train scans/ --image-size 96x96 --datagen rotation_range=15 \\\n"
            "      --cross-validate --out scans-model/\n"
            "  skimgaug predict scans-model/ new-scans/ --out predictions.csv"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_fit_command_options(parser, validation_split=0.0)
    add_augment_option(parser)
    options.add_tensorboard_option(
        parser, "in DIR/train (and DIR/<setting>/fold_<k> with --cross-validate)"
    )
    options.add_mlflow_option(
        parser,
        "the fit's epochs, its score on the clean training images and the saved model "
        "(with --cross-validate, a child run with the folds)",
    )
    parser.add_argument(
        "--cross-validate",
        action="store_true",
        help=(
            "cross-validate the settings first (--folds, --groups) and print the scores "
            "(skimgaug cv --out DIR writes them with a report)"
        ),
    )
    parser.add_argument(
        "--out", metavar="MODEL_DIR", required=True, help="the folder to save the model in"
    )
    return parser


def run(args, out=None):
    out = out or sys.stdout
    common.check_source_args(args)
    common.check_model_args(args)
    datagen = common.default_datagen(args)
    common.check_model_dir(args.out)

    source = common.load_source(args)
    with quiet.without_cpp_logs():
        model = common.load_model_arg(args)
    quiet.import_tensorflow_quietly()
    X, y, groups, _, description, names = source
    task = task_of(args)
    target = describe_target(y, task, names) + (
        f", {len(set(groups.tolist()))} groups" if groups is not None else ""
    )
    print(
        f"skimgaug: training on {description} ({common.describe_images(X, args)}, "
        f"{target}" + ")\n" + common.describe_settings(args),
        file=out,
        flush=True,
    )
    from .runs import _mlflow as tracking

    params = {f"args.{k}": v for k, v in vars(args).items() if k not in ("command", "traceback")}
    params["data"] = f"{description} ({common.describe_images(X, args)}, {target})"
    with tracking.tracked(args.mlflow, "train", params) as tracker:
        _train(args, source, datagen, model, task, tracker, out)
        if tracker is not None:
            print(f"recorded in MLflow: {tracking.where(tracker)}", file=out, flush=True)


def _train(args, source, datagen, model, task, tracker, out):
    """Cross-validate (asked), fit, save and say what the model scores."""
    from .runs import _mlflow as tracking

    X, y, groups, _, _, names = source
    if args.cross_validate:
        from .cv import _cross_validate, check_patients
        from .runs._evaluation import evaluation_options

        if task == "classification":
            check_patients(y, groups, evaluation_options(args)["patient_aggregation"])

        # Scores only: MODEL_DIR holds the model (skimgaug cv --out writes the report).
        cv_args = argparse.Namespace(**{**vars(args), "compare": False, "out": None})
        _cross_validate(cv_args, source, datagen, model, out, time.perf_counter(), tracker)
        print("", file=out)
    clf = common.make_estimator(args, model, datagen)
    if args.tensorboard:
        from .runs._progress import tensorboard_callback

        given = clf.callbacks if isinstance(clf.callbacks, list) else []
        clf.set_params(callbacks=[*given, tensorboard_callback(args.tensorboard, "train")])
    if not args.quiet:
        from .runs._progress import TimeLeft, epoch_progress

        given = clf.callbacks if isinstance(clf.callbacks, list) else []
        clf.set_params(callbacks=[*given, epoch_progress(TimeLeft(args.epochs, 1), "[train]")])
    start = time.perf_counter()
    clf.fit(X, y, groups=groups)  # groups: patients on one side of the internal split
    seconds = time.perf_counter() - start
    stopping = early_stopping_of(clf)
    clf.set_params(callbacks=None)  # a progress printer is no setting of the model
    from .._persistence._folder import save_model

    save_model(clf, args.out, label_names=None if task == "classification" else names)
    print(_trained_line(clf, X, y, seconds, task), file=out)
    if tracker is not None:
        tracker.params(tracking.flat_params(clf))
        tracker.history(clf.history_, tracker.run_id)
        clean = f"train_{SCORE_NAMES[task].replace(' ', '_').replace('²', '2')}_clean"
        tracker.metrics({clean: clf.score(X, y), "fit_seconds": seconds})
        tracker.artifacts(args.out, where="model")
    if stopping is not None:
        print(f"early stopping: {format_early_stopping(stopping)}", file=out)
    print(
        f"saved the model to {args.out}\n"
        f"predict with: skimgaug predict {args.out} IMAGES --out predictions.csv",
        file=out,
    )


#: What ``score`` is, by task.
SCORE_NAMES = {"classification": "accuracy", "multilabel": "subset accuracy", "regression": "R²"}


def _trained_line(clf, X, y, seconds, task="classification"):
    """What the model scores on clean images, and what training's last epoch said.

    The history's accuracy is that of the last epoch's augmented training
    batches, with the weights of that moment; the model kept may be another
    epoch's (early stopping) and predicts clean images in inference mode.
    """
    clean = clf.score(X, y)
    last = {k: v[-1] for k, v in clf.history_.items()}
    batches = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if not k.startswith("val_"))
    validation = ", ".join(f"{k[4:]} {v:.4f}" for k, v in last.items() if k.startswith("val_"))
    line = (
        f"trained in {seconds:.0f} s: {SCORE_NAMES[task]} {clean:.4f} on the {len(y)} "
        "training images, "
        f"clean (as predict sees them)\n  last epoch: {batches} on the augmented training "
        "batches"
    )
    if validation:
        line += f"; {validation} on the internal validation images"
    return line
