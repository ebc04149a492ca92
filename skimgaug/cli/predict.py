"""``skimgaug predict``: a saved model's predictions for new images, as a CSV."""

import argparse
import csv
import os
import sys

import numpy as np

from . import _options as options
from . import _quiet as quiet


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
    paths, labels = collect_images(args.sources, clf.classes_, args)
    clf.set_params(verbose=0)
    if args.tta is not None:
        clf.set_params(tta=args.tta)
    if args.tta_seed is not None:
        clf.set_params(random_state=args.tta_seed)
    kwargs = {"batch_size": args.batch_size} if getattr(args, "batch_size", None) else {}
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
