"""Parallelism: folds in parallel processes, and training batches on several threads.

1. Five-fold CV of the default CNN on the digits with ``n_jobs=1``,
   ``n_jobs=2`` and joblib's Dask backend on a ``LocalCluster`` (2 workers x
   1 thread). Workers are started (and TensorFlow imported in them) before
   the timing.
2. Batch production against threads: images/s of producing whole epochs of
   skimgaug's training batches (article settings, vectorized engine, batch
   32), each in a fresh process with ``SKIMGAUG_BATCH_THREADS`` set to 1, 2,
   ... up to the number of cores (and once unset). Where skimgaug does not
   read the variable, the rows measure one code path (the table says so).

Run from the repository root::

    python benchmarks/bench_parallel.py            # about 2 min on 2 cores
    python benchmarks/bench_parallel.py --quick    # smoke test
"""

import os
import sys
import time

import _bench as bench

FULL = {"epochs": 5, "batch_images": 2048, "image_size": 128, "passes": 3}
QUICK = {"epochs": 2, "batch_images": 1024, "image_size": 64, "passes": 2}
HELPS = {
    "epochs": "epochs per fold of the parallel CV",
    "batch_images": "images per epoch of training batches",
    "image_size": "their height and width",
    "passes": "epochs of batches timed per thread count",
}
VARIABLE = "SKIMGAUG_BATCH_THREADS"


def parallel_cv(epochs):
    """Wall time (s) and fold scores of each way of running the folds."""
    import joblib
    from distributed import Client, LocalCluster
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from skimgaug import AugmentedKerasClassifier
    from skimgaug.datasets import load_digits_images

    X, y = load_digits_images()
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    clf = AugmentedKerasClassifier(
        datagen={"rotation_range": 10, "zoom_range": 0.1, "rescale": 1 / 16},
        epochs=epochs,
        verbose=0,
        random_state=0,
    )
    results = {}

    def timed(name, **kwargs):
        start = time.perf_counter()
        scores = cross_val_score(clf, X, y, cv=cv, **kwargs)
        results[name] = (time.perf_counter() - start, scores)

    for n_jobs in (1, 2):
        cross_val_score(clf, X[:100], y[:100], cv=2, n_jobs=n_jobs)  # start workers, import TF
        timed(f"n_jobs={n_jobs}", n_jobs=n_jobs)
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=50,
        ) as cluster,
        Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        cross_val_score(clf, X[:100], y[:100], cv=2)  # import TF in the workers
        timed("Dask LocalCluster (2 workers x 1 thread)")
    return results


def batch_rate(n_images, size, passes):
    """Child: images/s of producing ``passes`` epochs of training batches."""
    X, y = bench.random_images(n_images, size, seed=0)
    batches = bench.article_batches(X, y)
    batches[0]  # warm up: first use of the augmenter
    start = time.perf_counter()
    produced = 0
    for _ in range(passes):
        for i in range(len(batches)):
            produced += len(batches[i][0])
        batches.on_epoch_end()
    seconds = time.perf_counter() - start
    return {"rate": produced / seconds, "threads": batches._ahead.threads}


def run(settings, report):
    """Measure and report both parts."""
    epochs = settings["epochs"]
    report(f"### Five-fold CV of the default CNN on digits ({epochs} epochs), parallel folds")
    report()
    report("Workers are started (and TensorFlow imported in them) before timing.")
    report()
    results = parallel_cv(epochs)
    serial = results["n_jobs=1"][0]
    report.table(["run", "wall time (s)", "ratio to n_jobs=1", "mean accuracy"])
    for name, (seconds, scores) in results.items():
        report.row(name, f"{seconds:.1f}", f"{seconds / serial:.2f}", f"{scores.mean():.4f}")
    report()

    n_images, size, passes = settings["batch_images"], settings["image_size"], settings["passes"]
    report(f"### Training batches against `{VARIABLE}`")
    report()
    report(
        f"{passes} epoch(s) of {n_images} random {size}x{size}x3 float32 images, article "
        f"settings, vectorized engine, batch 32, produced as fast as they can be (no "
        f"training); each row a fresh process. Unset: the threads skimgaug chooses."
    )
    report()
    report.table([VARIABLE, "images/s", "ratio to 1 thread"])
    rates = {}
    for threads in [*range(1, (os.cpu_count() or 1) + 1), None]:
        env = {VARIABLE: None if threads is None else str(threads)}
        rates[threads] = bench.run_child(__file__, batch_rate, n_images, size, passes, env=env)
        rate = rates[threads]["rate"]
        ratio = rate / rates[1]["rate"]
        chosen = rates[threads]["threads"]
        name = f"unset ({chosen} thread{'s' if chosen > 1 else ''})" if threads is None else threads
        report.row(name, f"{rate:,.0f}", f"{ratio:.2f}")
    report()


if __name__ == "__main__":
    sys.exit(
        bench.main(__doc__, "parallelism", run, FULL, QUICK, children=(batch_rate,), helps=HELPS)
    )
