"""``skimgaug search``: grids and their checks, the run serially, in processes and on Dask."""

import contextlib
import csv
import html.parser
import io
import json
import os
import re
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from conftest import run_cli_cases
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedKFold

from skimgaug import cli
from skimgaug._html import Report, versions
from skimgaug.cli import _grid as grids
from skimgaug.cli._common import DIGITS_AUGMENTATION, DIGITS_STANDARDIZATION
from skimgaug.cli.reports import _search_outputs as outputs
from skimgaug.cli.runs import _search as search
from skimgaug.exceptions import ChanceLevelWarning

# ----------------------------------------------------------------------------
# Bad command lines: exit 2 with one line, before TensorFlow is imported
# ----------------------------------------------------------------------------
#: (arguments after "search --digits --out out", the line after "skimgaug search: error: ").
USAGE_ERRORS = [
    (
        ["--grid", "model__filters=0,abc"],
        "bad grid: The 'model__filters' parameter of AugmentedKerasClassifier must be an int "
        ">= 1. Got 0 instead; The 'model__filters' parameter of AugmentedKerasClassifier must "
        "be an int >= 1. Got 'abc' instead",
    ),
    (
        ["--grid", "class_weight=balancd", "--grid", "optimizer__learning_rate=-1"],
        "bad grid: The 'class_weight' parameter of AugmentedKerasClassifier must be None, "
        "'balanced' or a dict {class: weight} of finite numbers >= 0. Got 'balancd' instead; "
        "The 'optimizer__learning_rate' parameter of AugmentedKerasClassifier must be a "
        "number > 0 or a learning-rate schedule. Got -1 instead",
    ),
    (
        ["--grid", "shuffle=x"],
        "bad grid: The 'shuffle' parameter of AugmentedKerasClassifier must be a bool (True "
        "or False). Got 'x' instead",
    ),
    (["--grid", "rotation"], "--grid expects KEY=V1,V2,..., got 'rotation'"),
    (
        ["--grid", "epochs=1", "--grid", "epochs=2"],
        "--grid epochs is given twice; list all its values once: epochs=V1,V2",
    ),
    (["--grid", "epochs=1,,2"], "--grid 'epochs=1,,2' has an empty value between commas"),
    (
        [],
        "give the parameters to search: --grid KEY=V1,V2,... (repeatable) or --grid-file FILE.toml",
    ),
    (
        ["--grid", "datagen__rotaton_range=0,10"],
        "bad grid: unknown parameter 'datagen__rotaton_range'; "
        "did you mean 'datagen__rotation_range'?",
    ),
    (
        ["--grid", "rotation_range=0,10"],
        "bad grid: unknown parameter 'rotation_range'; did you mean 'datagen__rotation_range'?",
    ),
    (
        ["--grid", "epoch=1,2"],
        "bad grid: unknown parameter 'epoch'; did you mean 'epochs'?",
    ),
    (
        ["--grid", "model__filter=16,32"],
        "bad grid: unknown parameter 'model__filter': the model builder has no parameter "
        "'filter'; did you mean 'model__filters'? (its parameters: filters, max_filters, "
        "dense_units, dropout)",
    ),
    (
        ["--grid", "filters=16,32"],
        "bad grid: unknown parameter 'filters'; did you mean 'model__filters'?",
    ),
    (
        ["--grid", "model=mymodels:build"],
        "bad grid: 'model' cannot be searched: choose the model with --model; search its "
        "parameters as model__<name>",
    ),
    (
        ["--grid", "datagen=rotation"],
        "bad grid: datagen='rotation': a datagen value is a table of ImageDataGenerator "
        "settings, such as {rotation_range = 10} in a --grid-file; search single settings "
        "as datagen__<name>=V1,V2",
    ),
    (
        ["--grid", "datagen__rotation_range=-5,10", "--grid", "datagen__fill_mode=mirror"],
        "bad grid: datagen__rotation_range must be a finite number >= 0; got -5; "
        "datagen__fill_mode must be one of 'constant', 'nearest', 'reflect', 'wrap'; "
        "got 'mirror'",
    ),
    (
        ["--grid", "batch_size=0,32", "--grid", "epochs=0", "--grid", "tta=-1"],
        "bad grid: The 'batch_size' parameter of AugmentedKerasClassifier must be None, -1 "
        "(all samples in one batch) or an int >= 1. Got 0 instead; The 'epochs' parameter "
        "of AugmentedKerasClassifier must be an int >= 1. Got 0 instead; The 'tta' "
        "parameter of AugmentedKerasClassifier must be an int >= 0 (the number of augmented "
        "copies averaged with each image at prediction; 0 for none). Got -1 instead",
    ),
    (
        ["--grid", "validation_split=0.1,1.5", "--grid", "engine=fast"],
        "bad grid: The 'validation_split' parameter of AugmentedKerasClassifier must be a "
        "number in [0, 1). Got 1.5 instead; The 'engine' parameter of AugmentedKerasClassifier "
        "must be one of 'vectorized', 'imagedatagenerator'. Got 'fast' instead",
    ),
    (
        ["--grid", "datagen__rotation_range=" + ",".join(map(str, range(40)))]
        + ["--grid", "model__filters=" + ",".join(map(str, range(1, 30)))],
        "the grid has 1,160 candidates (5,800 fits with 5 folds); narrow it, or give --yes "
        "to run more than 1,000",
    ),
    (
        ["--grid", "epochs=1", "--n-jobs", "2", "--dask", "tcp://127.0.0.1:8786"],
        "argument --dask: not allowed with argument --n-jobs",
    ),
    (
        ["--grid", "epochs=1", "--n-jobs", "0"],
        "argument --n-jobs: expected a positive number of processes, or -1 for one per "
        "core, got '0'",
    ),
    (["--grid-file", "missing.toml"], "--grid-file 'missing.toml': no such file"),
    (
        ["--grid-file", "broken.toml"],
        "--grid-file 'broken.toml' is not valid TOML: Expected '=' after a key in a "
        "key/value pair (at line 2, column 8)",
    ),
    (
        ["--grid-file", "scalar.toml"],
        "--grid-file 'scalar.toml': [[grid]] 1: datagen__rotation_range = 10 is not a list "
        "of values to try; write datagen__rotation_range = [10]",
    ),
    (
        ["--grid-file", "top_level.toml"],
        "--grid-file 'top_level.toml': parameters go in [[grid]] tables, one per parameter "
        "grid (e.g. [[grid]] then datagen__rotation_range = [0, 15] on the next line); found "
        "top-level key epochs",
    ),
    (
        ["--grid-file", "bad_policy.toml"],
        "bad grid: datagen={'rotaton_range': 10}: datagen['rotaton_range']: unknown "
        "ImageDataGenerator option 'rotaton_range'; did you mean 'rotation_range'?",
    ),
    (
        ["--grid", "epochs=1", "--refit-out", "out"],
        "--refit-out must differ from --out (a model folder holds the model only); e.g. "
        "--refit-out out/best-model",
    ),
    (
        ["--grid", "epochs=1", "--refit-out", "a_file"],
        "--refit-out 'a_file' is a file; give a folder for the model",
    ),
]

