"""Augmentation benchmarks: throughput, fit overhead, CV wall time, peak memory.

Run from the repository root::

    python benchmarks/run.py            # full run, about 6 minutes on 2 cores
    python benchmarks/run.py --quick    # smaller sizes, for a smoke test

Prints a table per section and appends the results, with the machine they ran
on, to ``benchmarks/RESULTS.md``. Every target is a ratio between two things
measured in the same run, so that the machine's speed and noise cancel.
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "RESULTS.md")

#: The seed article's settings.
ARTICLE = {
    "rotation_range": 20,
    "width_shift_range": 0.2,
    "height_shift_range": 0.2,
    "shear_range": 0.2,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "fill_mode": "nearest",
}


def article_cnn(meta, compile_kwargs):
    """The article's model: Conv2D 32 3x3, MaxPool, Flatten, Dense."""
    import keras

    model = keras.Sequential(
        [
            keras.Input(meta["X_shape_"][1:]),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _rate(produce, images_per_call, seconds):
    produce()  # warm up
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < seconds:
        produce()
        calls += 1
    return calls * images_per_call / (time.perf_counter() - start)


# ----------------------------------------------------------------------------
# 1. Augmentation throughput
# ----------------------------------------------------------------------------
def throughput(sizes, seconds):
    import keras
    import tensorflow as tf

    from skimgaug._compat import image_data_generator_class
    from skimgaug._datagen import resolve_datagen
    from skimgaug._engine import TrainingBatches
    from skimgaug._transforms import make_augmenter

    rows = []
    for size in sizes:
        rng = np.random.default_rng(size)
        X = (rng.random((256, size, size, 3)) * 255).astype(np.float32)
        y = rng.integers(0, 10, len(X))
        config = resolve_datagen(ARTICLE, {})
        rates = {}
        flow = image_data_generator_class()(**ARTICLE).flow(X, y, batch_size=32, seed=0)
        counter = iter(range(10**9))
        rates["ImageDataGenerator.flow"] = _rate(
            lambda flow=flow, c=counter: flow[next(c) % len(flow)], 32, seconds
        )
        for engine in ("imagedatagenerator", "vectorized"):
            batches = TrainingBatches(
                X,
                y,
                None,
                None,
                make_augmenter(engine, config.augmenter()),
                config.standardizer(),
                batch_size=32,
                shuffle=True,
                seed=0,
            )
            counter = iter(range(10**9))
            rates[engine] = _rate(lambda b=batches, c=counter: b[next(c) % len(b)], 32, seconds)
        layers = keras.Sequential(
            [
                keras.layers.RandomRotation(20 / 360, fill_mode="nearest"),
                keras.layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
                keras.layers.RandomShear(0.2, 0.2, fill_mode="nearest"),
                keras.layers.RandomZoom(0.2, fill_mode="nearest"),
                keras.layers.RandomFlip("horizontal"),
            ]
        )
        apply_layers = tf.function(lambda batch, layers=layers: layers(batch, training=True))
        batch = tf.constant(X[:32])
        rates["keras layers"] = _rate(lambda f=apply_layers, b=batch: f(b).numpy(), 32, seconds)
        rows.append((size, rates))
    return rows


# ----------------------------------------------------------------------------
# 2. Fit overhead
# ----------------------------------------------------------------------------
def fit_overhead(n_images, epochs, repeats=3):
    import keras

    from skimgaug import AugmentedKerasClassifier
    from skimgaug.datasets import make_toy_images

    X, y = make_toy_images(n_images, image_size=32, n_channels=3, n_classes=10, random_state=0)

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    def epoch_time(**params):
        timer = EpochTimer()
        AugmentedKerasClassifier(
            article_cnn,
            callbacks=[timer],
            epochs=epochs,
            batch_size=32,
            verbose=0,
            random_state=0,
            **params,
        ).fit(X, y)
        return float(np.median(timer.times[1:]))  # the first epoch traces the model

    # Interleaved repeats, so that a noisy spell of the machine hits both paths.
    plain, vectorized = [], []
    for _ in range(repeats):
        plain.append(epoch_time())
        vectorized.append(epoch_time(datagen=ARTICLE, engine="vectorized"))
    return {
        "no augmentation": float(np.median(plain)),
        "imagedatagenerator": epoch_time(datagen=ARTICLE, engine="imagedatagenerator"),
        "vectorized": float(np.median(vectorized)),
    }


# ----------------------------------------------------------------------------
# 3. Five-fold CV: estimator vs the article's hand-written loop
# ----------------------------------------------------------------------------
def article_loop(X, y, epochs, batch_size=32):
    """The seed article's loop: KFold, two generators per fold, model per fold."""
    import keras
    from sklearn.model_selection import KFold

    from skimgaug._compat import image_data_generator_class

    generator_class = image_data_generator_class()
    results = []
    for train_index, val_index in KFold(5, shuffle=True, random_state=42).split(X):
        train = generator_class(**ARTICLE).flow(X[train_index], y[train_index], batch_size)
        valid = generator_class().flow(X[val_index], y[val_index], batch_size)
        model = article_cnn({"X_shape_": X.shape, "n_classes_": 10}, {})
        history = model.fit(train, epochs=epochs, validation_data=valid, verbose=0)
        results.append(history.history["val_accuracy"][-1])
        keras.backend.clear_session()
    return results


def cv_wall_time(n_images, epochs):
    from sklearn.model_selection import cross_val_score

    from skimgaug import AugmentedKerasClassifier
    from skimgaug.datasets import make_toy_images

    X, y = make_toy_images(n_images, image_size=32, n_channels=3, n_classes=10, random_state=1)
    times = {}
    start = time.perf_counter()
    loop_scores = article_loop(X, y, epochs)
    times["hand-written loop"] = time.perf_counter() - start
    clf = AugmentedKerasClassifier(
        article_cnn, datagen=ARTICLE, epochs=epochs, batch_size=32, verbose=0
    )
    start = time.perf_counter()
    scores = cross_val_score(clf, X, y, cv=5)
    times["cross_val_score (default engine)"] = time.perf_counter() - start
    return times, float(np.mean(loop_scores)), float(np.mean(scores))


# ----------------------------------------------------------------------------
# 4. Peak memory of fit (in a fresh process)
# ----------------------------------------------------------------------------
_MEMORY_CHILD = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
from skimgaug import AugmentedKerasClassifier
import keras
n, size, featurewise = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
rng = np.random.default_rng(0)
X = rng.random((n, size, size, 3), dtype=np.float32)
y = rng.integers(0, 10, n)
datagen = {"rotation_range": 20, "zoom_range": 0.2, "horizontal_flip": True, "rescale": 0.5}
if featurewise:
    datagen["featurewise_center"] = True
clf = AugmentedKerasClassifier(datagen=datagen, epochs=1, batch_size=32, verbose=0,
                               model__filters=8)
clf.fit(X[:64], y[:64])  # warm up: TensorFlow's own allocations
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) * 1024
before = rss()
clf.fit(X, y)
# VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the parent's peak across exec.
with open("/proc/self/status") as f:
    peak = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) * 1024
