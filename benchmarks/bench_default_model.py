"""Does the default model learn at every common image size? (issue: defaults that learn)

3-fold stratified CV of ``AugmentedKerasClassifier()`` with its defaults (the
default CNN, Adam at its default-model learning rate, batch size 32, no
augmentation, ``rescale=1/16``) on scikit-learn's bundled digits upscaled
(bilinear) to 32, 64 and 128 pixels, grayscale, 10 epochs. Target: mean
accuracy >= 0.85 at each size. Also reports seconds per epoch.

Then, in inference mode: the default model fitted on 150 photograph patches
(``skimgaug.datasets.load_texture_patches``, 3 classes, 32x32, rotation 10)
for 3, 5 and 10 epochs; accuracy on its last epoch's training batches against
accuracy of ``score`` on the same images, clean, and on 150 other patches.
Target: clean accuracy within 0.05 of training-batch accuracy.

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


def inference_mode(epochs, seed=0):
    """Training-batch, clean training and held-out accuracy of one default-model fit."""
    from skimgaug import AugmentedKerasClassifier
    from skimgaug.datasets import load_texture_patches

    X, y = load_texture_patches(50, 32, random_state=seed)
    X_test, y_test = load_texture_patches(50, 32, random_state=seed + 1000)
    clf = AugmentedKerasClassifier(
        datagen={"rotation_range": 10, "rescale": 1 / 255},
        epochs=epochs,
        metrics=["accuracy"],
        verbose=0,
        random_state=seed,
    )
    clf.fit(X, y)
    return clf.history_["accuracy"][-1], clf.score(X, y), clf.score(X_test, y_test)


def inference_mode_table(epoch_counts, seeds):
    """Markdown lines: one row per number of epochs, means over ``seeds``."""
    lines = [
        "",
        f"### The default CNN in inference mode: 150 texture patches (3 classes, 32x32, "
        f"rotation 10), means over {len(seeds)} seeds",
        "",
        "| epochs | training-batch accuracy | clean accuracy, same images | "
        "held-out accuracy | target |",
        "|---|---|---|---|---|",
    ]
    for line in lines:
        print(line, flush=True)
    for epochs in epoch_counts:
        batches, clean, held_out = np.mean([inference_mode(epochs, s) for s in seeds], axis=0)
        verdict = "met" if clean >= batches - 0.05 else "MISSED"
        line = (
            f"| {epochs} | {batches:.3f} | **{clean:.3f}** | {held_out:.3f} | "
            f"clean >= batches - 0.05: {verdict} |"
        )
        print(line, flush=True)
        lines.append(line)
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="32,64,128", help="image sizes (32,64,128)")
    parser.add_argument("--images", type=int, default=600, help="digits used (600)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per fit (10)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--inference-epochs", default="3,5,10", help="epochs of the inference-mode rows (3,5,10)"
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds per inference row (3)")
    parser.add_argument("--only-inference", action="store_true", help="skip the digits part")
    args = parser.parse_args(argv)
    lines = [
        f"### The default CNN on digits upscaled, {args.images} images, 3-fold CV, "
        f"{args.epochs} epochs, defaults (Adam at the default model's learning rate)",
        "",
        "| size | fold accuracies | mean accuracy | seconds per epoch | target |",
        "|---|---|---|---|---|",
    ]
    if args.only_inference:
        lines = []
    for line in lines:
        print(line, flush=True)
    sizes = [] if args.only_inference else [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        scores, epoch_time = cross_validate(size, args.images, args.epochs)
        verdict = "met" if scores.mean() >= TARGET else "MISSED"
        line = (
            f"| {size}x{size} | {', '.join(f'{s:.3f}' for s in scores)} | "
            f"**{scores.mean():.3f}** | {epoch_time:.2f} | >= {TARGET}: {verdict} |"
        )
        print(line, flush=True)
        lines.append(line)
    epoch_counts = [int(e) for e in args.inference_epochs.split(",")]
    lines += inference_mode_table(epoch_counts, list(range(args.seeds)))
    if not args.no_write:
        bench.append_results("default model", "\n".join(lines))
        print(f"appended to {bench.RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
