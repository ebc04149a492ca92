"""Does the default model learn at every common image size? (issue: defaults that learn)

3-fold stratified CV of ``AugmentedKerasClassifier()`` with its defaults (the
default CNN, Adam at its default-model learning rate, batch size 32, no
augmentation, ``rescale=1/16``) on scikit-learn's bundled digits upscaled
(bilinear) to 32, 64 and 128 pixels, grayscale, 10 epochs. Target: mean
accuracy >= 0.85 at each size. Also reports seconds per epoch.

Run from the repository root::

    python benchmarks/bench_default_model.py               # 600 images, ~10 min on 2 cores
    python benchmarks/bench_default_model.py --images 400 --sizes 32,64

Appends a section to ``benchmarks/RESULTS.md`` (``--no-write`` to print only).
"""

import argparse
import sys

import _bench as bench
import numpy as np

TARGET = 0.85


def upscaled_digits(size, n_images):
    """The first ``n_images`` digits, resized to ``size`` x ``size`` (values 0-16)."""
    import cv2

    from skimgaug.datasets import load_digits_images

    X, y = load_digits_images()
    X, y = X[:n_images], y[:n_images]
    if size != X.shape[1]:
        X = np.stack(
            [cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR) for image in X]
        )
    return X.reshape(len(X), size, size, 1).astype(np.float32), y


def cross_validate(size, n_images, epochs, seed=0):
    """Fold accuracies and the mean epoch time of the default model at one size."""
    from sklearn.model_selection import StratifiedKFold, cross_validate

    from skimgaug import AugmentedKerasClassifier

    X, y = upscaled_digits(size, n_images)
    clf = AugmentedKerasClassifier(
        datagen={"rescale": 1 / 16}, epochs=epochs, batch_size=32, verbose=0, random_state=seed
    )
    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    result = cross_validate(clf, X, y, cv=cv)
    return result["test_score"], float(np.mean(result["fit_time"])) / epochs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="32,64,128", help="image sizes (32,64,128)")
    parser.add_argument("--images", type=int, default=600, help="digits used (600)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per fit (10)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    lines = [
        f"### The default CNN on digits upscaled, {args.images} images, 3-fold CV, "
        f"{args.epochs} epochs, defaults (Adam at the default model's learning rate)",
        "",
        "| size | fold accuracies | mean accuracy | seconds per epoch | target |",
        "|---|---|---|---|---|",
    ]
    for line in lines:
        print(line, flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        scores, epoch_time = cross_validate(size, args.images, args.epochs)
        verdict = "met" if scores.mean() >= TARGET else "MISSED"
        line = (
            f"| {size}x{size} | {', '.join(f'{s:.3f}' for s in scores)} | "
            f"**{scores.mean():.3f}** | {epoch_time:.2f} | >= {TARGET}: {verdict} |"
        )
        print(line, flush=True)
        lines.append(line)
    if not args.no_write:
        bench.append_results("default model", "\n".join(lines))
        print(f"appended to {bench.RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
