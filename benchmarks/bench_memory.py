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
3. The same fits, each in a fresh worker process (``skimgaug.fresh_processes``):
   the calling process's resident memory after each fit, the worker's at the
   end of its fit, and the time per fit against (2). Target: the calling
   process's RSS after the last fit within 50 MB of its RSS after fit 2.

Run from the repository root::

    python benchmarks/bench_memory.py            # about 12 min on 2 cores (100 fits twice)
    python benchmarks/bench_memory.py --quick    # smoke test
"""

import gc
import sys
import time

import _bench as bench
import numpy as np

FULL = {"images": 4000, "size": 96, "fits": 100}
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


def _digits_fit(X, y):
    """One fit-predict of the default CNN on the digits; this process's RSS at its end."""
    from skimgaug import AugmentedKerasClassifier

    clf = AugmentedKerasClassifier(
        datagen={"rotation_range": 10, "rescale": 1 / 16},
        epochs=1,
        verbose=0,
        validation_split=0.1,
    )
    clf.fit(X[:1400], y[:1400]).predict(X[1400:])
    return bench.memory().rss


def many_fits(n_fits):
    """Child: RSS, live Keras models and seconds after each of ``n_fits`` fits in this process."""
    import keras

    from skimgaug.datasets import load_digits_images

    X, y = load_digits_images()
    rows = []
    for _ in range(n_fits):
        start = time.perf_counter()
        _digits_fit(X, y)
        gc.collect()
        models = sum(isinstance(o, keras.Model) for o in gc.get_objects())
        seconds = time.perf_counter() - start
        rows.append({"rss": bench.memory().rss, "models": models, "seconds": seconds})
    return rows


def fresh_fits(n_fits):
    """Child: the same fits, each in a fresh worker process (``fresh_processes``)."""
    from joblib import Parallel, delayed

    from skimgaug import fresh_processes
    from skimgaug.datasets import load_digits_images

    X, y = load_digits_images()
    rows = []
    last = time.perf_counter()
    with fresh_processes(n_jobs=1):
        fits = Parallel(return_as="generator")(delayed(_digits_fit)(X, y) for _ in range(n_fits))
        for worker_rss in fits:
            now = time.perf_counter()
            rows.append({"rss": bench.memory().rss, "worker": worker_rss, "seconds": now - last})
            last = now
    return rows


def _slope(rows):
    """MB per fit of the calling process's RSS, least squares over fits 2 to the last."""
    if len(rows) < 3:
        return float("nan")
    rss = np.array([bench.megabytes(row["rss"]) for row in rows[1:]])
    return float(np.polyfit(np.arange(len(rss)), rss, 1)[0])


def _shown_fits(n_fits):
    return sorted({1, 2, *range(10, n_fits + 1, 10), n_fits} & set(range(1, n_fits + 1)))


def report_many_fits(n_fits, report):
    """Parts 2 and 3: one process against a fresh process per fit."""
    mb = bench.megabytes
    report(f"### {n_fits} fits: in one process, and each in a fresh process")
    report()
    report(
        "The digits, the default CNN, 1 epoch, fit then predict; in one process each "
        "estimator is dropped (and garbage-collected) after its predict; with "
        "`skimgaug.fresh_processes()` each fit runs in a new `spawn` worker process."
    )
    report()
    one = bench.run_child(__file__, many_fits, n_fits)
    fresh = bench.run_child(__file__, fresh_fits, n_fits)
    report.table(
        [
            "fit",
            "one process: RSS (MB)",
            "live Keras models",
            "fresh processes: caller's RSS (MB)",
            "worker's RSS at the end of its fit (MB)",
        ],
        [
            (
                i,
                f"{mb(one[i - 1]['rss']):.0f}",
                one[i - 1]["models"],
                f"{mb(fresh[i - 1]['rss']):.0f}",
                f"{mb(fresh[i - 1]['worker']):.0f}",
            )
            for i in _shown_fits(n_fits)
        ],
    )
    report()
    target = bench.TARGETS["fresh process memory"]
    growth = mb(fresh[-1]["rss"] - fresh[1]["rss"]) if n_fits > 1 else float("nan")
    per_fit_one = float(np.mean([row["seconds"] for row in one[1:]]))
    per_fit_fresh = float(np.mean([row["seconds"] for row in fresh[1:]]))
    report.table(
        ["", "one process", "a fresh process per fit"],
        [
            (
                f"RSS after fit {n_fits} - after fit 2 (MB)",
                f"{mb(one[-1]['rss'] - one[1]['rss']):.0f}",
                f"{growth:.0f} ({target.verdict(growth)})",
            ),
            (
                "slope over fits 2 to the last (MB per fit)",
                f"{_slope(one):.2f}",
                f"{_slope(fresh):.2f}",
            ),
            ("seconds per fit (after the first)", f"{per_fit_one:.2f}", f"{per_fit_fresh:.2f}"),
        ],
    )
    report()
    report(
        f"A fresh process costs {per_fit_fresh - per_fit_one:.1f} s per fit here (starting "
        "Python, importing TensorFlow and skimgaug, sending the images); the default stays "
        "one process, and `--fresh-process-per-fit` / `fresh_processes()` are there for "
        "long fits, hundreds of fits, or GPU memory to release between folds."
    )
    report()


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

    report_many_fits(settings["fits"], report)


if __name__ == "__main__":
    sys.exit(
        bench.main(
            __doc__,
            "memory",
            run,
            FULL,
            QUICK,
            children=(fit_peak, many_fits, fresh_fits),
            helps=HELPS,
        )
    )
