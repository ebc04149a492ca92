"""What leakage costs: cross-validation estimates against a held-out set (issue 11).

For two data sets, each repeat first splits off a held-out test set that no
step below ever sees, then estimates accuracy and balanced accuracy on the
rest (the development set) in seven ways:

1. honest: ``AugmentedKerasClassifier`` in ``cross_validate`` (split first;
   augmentation and feature-wise statistics inside each ``fit``);
2. augmented copies before splitting: the development set plus 3 augmented
   copies of every image, then folds over the rows (copies of a test image
   sit in the training folds);
3. feature-wise statistics (``featurewise_center``,
   ``featurewise_std_normalization``) fitted on the whole development set,
   then cross-validation of the standardized images;
4. augmented validation + ``EarlyStopping``: one fit on the development set
   with 20% held out for validation, those images augmented anew every epoch,
   and ``EarlyStopping(restore_best_weights=True)`` on validation accuracy;
   the estimate is the validation score of the restored epoch (what the
   training log reports). 4c is the control: the same with clean validation
   images (standardized only, as skimgaug's ``validation_split`` does);
5. unshuffled ``KFold`` on class-sorted labels (a fold whose training part
   holds a single class predicts that class, as a Keras model trained on one
   label would; skimgaug refuses to fit it);
6. (patients only) image-level ``StratifiedKFold``: a patient's images on
   both sides of a split.

Each method's held-out score is that of the model its own procedure trains
on the whole development set (for 4 and 4c: the restored model); methods 1,
3, 5 and 6 train the same final model and share it. Optimism = estimate -
held-out score, as mean +- std over repeats (different seeds for the held-out
split, the folds and the fits).

Data sets: (a) scikit-learn's 8x8 digits, 600 development images and the
other 1197 held out; (b) synthetic patients: a smooth random "anatomy" per
patient, 4-8 near-duplicate 12x12 images each (shifted by up to 2 pixels,
plus pixel noise), 20% of patients positive with a faint blob; 100
development patients and 200 held-out patients, folds grouped by patient.
Default CNN, 8 epochs (4 and 4c: up to 16, patience 3), 3-fold CV.

Run from the repository root::

    python benchmarks/bench_leakage.py            # 5 repeats, 24 min on 2 shared cores
    python benchmarks/bench_leakage.py --quick    # 1 small repeat, smoke test

Appends a section to ``benchmarks/RESULTS.md`` and writes
``benchmarks/leakage.png`` (``--no-write`` to print only; ``--figure PATH``
writes the figure there, also with ``--no-write``).
"""

import argparse
import os
import sys
import time
import warnings

import _bench as bench
import numpy as np

FIGURE = os.path.join(bench.HERE, "leakage.png")

#: Random augmentation used by every method (inside fit, or for the copies of 2
#: and the validation images of 4).
AUGMENTATION = {
    "rotation_range": 10,
    "width_shift_range": 0.1,
    "height_shift_range": 0.1,
    "zoom_range": 0.1,
}
#: Standardization used by every method.
STANDARDIZATION = {"featurewise_center": True, "featurewise_std_normalization": True}

METHODS = {
    "honest": "1. skimgaug: split first (honest)",
    "augment_first": "2. augmented copies before splitting",
    "stats_first": "3. feature-wise statistics on all data",
    "augmented_validation": "4. augmented validation + EarlyStopping",
    "clean_validation": "4c. clean validation + EarlyStopping (control)",
    "sorted_kfold": "5. unshuffled KFold, class-sorted labels",
    "image_split": "6. image-level folds (patients on both sides)",
}

