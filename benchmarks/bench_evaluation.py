"""Do the evaluation's intervals cover the truth, and what do they cost? (issue: honest evaluation)

Coverage: scores of positives drawn from N(1, 1) and of negatives from N(0, 1),
whose ROC AUC is Phi(1 / sqrt 2) = 0.760; ``repetitions`` data sets of
``images`` images each, and the share whose 95 % percentile-bootstrap
interval (``skimgaug.Evaluation.from_predictions``) holds the true AUC.
Target: 90 % to 99 %. With patients (``patients`` of ``images_per_patient``
nearly identical images), the cluster interval resamples patients: its
coverage, and its width against the image-level interval's.

Cost: seconds of ``from_predictions`` with 2,000 bootstraps on digits-sized
predictions (1,797 images, 10 classes), to set against the minutes the
cross-validation itself takes. Then the digits job itself, ``skimgaug cv
--digits --compare --out DIR`` (what ``skimgaug`` alone runs), ``cv_runs``
times: results.json's ``evaluation_seconds`` (the images hashed, both
settings evaluated, the paired comparison, the printing) plus the time the
report's evaluation sections take to draw (rebuilt from oof_predictions.csv
with the same options, matplotlib warmed up as in the run), against the rest of
the run. Target: at most 5 %.

Run from the repository root::

    python benchmarks/bench_evaluation.py            # ~2 min on 2 cores
    python benchmarks/bench_evaluation.py --quick    # no cv run
"""

import os
import sys
import time

import _bench as bench
import numpy as np

FULL = {"repetitions": 200, "images": 150, "bootstraps": 1000, "patients": 40, "cv_runs": 2}
QUICK = {"repetitions": 20, "images": 100, "bootstraps": 200, "patients": 20, "cv_runs": 0}
HELPS = {
    "repetitions": "data sets drawn",
    "images": "images per data set",
    "bootstraps": "bootstrap resamples per interval",
    "patients": "patients of the clustered data sets (6 images each)",
    "cv_runs": "runs of the digits job (skimgaug cv --digits --compare --out DIR)",
}


def _interval(ev, level="image"):
    row = ev.metric("roc_auc", level)
    return row["low"], row["high"]


def run(settings, report):
    from scipy.stats import norm

    from skimgaug.evaluation import Evaluation

    truth = float(norm.cdf(1 / np.sqrt(2)))
    rng = np.random.default_rng(2026)
    n, reps, boots = settings["images"], settings["repetitions"], settings["bootstraps"]
    covered, widths = 0, []
    for _ in range(reps):
        labels = rng.integers(0, 2, n)
        scores = norm.cdf(rng.normal(size=n) + labels)
        ev = Evaluation.from_predictions(
            labels,
            np.column_stack([1 - scores, scores]),
            n_bootstraps=boots,
            random_state=int(rng.integers(2**32)),
            threshold=0.5,
        )
        low, high = _interval(ev)
        covered += low <= truth <= high
        widths.append(high - low)
    report(f"### Coverage of the 95 % interval of the ROC AUC (true AUC {truth:.3f})")
    report()
    report.table(["data", "data sets", "coverage", "mean width", "target"])
    verdict = "met" if 0.90 <= covered / reps <= 0.99 else "MISSED"
    report.row(
        f"{n} images",
        reps,
        f"**{covered / reps:.3f}**",
        f"{np.mean(widths):.3f}",
        f"0.90-0.99: {verdict}",
    )
    n_patients, per = settings["patients"], 6
    covered_p, width_i, width_p = 0, [], []
    for _ in range(reps):
        patient_label = rng.integers(0, 2, n_patients)
        patient_score = rng.normal(size=n_patients) + patient_label
        groups = np.repeat(np.arange(n_patients), per)
        scores = norm.cdf(patient_score[groups] + rng.normal(scale=0.05, size=len(groups)))
        proba = np.column_stack([1 - scores, scores])
        labels = patient_label[groups]
        seed = int(rng.integers(2**32))
        clustered = Evaluation.from_predictions(
            labels, proba, groups=groups, n_bootstraps=boots, random_state=seed, threshold=0.5
        )
        naive = Evaluation.from_predictions(
            labels, proba, n_bootstraps=boots, random_state=seed, threshold=0.5
        )
        low, high = _interval(clustered)
        covered_p += low <= truth <= high
        width_p.append(high - low)
        width_i.append(np.subtract(*_interval(naive)[::-1]))
    verdict = "met" if 0.90 <= covered_p / reps <= 0.99 else "MISSED"
    report.row(
        f"{n_patients} patients x {per} alike images, patients resampled",
        reps,
        f"**{covered_p / reps:.3f}**",
        f"{np.mean(width_p):.3f} "
        f"({np.mean(width_p) / np.mean(width_i):.1f}x the images-resampled width)",
        f"0.90-0.99: {verdict}",
    )
    labels = rng.integers(0, 10, 1797)
    logits = rng.normal(size=(1797, 10)) + 2 * np.eye(10)[labels]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    start = time.perf_counter()
    Evaluation.from_predictions(labels, proba, n_bootstraps=2000, random_state=0)
    seconds = time.perf_counter() - start
    report()
    report(
        f"Cost: {seconds:.2f} s for 2,000 bootstraps of every metric on 1,797 images, "
        "10 classes (digits-sized out-of-fold predictions)."
    )
    if settings["cv_runs"]:
        report()
        _cv_cost(settings["cv_runs"], report)


