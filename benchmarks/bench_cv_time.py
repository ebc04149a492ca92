"""Cross-validation time: the estimator against the article's loop; the CLI's time-left estimate.

1. Five-fold CV of the article's CNN and augmentation on 32x32x3 toy images:
   ``cross_val_score(AugmentedKerasClassifier(...))`` against the seed
   article's hand-written loop (``KFold``, two ``ImageDataGenerator`` flows
   and a new model per fold). Target: <= 0.7x the loop's wall time.
2. How good is the first time left the CLI shows? ``skimgaug cv --digits``
   runs as a subprocess; each stderr line is timestamped as it arrives. The
   first ``remaining ~M:SS`` (after the first epoch) is the estimate, made
   at time t1; the truth is the time from t1 until the process exits.
   Target: estimate / truth between 1/1.5 and 1.5.

Run from the repository root::

    python benchmarks/bench_cv_time.py            # about 3 min on 2 cores
    python benchmarks/bench_cv_time.py --quick    # smoke test
"""

import re
import subprocess
import sys
import tempfile
import time

import _bench as bench
import numpy as np

FULL = {"images": 2000, "epochs": 3, "cli_folds": 5, "cli_epochs": 20}
QUICK = {"images": 500, "epochs": 1, "cli_folds": 2, "cli_epochs": 3}
HELPS = {
    "images": "toy images in the CV comparison",
    "epochs": "epochs per fold in the CV comparison",
    "cli_folds": "folds of the CLI run",
    "cli_epochs": "epochs per fold of the CLI run",
}
REMAINING = re.compile(r"remaining ~(\d+(?::\d\d){1,2})")


def article_loop(X, y, epochs, batch_size=32):
    """The seed article's loop: KFold, two generators per fold, model per fold."""
    import keras
    from sklearn.model_selection import KFold

    from skimgaug._compat import image_data_generator_class

    generator_class = image_data_generator_class()
    results = []
    for train_index, val_index in KFold(5, shuffle=True, random_state=42).split(X):
        train = generator_class(**bench.ARTICLE).flow(X[train_index], y[train_index], batch_size)
        valid = generator_class().flow(X[val_index], y[val_index], batch_size)
        model = bench.article_cnn({"X_shape_": X.shape, "n_classes_": 10}, {})
        history = model.fit(train, epochs=epochs, validation_data=valid, verbose=0)
        results.append(history.history["val_accuracy"][-1])
        keras.backend.clear_session()
    return results


def cv_wall_time(n_images, epochs):
    """Wall time (s) and mean accuracy of the loop and of ``cross_val_score``."""
    from sklearn.model_selection import cross_val_score

    from skimgaug import AugmentedKerasClassifier
    from skimgaug.datasets import make_toy_images

    X, y = make_toy_images(n_images, image_size=32, n_channels=3, n_classes=10, random_state=1)
    start = time.perf_counter()
    loop_scores = article_loop(X, y, epochs)
    results = {"hand-written loop": (time.perf_counter() - start, float(np.mean(loop_scores)))}
    clf = AugmentedKerasClassifier(
        bench.article_cnn, datagen=bench.ARTICLE, epochs=epochs, batch_size=32, verbose=0
    )
    start = time.perf_counter()
    scores = cross_val_score(clf, X, y, cv=5)
    results["cross_val_score (default engine)"] = (
        time.perf_counter() - start,
        float(np.mean(scores)),
    )
    return results


def parse_duration(text):
    """Seconds in ``"M:SS"`` or ``"H:MM:SS"``."""
    seconds = 0
    for part in text.split(":"):
        seconds = 60 * seconds + int(part)
    return seconds


def first_estimate(command):
    """Run ``command``; the first ``remaining ~`` estimate, and the time really left then.

    Returns
    -------
    dict
        ``line`` (the progress line), ``estimate`` and ``truth`` in seconds,
        ``total`` (the run's wall time, s) and ``elapsed`` (when the line came, s).
    """
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    found = None
    tail = []
    for line in process.stderr:
        arrived = time.perf_counter()
        tail = [*tail[-20:], line]
        match = REMAINING.search(line)
        if match and found is None:
            found = {"line": line.strip(), "estimate": parse_duration(match[1]), "at": arrived}
    status = process.wait()
    end = time.perf_counter()
    if status != 0 or found is None:
        raise RuntimeError(
            f"{' '.join(command)} exited with status {status} "
            f"{'' if found else 'without a remaining ~ line'}:\n{''.join(tail)}"
        )
    return {
        "line": found["line"],
        "estimate": found["estimate"],
        "truth": end - found["at"],
        "elapsed": found["at"] - start,
        "total": end - start,
    }


def run(settings, report):
    """Measure and report both parts."""
    report("### Five-fold CV wall time (article CNN and settings, 32x32x3)")
    report()
    report(f"{settings['images']} images, 10 classes, {settings['epochs']} epochs per fold.")
    report()
    results = cv_wall_time(settings["images"], settings["epochs"])
    loop = results["hand-written loop"][0]
    report.table(["run", "wall time (s)", "ratio to the loop", "mean accuracy", "target"])
    for name, (seconds, accuracy) in results.items():
        ratio = seconds / loop
        verdict = bench.TARGETS["cv time"].verdict(ratio) if name != "hand-written loop" else ""
        report.row(name, f"{seconds:.1f}", f"{ratio:.2f}", f"{accuracy:.3f}", verdict)
    report()

    folds, epochs = settings["cli_folds"], settings["cli_epochs"]
    with tempfile.TemporaryDirectory(prefix="skimgaug-bench-cli-") as out:
        args = ["cv", "--digits", "--folds", str(folds), "--epochs", str(epochs)]
        args += ["--batch-size", "32", "--out", out]
        shown = "skimgaug " + " ".join(args[:-1]) + " TMPDIR"
        result = first_estimate([sys.executable, "-m", "skimgaug.cli", *args])
    ratio = result["estimate"] / result["truth"]
    report("### The CLI's first time-left estimate")
    report()
    report(
        f"`{shown}` ({folds} x {epochs} epochs on the 8x8 digits) in a subprocess, its stderr "
        f"read line by line. The first estimate came {result['elapsed']:.1f} s after the start, "
        f"with: `{result['line']}`; the run took {result['total']:.1f} s in all."
    )
    report()
    report.table(["estimate (s)", "truth: time left until exit (s)", "estimate / truth", "target"])
    report.row(
        result["estimate"],
        f"{result['truth']:.1f}",
        f"**{ratio:.2f}**",
        bench.TARGETS["time left"].verdict(ratio),
    )
    report()


if __name__ == "__main__":
    sys.exit(bench.main(__doc__, "cross-validation time", run, FULL, QUICK, helps=HELPS))
