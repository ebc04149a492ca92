"""What ``skimgaug cv --out`` gives a person: the verdict, results.json and report.html.

The verdict's statistics are checked on known numbers; the outputs first on
made-up fold results (no training, fast), then end to end through
``skimgaug.cli.main`` (slow).
"""

import base64
import contextlib
import csv
import io
import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from importlib import metadata

import numpy as np
import pytest

from skimgaug import cli
from skimgaug.cli import _common as common
from skimgaug.cli.reports._plots import confusion_matrices_figure, learning_curves_figure
from skimgaug.cli.reports._verdict import compare_settings, format_verdict, paired_intervals
from skimgaug.cli.runs._cv import FoldResult, fold_metrics, summarize
from skimgaug.cli.runs._cv_outputs import write_outputs

#: The files ``--out`` holds, in the order the CLI lists them.
WRITTEN = [
    "report.html",
    "results.json",
    "results.csv",
    "oof_predictions.csv",
    "learning_curves.png",
    "confusion_matrix.png",
    "confusion_matrix_normalized.png",
]
#: Student's t quantiles, t_{0.975, df}, from tables.
T_975 = {2: 4.302652729749464, 4: 2.7764451051977987}
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def scored(setting, fold, accuracy, n_train=400, n_test=100):
    """A FoldResult with only what the verdict reads: the accuracy and the sizes."""
    metrics = dict.fromkeys(("balanced_accuracy", "macro_f1", "roc_auc"), accuracy)
    metrics["accuracy"] = accuracy
    return FoldResult(
        setting, fold, np.arange(n_test), np.zeros((n_test, 2)), metrics, n_train=n_train
    )


def paired(differences, base=0.5):
    """Both settings on ``len(differences)`` folds, augmentation - no augmentation given."""
    return [scored("no augmentation", f, base) for f in range(len(differences))] + [
        scored("augmentation", f, base + d) for f, d in enumerate(differences)
    ]


# ----------------------------------------------------------------------------
# The verdict
# ----------------------------------------------------------------------------
def test_paired_intervals_follow_the_plain_and_the_corrected_t_formulas():
    differences = [0.01, 0.02, 0.06]  # mean 0.03, sd sqrt(0.0007)
    result = paired_intervals(differences, n_train=200, n_test=100)
    sd = math.sqrt(0.0007)
    t = T_975[2]
    assert result["mean"] == pytest.approx(0.03)
    assert result["sd"] == pytest.approx(sd)
    assert result["t"] == pytest.approx(t)
    plain = t * sd / math.sqrt(3)
    corrected = t * sd * math.sqrt(1 / 3 + 100 / 200)  # Nadeau and Bengio
    assert result["plain_interval"] == pytest.approx([0.03 - plain, 0.03 + plain])
    assert result["interval"] == pytest.approx([0.03 - corrected, 0.03 + corrected])


def test_compare_settings_pairs_the_scores_by_fold_not_by_order():
    results = paired([0.10, 0.20, 0.30])
    results.reverse()  # augmentation's folds first, last fold first
    verdict = compare_settings(results, "augmentation", "no augmentation")
    assert verdict["folds"] == [1, 2, 3]
    assert verdict["differences"] == pytest.approx([0.10, 0.20, 0.30])
    assert verdict["mean"] == pytest.approx(0.20)
    assert (verdict["n_train"], verdict["n_test"]) == (400, 100)