def _report_seconds(out):
    """Seconds to draw the report's evaluation sections, rebuilt from oof_predictions.csv."""
    import csv
    import json

    from skimgaug.cli.reports._cv_report import _evaluation_section
    from skimgaug.evaluation import Evaluation

    document = json.load(open(os.path.join(out, "results.json")))
    rows = list(csv.DictReader(open(os.path.join(out, "oof_predictions.csv"))))
    classes = np.array(document["classes"])
    evaluations = {}
    for setting in document["evaluation"]:
        mine = sorted((r for r in rows if r["setting"] == setting), key=lambda r: int(r["index"]))
        y = np.array([int(r["true_label"]) for r in mine])
        proba = np.array([[float(r[f"proba_{c}"]) for c in classes] for r in mine])
        folds = np.array([int(r["fold"]) for r in mine])
        evaluations[setting] = Evaluation.from_predictions(
            y, proba / proba.sum(axis=1, keepdims=True), folds=folds, classes=classes
        )
    # Once untimed: the cv run has matplotlib imported and warm (its learning curves
    # are drawn first); this process has not.
    _evaluation_section({"partial": False}, evaluations)
    start = time.perf_counter()
    _evaluation_section({"partial": False}, evaluations)
    return time.perf_counter() - start


def _cv_cost(runs, report):
    import json
    import subprocess
    import tempfile

    report("### What the evaluation adds to the digits job (skimgaug cv --digits --compare)")
    report()
    report.table(["run", "total", "evaluation", "report sections", "added", "target"])
    for run in range(1, runs + 1):
        with tempfile.TemporaryDirectory() as out:
            command = [sys.executable, "-m", "skimgaug.cli", "cv", "--digits", "--compare"]
            subprocess.run([*command, "--quiet", "--out", out], check=True, capture_output=True)
            timings = json.load(open(os.path.join(out, "results.json")))["timings"]
            drawing = _report_seconds(out)
        total, evaluation = timings["total_seconds"], timings["evaluation_seconds"]
        added = (evaluation + drawing) / (total - evaluation)
        report.row(
            run,
            f"{total:.1f} s",
            f"{evaluation:.2f} s",
            f"{drawing:.2f} s",
            f"**{100 * added:.1f} %**",
            f"<= 5 %: {'met' if added <= 0.05 else 'MISSED'}",
        )
    report()
    report(
        "Added: (evaluation + report sections) / (total - evaluation), the share the run "
        "grows by. The report sections were timed apart, rebuilt with the same options."
    )


if __name__ == "__main__":
    sys.exit(bench.main(__doc__, "evaluation", run, FULL, QUICK, helps=HELPS))
