"""``skimgaug predict``: a saved model's predictions for new images, as a CSV."""

import argparse
import csv
import os
import sys

import numpy as np

from .._persistence._export import estimator_task, output_columns
from . import _options as options
from . import _quiet as quiet
from ._tasks import targets


def add_parser(commands):
    parser = commands.add_parser(
        "predict",
        help="predict new images with a model saved by 'skimgaug train'",
        description=(
            "Predict images with a model saved by 'skimgaug train' (or "
            "skimgaug.save_model). SOURCE is a folder (with one subfolder per class: the "
            "labels are known; otherwise every image file below it), a CSV file with a "
            "column of image paths (and optionally labels), or image files. Images are "
            "decoded to the size and channels the model was trained on. Writes one row "
            "per image: path, predicted label, one probability column per class. When "
            "labels are known, prints accuracy, balanced accuracy and the confusion matrix."
        ),
        epilog=(
            "examples:\n"
            "  skimgaug predict scans-model/ new-scans/ --out predictions.csv\n"
            "  skimgaug predict scans-model/ a.png b.png --tta 8 --out predictions.csv\n"
            "  skimgaug predict scans-model/ test.csv --label-column diagnosis --out p.csv"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a folder written by train")
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="folder, CSV or images")
    options.add_common_options(parser, ("batch_size", "traceback"), defaults=False)
    parser.add_argument(
        "--tta-seed",
        type=options.parameter_type("random_state"),
        default=None,
        metavar="N",
        help="seed of the test-time augmentation (default: the model's random_state)",
    )
    parser.add_argument(
        "--tta",
        type=options.parameter_type("tta"),
        default=None,
        metavar="N",
        help="test-time augmentation copies (default: as the model was saved)",
    )
    parser.add_argument("--path-column", default="path", help="CSV column of image paths (path)")
    parser.add_argument(
        "--label-column",
        default="label",
        help="CSV column of known labels, used when present (label)",
    )
    options.add_task_options(parser)
    parser.set_defaults(task=None)  # the model's own unless given
    parser.add_argument(
        "--out", metavar="FILE.csv", required=True, help="the CSV to write ('-': standard output)"
    )
    return parser


def run(args, out=None):
    out = out or sys.stdout
    if not os.path.isdir(args.model_dir):
        raise options.UsageError(f"MODEL_DIR {args.model_dir!r} is not a folder")
    to_stdout = args.out == "-"  # the CSV on standard output, messages on standard error
    folder = os.path.dirname(os.path.abspath(args.out))
    if not to_stdout and not os.path.isdir(folder):
        raise options.UsageError(f"--out {args.out!r}: the folder {folder!r} does not exist")
    with quiet.without_cpp_logs():
        from .._persistence._folder import load_model

        clf = load_model(args.model_dir)
    task = estimator_task(clf)
    if args.task is not None and args.task != task:
        raise options.UsageError(
            f"--task {args.task}: the model in {args.model_dir} was trained for --task {task}"
        )
    if task != "classification":
        return _predict_task(clf, task, args, out)
    paths, labels = collect_images(args.sources, clf.classes_, args)
    kwargs = _prediction_settings(clf, args)
    proba = clf.predict_proba(paths, **kwargs)
    predicted = clf.classes_[np.argmax(proba, axis=1)]
    if to_stdout:
        _write_csv(out, paths, predicted, proba, clf.classes_, labels)
        out.flush()
        out = sys.stderr
    else:
        with open(args.out, "w", newline="") as f:
            _write_csv(f, paths, predicted, proba, clf.classes_, labels)
    where = "standard output" if to_stdout else args.out
    print(
        f"skimgaug: predicted {len(paths)} image{'' if len(paths) == 1 else 's'} "
        f"with {args.model_dir} "
        f"(tta={clf.tta}); wrote {where}",
        file=out,
    )
    if labels is not None:
        print(_scored(labels, predicted, clf.classes_), file=out)
    return predicted


def _prediction_settings(clf, args):
    """Set ``--tta`` and ``--tta-seed`` on the loaded model; the keyword arguments of predict."""
    clf.set_params(verbose=0)
    if args.tta is not None:
        clf.set_params(tta=args.tta)
    if args.tta_seed is not None:
        clf.set_params(random_state=args.tta_seed)
    return {"batch_size": args.batch_size} if getattr(args, "batch_size", None) else {}


def collect_images(sources, classes, args):
    """``(paths, labels or None)`` from folders, CSV files and image files."""
    from ..datasets import IMAGE_EXTENSIONS, load_image_csv

    paths, labels = [], []
    for source in sources:
        if os.path.isdir(source):
            found, found_labels = _folder_images(source, classes, IMAGE_EXTENSIONS)
        elif source.lower().endswith(".csv") and os.path.isfile(source):
            found, found_labels = _csv_images(source, args, load_image_csv)
        elif os.path.isfile(source):
            found, found_labels = [source], None
        else:
            raise FileNotFoundError(f"no such folder, CSV or image file: {source!r}")
        if not len(found):
            raise ValueError(f"no image files in {source!r}")
        paths.extend(found)
        labels.extend(found_labels if found_labels is not None else [None] * len(found))
    if all(label is None for label in labels):
        return np.array(paths, dtype=object), None
    return np.array(paths, dtype=object), np.array(labels, dtype=object)


def _folder_images(root, classes, extensions):
    """A class-per-subfolder folder (labels known) or every image file below ``root``."""
    names = {str(c) for c in classes}
    entries = sorted(os.listdir(root))
    subfolders = [e for e in entries if os.path.isdir(os.path.join(root, e))]
    loose = [e for e in entries if e.lower().endswith(extensions)]
    others = sorted(set(subfolders) - names)
    if subfolders and not loose and others:
        print(
            f"note: subfolders of {root!r} ({', '.join(map(repr, others[:5]))}) are not classes "
            "of this model: predicting every image below it, without labels",
            file=sys.stderr,
        )
    elif subfolders and not loose:
        paths, labels = [], []
        for label in subfolders:
            for name in sorted(os.listdir(os.path.join(root, label))):
                if name.lower().endswith(extensions):
                    paths.append(os.path.join(root, label, name))
                    labels.append(label)
        return paths, labels
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        paths.extend(
            os.path.join(folder, f) for f in sorted(files) if f.lower().endswith(extensions)
        )
    return paths, None


def _csv_images(path, args, load_image_csv):
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), [])
    except UnicodeDecodeError:
        load_image_csv(path, args.path_column, args.label_column)  # raises, naming the file
    if args.path_column not in header:
        raise ValueError(
            f"{path!r} has no column {args.path_column!r} (columns: {', '.join(header)}); "
            "name the column of image paths with --path-column"
        )
    if args.label_column in header:  # a blank label: not known for that image
        found, given = load_image_csv(
            path, args.path_column, args.label_column, blank_labels="keep"
        )[:2]
        return list(found), [str(label).strip() or None for label in given]
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [row[args.path_column] for row in csv.DictReader(f)]
    base = os.path.dirname(os.path.abspath(path))
    return [os.path.join(base, row) for row in rows], None