@pytest.mark.parametrize(
    "differences, outcome, sentence",
    [
        (
            [0.02, 0.03, 0.025, 0.035, 0.03],
            "better",
            "Augmentation is better: it changes accuracy by +2.80 points on average "
            "(95 % interval +1.74 to +3.86 points).",
        ),
        (
            [-0.02, -0.03, -0.025, -0.035, -0.03],
            "worse",
            "No augmentation is better: augmentation changes accuracy by -2.80 points on "
            "average (95 % interval -3.86 to -1.74 points).",
        ),
        (
            [0.05, -0.03, 0.01, 0.02, -0.01],
            "within noise",
            "The difference is within noise: augmentation changes accuracy by +0.80 points "
            "on average, and the 95 % interval (-4.85 to +6.45 points) contains 0.",
        ),
        (
            [0.0, 0.0, 0.0, 0.0, 0.0],
            "within noise",
            "The difference is within noise: both settings have the same accuracy on every fold.",
        ),
    ],
    ids=["better", "worse", "noise", "same"],
)
def test_the_sentence_names_the_better_setting_or_says_within_noise(differences, outcome, sentence):
    # k = 5 folds of 400 training and 100 test images: the interval is
    # mean ± t_{0.975, 4} * sd * sqrt(1/5 + 100/400).
    verdict = compare_settings(paired(differences), "augmentation", "no augmentation")
    assert verdict["t"] == pytest.approx(T_975[4])
    assert verdict["outcome"] == outcome
    assert verdict["sentence"] == sentence


def test_the_verdict_uses_the_corrected_interval_not_the_optimistic_plain_one():
    # Plain t-interval: +0.20 to +3.20 points, above 0; corrected: -0.54 to +3.94.
    verdict = compare_settings(
        paired([0.01, 0.03, 0.02, 0.0, 0.025]), "augmentation", "no augmentation"
    )
    assert verdict["plain_interval"][0] > 0
    assert verdict["interval"][0] < 0 < verdict["interval"][1]
    assert verdict["outcome"] == "within noise"
    assert verdict["method"].startswith("corrected resampled t (Nadeau and Bengio")


def test_there_is_no_verdict_without_two_folds_in_both_settings():
    results = paired([0.1, 0.2])
    assert compare_settings(results[:3], "augmentation", "no augmentation") is None
    assert compare_settings(results, "augmentation", "no augmentation") is not None


def test_the_printed_verdict_gives_folds_both_intervals_and_ends_with_the_sentence():
    verdict = compare_settings(
        paired([0.01, 0.03, 0.02, 0.0, 0.025]), "augmentation", "no augmentation"
    )
    text = format_verdict(verdict)
    assert "fold 1 +1.00, fold 2 +3.00, fold 3 +2.00, fold 4 +0.00, fold 5 +2.50" in text
    assert "95 % interval -0.54 to +3.94 (Nadeau and Bengio's corrected resampled t" in text
    assert "the plain t-interval, +0.20 to +3.20, is optimistic" in text
    assert text.splitlines()[-1] == verdict["sentence"]