print(X.nbytes, before, peak)
"""


def peak_memory(n_images, size):
    rows = []
    for featurewise in (False, True):
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, str(n_images), str(size), str(int(featurewise))],
            capture_output=True,
            text=True,
            check=True,
        )
        x_bytes, before, peak = (int(v) for v in out.stdout.split()[-3:])
        rows.append((featurewise, x_bytes, before, peak))
    return rows


# ----------------------------------------------------------------------------
# 5. A folder of images on disk: peak memory and decoding rate
# ----------------------------------------------------------------------------
_FOLDER_CHILD = """
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
from sklearn.model_selection import cross_val_score
from skimgaug import AugmentedKerasClassifier
from skimgaug.datasets import load_image_folder
root, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
paths, labels = load_image_folder(root)
keep = np.random.default_rng(0).permutation(len(paths))[:n]
paths, labels = paths[keep], labels[keep]
datagen = {"rotation_range": 20, "zoom_range": 0.2, "horizontal_flip": True,
           "rescale": 1 / 255, "featurewise_center": True}
clf = AugmentedKerasClassifier(target_size=(size, size), datagen=datagen, epochs=1,
                               batch_size=64, verbose=0, model__filters=8, random_state=0)
start = time.perf_counter()
scores = cross_val_score(clf, paths, labels, cv=3)
seconds = time.perf_counter() - start
# VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the parent's peak across exec.
with open("/proc/self/status") as f:
    peak = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) * 1024