GRID_FILES = {
    "broken.toml": "[[grid]]\nepochs [1, 2]\n",
    "scalar.toml": "[[grid]]\ndatagen__rotation_range = 10\n",
    "top_level.toml": "epochs = [1, 2]\n",
    "bad_policy.toml": "[[grid]]\ndatagen = [{rotaton_range = 10}]\n",
}


#: Runs each case with cli.main in one fresh interpreter; prints a JSON list of
#: [status, last stderr line, whether TensorFlow was imported by then].
@pytest.fixture(scope="module")
def usage_errors(tmp_path_factory):
    """``{case index: [status, last line, tensorflow imported, first line]}``."""
    folder = tmp_path_factory.mktemp("usage")
    for name, text in GRID_FILES.items():
        (folder / name).write_text(text)
    (folder / "a_file").write_text("")
    cases = [["search", "--digits", "--out", "out", *args] for args, _ in USAGE_ERRORS]
    # Past every check: the count check lets a large grid through with --yes.
    large = ["--grid", "datagen__rotation_range=" + ",".join(map(str, range(1001)))]
    cases.append(["search", "missing_folder", "--out", "out", "--yes", *large])
    return run_cli_cases(cases, folder)


@pytest.mark.parametrize("index", range(len(USAGE_ERRORS)))
def test_a_bad_command_line_exits_2_with_one_line_before_tensorflow_is_imported(
    index, usage_errors
):
    status, last, tensorflow_imported, first, _ = usage_errors[index]
    assert (status, tensorflow_imported) == (2, False)
    assert first == last == "skimgaug search: error: " + USAGE_ERRORS[index][1]