# ----------------------------------------------------------------------------
# Outputs from made-up fold results
# ----------------------------------------------------------------------------
def made_up_results(missing_settings=(), n_epochs=4, seed=0):
    """60 images of 3 classes, 3 folds, two settings; augmentation scores higher."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.array(["cat", "dog", "fox"]), 20)
    classes = np.unique(y)
    fold_of = np.arange(len(y)) % 3
    results = []
    for shift, setting in enumerate(("no augmentation", "augmentation")):
        if setting in missing_settings:
            continue
        for fold in range(3):
            test = np.flatnonzero(fold_of == fold)
            proba = rng.random((len(test), 3)) * 0.3
            right = rng.random(len(test)) < 0.7 + 0.15 * shift
            proba[right, np.searchsorted(classes, y[test][right])] += 1
            proba /= proba.sum(axis=1, keepdims=True)
            epochs = np.arange(n_epochs)
            history = {
                "loss": list(1.0 - 0.2 * epochs + 0.05 * fold),
                "accuracy": list(0.5 + 0.1 * epochs - 0.02 * fold),
                "val_loss": list(1.1 - 0.15 * epochs),
                "val_accuracy": list(0.45 + 0.1 * epochs),
            }
            results.append(
                FoldResult(
                    setting,
                    fold,
                    test,
                    proba,
                    fold_metrics(y[test], proba, classes),
                    history,
                    n_train=len(y) - len(test),
                    fit_seconds=2.5 + fold,
                    predict_seconds=0.25,
                )
            )
    return results, y


DATA = {
    "source": "<b>scans</b> & co",
    "n_images": 60,
    "images": "60 images, 8x8",
    "classes": {"cat": 20, "dog": 20, "fox": 20},
    "groups": None,
    "splitter": "stratified 3-fold cross-validation",
}
CONFIG = {
    "model": None,
    "epochs": 4,
    "batch_size": 32,
    "validation_split": 0.1,
    "tta": 0,
    "seed": 0,
    "datagen": {
        "no augmentation": {"rescale": 1 / 255},
        "augmentation": {"rotation_range": 10, "rescale": 1 / 255},
    },
}


def write_made_up(out, missing_settings=()):
    results, y = made_up_results(missing_settings)
    samples = np.array([f"img{i}.png" for i in range(len(y))])
    kwargs = {"data": DATA, "total_seconds": 75.0}
    if missing_settings:
        kwargs["missing"] = [(s, f) for s in missing_settings for f in range(3)]
        kwargs["stopped_by"] = "KeyboardInterrupt"
    else:
        kwargs["verdict"] = compare_settings(results, "augmentation", "no augmentation")
    written = write_outputs(str(out), results, summarize(results), y, samples, CONFIG, **kwargs)
    return written, results


@pytest.fixture(scope="module")
def made_up(tmp_path_factory):
    """``--out`` written from made-up results: (folder, names written, results)."""
    out = tmp_path_factory.mktemp("made_up")
    written, results = write_made_up(out)
    return out, written, results


class WellFormed(HTMLParser):
    """Collects every start tag; raises on an end tag that closes no open element."""

    VOID = {"meta", "img", "br", "hr", "link", "input", "source", "col", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open, self.tags, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page):
    parser = WellFormed()
    parser.feed(page)
    parser.close()
    assert parser.open == [], f"never closed: {parser.open}"
    return parser


def test_write_outputs_lists_what_it_wrote_report_first(made_up):
    out, written, _ = made_up
    assert written == WRITTEN
    assert sorted(p.name for p in out.iterdir()) == sorted(WRITTEN)


def test_results_json_has_versions_timings_histories_fold_sizes_and_the_verdict(made_up):
    out, _, results = made_up
    document = json.loads((out / "results.json").read_text())
    assert document["partial"] is False and document["missing_folds"] == []
    assert document["versions"]["skimgaug"] == metadata.version("skimgaug")
    assert document["versions"]["scikit-learn"] == metadata.version("scikit-learn")
    assert {"Python", "TensorFlow", "Keras", "NumPy"} <= set(document["versions"])
    first = document["folds"][0]
    assert (first["setting"], first["fold"], first["n_train"], first["n_test"]) == (
        "no augmentation",
        1,
        40,
        20,
    )
    assert (first["fit_seconds"], first["predict_seconds"]) == (2.5, 0.25)
    assert first["history"] == results[0].history
    assert document["timings"] == {
        "total_seconds": 75.0,
        "fit_seconds": 2 * (2.5 + 3.5 + 4.5),
        "predict_seconds": 6 * 0.25,
        "evaluation_seconds": None,  # made-up folds: no evaluation was run
    }
    verdict = compare_settings(results, "augmentation", "no augmentation")
    assert document["verdict"]["sentence"] == verdict["sentence"]
    assert document["verdict"]["interval"] == pytest.approx(verdict["interval"])


def test_report_is_well_formed_html(made_up):
    page = (made_up[0] / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    tags = [tag for tag, _ in parse(page).tags]
    assert tags.count("html") == tags.count("body") == tags.count("h1") == 1


def test_report_is_self_contained(made_up):
    page = (made_up[0] / "report.html").read_text()
    tags = parse(page).tags
    for tag, attrs in tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:|//|file:)", value, re.I), (tag, value[:80])
    assert not any(tag in ("script", "link", "iframe", "object") for tag, _ in tags)
    assert "url(" not in page and "@import" not in page
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    assert len(images) == 3  # learning curves, counts, recall
    for source in images:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.partition(",")[2]).startswith(b"\x89PNG\r\n\x1a\n")


def test_report_shows_the_verdict_the_per_fold_tables_and_the_versions(made_up):
    out, _, results = made_up
    page = (out / "report.html").read_text()
    text = " ".join(" ".join(parse(page).text).split())
    document = json.loads((out / "results.json").read_text())
    assert document["verdict"]["sentence"] in text
    assert "corrected resampled t (Nadeau and Bengio, 2003)" in text
    header = "fold train images test images accuracy balanced accuracy macro F1 ROC AUC fit predict"
    assert text.count(header) == 2  # one table per setting
    first = results[0].metrics
    row = f"1 40 20 {first['accuracy']:.4f} {first['balanced_accuracy']:.4f}"
    assert row in text
    mean = document["settings"]["augmentation"]["mean"]["accuracy"]
    std = document["settings"]["augmentation"]["std"]["accuracy"]
    assert f"mean ± std {mean:.4f} ± {std:.4f}" in text
    assert f"scikit-learn {metadata.version('scikit-learn')}" in text
    assert "Total time: 1:15." in text
    assert "rotation_range=10, rescale=0.00392157" in text
    assert "Classes (3) cat: 20, dog: 20, fox: 20" in text


def test_report_escapes_text_from_the_data(made_up):
    page = (made_up[0] / "report.html").read_text()
    assert "&lt;b&gt;scans&lt;/b&gt; &amp; co" in page
    assert "<b>scans</b>" not in page


def test_missing_folds_make_every_output_say_partial(tmp_path):
    written, _ = write_made_up(tmp_path, missing_settings=("augmentation",))
    assert written == WRITTEN
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["partial"] is True
    assert document["missing_folds"] == [{"setting": "augmentation", "fold": f} for f in (1, 2, 3)]
    assert document["stopped_by"] == "KeyboardInterrupt"
    assert document["verdict"] is None
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert [(r["setting"], r["fold"], r["status"]) for r in rows] == [
        ("no augmentation", "1", "done"),
        ("no augmentation", "2", "done"),
        ("no augmentation", "3", "done"),
        ("augmentation", "1", "missing"),
        ("augmentation", "2", "missing"),
        ("augmentation", "3", "missing"),
    ]
    text = " ".join(" ".join(parse((tmp_path / "report.html").read_text()).text).split())
    assert "Partial results. The run was interrupted after 3 of 6 folds." in text
    assert "Missing: augmentation: folds 1, 2, 3." in text
    assert "No verdict: the run did not finish." in text


@pytest.mark.parametrize("n_epochs", [1, 4])
def test_learning_curves_number_epochs_from_1_with_one_legend_and_bold_means(n_epochs):
    results, _ = made_up_results(n_epochs=n_epochs)
    fig = learning_curves_figure(results)
    try:
        assert len(fig.legends) == 1
        assert all(ax.get_legend() is None for ax in fig.axes)
        loss = fig.axes[0]  # no augmentation: loss
        assert loss.get_xlabel() == "epoch" and loss.get_ylabel() == "loss"
        ticks = [t for t in loss.get_xticks() if loss.get_xlim()[0] <= t <= loss.get_xlim()[1]]
        assert ticks == list(range(1, n_epochs + 1))
        bold = [line for line in loss.lines if line.get_linewidth() > 2]
        thin = [line for line in loss.lines if line.get_linewidth() <= 1]
        assert len(bold) == 2 and len(thin) == 6  # training and validation; 3 folds each
        assert list(bold[0].get_xdata()) == list(range(1, n_epochs + 1))
        expected = np.mean([r.history["loss"] for r in results[:3]], axis=0)
        np.testing.assert_allclose(bold[0].get_ydata(), expected)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_the_normalized_confusion_matrix_shows_each_rows_recall():
    results, y = made_up_results()
    counts = confusion_matrices_figure(results, y)
    recall = confusion_matrices_figure(results, y, normalize="true")
    try:
        matrix = counts.axes[0].images[0].get_array()
        rows = recall.axes[0].images[0].get_array()
        np.testing.assert_allclose(rows, matrix / matrix.sum(axis=1, keepdims=True))
        texts = recall.axes[0].texts
        assert len(texts) == 9 and texts[0].get_text() == f"{rows[0, 0]:.2f}"
        # sklearn's display draws the numbers on the darkest cells in another color.
        darkest = np.unravel_index(np.argmax(rows), rows.shape)
        lightest = np.unravel_index(np.argmin(rows), rows.shape)
        assert texts[darkest[0] * 3 + darkest[1]].get_color() != (
            texts[lightest[0] * 3 + lightest[1]].get_color()
        )
    finally:
        import matplotlib.pyplot as plt

        plt.close(counts)
        plt.close(recall)


# ----------------------------------------------------------------------------
# A real browser
# ----------------------------------------------------------------------------
#: Appended to a copy of the report: on load, record each image's decoded width.
PROBE = (
    '<script>window.addEventListener("load", () => { document.body.dataset.images = '
    'Array.from(document.images, i => i.complete ? i.naturalWidth : -1).join(","); });'
    "</script>"
)


def browser_loads(page_path, tmp_path):
    """``(dumped DOM, console lines)`` from headless Chromium, or skip without one."""
    browser = next(filter(None, map(shutil.which, BROWSERS)), None)
    if browser is None:
        pytest.skip("no Chromium on this machine")
    probe = tmp_path / "probe.html"
    probe.write_text(page_path.read_text().replace("</body>", PROBE + "</body>"))
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def test_chromium_loads_the_report_without_errors_and_decodes_every_figure(made_up, tmp_path):
    dom, console = browser_loads(made_up[0] / "report.html", tmp_path)
    assert console == []
    widths = re.search(r'data-images="([^"]*)"', dom).group(1).split(",")
    assert len(widths) == 3 and all(int(w) > 300 for w in widths), widths
    assert "Results per fold" in dom and "Nadeau and Bengio" in dom


# ----------------------------------------------------------------------------
# End to end, through the command line
# ----------------------------------------------------------------------------
def run_main(argv):
    """``(exit status, stdout, stderr)`` of ``cli.main(argv)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """``skimgaug cv --digits --folds 2 --epochs 1 --compare --out DIR``: (DIR, stdout)."""
    out = tmp_path_factory.mktemp("digits") / "results"
    argv = ["cv", "--digits", "--folds", "2", "--epochs", "1", "--compare", "--quiet"]
    code, printed, err = run_main([*argv, "--out", str(out)])
    assert code == 0, err
    return out, printed


