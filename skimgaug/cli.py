"""The ``skimgaug`` command: cross-validate with and without augmentation.

Plain ``skimgaug`` runs a stratified 5-fold cross-validation of the default
CNN on scikit-learn's bundled 8x8 digits (no download), once without and once
with augmentation on the same folds, and prints per-fold and mean ± std
accuracy. Heavy imports happen inside :func:`main`, so ``--help`` is instant.
"""

import argparse
import os
import sys
import time

#: Augmentation used by the digits demo: small geometric changes, no flips
#: (a mirrored digit is another symbol).
DIGITS_AUGMENTATION = {
    "rotation_range": 10,
    "width_shift_range": 0.1,
    "height_shift_range": 0.1,
    "zoom_range": 0.1,
}
DIGITS_STANDARDIZATION = {"rescale": 1 / 16}


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser():
    """The argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="skimgaug",
        description=(
            "Leak-free k-fold cross-validation of a Keras image classifier: "
            "augmentation is applied to training folds only. Without arguments, "
            "cross-validates the default CNN on scikit-learn's bundled 8x8 digits, "
            "without and with augmentation on the same stratified folds."
        ),
    )
    parser.add_argument("--folds", type=_positive_int, default=5, help="number of folds (5)")
    parser.add_argument("--epochs", type=_positive_int, default=10, help="epochs per fit (10)")
    parser.add_argument("--batch-size", type=_positive_int, default=32, help="batch size (32)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for folds and fits (0)")
    return parser


def _settings_text(settings):
    return ", ".join(f"{key}={value:g}" for key, value in settings.items())


def format_results(scores_by_setting, folds):
    """Per-fold table plus a mean ± std line, one column per setting."""
    import numpy as np

    names = list(scores_by_setting)
    width = max(16, *(len(n) + 2 for n in names))
    lines = ["fold".ljust(12) + "".join(name.rjust(width) for name in names)]
    for fold in range(folds):
        row = f"{fold + 1}".ljust(12)
        row += "".join(f"{scores_by_setting[n][fold]:.4f}".rjust(width) for n in names)
        lines.append(row)
    summary = "mean ± std".ljust(12)
    for name in names:
        scores = np.asarray(scores_by_setting[name])
        summary += f"{scores.mean():.4f} ± {scores.std():.4f}".rjust(width)
    lines.append(summary)
    return "\n".join(lines)


def run_digits_demo(folds=5, epochs=10, batch_size=32, seed=0, out=None):
    """Cross-validate the default CNN on digits without and with augmentation.

    Returns
    -------
    dict
        ``{"no augmentation": scores, "augmentation": scores}``, one accuracy
        per fold, on identical stratified folds.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from ._classifier import AugmentedKerasClassifier
    from .datasets import load_digits_images

    out = out or sys.stdout
    X, y = load_digits_images()
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    settings = {
        "no augmentation": DIGITS_STANDARDIZATION,
        "augmentation": {**DIGITS_AUGMENTATION, **DIGITS_STANDARDIZATION},
    }
    print(
        f"skimgaug: stratified {folds}-fold cross-validation on scikit-learn digits "
        f"({len(X)} images, {X.shape[1]}x{X.shape[2]}x{X.shape[3]}, "
        f"{len(set(y))} classes)\n"
        f"model: default CNN, epochs={epochs}, batch_size={batch_size}, seed={seed}\n"
        f"standardization (all images): {_settings_text(DIGITS_STANDARDIZATION)}\n"
        f"augmentation (training folds only): {_settings_text(DIGITS_AUGMENTATION)}\n",
        file=out,
        flush=True,
    )
    results = {}
    for name, datagen in settings.items():
        clf = AugmentedKerasClassifier(
            datagen=datagen,
            epochs=epochs,
            batch_size=batch_size,
            optimizer="adam",
            verbose=0,
            random_state=seed,
        )
        start = time.perf_counter()
        results[name] = cross_val_score(clf, X, y, cv=cv).tolist()
        print(f"  {name}: {time.perf_counter() - start:.1f} s", file=out, flush=True)
    print("\naccuracy\n" + format_results(results, folds), file=out, flush=True)
    return results


def main(argv=None):
    """Entry point of the ``skimgaug`` console script."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        run_digits_demo(args.folds, args.epochs, args.batch_size, args.seed)
    except (ValueError, TypeError) as exc:
        print(f"skimgaug: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