def test_yes_lets_a_grid_of_more_than_1000_candidates_through(usage_errors):
    status, last, *_ = usage_errors[len(USAGE_ERRORS)]
    assert (status, last) == (1, "skimgaug: error: no such folder or CSV file: 'missing_folder'")


def test_the_help_names_the_same_candidate_limit_as_the_check():
    from skimgaug.cli import search as command

    assert command._MAX_CANDIDATES == grids.MAX_CANDIDATES


# ----------------------------------------------------------------------------
# Grids
# ----------------------------------------------------------------------------
def test_grid_options_are_added_to_every_file_table_and_replace_its_values(tmp_path):
    grid_file = tmp_path / "grid.toml"
    grid_file.write_text(
        "[[grid]]\ndatagen__rotation_range = [0, 15]\nepochs = [1, 2]\n"
        "[[grid]]\ndatagen = [{rotation_range = 10, zoom_range = [0.9, 1.2]}]\n"
    )
    tables = grids.read_grid_file(grid_file)
    combined = grids.combine_grids({"epochs": [3], "model__filters": [8, 16]}, tables)
    assert combined == [
        {"datagen__rotation_range": [0, 15], "epochs": [3], "model__filters": [8, 16]},
        {
            "datagen": [{"rotation_range": 10, "zoom_range": [0.9, 1.2]}],
            "epochs": [3],
            "model__filters": [8, 16],
        },
    ]
    assert grids.check_grid(combined, ["filters"]) == 4 + 2


def test_a_file_table_value_may_be_a_pair(tmp_path):
    grid_file = tmp_path / "grid.toml"
    grid_file.write_text("[grid]\ndatagen__zoom_range = [0.1, [0.9, 1.2]]\n")
    grid = grids.read_grid_file(grid_file)
    assert grid == [{"datagen__zoom_range": [0.1, [0.9, 1.2]]}]
    assert grids.check_grid(grid) == 2
    bad = [{"datagen__zoom_range": [[1.2, 0.9]]}]
    with pytest.raises(grids.GridError, match=r"datagen__zoom_range must be a number in \[0, 1\)"):
        grids.check_grid(bad)


def test_a_datagen_policy_replaces_the_augmentation_and_keeps_the_standardization():
    fixed = {"rotation_range": 5, "horizontal_flip": True, "rescale": 1 / 255}
    grid = [{"datagen": [{"zoom_range": 0.1}, {"rescale": 0.5}], "epochs": [1]}]
    assert grids.with_standardization(grid, fixed) == [
        {"datagen": [{"rescale": 1 / 255, "zoom_range": 0.1}, {"rescale": 0.5}], "epochs": [1]}
    ]


def test_every_problem_of_a_grid_is_reported_at_once():
    grid = [{"datagen__rotation_range": [-1, 5]}, {"tta": [-1], "nonsense": [1]}]
    message = (
        "datagen__rotation_range must be a finite number >= 0; got -1; The 'tta' parameter "
        "of AugmentedKerasClassifier must be an int >= 0 (the number of augmented copies "
        "averaged with each image at prediction; 0 for none). Got -1 instead; unknown "
        "parameter 'nonsense'"
    )
    with pytest.raises(grids.GridError, match=f"^{re.escape(message)}$"):
        grids.check_grid(grid)
    with pytest.raises(grids.GridError, match="^datagen__shear_range has no values to try$"):
        grids.check_grid([{"datagen__shear_range": []}])


def test_the_routing_prefixes_are_the_estimators():
    from skimgaug import AugmentedKerasClassifier

    assert set(grids.ROUTING_PREFIXES) == AugmentedKerasClassifier._routing_prefixes