FULL = {
    "repeats": 5,
    "digits": 600,
    "patients": 100,
    "test_patients": 200,
    "epochs": 8,
    "max_epochs": 16,
    "patience": 3,
    "copies": 3,
    "folds": 3,
}
QUICK = {
    "repeats": 1,
    "digits": 150,
    "patients": 30,
    "test_patients": 40,
    "epochs": 2,
    "max_epochs": 3,
    "patience": 1,
    "copies": 1,
    "folds": 3,
}


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------
def make_patients(n_patients, rng, size=12, positives=0.2, lesion=2.0, noise=0.2):
    """Near-duplicate images per patient; a faint blob marks positive patients.

    Each patient has a smooth random "anatomy" (unit variance) that all of its
    4-8 images share, each image a crop shifted by up to 2 pixels plus pixel
    noise. Positive patients (a fraction ``positives``) also carry a Gaussian
    blob of height ``lesion`` (sigma 1.2 pixels) at a place of their own. So
    the class is learnable, but less easily than the patient.
    """
    from scipy.ndimage import gaussian_filter

    labels = (np.arange(n_patients) < round(positives * n_patients)).astype(int)
    rng.shuffle(labels)
    rows, cols = np.mgrid[0 : size + 4, 0 : size + 4]
    X, y, groups = [], [], []
    for patient, label in enumerate(labels):
        anatomy = gaussian_filter(rng.normal(size=(size + 4, size + 4)), 1.0)
        anatomy /= anatomy.std()
        if label:
            row, col = rng.uniform(4, size, 2)
            anatomy += lesion * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * 1.2**2))
        for _ in range(rng.integers(4, 9)):
            dr, dc = rng.integers(0, 5, 2)
            X.append(anatomy[dr : dr + size, dc : dc + size] + rng.normal(0, noise, (size, size)))
            y.append(label)
            groups.append(patient)
    X = (100 + 30 * np.array(X))[..., np.newaxis].astype(np.float32)
    return X, np.array(y), np.array(groups)


def digits_split(settings, seed):
    """(development, held-out) digits, stratified; development has no groups."""
    from sklearn.model_selection import train_test_split

    from skimgaug.datasets import load_digits_images

    X, y = load_digits_images()
    X_dev, X_test, y_dev, y_test = train_test_split(
        X, y, train_size=settings["digits"], stratify=y, random_state=seed
    )
    return (X_dev, y_dev, None), (X_test, y_test)


def patients_split(settings, seed):
    """Development and held-out patients, drawn from the same process."""
    rng = np.random.default_rng(seed)
    dev = make_patients(settings["patients"], rng)
    X_test, y_test, _ = make_patients(settings["test_patients"], rng)
    return dev, (X_test, y_test)


# ----------------------------------------------------------------------------
# Pieces shared by the methods
# ----------------------------------------------------------------------------
def classifier(settings, seed, grouped, datagen, **params):
    """The default CNN; class weights balanced on the imbalanced patients."""
    from skimgaug import AugmentedKerasClassifier

    defaults = {
        "epochs": settings["epochs"],
        "batch_size": 32,
        "class_weight": "balanced" if grouped else None,
        "verbose": 0,
        "random_state": seed,
    }
    return AugmentedKerasClassifier(datagen=datagen, **{**defaults, **params})


def both_scores(y_true, y_pred):
    """(accuracy, balanced accuracy)."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    with warnings.catch_warnings():
        # A fold of one class (method 5): balanced accuracy is that class's recall.
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        warnings.filterwarnings("ignore", message="A single label was found")
        return accuracy_score(y_true, y_pred), balanced_accuracy_score(y_true, y_pred)


def cv_scores(clf, X, y, cv, groups=None):
    """Mean (accuracy, balanced accuracy) of ``cross_validate``."""
    from sklearn.model_selection import cross_validate

    result = cross_validate(
        clf, X, y, groups=groups, cv=cv, scoring=["accuracy", "balanced_accuracy"]
    )
    return result["test_accuracy"].mean(), result["test_balanced_accuracy"].mean()


def folds(settings, seed, grouped):
    """The honest splitter: stratified, grouped by patient where there are patients."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    splitter = StratifiedGroupKFold if grouped else StratifiedKFold
    return splitter(settings["folds"], shuffle=True, random_state=seed)