def _scored(labels, predicted, classes):
    """Accuracy and confusion matrix of the images whose label is a class of the model.

    Images without a label, or with a label the model does not know, are
    not scored; a line says how many and which labels.
    """
    by_name = {str(c): c for c in classes}
    known = np.array([label in by_name for label in labels])
    lines = []
    missing = sum(label is None for label in labels)
    unknown = sorted({label for label in labels if label is not None and label not in by_name})
    if missing or unknown:
        parts = [f"{missing} without a label"] if missing else []
        if unknown:
            parts.append(
                f"{len(labels) - known.sum() - missing} labelled "
                f"{', '.join(map(repr, unknown[:5]))}"
                + (" ..." if len(unknown) > 5 else "")
                + f", not a class of this model ({', '.join(map(repr, by_name))})"
            )
        lines.append(f"not scored: {'; '.join(parts)}")
    if known.any():
        truth = np.array([by_name[label] for label in labels[known]])
        lines.insert(0, _report(truth, predicted[known], classes))
    return "\n".join(lines)


def _write_csv(stream, paths, predicted, proba, classes, labels):
    writer = csv.writer(stream)
    header = ["path", "predicted_label"] + [f"proba_{c}" for c in classes]
    writer.writerow(header + (["true_label"] if labels is not None else []))
    for i, image in enumerate(paths):
        row = [image, predicted[i], *(f"{p:.6f}" for p in proba[i])]
        label = "" if labels is None or labels[i] is None else labels[i]
        writer.writerow(row + ([label] if labels is not None else []))


def _report(labels, predicted, classes):
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix

    matrix = confusion_matrix(labels, predicted, labels=classes)
    names = [str(c) for c in classes]
    width = max(8, *(len(n) for n in names)) + 2
    lines = [
        f"accuracy {accuracy_score(labels, predicted):.4f}, "
        f"balanced accuracy {balanced_accuracy_score(labels, predicted):.4f}",
        "confusion matrix (rows: true, columns: predicted)",
        "".ljust(width) + "".join(n.rjust(width) for n in names),
    ]
    for name, row in zip(names, matrix, strict=True):
        lines.append(name.ljust(width) + "".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)


