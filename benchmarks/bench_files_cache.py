"""Image files: cross-validating a folder, with and without the decoded-image cache.

1. The cache's speed. ``cross_val_score`` of the default CNN on a folder of
   toy images stored larger than the network input (half PNG, half JPEG),
   with ``cache="auto"``, against the same CV of the same images decoded and
   resized once, outside the timing, into an in-memory float32 array.
   Targets: wall time <= 1.2x the array's; each file decoded exactly once in
   the whole CV. A 1-epoch CV without the cache shows how often files are
   decoded otherwise.
2. Memory of a folder. A 3-fold, 1-epoch CV (``model__filters=8``) of
   folders of 128x128 PNGs with ``cache=None``: peak RSS, TensorFlow
   included, under 1.5 GB at 20,000 images, and flat as the folder grows;
   then with ``cache=<folder>`` (decoded images in files, read memory-mapped):
   peak within 10 % of the no-cache peak. Also the decoding rate.

Each CV runs in a fresh process (peak memory, decode counts and the
process-wide cache are per process). The image folders are written once in
the temporary folder and reused; the disk cache is removed after its run.

Run from the repository root::

    python benchmarks/bench_files_cache.py            # the issue's sizes: about 4 h on 2 cores
    python benchmarks/bench_files_cache.py --images 1000 --epochs 3   # about 25 min
    python benchmarks/bench_files_cache.py --quick    # smoke test
"""

import os
import sys
import tempfile
import time

import _bench as bench

FULL = {
    "images": 5000,
    "stored_size": 512,
    "size": 128,
    "folds": 5,
    "epochs": 10,
    "filters": 16,
    "folder_images": (5000, 20000),
    "folder_size": 128,
}
QUICK = {
    "images": 300,
    "stored_size": 128,
    "size": 32,
    "folds": 2,
    "epochs": 1,
    "filters": 8,
    "folder_images": (300, 600),
    "folder_size": 64,
}
HELPS = {
    "images": "images in the cache comparison",
    "stored_size": "their stored height and width",
    "size": "the size they are trained at",
    "folds": "folds of the cache comparison",
    "epochs": "epochs per fold of the cache comparison",
    "filters": "the default CNN's model__filters in the cache comparison (16: its default)",
    "folder_images": "folder sizes of the memory measurement (the largest also with a disk cache)",
    "folder_size": "stored size of the memory measurement's PNGs (no resizing)",
}
#: Augmentation and standardization of every CV here (feature-wise mean streamed per fold).
DATAGEN = {
    "rotation_range": 20,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "rescale": 1 / 255,
    "featurewise_center": True,
}
DATAGEN_TEXT = (
    "rotation/zoom/flip, rescale 1/255, `featurewise_center` streamed over each training fold"
)


def cache_cv(root, n_images, size, folds, epochs, filters, source):
    """Child: one CV of the folder's first images; ``source`` "auto", "none" or "array"."""
    from sklearn.model_selection import cross_val_score

    from skimgaug import AugmentedKerasClassifier
    from skimgaug._data import _paths
    from skimgaug._data._paths import ImagePaths

    paths, labels = bench.folder_images(root, n_images)
    params = {"target_size": (size, size), "cache": None if source == "none" else source}
    load_seconds = None
    if source == "array":
        start = time.perf_counter()
        X = ImagePaths(paths, (size, size), "rgb").load()
        load_seconds = time.perf_counter() - start
        params = {}
    else:
        X = paths
    clf = AugmentedKerasClassifier(
        datagen=DATAGEN,
        epochs=epochs,
        batch_size=32,
        model__filters=filters,
        random_state=0,
        verbose=0,
        **params,
    )
    decoded = []  # every decode goes through decode_pixels: count its calls
    original = _paths.decode_pixels
    _paths.decode_pixels = lambda path, *a, **k: decoded.append(path) or original(path, *a, **k)
    start = time.perf_counter()
    scores = cross_val_score(clf, X, labels, cv=folds)
    return {
        "seconds": time.perf_counter() - start,
        "decodes_per_file": len(decoded) / n_images,
        "load_seconds": load_seconds,
        "peak": bench.memory().peak,
        "accuracy": float(scores.mean()),
    }


def folder_cv(root, n_images, size, cache):
    """Child: wall time, peak RSS and accuracy of a 3-fold, 1-epoch CV of a folder."""
    from sklearn.model_selection import cross_val_score

    from skimgaug import AugmentedKerasClassifier

    paths, labels = bench.folder_images(root, n_images)
    clf = AugmentedKerasClassifier(
        target_size=(size, size),
        datagen=DATAGEN,
        epochs=1,
        batch_size=64,
        verbose=0,
        model__filters=8,
        random_state=0,
        cache=cache,
    )
    start = time.perf_counter()
    scores = cross_val_score(clf, paths, labels, cv=3)
    return {
        "seconds": time.perf_counter() - start,
        "peak": bench.memory().peak,
        "accuracy": float(scores.mean()),
    }