class _Stub(ClassifierMixin, BaseEstimator):
    """Fits in no time: fails, warns at chance level, or predicts the first class."""

    def __init__(self, mode="ok"):
        self.mode = mode

    def fit(self, X, y):
        if self.mode == "fails":
            raise ValueError("Invalid settings:\n- rotation_range must be >= 0")
        if self.mode == "chance":
            message = "_Stub: the training loss ended at 0.70, at chance level"
            warnings.warn(message, ChanceLevelWarning, stacklevel=2)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def _run_stub(modes):
    X, y = np.zeros((8, 2)), np.array([0, 1] * 4)
    cv = StratifiedKFold(2)
    return search.run_search(_Stub(), [{"mode": modes}], X, y, cv, progress=False)


def test_failed_fits_score_nan_and_each_kind_of_warning_is_one_line():
    result = _run_stub(["ok", "fails", "chance"])
    assert np.isnan(result.search.cv_results_["mean_test_score"][1])
    assert result.search.best_params_ == {"mode": "ok"}
    assert result.warnings == [
        "warning: 2 of 6 fits failed (their scores are NaN): "
        "2 with ValueError: Invalid settings: - rotation_range must be >= 0",
        "warning: 2 of 6 fits did not learn; the first: the training loss ended at 0.70, "
        "at chance level",
    ]