@pytest.mark.slow
def test_compare_prints_the_written_files_then_the_verdict_then_the_total_time(digits_run):
    out, printed = digits_run
    document = json.loads((out / "results.json").read_text())
    lines = printed.rstrip().splitlines()
    assert f"wrote {', '.join(WRITTEN)} to {out}" in lines
    assert lines.index(f"wrote {', '.join(WRITTEN)} to {out}") < lines.index(
        "verdict: augmentation minus no augmentation, accuracy in points, paired by fold"
    )
    verdict = lines.index(
        "verdict: augmentation minus no augmentation, accuracy in points, paired by fold"
    )
    assert lines[verdict - 1].startswith("ROC AUC, augmentation minus no augmentation: ")
    assert lines[-3] == document["verdict"]["sentence"]
    assert lines[-2] == ""
    assert re.fullmatch(r"total time \d+:\d\d", lines[-1])


@pytest.mark.slow
def test_cli_results_json_records_histories_fold_sizes_timings_and_versions(digits_run):
    document = json.loads((digits_run[0] / "results.json").read_text())
    folds = document["folds"]
    assert [(f["setting"], f["fold"]) for f in folds] == [
        ("no augmentation", 1),
        ("no augmentation", 2),
        ("augmentation", 1),
        ("augmentation", 2),
    ]
    for fold in folds:
        assert fold["n_train"] + fold["n_test"] == 1797
        assert fold["fit_seconds"] > 0 and fold["predict_seconds"] > 0
        assert set(fold["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(len(values) == 1 for values in fold["history"].values())
    assert document["timings"]["total_seconds"] > document["timings"]["fit_seconds"] > 0
    assert document["versions"]["TensorFlow"] == metadata.version("tensorflow")
    assert document["versions"]["Keras"] == metadata.version("keras")
    accuracy = {(f["setting"], f["fold"]): f["metrics"]["accuracy"] for f in folds}
    expected = [accuracy["augmentation", i] - accuracy["no augmentation", i] for i in (1, 2)]
    assert document["verdict"]["differences"] == pytest.approx(expected)
    assert document["data"]["classes"]["0"] == 178


@pytest.mark.slow
def test_cli_report_html_shows_data_settings_results_verdict_and_figures(digits_run):
    page = (digits_run[0] / "report.html").read_text()
    parser = parse(page)
    text = " ".join(" ".join(parser.text).split())
    for heading in ("Verdict", "Results per fold", "Learning curves", "Confusion matrices"):
        assert f"{heading} " in text
    for fact in (
        "Source scikit-learn digits",
        "Images 1797 images, 8x8",
        "Groups none",
        "Model default CNN",
        "Epochs 1",
        "Batch size 32",
        "Validation split 0.1",
        "Seed 0",
    ):
        assert fact in text
    document = json.loads((digits_run[0] / "results.json").read_text())
    assert document["verdict"]["sentence"] in text
    assert "Out-of-fold evaluation" in text and "Audit of the folds" in text
    # learning curves, two confusion matrices; per setting, curves and reliability diagrams
    assert sum(tag == "img" for tag, _ in parser.tags) == 3 + 2 * 2


@pytest.mark.slow
def test_chromium_loads_the_cli_report(digits_run, tmp_path):
    dom, console = browser_loads(digits_run[0] / "report.html", tmp_path)
    assert console == []
    widths = re.search(r'data-images="([^"]*)"', dom).group(1).split(",")
    assert len(widths) == 7 and all(int(w) > 300 for w in widths), widths


@pytest.mark.slow
def test_without_compare_there_is_no_verdict_and_the_total_time_is_printed_last(
    image_folder, tmp_path
):
    out = tmp_path / "results"
    options = "--folds 2 --epochs 1 --image-size 16x16 --datagen rotation_range=10 --quiet"
    code, printed, err = run_main(["cv", str(image_folder), *options.split(), "--out", str(out)])
    assert code == 0, err
    assert "verdict" not in printed
    assert re.fullmatch(r"total time \d+:\d\d", printed.rstrip().splitlines()[-1])
    document = json.loads((out / "results.json").read_text())
    assert document["verdict"] is None
    assert "No verdict: only one setting was run." in (out / "report.html").read_text()


class StopAtFit:
    """Makes a Keras callback that raises ``exception`` when the ``at``-th fit begins.

    The count lives on this object, which the estimators' clones share
    (scikit-learn's clone deep-copies the callback, not the class it closes over).
    """

    def __init__(self, exception, at):
        self.exception, self.at, self.fits = exception, at, 0

    def callback(self):
        import keras

        stopper = self

        class Stop(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                stopper.fits += 1
                if stopper.fits == stopper.at:
                    raise stopper.exception

        return Stop()


@pytest.fixture
def stop_at_fit(monkeypatch):
    """``stop_at_fit(exception, at)``: every estimator the cv command makes stops there."""

    def install(exception, at):
        stopper = StopAtFit(exception, at)
        make = common.make_estimator
        monkeypatch.setattr(
            common,
            "make_estimator",
            lambda args, model, datagen, **params: make(
                args, model, datagen, callbacks=[stopper.callback()], **params
            ),
        )
        return stopper

    return install


@pytest.mark.slow
@pytest.mark.parametrize(
    "exception, status, last_line, stopped_by",
    [
        pytest.param(
            KeyboardInterrupt(), 130, "skimgaug: interrupted", "KeyboardInterrupt", id="ctrl-c"
        ),
        pytest.param(
            RuntimeError("disk full"),
            1,
            "skimgaug: error: RuntimeError: disk full (run again with --traceback for the details)",
            "RuntimeError: disk full",
            id="error",
        ),
    ],
)
def test_a_run_stopped_in_the_second_fold_writes_the_first_marked_partial_then_exits(
    exception, status, last_line, stopped_by, image_folder, tmp_path, stop_at_fit
):
    stop_at_fit(exception, at=2)
    out = tmp_path / "results"
    options = "--folds 2 --epochs 1 --image-size 16x16 --datagen rotation_range=10 --compare"
    code, printed, err = run_main(
        ["cv", str(image_folder), *options.split(), "--quiet", "--out", str(out)]
    )
    assert code == status
    lines = err.strip().splitlines()
    assert lines[-1] == last_line
    assert lines[-2] == (
        f"skimgaug: 1 of 4 folds finished; wrote them, marked partial, to {out}: "
        + ", ".join(WRITTEN)
    )
    document = json.loads((out / "results.json").read_text())
    assert document["partial"] is True
    assert document["stopped_by"] == stopped_by
    assert [(f["setting"], f["fold"]) for f in document["folds"]] == [("no augmentation", 1)]
    assert document["missing_folds"] == [
        {"setting": "no augmentation", "fold": 2},
        {"setting": "augmentation", "fold": 1},
        {"setting": "augmentation", "fold": 2},
    ]
    statuses = [row["status"] for row in csv.DictReader(open(out / "results.csv"))]
    assert statuses == ["done", "missing", "missing", "missing"]
    assert len(list(csv.DictReader(open(out / "oof_predictions.csv")))) == 12
    assert "Partial results." in (out / "report.html").read_text()


@pytest.mark.slow
def test_a_run_stopped_before_any_fold_finished_leaves_no_out_folder(
    image_folder, tmp_path, stop_at_fit
):
    stop_at_fit(KeyboardInterrupt(), at=1)
    out = tmp_path / "results"
    options = "--folds 2 --epochs 1 --image-size 16x16 --quiet"
    code, _, err = run_main(["cv", str(image_folder), *options.split(), "--out", str(out)])
    assert code == 130
    assert err == "skimgaug: interrupted\n"
    assert not out.exists()


def test_report_settings_name_every_training_option():
    from skimgaug.cli.reports._cv_report import _settings_section

    config = {
        "optimizer": "sgd",
        "learning_rate": 0.05,
        "loss": "categorical_focal_crossentropy",
        "early_stopping": 3,
        "class_weight": "balanced",
        "n_jobs": 2,
        "datagen": {},
    }
    text = " ".join(" ".join(parse(_settings_section({"config": config})).text).split())
    for fact in (
        "Optimizer sgd",
        "Learning rate 0.05",
        "Loss categorical_focal_crossentropy",
        "Early stopping after 3 epochs without a better validation loss",
        "Class balancing class_weight=balanced",
        "Parallel folds (n_jobs) 2",
    ):
        assert fact in text


def test_the_figures_leave_pyplot_and_its_backend_alone(tmp_path):
    import matplotlib

    previous = matplotlib.get_backend()
    matplotlib.use("svg")  # a user's backend, which the figures must not switch
    try:
        _draw_both(tmp_path)
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(previous)


def _draw_both(tmp_path):
    import matplotlib.pyplot as plt

    from skimgaug.cli.reports._plots import plot_confusion_matrices, plot_learning_curves

    open_figures = plt.get_fignums()
    results = []
    for fold in range(2):
        result = scored("augmentation", fold, 0.75, n_test=4)
        result.proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
        result.test = np.arange(4) + 4 * fold
        result.history = {"loss": [0.9, 0.5], "accuracy": [0.6, 0.8]}
        results.append(result)
    y = np.array([0, 1, 0, 1, 0, 1, 1, 1])
    plot_learning_curves(results, tmp_path / "curves.png")
    plot_confusion_matrices(results, y, tmp_path / "matrix.png")
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert (tmp_path / "matrix.png").stat().st_size > 1000
    assert plt.get_fignums() == open_figures