print(seconds, peak, scores.mean())
"""


def write_folder(root, n_images, size):
    """``n_images`` toy PNGs in two class folders, written in chunks (cached)."""
    from PIL import Image

    from skimgaug.datasets import make_toy_images

    marker = os.path.join(root, f".complete-{n_images}-{size}")
    if os.path.exists(marker):
        return root
    for start in range(0, n_images, 500):
        X, y = make_toy_images(min(500, n_images - start), size, 3, 2, random_state=start)
        for i, (image, label) in enumerate(zip(X, y, strict=True)):
            folder = os.path.join(root, f"class{label}")
            os.makedirs(folder, exist_ok=True)
            pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(os.path.join(folder, f"img{start + i:06d}.png"))
    open(marker, "w").close()
    return root


def folder_memory(sizes, image_size, root):
    from skimgaug._paths import ImagePaths
    from skimgaug.datasets import load_image_folder

    write_folder(root, max(sizes), image_size)
    paths, _ = load_image_folder(root)
    sample = ImagePaths(paths[:2000], (image_size, image_size), "rgb")
    start = time.perf_counter()
    sample.load()
    decode_rate = len(sample) / (time.perf_counter() - start)
    rows = []
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-c", _FOLDER_CHILD, root, str(n), str(image_size)],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds, peak, accuracy = (float(v) for v in out.stdout.split()[-3:])
        rows.append((n, seconds, peak, accuracy))
    return decode_rate, rows


# ----------------------------------------------------------------------------
# 6. Parallel folds: n_jobs=1, n_jobs=2, Dask LocalCluster
# ----------------------------------------------------------------------------
def parallel_cv(epochs):
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
    times, scores = {}, {}
    for n_jobs in (1, 2):
        cross_val_score(clf, X[:100], y[:100], cv=2, n_jobs=n_jobs)  # start workers, import TF
        start = time.perf_counter()
        scores[f"n_jobs={n_jobs}"] = cross_val_score(clf, X, y, cv=cv, n_jobs=n_jobs)
        times[f"n_jobs={n_jobs}"] = time.perf_counter() - start
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
    ):
        with joblib.parallel_backend("dask"):
            cross_val_score(clf, X[:100], y[:100], cv=2)  # import TF in the workers
            start = time.perf_counter()
            scores["Dask LocalCluster (2 workers x 1 thread)"] = cross_val_score(clf, X, y, cv=cv)
            times["Dask LocalCluster (2 workers x 1 thread)"] = time.perf_counter() - start
    return times, scores


# ----------------------------------------------------------------------------
# 7. Many fits in one process
# ----------------------------------------------------------------------------
_MANY_FITS_CHILD = """
import gc, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
from skimgaug import AugmentedKerasClassifier
from skimgaug.datasets import load_digits_images
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) * 1024
X, y = load_digits_images()
for fold in range(int(sys.argv[1])):
    clf = AugmentedKerasClassifier(datagen={"rotation_range": 10, "rescale": 1 / 16},
                                   epochs=1, verbose=0, validation_split=0.1)
    clf.fit(X[:1400], y[:1400]).predict(X[1400:])
    del clf
    gc.collect()
    print(rss(), sum(isinstance(o, keras.Model) for o in gc.get_objects()))