def report_cache_speed(settings, report):
    """Part 1: the cache against an in-memory array."""
    n_images, stored, size = settings["images"], settings["stored_size"], settings["size"]
    folds, epochs, filters = settings["folds"], settings["epochs"], settings["filters"]
    root = bench.write_folder(n_images, stored, formats=("png", "jpeg"))
    report(f"### Cross-validating a folder with the decoded-image cache ({n_images} files)")
    report()
    report(
        f"{n_images} toy images (2 classes) stored at {stored}x{stored}, half PNG, half JPEG "
        f"(quality 90), trained at {size}x{size}: {folds}-fold `cross_val_score`, {epochs} "
        f"epochs, default CNN with `model__filters={filters}`, batch 32, {DATAGEN_TEXT}. "
        "The array row decodes and resizes the images once before the timing (its decode "
        "time in parentheses). Peak RSS includes TensorFlow."
    )
    report()
    report.table(
        [
            "X",
            "epochs",
            "CV wall time (s)",
            "ratio to the array",
            "decodes per file",
            "peak RSS (MB)",
            "mean accuracy",
            "target (time)",
            "target (decodes)",
        ]
    )
    runs = [("array", epochs), ("auto", epochs), ("none", 1)]
    names = {
        "array": "float32 array",
        "auto": 'files, `cache="auto"`',
        "none": "files, `cache=None`",
    }
    array_seconds = None
    for source, run_epochs in runs:
        result = bench.run_child(
            __file__, cache_cv, root, n_images, size, folds, run_epochs, filters, source
        )
        seconds = result["seconds"]
        if source == "array":
            array_seconds = seconds
        time_cell = f"{seconds:.1f}"
        if result["load_seconds"] is not None:
            time_cell += f" (+ {result['load_seconds']:.1f})"
        ratio = seconds / array_seconds if run_epochs == epochs else None
        report.row(
            names[source],
            run_epochs,
            time_cell,
            "" if ratio is None else f"**{ratio:.2f}**",
            f"{result['decodes_per_file']:.2f}",
            f"{bench.megabytes(result['peak']):,.0f}",
            f"{result['accuracy']:.3f}",
            bench.TARGETS["cache time"].verdict(ratio) if source == "auto" else "",
            bench.TARGETS["cache decodes"].verdict(result["decodes_per_file"])
            if source == "auto"
            else "",
        )
    report()


def report_folder_memory(settings, report):
    """Part 2: peak memory without a cache as the folder grows, then with a disk cache."""
    from skimgaug._data._paths import ImagePaths

    sizes, size = settings["folder_images"], settings["folder_size"]
    root = bench.write_folder(max(sizes), size)
    paths, _ = bench.folder_images(root, max(sizes))
    sample = ImagePaths(paths[:2000], (size, size), "rgb")
    start = time.perf_counter()
    sample.load()
    decode_rate = len(sample) / (time.perf_counter() - start)

    report(f"### A folder of {size}x{size} PNG images: 3-fold CV from disk, peak memory")
    report()
    report(
        f"Decoding (PIL, {os.cpu_count()} cores, skimgaug's thread pool): "
        f"**{decode_rate:,.0f} images/s**."
    )
    report()
    report(f"Default CNN (`model__filters=8`), 1 epoch, batch 64, {DATAGEN_TEXT}.")
    report()
    report.table(
        ["images", "cache", "CV wall time (s)", "peak RSS (MB), TensorFlow included", "target"]
    )
    peaks = {}
    for n in sizes:
        result = bench.run_child(__file__, folder_cv, root, n, size, None)
        peaks[n] = result["peak"]
        verdict = bench.TARGETS["folder memory"].verdict(bench.megabytes(result["peak"]))
        report.row(
            f"{n:,}",
            "None",
            f"{result['seconds']:.0f}",
            f"{bench.megabytes(result['peak']):,.0f}",
            verdict if n == max(sizes) else "",
        )
    with tempfile.TemporaryDirectory(prefix="skimgaug-bench-cache-") as cache:
        result = bench.run_child(__file__, folder_cv, root, max(sizes), size, cache)
    ratio = result["peak"] / peaks[max(sizes)]
    report.row(
        f"{max(sizes):,}",
        "a folder (disk)",
        f"{result['seconds']:.0f}",
        f"{bench.megabytes(result['peak']):,.0f} ({ratio:.2f}x no cache)",
        bench.TARGETS["disk cache memory"].verdict(ratio),
    )
    report()
    if len(sizes) > 1:
        growth = peaks[max(sizes)] / peaks[min(sizes)]
        report(
            f"Without a cache, peak RSS grows {growth:.2f}x while the folder grows "
            f"{max(sizes) / min(sizes):.0f}x."
        )
        report()


def run(settings, report):
    """Both parts."""
    report_cache_speed(settings, report)
    report_folder_memory(settings, report)


if __name__ == "__main__":
    sys.exit(
        bench.main(
            __doc__,
            "image files and the decoded-image cache",
            run,
            FULL,
            QUICK,
            children=(cache_cv, folder_cv),
            helps=HELPS,
        )
    )