def _predict_task(clf, task, args, out):
    """Predict with a multi-label classifier or a regressor: a column per label or output."""
    names = output_columns(clf, task)
    paths, labels = collect_images(args.sources, (), args)
    kwargs = _prediction_settings(clf, args)
    if task == "multilabel":
        values = clf.predict_proba(paths, **kwargs)
        called = (values > 0.5).astype(int)  # as the model's predict
        header = [f"predicted_{n}" for n in names] + [f"proba_{n}" for n in names]
    else:
        values = np.reshape(clf.predict(paths, **kwargs), (len(paths), -1))
        called = None
        header = [f"predicted_{n}" for n in names]
    truth = None if labels is None else _known_targets(labels, task, names, args)
    to_stdout = args.out == "-"
    stream = out if to_stdout else open(args.out, "w", newline="")  # noqa: SIM115
    try:
        writer = csv.writer(stream)
        writer.writerow(["path", *header] + ([f"true_{n}" for n in names] if truth else []))
        for i, image in enumerate(paths):
            row = [image]
            if called is not None:
                row += called[i].tolist() + [f"{p:.6f}" for p in values[i]]
            else:
                row += [f"{v:.6g}" for v in values[i]]
            if truth:
                known = truth[1][i]
                row += [str(v) if known else "" for v in truth[0][i]]
            writer.writerow(row)
    finally:
        if to_stdout:
            stream.flush()
            out = sys.stderr
        else:
            stream.close()
    print(
        f"skimgaug: predicted {len(paths)} image{'' if len(paths) == 1 else 's'} "
        f"with {args.model_dir} (tta={clf.tta}); wrote "
        f"{'standard output' if to_stdout else args.out}",
        file=out,
    )
    if truth and truth[1].any():
        print(_scored_task(task, truth, values, called, names), file=out)
    return called if called is not None else values


def _known_targets(labels, task, names, args):
    """``(targets, known)``: the labels of a CSV as the model's targets, and which rows have one."""
    known = np.array([label is not None for label in labels])
    cells = [label if label is not None else "0" for label in labels]
    if task == "regression":
        where = ", ".join(s for s in args.sources if s.lower().endswith(".csv"))
        import argparse

        as_values = argparse.Namespace(**{**vars(args), "task": "regression"})
        values, _ = targets(cells, as_values, where)
        return np.reshape(values, (len(cells), -1)), known
    separator = args.label_separator
    unknown = sorted(
        {
            part.strip()
            for cell, has in zip(cells, known, strict=True)
            if has
            for part in str(cell).split(separator)
            if part.strip() and part.strip() not in names
        }
    )
    if unknown:
        raise ValueError(
            f"labels {', '.join(map(repr, unknown[:5]))} are not labels of this model "
            f"({', '.join(map(repr, names))}); check --label-separator ({separator!r})"
        )
    y = np.zeros((len(cells), len(names)), dtype=int)
    index = {name: j for j, name in enumerate(names)}
    for row, cell in enumerate(cells):
        if known[row]:
            for part in str(cell).split(separator):
                if part.strip():
                    y[row, index[part.strip()]] = 1
    return y, known


def _scored_task(task, truth, values, called, names):
    """The scores of the images whose labels (or values) are known."""
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        mean_absolute_error,
        r2_score,
        root_mean_squared_error,
    )

    y, known = truth
    lines = [] if known.all() else [f"not scored: {int((~known).sum())} without a label"]
    y = y[known]
    if task == "regression":
        predicted = values[known]
        r2 = r2_score(y, predicted) if len(y) > 1 else float("nan")
        lines.insert(
            0,
            f"MAE {mean_absolute_error(y, predicted):.4g}, RMSE "
            f"{root_mean_squared_error(y, predicted):.4g}, R² {r2:.4f} on {len(y)} images",
        )
        return "\n".join(lines)
    predicted = called[known]
    per_label = ", ".join(
        f"{name} {f1_score(y[:, j], predicted[:, j], zero_division=0):.4f}"
        for j, name in enumerate(names)
    )
    lines.insert(
        0,
        f"subset accuracy {accuracy_score(y, predicted):.4f}, macro F1 "
        f"{f1_score(y, predicted, average='macro', zero_division=0):.4f} on {len(y)} images; "
        f"F1 per label: {per_label}",
    )
    return "\n".join(lines)