def test_a_search_whose_every_fit_fails_raises_one_line():
    message = (
        "all 2 fits failed: 2 with ValueError: Invalid settings: - rotation_range must be >= 0"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        _run_stub(["fails"])


@pytest.mark.slow
def test_the_estimators_own_callbacks_run_next_to_the_progress_printer(toy, capsys):
    import keras
    from conftest import fast_clf

    class Counter(keras.callbacks.Callback):
        fits = 0

        def __deepcopy__(self, memo):  # one counter for every clone
            return self

        def on_train_begin(self, logs=None):
            Counter.fits += 1

    X, y = toy
    estimator = fast_clf(callbacks=[Counter()], model__filters=2, random_state=0)
    grid = [{"datagen__rotation_range": [0, 10]}]
    result = search.run_search(estimator, grid, X, y, StratifiedKFold(2), progress=True)
    assert Counter.fits == 4
    assert capsys.readouterr().err.count(" epoch 1/1 ") == 4
    best, _, _ = search.refit_best(estimator, result.search.best_params_, X, y)
    assert Counter.fits == 5
    assert best.callbacks == estimator.callbacks  # without the progress printer
    assert capsys.readouterr().err.startswith("[refit] epoch 1/1")


def test_joblib_progress_becomes_one_line_per_finished_fit():
    stream = io.StringIO()
    progress = search._ParallelProgress(stream, n_fits=4, workers=2)
    progress.write("[Parallel(n_jobs=2)]: Using backend LokyBackend with 2 concurrent workers.\n")
    progress.write("[Parallel(n_jobs=2)]: Done   1 tasks      | elapsed:    3.1s\n")
    progress.write("a warning from elsewhere\n[Parallel(n_jobs=2)]: Do")
    progress.write("ne   2 out of   4 | elapsed:    3.4s remaining:    3.4s\n")
    progress.write("[Parallel(n_jobs=2)]: Done   4 out of   4 | elapsed:    6.0s finished\n")
    lines = stream.getvalue().splitlines()
    assert [re.sub(r"elapsed .*", "", line) for line in lines] == [
        "[search] fit 1/4 done  ",
        "a warning from elsewhere",
        "[search] fit 2/4 done  ",
        "[search] fit 4/4 done  ",
    ]
    assert re.search(r"fit 1/4 done  elapsed 0:0\d  remaining ~0:\d\d$", lines[0])
    assert lines[-1].endswith("done  elapsed 0:00")  # nothing remains: no estimate


def test_the_ranking_lists_the_best_candidates_first():
    rows = [
        {
            "candidate": i + 1,
            "rank_test_score": rank,
            "mean_test_score": score,
            "std_test_score": 0.01,
            "params": {"datagen__rotation_range": 5 * i, "datagen": {"zoom_range": 0.1}},
        }
        for i, (rank, score) in enumerate([(3, np.nan), (1, 0.9), (2, 0.85)])
    ]
    table = outputs.format_ranking(rows, "accuracy", top=2).splitlines()
    assert table == [
        "ranking (top 2 of 3 candidates)",
        "rank  candidate  mean accuracy ± std  parameters",
        "   1          2  0.9000 ± 0.0100      datagen__rotation_range=5, datagen={zoom_range=0.1}",
        "   2          3  0.8500 ± 0.0100      datagen__rotation_range=10, "
        "datagen={zoom_range=0.1}",
    ]


# ----------------------------------------------------------------------------
# The HTML report
# ----------------------------------------------------------------------------
class _Checker(html.parser.HTMLParser):
    """Records tags, attributes and text; fails on tags closed out of order."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.open, self.tags, self.attributes, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (tag, self.open)
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_a_report_is_one_well_formed_self_contained_html_file(tmp_path):
    from matplotlib.figure import Figure

    report = Report("<script>alert('x')</script> & co", subtitle="a < b")
    section = report.section("Scores & <things>")
    section.paragraph("Tom & Jerry <b>bold</b>")
    section.table(
        [{"name": "<i>", "score": 0.912345, "n": 3}, {"name": "b", "score": float("nan")}],
        caption="two rows",
    )
    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1], [1, 0])
    section.figure(figure, alt="a line")
    report.add_timings({"search": 75.0, "refit": 2.25})
    report.add_versions()
    path = tmp_path / "report.html"
    report.write(path)
    page = path.read_text(encoding="utf-8")

    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.open == []
    assert "script" not in checker.tags and "b" not in checker.tags and "i" not in checker.tags
    text = "".join(checker.text)
    for shown in ("<script>alert('x')</script> & co", "Tom & Jerry <b>bold</b>", "<i>", "0.9123"):
        assert shown in text
    sources = [value for name, value in checker.attributes if name in ("src", "href")]
    assert len(sources) == 1 and sources[0].startswith("data:image/png;base64,iVBOR")
    assert "http://" not in page and "https://" not in page
    assert "1:15" in text and "2.2 s" in text  # timings
    for name, version in versions().items():
        assert name in text and version in text


# ----------------------------------------------------------------------------
# End to end: the digits and a PNG folder, serially, in processes, on Dask
# ----------------------------------------------------------------------------
#: A model whose every random draw is seeded. Keras otherwise draws default
#: initializer and dropout seeds from Python's global `random`, which Dask
#: workers' own threads also use (dask.sizeof samples with it): the default CNN
#: is not reproducible on Dask until skimgaug seeds those draws privately.
SEEDED_BUILDER = '''\
import keras


def build(meta, compile_kwargs, filters=4):
    """A tiny CNN with seeded initializers and no dropout."""
    inputs = keras.Input(meta["X_shape_"][1:])
    x = keras.layers.Conv2D(
        filters, 3, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(1)
    )(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(
        meta["n_classes_"], activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(2),
    )(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model
'''
SEEDED = "skimgaug_search_tests:build"
#: Few images per fold: small differences matter, so scores must match closely.
DIGITS = ["--digits", "--folds", "2", "--epochs", "1", "--model", SEEDED]
DIGITS_GRID = ["--grid", "datagen__rotation_range=0,20"]
FOLDER_GRID = ["--grid", "datagen__rotation_range=0,20", "--grid", "model__filters=2,4"]


def _folder_args(folder):
    return [
        str(folder),
        "--groups",
        r"^(p\d+)_",
        "--folds",
        "2",
        "--epochs",
        "2",
        "--batch-size",
        "8",
    ]


@pytest.fixture(scope="module")
def seeded_builder(tmp_path_factory):
    """SEEDED's module on ``sys.path`` (worker processes started later inherit it)."""
    from joblib.externals.loky import get_reusable_executor

    folder = tmp_path_factory.mktemp("builders")
    (folder / "skimgaug_search_tests.py").write_text(SEEDED_BUILDER)
    # joblib reuses its worker processes across calls: ones an earlier test started
    # do not have this folder on their path. Start fresh ones.
    get_reusable_executor().shutdown(wait=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        patch.setenv("PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]))
        yield SEEDED


def _search(*args):
    """``cli.main(["search", *args])``: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["search", *args])
    return status, out.getvalue(), err.getvalue()


def _mean_scores(out):
    with open(out / "cv_results.csv", newline="") as f:
        return np.array([float(row["mean_test_score"]) for row in csv.DictReader(f)])


@pytest.fixture(scope="module")
def digits_serial(seeded_builder, tmp_path_factory):
    out = tmp_path_factory.mktemp("digits") / "search"
    model = out.parent / "best-model"
    status, stdout, stderr = _search(
        *DIGITS, *DIGITS_GRID, "--refit-out", str(model), "--out", str(out)
    )
    assert status == 0, stderr
    return out, model, stdout, stderr


@pytest.mark.slow
def test_search_on_the_digits_prints_the_ranking_and_the_best_parameters_last(digits_serial):
    out, model, stdout, _ = digits_serial
    assert stdout.startswith(
        "skimgaug: grid search of 2 candidates x 2 stratified folds = 4 fits on scikit-learn "
        "digits (1797 images, 8x8, 10 classes), scoring accuracy\n"
    )
    assert "\nrunning on this process\n" in stdout
    ranking = re.findall(r"^   ([12])          ([12])  (0\.\d{4}) ± 0\.\d{4} +(\S+)$", stdout, re.M)
    assert [rank for rank, *_ in ranking] == ["1", "2"]
    best = json.loads((out / "best.json").read_text())
    lines = stdout.strip().splitlines()
    assert lines[-1] == (
        f"best: datagen__rotation_range={best['best_params']['datagen__rotation_range']} "
        f"(mean accuracy {best['best_score']:.4f} ± {best['best_score_std']:.4f}, "
        f"candidate {best['best_candidate']})"
    )
    assert f"wrote cv_results.csv, best.json, report.html to {out}" in lines


@pytest.mark.slow
def test_search_writes_one_csv_row_per_candidate_and_the_best_as_json(digits_serial):
    out, *_ = digits_serial
    with open(out / "cv_results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "candidate",
        "rank_test_score",
        "mean_test_score",
        "std_test_score",
        "param_datagen__rotation_range",
        "split0_test_score",
        "split1_test_score",
        "mean_fit_time",
        "std_fit_time",
        "mean_score_time",
        "std_score_time",
    ]
    assert [row["param_datagen__rotation_range"] for row in rows] == ["0", "20"]
    for row in rows:
        splits = [float(row["split0_test_score"]), float(row["split1_test_score"])]
        assert float(row["mean_test_score"]) == pytest.approx(np.mean(splits))
    best = json.loads((out / "best.json").read_text())
    ranks = {int(row["candidate"]): int(row["rank_test_score"]) for row in rows}
    assert ranks[best["best_candidate"]] == 1
    assert [entry["rank"] for entry in best["ranking"]] == [1, 2]
    assert best["best_score"] == max(float(row["mean_test_score"]) for row in rows)
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") == 1
    assert "datagen__rotation_range" in report


@pytest.mark.slow
def test_serial_progress_names_candidate_fold_and_epoch(digits_serial):
    *_, stderr = digits_serial
    lines = stderr.splitlines()
    assert lines[0] == "[candidate 1/2] datagen__rotation_range=0"
    assert re.match(
        r"\[candidate 1/2\] fold 1/2 epoch 1/1  loss \d\.\d{4}  val_loss \d\.\d{4}  "
        r"elapsed \d+:\d\d  remaining ~\d+:\d\d$",
        lines[1],
    )
    assert "[candidate 2/2] datagen__rotation_range=20" in lines
    assert any(line.startswith("[candidate 2/2] fold 2/2 epoch 1/1") for line in lines)
    refit = [i for i, line in enumerate(lines) if re.match(r"\[refit\] epoch 1/1  loss", line)]
    assert len(refit) == 1 and all(not line.startswith("[candidate") for line in lines[refit[0] :])


@pytest.mark.slow
def test_the_best_candidate_refitted_on_all_the_data_is_saved(digits_serial):
    from skimgaug import load_model
    from skimgaug.datasets import load_digits_images

    out, model, stdout, _ = digits_serial
    best = json.loads((out / "best.json").read_text())
    assert f"refitted on all 1797 images, to {model}; predict with: skimgaug predict" in stdout
    loaded = load_model(model)
    assert loaded.validation_split == 0  # all images train, as in train
    assert loaded.datagen == {
        **DIGITS_AUGMENTATION,
        **DIGITS_STANDARDIZATION,
        "rotation_range": best["best_params"]["datagen__rotation_range"],
    }
    assert loaded.callbacks is None
    X, y = load_digits_images()
    assert len(loaded.history_["loss"]) == 1
    assert loaded.predict(X[:5]).shape == (5,)


@pytest.mark.slow
def test_n_jobs_2_gives_the_serial_scores(digits_serial, tmp_path):
    serial, *_ = digits_serial
    status, stdout, stderr = _search(
        *DIGITS, *DIGITS_GRID, "--n-jobs", "2", "--out", str(tmp_path / "parallel")
    )
    assert status == 0, stderr
    assert "\nrunning on 2 local processes\n" in stdout
    np.testing.assert_allclose(_mean_scores(tmp_path / "parallel"), _mean_scores(serial), atol=1e-6)
    assert "[search] 4 fits on 2 workers; a line as each finishes" in stderr
    assert re.search(r"^\[search\] fit 4/4 done  elapsed \d+:\d\d$", stderr, re.M)
    assert "[Parallel(" not in stderr and "epoch" not in stderr


@pytest.mark.slow
def test_a_folder_with_groups_and_datagen_policies_from_a_grid_file(image_folder, tmp_path):
    (tmp_path / "grid.toml").write_text(
        "[[grid]]\ndatagen = [{rotation_range = 10}, {horizontal_flip = true}]\n"
    )
    out = tmp_path / "search"
    status, stdout, stderr = _search(
        *_folder_args(image_folder),
        "--grid-file",
        str(tmp_path / "grid.toml"),
        "--grid",
        "model__filters=4",
        "--scoring",
        "balanced_accuracy",
        "--quiet",
        "--out",
        str(out),
    )
    assert status == 0, stderr
    # --quiet: no progress lines (the default CNN may not learn in 2 epochs on 12 images;
    # 4 patients per training fold make the internal split hold out one of them)
    warnings = ("warning: ", "skimgaug: warning: Only 4 groups for validation_split=0.1")
    assert all(line.startswith(warnings) for line in stderr.splitlines()), stderr
    assert "2 candidates x 2 stratified group folds = 4 fits" in stdout
    assert "(24 images, 16x16, 2 classes, 8 groups), scoring balanced_accuracy" in stdout
    with open(out / "cv_results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    policies = [json.loads(row["param_datagen"]) for row in rows]
    assert policies == [
        {"rescale": 1 / 255, "rotation_range": 10},
        {"rescale": 1 / 255, "horizontal_flip": True},
    ]
    assert [row["param_model__filters"] for row in rows] == ["4", "4"]
    assert "mean balanced_accuracy ± std" in stdout


@pytest.mark.slow
def test_a_folder_gives_the_same_scores_in_local_processes_with_no_tensorflow_logs(
    seeded_builder, image_folder, tmp_path
):
    args = [*_folder_args(image_folder), "--model", seeded_builder, *FOLDER_GRID]
    status, _, stderr = _search(*args, "--quiet", "--out", str(tmp_path / "serial"))
    assert status == 0, stderr
    # In a terminal's process, whose workers write to the same stderr.
    command = [sys.executable, "-m", "skimgaug.cli", "search", *args, "--n-jobs", "2"]
    result = subprocess.run(
        [*command, "--out", str(tmp_path / "parallel")],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
    )
    assert result.returncode == 0, result.stderr
    serial, parallel = _mean_scores(tmp_path / "serial"), _mean_scores(tmp_path / "parallel")
    assert len(serial) == 4
    np.testing.assert_allclose(parallel, serial, atol=1e-6)
    assert not re.search(r"^[IWEF]\d{4} |absl::InitializeLog", result.stderr, re.M), result.stderr
    assert re.search(r"^\[search\] fit 8/8 done", result.stderr, re.M), result.stderr


# ----------------------------------------------------------------------------
# Dask
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_cluster(seeded_builder):
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=50,
        )
    yield cluster
    cluster.close()


@pytest.mark.slow
def test_dask_gives_the_serial_scores_on_the_digits(digits_serial, dask_cluster, tmp_path):
    serial, *_ = digits_serial
    out = tmp_path / "dask"
    status, stdout, stderr = _search(
        *DIGITS, *DIGITS_GRID, "--dask", dask_cluster.scheduler_address, "--out", str(out)
    )
    assert status == 0, stderr
    assert (
        f"running on the Dask cluster at {dask_cluster.scheduler_address} (2 workers, 2 threads)"
        in stdout
    )
    np.testing.assert_allclose(_mean_scores(out), _mean_scores(serial), atol=1e-6)
    assert re.search(r"^\[search\] fit 4/4 done", stderr, re.M)


@pytest.mark.slow
def test_dask_gives_the_serial_scores_on_a_folder(
    seeded_builder, dask_cluster, image_folder, tmp_path
):
    scores = {}
    for name, extra in (("serial", []), ("dask", ["--dask", dask_cluster.scheduler_address])):
        out = tmp_path / name
        args = [*_folder_args(image_folder), "--model", seeded_builder, *FOLDER_GRID, "--quiet"]
        status, _, stderr = _search(*args, *extra, "--out", str(out))
        assert status == 0, stderr
        scores[name] = _mean_scores(out)
    np.testing.assert_allclose(scores["dask"], scores["serial"], atol=1e-6)


@pytest.mark.slow
def test_a_wrong_dask_address_fails_within_seconds_with_one_line(tmp_path):
    out = tmp_path / "search"
    start = time.monotonic()
    status, _, stderr = _search(
        "--digits", "--grid", "epochs=1", "--dask", "tcp://127.0.0.1:9", "--out", str(out)
    )
    assert time.monotonic() - start < 15
    assert status == 1
    assert stderr.startswith(
        "skimgaug: error: cannot reach the Dask scheduler at 'tcp://127.0.0.1:9' within 5 s ("
    )
    assert stderr.endswith(
        "check the address (a scheduler's, as 'dask scheduler' prints it: tcp://HOST:8786), "
        "or start one with 'dask scheduler' and workers with 'dask worker ADDRESS'\n"
    )
    assert stderr.count("\n") == 1
    assert not out.exists()  # no empty --out folder left behind


@pytest.fixture
def not_dask():
    """Ports on loopback where something that is no Dask scheduler listens."""
    import socket
    import threading

    servers, accepted = [], []

    def serve(reply):
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def loop():
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                accepted.append(conn)
                if reply:
                    conn.sendall(reply)

        threading.Thread(target=loop, daemon=True).start()
        return f"tcp://127.0.0.1:{server.getsockname()[1]}"

    yield {"silent": serve(b""), "web server": serve(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4)}
    for sock in servers + accepted:
        sock.close()


@pytest.mark.parametrize(
    "listener, reason",
    [
        ("silent", "something listens there, but gave no Dask answer"),
        ("web server", "does not answer as a Dask scheduler (it speaks another protocol"),
    ],
)
def test_a_port_where_no_scheduler_listens_fails_within_seconds(not_dask, listener, reason):
    pytest.importorskip("distributed")
    from skimgaug.cli.runs._dask import connect_dask

    start = time.monotonic()
    with pytest.raises(OSError, match=re.escape(reason)) as exc:
        connect_dask(not_dask[listener], timeout=1)
    assert time.monotonic() - start < 10
    assert "'dask scheduler'" in str(exc.value)


@pytest.mark.parametrize(
    "grid, message",
    [
        ("optimizer=adamm,sgd", "optimizer='adamm': Keras has no optimizer of that name"),
        ("loss=foo", "loss='foo': Keras has no loss of that name"),
        ("fit__bogus=1", "unknown parameter 'fit__bogus': keras.Model.fit has no argument 'bogus'"),
    ],
)
def test_names_only_keras_knows_are_usage_errors_before_training(grid, message, tmp_path, capsys):
    from skimgaug import cli

    out = tmp_path / "search"
    with pytest.raises(SystemExit) as exc:
        cli.main(["search", "--digits", "--grid", grid, "--out", str(out), "--quiet"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines() == [f"skimgaug search: error: bad grid: {message}"]
    assert not out.exists()
