"""Memory: the peak of one fit, and resident memory over many fits in one process.

1. Peak memory of ``fit`` in a fresh process, after a warm-up fit (which
   takes TensorFlow's own allocations out of the measure): random float32
   RGB images, the default CNN (``model__filters=8``), rotation, zoom, flip
   and rescale, without and with ``featurewise_center``. Target: peak minus
   the memory before ``fit`` under the size of X (``fit`` copies no more
   than a batch of the data).
2. Many fits in one process: the default CNN on the digits, each estimator
   dropped (and garbage-collected) after its predict; resident memory and
   live Keras models after each.

Run from the repository root::

    python benchmarks/bench_memory.py            # about 2 min on 2 cores
    python benchmarks/bench_memory.py --quick    # smoke test
"""

import gc
import sys

import _bench as bench
import numpy as np

FULL = {"images": 4000, "size": 96, "fits": 10}
QUICK = {"images": 1000, "size": 96, "fits": 4}
HELPS = {
    "images": "images in the peak-memory fit",
    "size": "their height and width",
    "fits": "fits in one process",
}


def fit_peak(n_images, size, featurewise):
    """Child: bytes of X, RSS before ``fit`` and peak RSS, for one fit."""
    from skimgaug import AugmentedKerasClassifier

    rng = np.random.default_rng(0)
    X = rng.random((n_images, size, size, 3), dtype=np.float32)
    y = rng.integers(0, 10, n_images)
    datagen = {"rotation_range": 20, "zoom_range": 0.2, "horizontal_flip": True, "rescale": 0.5}
    if featurewise:
        datagen["featurewise_center"] = True
    clf = AugmentedKerasClassifier(
        datagen=datagen, epochs=1, batch_size=32, verbose=0, model__filters=8
    )
    clf.fit(X[:64], y[:64])  # warm up: TensorFlow's own allocations
    before = bench.memory().rss
    clf.fit(X, y)
    return {"x_bytes": X.nbytes, "before": before, "peak": bench.memory().peak}


def many_fits(n_fits):
    """Child: RSS and live Keras models after each of ``n_fits`` fit-predict-drop rounds."""
    import keras

    from skimgaug import AugmentedKerasClassifier
    from skimgaug.datasets import load_digits_images

    X, y = load_digits_images()
    rows = []
    for _ in range(n_fits):
        clf = AugmentedKerasClassifier(
            datagen={"rotation_range": 10, "rescale": 1 / 16},
            epochs=1,
            verbose=0,
            validation_split=0.1,
        )
        clf.fit(X[:1400], y[:1400]).predict(X[1400:])
        del clf
        gc.collect()
        models = sum(isinstance(o, keras.Model) for o in gc.get_objects())
        rows.append({"rss": bench.memory().rss, "models": models})
    return rows


def run(settings, report):
    """Measure and report both parts, each in fresh processes."""
    mb = bench.megabytes
    target = bench.TARGETS["fit memory"]
    n_images, size = settings["images"], settings["size"]
    report("### Peak memory of fit (fresh process, after a warm-up fit)")
    report()
    report(f"{n_images} random {size}x{size}x3 float32 images, default CNN (`model__filters=8`).")
    report()
    report.table(
        [
            "featurewise_center",
            "size of X (MB)",
            "RSS before fit (MB)",
            "peak RSS (MB)",
            "(peak - before) / size of X",
            "target",
        ]
    )
    for featurewise in (False, True):
        result = bench.run_child(__file__, fit_peak, n_images, size, featurewise)
        growth = (result["peak"] - result["before"]) / result["x_bytes"]
        report.row(
            featurewise,
            f"{mb(result['x_bytes']):.0f}",
            f"{mb(result['before']):.0f}",
            f"{mb(result['peak']):.0f}",
            f"{growth:.2f}",
            target.verdict(growth),
        )
    report()

    n_fits = settings["fits"]
    report(f"### {n_fits} fits in one process (digits, each estimator dropped after predict)")
    report()
    rows = bench.run_child(__file__, many_fits, n_fits)
    report.table(
        ["fit", "RSS (MB)", "live Keras models"],
        [(i + 1, f"{mb(row['rss']):.0f}", row["models"]) for i, row in enumerate(rows)],
    )
    report()
    if len(rows) > 2:
        growth = mb(rows[-1]["rss"] - rows[1]["rss"]) / (len(rows) - 2)
        models = max(row["models"] for row in rows)
        report(
            f"Live Keras models after a fit: at most {models}; RSS grows {growth:.1f} MB per "
            "fit after the second."
        )
        report()


if __name__ == "__main__":
    sys.exit(
        bench.main(__doc__, "memory", run, FULL, QUICK, children=(fit_peak, many_fits), helps=HELPS)
    )