def augmented_copies(X, n_copies, seed):
    """``n_copies`` randomly transformed copies of every image (ImageDataGenerator)."""
    from skimgaug._compat import image_data_generator_class

    generator = image_data_generator_class()(**AUGMENTATION)
    return [
        next(generator.flow(X, batch_size=len(X), shuffle=False, seed=seed + k))
        for k in range(n_copies)
    ]


def validation_scores_callback(X_val, y_val, images_for_epoch):
    """A Keras callback scoring ``images_for_epoch(epoch)`` into ``logs["val_acc"]``."""
    import keras

    class ValidationScores(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.scores = []

        def on_epoch_end(self, epoch, logs=None):
            proba = self.model.predict(images_for_epoch(epoch), verbose=0)
            pred = (proba[:, 0] > 0.5).astype(int) if proba.shape[1] == 1 else proba.argmax(1)
            self.scores.append(both_scores(y_val, pred))
            logs["val_acc"] = self.scores[-1][0]

    return ValidationScores()


# ----------------------------------------------------------------------------
# The methods: each yields its name and (estimate, held-out), pairs (acc, bacc)
# ----------------------------------------------------------------------------
def study(dev, test, settings, seed):
    """Estimates and held-out scores of every method on one development set."""
    X, y, groups = dev
    X_test, y_test = test
    grouped = groups is not None
    datagen = {**AUGMENTATION, **STANDARDIZATION}

    def held_out(clf):
        return both_scores(y_test, clf.predict(X_test))

    # 1. Honest: split first, everything learned inside each fit.
    clf = classifier(settings, seed, grouped, datagen)
    estimate = cv_scores(clf, X, y, folds(settings, seed, grouped), groups)
    final = held_out(clf.fit(X, y))
    yield "honest", (estimate, final)

    # 2. Augmented copies (plus the originals) before image-level folds.
    from sklearn.model_selection import StratifiedKFold

    X_big = np.concatenate([X, *augmented_copies(X, settings["copies"], seed)])
    y_big = np.tile(y, settings["copies"] + 1)
    clf = classifier(settings, seed, grouped, STANDARDIZATION)
    estimate = cv_scores(
        clf, X_big, y_big, StratifiedKFold(settings["folds"], shuffle=True, random_state=seed)
    )
    yield "augment_first", (estimate, held_out(clf.fit(X_big, y_big)))

    # 3. Feature-wise statistics from the whole development set, then CV.
    # The final model is 1's: a final fit learns its statistics from all of it too.
    from skimgaug._compat import image_data_generator_class

    standardizer = image_data_generator_class()(**STANDARDIZATION)
    standardizer.fit(X)
    X_std = standardizer.standardize(X.copy())
    clf = classifier(settings, seed, grouped, AUGMENTATION)
    estimate = cv_scores(clf, X_std, y, folds(settings, seed, grouped), groups)
    yield "stats_first", (estimate, final)

    # 4 and 4c. One fit with 20% held out for EarlyStopping; the estimate is the
    # validation score of the restored epoch.
    train, val = next(folds({**settings, "folds": 5}, seed, grouped).split(X, y, groups))
    training_stats = image_data_generator_class()(**datagen)
    training_stats.fit(X[train])  # what skimgaug learns from this fit's images

    def augmented(epoch):
        flow = training_stats.flow(X[val], batch_size=len(val), shuffle=False, seed=seed + epoch)
        return next(flow)

    clean = training_stats.standardize(X[val].copy())
    import keras

    for name, images_for_epoch in (
        ("augmented_validation", augmented),
        ("clean_validation", lambda epoch: clean),
    ):
        scores = validation_scores_callback(X[val], y[val], images_for_epoch)
        stop = keras.callbacks.EarlyStopping(
            monitor="val_acc",
            mode="max",
            patience=settings["patience"],
            restore_best_weights=True,
        )
        clf = classifier(
            settings,
            seed,
            grouped,
            datagen,
            epochs=settings["max_epochs"],
            callbacks=[scores, stop],
        )
        clf.fit(X[train], y[train])
        best = int(np.argmax([acc for acc, _ in scores.scores]))  # EarlyStopping's choice
        yield name, (scores.scores[best], held_out(clf))

    # 5. Unshuffled KFold on the development set sorted by class.
    from sklearn.model_selection import KFold

    order = np.argsort(y, kind="stable")
    X_sorted, y_sorted = X[order], y[order]
    fold_scores = []
    for train, test_fold in KFold(settings["folds"]).split(X_sorted):
        if len(np.unique(y_sorted[train])) == 1:
            pred = np.full(len(test_fold), y_sorted[train][0])
        else:
            model = classifier(settings, seed, grouped, datagen)
            pred = model.fit(X_sorted[train], y_sorted[train]).predict(X_sorted[test_fold])
        fold_scores.append(both_scores(y_sorted[test_fold], pred))
    yield "sorted_kfold", (tuple(np.mean(fold_scores, axis=0)), final)

    # 6. Image-level folds, patients on both sides.
    if grouped:
        clf = classifier(settings, seed, grouped, datagen)
        estimate = cv_scores(clf, X, y, folds(settings, seed, grouped=False))
        yield "image_split", (estimate, final)


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------
def summary(runs):
    """Per method: arrays of estimate, held-out and optimism, (repeats, 2)."""
    table = {}
    for method in METHODS:
        pairs = [run[method] for run in runs if method in run]
        if pairs:
            estimate = np.array([p[0] for p in pairs])
            held = np.array([p[1] for p in pairs])
            table[method] = {"cv": estimate, "held": held, "optimism": estimate - held}
    return table


def markdown_rows(name, table):
    def cell(values, sign=""):
        return f"{values.mean():{sign}.3f} ± {values.std():.3f}"

    rows = []
    for method, stats in table.items():
        cells = []
        for metric in (0, 1):
            cells += [
                cell(stats["cv"][:, metric]),
                cell(stats["held"][:, metric]),
                f"**{cell(stats['optimism'][:, metric], sign='+')}**",
            ]
        rows.append(f"| {name} | {METHODS[method]} | " + " | ".join(cells) + " |")
    return rows


def plot(tables, path):
    """Optimism per method (bars: mean; error bars: std; dots: repeats)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    limit = max(
        abs(stats["optimism"].mean(0)).max() + stats["optimism"].std(0).max()
        for table in tables.values()
        for method, stats in table.items()
        if method != "sorted_kfold"
    )
    limit = max(0.05, 1.25 * limit)
    fig, axes = plt.subplots(1, len(tables), figsize=(6.2 * len(tables), 5.2), sharey=True)
    labels = list(METHODS.values())
    positions = np.arange(len(labels))[::-1]
    for ax, (name, table) in zip(np.atleast_1d(axes), tables.items(), strict=True):
        for metric, (offset, color, label) in enumerate(
            [(0.19, "#4477aa", "accuracy"), (-0.19, "#ee7733", "balanced accuracy")]
        ):
            for i, method in enumerate(METHODS):
                if method not in table:
                    continue
                values = table[method]["optimism"][:, metric]
                y = positions[i] + offset
                mean = values.mean()
                shown = float(np.clip(mean, -limit, limit))
                ax.barh(y, shown, height=0.36, color=color, label=label if i == 0 else None)
                ax.errorbar(shown, y, xerr=values.std(), color="black", capsize=3, lw=1)
                ax.plot(np.clip(values, -limit, limit), [y] * len(values), "k.", ms=3)
                if abs(mean) > limit:
                    ax.annotate(
                        f"{mean:+.2f} (off scale)",
                        (shown, y),
                        xytext=(4 if mean < 0 else -4, 0),
                        textcoords="offset points",
                        ha="left" if mean < 0 else "right",
                        va="center",
                        fontsize=8,
                        color="white",
                        fontweight="bold",
                    )
            for i, method in enumerate(METHODS):
                if method not in table:
                    ax.text(0, positions[i], "n/a (no patients)", ha="center", va="center")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlim(-limit, limit)
        ax.set_title(name)
        ax.set_xlabel("optimism = CV estimate - held-out score")
        ax.grid(axis="x", alpha=0.3)
    axes = np.atleast_1d(axes)
    axes[0].set_yticks(positions, labels)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=2)
    fig.suptitle("What leakage costs: optimism of each estimate (bars: mean ± std; dots: repeats)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 small repeat (smoke test)")
    parser.add_argument("--repeats", type=int, help="repeats (5; --quick: 1)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--figure", help=f"where the figure goes ({FIGURE})")
    args = parser.parse_args(argv)
    from skimgaug.exceptions import ChanceLevelWarning

    # Weak fits are part of the study (--quick; the patients' faint class): the
    # scores below say how well each model learned.
    warnings.filterwarnings("ignore", category=ChanceLevelWarning)
    settings = dict(QUICK if args.quick else FULL)
    if args.repeats:
        settings["repeats"] = args.repeats
    data_sets = {"digits": digits_split, "patients": patients_split}
    start = time.perf_counter()
    runs = {name: [] for name in data_sets}
    for seed in range(settings["repeats"]):
        for name, split in data_sets.items():
            dev, test = split(settings, seed)
            run = {}
            for method, (estimate, held) in study(dev, test, settings, seed):
                run[method] = estimate, held
                print(
                    f"[{time.perf_counter() - start:6.0f} s] repeat {seed} {name:8s} "
                    f"{METHODS[method]:50s} estimate acc {estimate[0]:.3f} bacc {estimate[1]:.3f}"
                    f" | held-out acc {held[0]:.3f} bacc {held[1]:.3f}",
                    flush=True,
                )
            runs[name].append(run)
    minutes = (time.perf_counter() - start) / 60
    tables = {name: summary(r) for name, r in runs.items()}
    titles = {
        "digits": f"(a) digits: {settings['digits']} development images",
        "patients": f"(b) patients: {settings['patients']} development patients",
    }
    lines = [
        f"`benchmarks/bench_leakage.py`: {settings['repeats']} repeats (seeds 0-"
        f"{settings['repeats'] - 1}), {minutes:.1f} min. Default CNN, batch 32, "
        f"{settings['epochs']} epochs ({settings['max_epochs']} at most with EarlyStopping, "
        f"patience {settings['patience']}), {settings['folds']}-fold CV, augmentation "
        f"{AUGMENTATION}, featurewise center and std normalization; {settings['copies']} "
        "augmented copies per image for 2. (a) digits: "
        f"{settings['digits']} development images, the other digits held out; "
        "(b) synthetic patients (20% positive, 4-8 images each, class_weight balanced): "
        f"{settings['patients']} development patients, {settings['test_patients']} "
        "held-out patients; folds grouped by patient except in 2 and 6.",
        "",
        "Estimate: the mean CV score (4 and 4c: the validation score of the epoch "
        "EarlyStopping restored); held-out: the score of the model the method trains on the "
        "whole development set; optimism = estimate - held-out. Mean ± std over repeats.",
        "",
        "| data | method | CV accuracy | held-out accuracy | optimism (accuracy) "
        "| CV balanced accuracy | held-out balanced accuracy | optimism (balanced accuracy) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, table in tables.items():
        lines += markdown_rows(name, table)
    lines.append("")
    print("\n".join(lines), flush=True)
    if not args.no_write:
        bench.append_results(
            "what leakage costs" + (" (quick)" if args.quick else ""), "\n".join(lines)
        )
        print(f"appended to {bench.RESULTS}")
    figure = args.figure or (None if args.no_write else FIGURE)
    if figure:
        plot({titles[name]: table for name, table in tables.items()}, figure)
        print(f"figure: {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