"""


def many_fits(n_fits):
    out = subprocess.run(
        [sys.executable, "-c", _MANY_FITS_CHILD, str(n_fits)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [tuple(int(v) for v in line.split()) for line in out.stdout.strip().splitlines()]


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------
def machine():
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, NumPy {np.__version__}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--sections", default="1,2,3,4,5,6,7", help="comma-separated sections to run (1-7)"
    )
    parser.add_argument(
        "--folder",
        default=os.path.join(tempfile.gettempdir(), "skimgaug-bench-folder"),
        help="where section 5 writes (and reuses) its generated PNG folder",
    )
    args = parser.parse_args(argv)
    sections = {int(part) for part in args.sections.split(",")}
    quick = args.quick
    lines = [
        f"## {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
        + (" (quick)" if quick else ""),
        "",
        f"Machine: {machine()}",
        "",
    ]

    def emit(text=""):
        print(text, flush=True)
        lines.append(text)

    if 1 in sections:
        _throughput_section(emit, quick)
    if 2 in sections:
        _fit_overhead_section(emit, quick)
    if 3 in sections:
        _cv_section(emit, quick)
    if 4 in sections:
        _memory_section(emit, quick)
    if 5 in sections:
        _folder_section(emit, quick, args.folder)
    if 6 in sections:
        _parallel_section(emit, quick)
    if 7 in sections:
        _many_fits_section(emit, quick)
    if not args.no_write:
        with open(RESULTS, "a") as f:
            f.write("\n".join(lines) + "\n")
        print(f"appended to {RESULTS}")
    return 0


def _throughput_section(emit, quick):
    emit("### 1. Augmentation throughput (article settings, float32 RGB, batch 32)")
    emit()
    emit("Images/s through each producer, and the ratio to `ImageDataGenerator.flow`.")
    emit("The skimgaug engines include the batch copy and standardization.")
    emit()
    emit(
        "| size | ImageDataGenerator.flow | engine imagedatagenerator | engine vectorized "
        "| Keras layers | vectorized / flow | target |"
    )
    emit("|---|---|---|---|---|---|---|")
    for size, rates in throughput([32, 64] if quick else [32, 64, 128, 224], 1.0 if quick else 4.0):
        ratio = rates["vectorized"] / rates["ImageDataGenerator.flow"]
        emit(
            f"| {size}x{size} | {rates['ImageDataGenerator.flow']:,.0f} "
            f"| {rates['imagedatagenerator']:,.0f} | {rates['vectorized']:,.0f} "
            f"| {rates['keras layers']:,.0f} | **{ratio:.1f}x** "
            f"| >= 5x: {'met' if ratio >= 5 else 'MISSED'} |"
        )
    emit()


def _fit_overhead_section(emit, quick):
    emit("### 2. Fit overhead (article CNN, 32x32x3, epoch time with / without augmentation)")
    emit()
    emit(
        "Median epoch time (the first epoch, which traces the model, left out); the "
        "vectorized and plain fits are repeated 3 times, interleaved, and the medians used."
    )
    emit()
    times = fit_overhead(1024 if quick else 4096, 3 if quick else 6)
    emit("| path | epoch time (s) | ratio to no augmentation | target |")
    emit("|---|---|---|---|")
    for name, seconds in times.items():
        ratio = seconds / times["no augmentation"]
        target = ""
        if name == "vectorized":
            target = f"<= 1.15: {'met' if ratio <= 1.15 else 'MISSED'}"
        emit(f"| {name} | {seconds:.3f} | {ratio:.2f} | {target} |")
    emit()


def _cv_section(emit, quick):
    emit("### 3. Five-fold CV wall time (article CNN and settings, 32x32x3)")
    emit()
    n_images, epochs = (500, 1) if quick else (2000, 3)
    cv_times, loop_accuracy, our_accuracy = cv_wall_time(n_images, epochs)
    loop = cv_times["hand-written loop"]
    emit(f"{n_images} images, 10 classes, {epochs} epochs per fold.")
    emit()
    emit("| run | wall time (s) | ratio to the loop | mean accuracy | target |")
    emit("|---|---|---|---|---|")
    accuracies = [loop_accuracy, our_accuracy]
    for (name, seconds), accuracy in zip(cv_times.items(), accuracies, strict=True):
        ratio = seconds / loop
        target = ""
        if name != "hand-written loop":
            target = f"<= 0.7: {'met' if ratio <= 0.7 else 'MISSED'}"
        emit(f"| {name} | {seconds:.1f} | {ratio:.2f} | {accuracy:.3f} | {target} |")
    emit()


def _memory_section(emit, quick):
    emit("### 4. Peak memory of fit (fresh process, after a warm-up fit)")
    emit()
    n_images, size = (500, 64) if quick else (4000, 96)
    emit(
        "| featurewise_center | size of X (MB) | RSS before fit (MB) | peak RSS (MB) "
        "| (peak - before) / size of X |"
    )
    emit("|---|---|---|---|---|")
    for featurewise, x_bytes, before, peak in peak_memory(n_images, size):
        emit(
            f"| {featurewise} | {x_bytes / 2**20:.0f} | {before / 2**20:.0f} "
            f"| {peak / 2**20:.0f} | {(peak - before) / x_bytes:.2f} |"
        )
    emit()


def _folder_section(emit, quick, root):
    sizes, image_size = ((1000, 2000), 64) if quick else ((5000, 20000), 128)
    root = f"{root}-{image_size}"
    emit(f"### 5. A folder of {image_size}x{image_size} PNG images: 3-fold CV from disk")
    emit()
    decode_rate, rows = folder_memory(sizes, image_size, root)
    emit(
        f"Decoding (PIL, {os.cpu_count()} cores, skimgaug's thread pool): "
        f"**{decode_rate:,.0f} images/s**."
    )
    emit()
    emit(
        "Default CNN (`model__filters=8`), 1 epoch, batch 64, rotation/zoom/flip, "
        "`featurewise_center` streamed over each training fold."
    )
    emit()
    emit("| images | CV wall time (s) | peak RSS (MB), TensorFlow included | target |")
    emit("|---|---|---|---|")
    for n, seconds, peak, _accuracy in rows:
        emit(
            f"| {n:,} | {seconds:.0f} | {peak / 2**20:,.0f} "
            f"| < 1536: {'met' if peak < 1.5 * 2**30 else 'MISSED'} |"
        )
    growth = rows[-1][2] / rows[0][2]
    emit()
    emit(f"Peak RSS grows {growth:.2f}x while the folder grows {sizes[-1] / sizes[0]:.0f}x.")
    emit()


def _parallel_section(emit, quick):
    epochs = 2 if quick else 5
    emit(f"### 6. Five-fold CV of the default CNN on digits ({epochs} epochs), parallel folds")
    emit()
    emit("Workers are started (and TensorFlow imported in them) before timing.")
    emit()
    times, scores = parallel_cv(epochs)
    serial = times["n_jobs=1"]
    emit("| run | wall time (s) | ratio to n_jobs=1 | mean accuracy |")
    emit("|---|---|---|---|")
    for name, seconds in times.items():
        emit(f"| {name} | {seconds:.1f} | {seconds / serial:.2f} | {scores[name].mean():.4f} |")
    emit()


def _many_fits_section(emit, quick):
    n_fits = 4 if quick else 10
    emit(f"### 7. {n_fits} fits in one process (digits, each estimator dropped after predict)")
    emit()
    rows = many_fits(n_fits)
    emit("| fit | RSS (MB) | live Keras models |")
    emit("|---|---|---|")
    for i, (rss, models) in enumerate(rows):
        emit(f"| {i + 1} | {rss / 2**20:.0f} | {models} |")
    growth = (rows[-1][0] - rows[1][0]) / (len(rows) - 2) / 2**20
    emit()
    emit(
        f"Live Keras models stay at {max(m for _, m in rows)}; RSS grows "
        f"{growth:.1f} MB per fit after the second (TensorFlow's native caches, not "
        "reclaimed by `keras.backend.clear_session`)."
    )
    emit()


if __name__ == "__main__":
    sys.exit(main())
