"""Fit overhead: epoch time with the article's augmentation over epoch time without.

The article's CNN on 32x32x3 toy images, batch 32. Each fit's epoch time is
the median over its epochs, the first (which traces the model) left out.
Fits without augmentation and with the vectorized engine alternate,
``--repeats`` times each, so that a noisy spell of a shared machine hits
both; the medians over repeats are compared. The reference engine
(``imagedatagenerator``) is fitted once, as an extra row. Target: vectorized
<= 1.10x no augmentation.

Run from the repository root::

    python benchmarks/bench_fit_overhead.py              # about 2.5 min on 2 cores
    python benchmarks/bench_fit_overhead.py --repeats 9  # steadier medians
    python benchmarks/bench_fit_overhead.py --quick      # smoke test
"""

import sys
import time

import _bench as bench
import numpy as np

FULL = {"images": 4096, "epochs": 6, "repeats": 5}
QUICK = {"images": 1024, "epochs": 3, "repeats": 5}
HELPS = {
    "images": "toy images",
    "epochs": "epochs per fit",
    "repeats": "interleaved fits per path",
}


def epoch_timer():
    """A Keras callback keeping each epoch's duration in ``.times``."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    return EpochTimer()


def fit_overhead(n_images, epochs, repeats):
    """Median epoch time (s) of each path: no augmentation, the two engines."""
    from skimgaug import AugmentedKerasClassifier
    from skimgaug.datasets import make_toy_images

    X, y = make_toy_images(n_images, image_size=32, n_channels=3, n_classes=10, random_state=0)

    def epoch_time(**params):
        timer = epoch_timer()
        AugmentedKerasClassifier(
            bench.article_cnn,
            callbacks=[timer],
            epochs=epochs,
            batch_size=32,
            verbose=0,
            random_state=0,
            **params,
        ).fit(X, y)
        return float(np.median(timer.times[1:]))  # the first epoch traces the model

    plain, vectorized = [], []
    for _ in range(repeats):
        plain.append(epoch_time())
        vectorized.append(epoch_time(datagen=bench.ARTICLE, engine="vectorized"))
    return {
        "no augmentation": (float(np.median(plain)), plain),
        "imagedatagenerator": (
            epoch_time(datagen=bench.ARTICLE, engine="imagedatagenerator"),
            [],
        ),
        "vectorized": (float(np.median(vectorized)), vectorized),
    }


def run(settings, report):
    """Measure and report the three paths."""
    target = bench.TARGETS["fit overhead"]
    report("### Fit overhead (article CNN, 32x32x3, epoch time with / without augmentation)")
    report()
    report(
        f"{settings['images']} images, {settings['epochs']} epochs per fit. Median epoch time "
        "(the first epoch, which traces the model, left out); the plain and vectorized fits "
        f"are repeated {settings['repeats']} times, interleaved, and the medians used "
        "(each repeat's value in the last column)."
    )
    report()
    times = fit_overhead(settings["images"], settings["epochs"], settings["repeats"])
    plain = times["no augmentation"][0]
    report.table(["path", "epoch time (s)", "ratio to no augmentation", "target", "repeats (s)"])
    for name, (seconds, repeats) in times.items():
        ratio = seconds / plain
        report.row(
            name,
            f"{seconds:.3f}",
            f"{ratio:.2f}",
            target.verdict(ratio) if name == "vectorized" else "",
            ", ".join(f"{t:.3f}" for t in repeats),
        )
    report()


if __name__ == "__main__":
    sys.exit(bench.main(__doc__, "fit overhead", run, FULL, QUICK, helps=HELPS))
