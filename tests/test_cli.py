"""The ``skimgaug`` command line: the digits demo and ``skimgaug cv``."""

import csv
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import run_cli_cases
from PIL import Image

from skimgaug import cli
from skimgaug.datasets import load_image_folder, write_image_folder

#: Model builders that give no compiled model, and one that cannot be called.
BUILDERS = """\
import keras

def returns_none(meta):
    return None

def returns_text(meta):
    return "a model"

def uncompiled(meta):
    inputs = keras.Input(meta["X_shape_"][1:])
    x = keras.layers.Flatten()(inputs)
    return keras.Model(inputs, [keras.layers.Dense(meta["n_classes_"])(x)] * 2)
"""


def _run(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "skimgaug.cli", *args], capture_output=True, text=True, **kwargs
    )


@pytest.mark.slow
def test_digits_demo_prints_per_fold_and_mean_std_metrics(capsys):
    assert cli.main(["--folds", "2", "--epochs", "1", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "stratified 2-fold cross-validation on scikit-learn digits (1797 images" in out
    for setting in ("no augmentation", "augmentation"):
        assert re.search(
            rf"^{setting}\n\s*fold\s+accuracy\s+balanced_accuracy\s+macro_f1\s+roc_auc$", out, re.M
        )
    assert len(re.findall(r"^[12]\s+(0\.\d{4}\s+){3}0\.\d{4}$", out, re.M)) == 4
    assert len(re.findall(r"^mean ± std(\s+0\.\d{4} ± 0\.\d{4}){4}$", out, re.M)) == 2
    assert "[augmentation] fold 2/2 epoch 1/1" in captured.err
    assert "remaining ~" in captured.err


@pytest.mark.slow
def test_cv_on_a_folder_with_groups_writes_every_output(image_folder, tmp_path, capsys):
    out = tmp_path / "results"
    options = "--folds 2 --epochs 1 --image-size 16x16 --datagen rotation_range=10 --compare"
    code = cli.main(
        ["cv", str(image_folder), "--groups", r"^(p\d+)_", "--out", str(out), "--quiet"]
        + options.split()
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "stratified group 2-fold cross-validation" in printed
    assert "(24 images, resized to 16x16, 2 classes, 8 groups)" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "confusion_matrix.png",
        "confusion_matrix_normalized.png",
        "learning_curves.png",
        "oof_predictions.csv",
        "report.html",
        "results.csv",
        "results.json",
    ]
    results = json.loads((out / "results.json").read_text())
    assert set(results["settings"]) == {"no augmentation", "augmentation"}
    assert set(results["settings"]["augmentation"]["mean"]) == {
        "accuracy",
        "balanced_accuracy",
        "macro_f1",
        "roc_auc",
    }
    assert results["config"]["datagen"]["no augmentation"] == {"rescale": 1 / 255}
    comparison = results["bootstrap_comparison"]
    assert comparison["resampled"] == "patients" and comparison["n_bootstraps"] == 2000
    assert comparison["low"] <= comparison["difference"] <= comparison["high"]
    assert "ROC AUC, augmentation minus no augmentation: " in printed
    assert "ROC AUC difference" in (out / "report.html").read_text()
    rows = list(csv.DictReader(open(out / "oof_predictions.csv")))
    assert len(rows) == 2 * 24
    fold_of_patient = {}
    for row in rows:
        patient = row["sample"].rsplit("/", 1)[-1].split("_")[0]
        fold_of_patient.setdefault((row["setting"], patient), set()).add(row["fold"])
    assert all(len(folds) == 1 for folds in fold_of_patient.values())
    assert len(list(csv.DictReader(open(out / "results.csv")))) == 4
    for picture in ("learning_curves.png", "confusion_matrix.png"):
        with Image.open(out / picture) as image:
            assert image.size[0] > 300


def test_cv_on_a_csv_with_a_custom_model(image_folder, tmp_path, capsys, monkeypatch):
    paths, labels = load_image_folder(image_folder)
    table = tmp_path / "index.csv"
    lines = [f"{path},{label}" for path, label in zip(paths, labels, strict=True)]
    table.write_text("file,y\n" + "\n".join(lines) + "\n")
    (tmp_path / "tinymodels.py").write_text(
        "import keras\n"
        "def build(meta, compile_kwargs):\n"
        "    m = keras.Sequential([keras.Input(meta['X_shape_'][1:]), keras.layers.Flatten(),\n"
        "                          keras.layers.Dense(meta['n_classes_'], activation='softmax')])\n"
        "    m.compile('adam', 'sparse_categorical_crossentropy')\n"
        "    return m\n"
    )
    monkeypatch.chdir(tmp_path)
    options = (
        "--path-column file --label-column y --model tinymodels:build --folds 2 --epochs 1 "
        "--image-size 16x16 --color-mode grayscale --quiet --validation-split 0"
    )
    code = cli.main(["cv", str(table), *options.split()])
    assert code == 0
    assert "model: tinymodels:build" in capsys.readouterr().out


TINY_MODEL = (
    "import keras\n"
    "def build(meta, compile_kwargs):\n"
    "    m = keras.Sequential([keras.Input(meta['X_shape_'][1:]), keras.layers.Flatten(),\n"
    "                          keras.layers.Dense(meta['n_classes_'], activation='softmax')])\n"
    "    m.compile('adam', 'sparse_categorical_crossentropy')\n"
    "    return m\n"
)


def test_cv_reports_intervals_patients_calibration_threshold_and_audit(
    image_folder, tmp_path, capsys, monkeypatch
):
    images = tmp_path / "images"
    shutil.copytree(image_folder, images)
    # a planted copy of one patient's image in the other patients of its class:
    # at least one of them is tested in the other fold
    for patient in ("p0001", "p0002", "p0003"):
        copy = images / "class0" / f"{patient}_copy.png"
        shutil.copy(images / "class0" / "p0000_00000.png", copy)
    (tmp_path / "tinymodels.py").write_text(TINY_MODEL)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "results"
    options = (
        "--model tinymodels:build --folds 2 --epochs 1 --image-size 16x16 --quiet "
        "--validation-split 0 --bootstraps 200 --threshold specificity:0.8"
    )
    code = cli.main(
        ["cv", str(images), "--groups", r"^(p\d+)_", "--out", str(out), *options.split()]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert (
        "out-of-fold metrics, 95% intervals by percentile bootstrap, resampling patients "
        "(a cluster bootstrap), 200 resamples" in printed
    )
    assert re.search(r"^metric\s+image \(27\)\s+patient \(8\)$", printed, re.M)
    interval = r"\d\.\d{4} \[\d\.\d{4}, \d\.\d{4}\]"
    for metric in ("accuracy", "roc_auc", "brier_score", "sensitivity", "npv"):
        assert re.search(rf"^{metric}\s+{interval}\s+{interval}$", printed, re.M), metric
    assert "threshold (specificity, class class1 positive), chosen for each test fold" in printed
    assert "audit: WARNING " in printed and "images in different folds" in printed
    results = json.loads((out / "results.json").read_text())
    evaluation = results["evaluation"]["no augmentation"]
    assert {(m["level"], m["metric"]) for m in evaluation["metrics"]} >= {
        ("image", "roc_auc"),
        ("patient", "roc_auc"),
        ("patient", "specificity"),
    }
    assert evaluation["audit"]["groups_in_several_folds"] == []
    pairs = evaluation["audit"]["duplicates_across_folds"]
    rows = list(csv.DictReader(open(out / "oof_predictions.csv")))
    named = {int(r["index"]): os.path.basename(r["sample"]) for r in rows}
    assert any({named[i], named[j]} & {"p0000_00000.png"} for i, j in pairs)
    assert set(evaluation["threshold"]["by_fold"]) == {"1", "2"}  # folds from 1, as printed
    assert {r["predicted_at_threshold"] for r in rows} <= {"class0", "class1"}
    assert results["timings"]["evaluation_seconds"] > 0
    page = (out / "report.html").read_text()
    for text in ("Out-of-fold evaluation", "ROC and precision-recall curves (patient level)"):
        assert text in page
    assert 'class="alert"' in page  # the duplicates, in red


#: (command line, the end of the error's one line): usage errors, exit status 2.
USAGE_ERRORS = [
    (["cv", "--digits", "--datagen", "rotation=10"], "did you mean 'rotation_range'"),
    (["cv", "--digits", "--datagen", "zoom_range"], "expects key=value"),
    (["cv", "--digits", "--datagen", "fill_mode=mirror"], "--datagen fill_mode must be one"),
    (["cv", "--digits", "--image-size", "big"], "expected HEIGHTxWIDTH"),
    (["cv"], "give a SOURCE folder or CSV file, or --digits"),
    (["cv", "here", "--digits"], "either SOURCE or --digits"),
    (
        ["cv", "--digits", "--model", "nocolon"],
        "is neither a pretrained backbone (mobilenet_v3_small, mobilenet_v3_large, "
        "efficientnet_b0, resnet50) nor MODULE:FUNCTION",
    ),
    (
        ["--epochs", "0"],
        "argument --epochs: The 'epochs' parameter of AugmentedKerasClassifier must be an "
        "int >= 1. Got 0 instead.",
    ),
    (["--unknown"], "unrecognized arguments"),
    (
        ["cv", "--digits", "--epocs", "5"],
        "unrecognized arguments: --epocs; did you mean --epochs?",
    ),
    (
        ["--color-mode", "grayscale", "cv", "scans"],
        "--color-mode is an option of cv, search, train, preview: give it after the "
        "command, e.g. skimgaug cv ... --color-mode grayscale",
    ),
]

#: (command line, part of the error's one line): found before TensorFlow is imported.
BEFORE_TENSORFLOW = [
    (["cv", "--digits", "--folds", "1"], "argument --folds: expected an integer >= 2"),
    (["--folds", "1"], "argument --folds: expected an integer >= 2"),
    (
        ["cv", "--digits", "--validation-split", "1"],
        "argument --validation-split: The 'validation_split' parameter of "
        "AugmentedKerasClassifier must be a number in [0, 1).",
    ),
    (
        ["cv", "--digits", "--validation-split", "-0.1"],
        "argument --validation-split: The 'validation_split' parameter of "
        "AugmentedKerasClassifier must be a number in [0, 1).",
    ),
    (
        ["cv", "--digits", "--seed", "-1"],
        "argument --seed: The 'random_state' parameter of AugmentedKerasClassifier must "
        "be None, an int in [0, 2**32)",
    ),
    (["--seed", str(2**32)], "argument --seed: The 'random_state' parameter of"),
    (["cv", "--digits", "--out", "a_file"], "--out 'a_file' is a file; give a folder"),
    (
        ["cv", "--digits", "--out", "a_file/results"],
        "--out 'a_file/results': cannot create the folder",
    ),
    (
        ["cv", "IMAGES", "--groups", "(unclosed"],
        "--groups '(unclosed' is not a valid regular expression (missing ), unterminated",
    ),
    (
        ["cv", "--digits", "--datagen", "validation_split=0.2"],
        "--datagen validation_split is not an ImageDataGenerator setting here "
        "(use --validation-split FRACTION)",
    ),
    (
        ["cv", "--digits", "--model", "builders:needs_x"],
        "--model builders:needs_x: nothing is passed to its parameter 'x'",
    ),
    (
        ["cv", "--digits", "--bootstraps", "-1"],
        "argument --bootstraps: The 'n_bootstraps' parameter must be an int >= 0 (0: no "
        "intervals). Got -1 instead.",
    ),
    (
        ["cv", "--digits", "--confidence", "95"],
        "argument --confidence: The 'confidence' parameter must be a number in (0, 1), such "
        "as 0.95. Got 95.0 instead.",
    ),
    (
        ["cv", "--digits", "--threshold", "sens:0.9"],
        "Got ('sens', 0.9) instead. On the command line: youden, sensitivity:0.9, "
        "specificity:0.9 or a number such as 0.5.",
    ),
    (["cv", "--digits", "--threshold", "1.5"], "argument --threshold: The 'threshold'"),
    (["cv", "--digits", "--patient-aggregation", "max"], "--patient-aggregation needs --groups"),
    (
        ["cv", "IMAGES", "--groups", r"^p\d\d\d(\d)_"],
        "--groups: 4 groups hold images of different labels ('0', '1', '2' ...); "
        "patient-level results need one label per patient. If the groups are patients, check "
        "the labels; if they are sites or scanners, add --patient-aggregation none",
    ),
]


@pytest.fixture(scope="module")
def cli_errors(image_folder, tmp_path_factory):
    """Both lists' outcomes, all run in one fresh process (see conftest.run_cli_cases)."""
    folder = tmp_path_factory.mktemp("cli-errors")
    (folder / "a_file").write_text("")
    (folder / "builders.py").write_text("def needs_x(meta, x):\n    return None\n")
    cases = [args for args, _ in USAGE_ERRORS]
    cases += [
        [str(image_folder) if arg == "IMAGES" else arg for arg in args]
        for args, _ in BEFORE_TENSORFLOW
    ]
    return run_cli_cases(cases, folder)


@pytest.mark.parametrize("index", range(len(USAGE_ERRORS)))
def test_usage_errors_exit_2_with_one_line(index, cli_errors):
    status, last, _, _, stderr = cli_errors[index]
    assert status == 2, stderr
    assert USAGE_ERRORS[index][1] in last
    assert "Traceback" not in stderr


@pytest.mark.parametrize("index", range(len(BEFORE_TENSORFLOW)))
def test_what_needs_no_tensorflow_is_checked_before_importing_it(index, cli_errors):
    status, last, tensorflow_imported, first, stderr = cli_errors[len(USAGE_ERRORS) + index]
    assert (status, tensorflow_imported) == (2, False), stderr
    assert first == last  # one line, no usage block
    assert last.startswith("skimgaug") and ": error: " in last
    assert BEFORE_TENSORFLOW[index][1] in last


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--seed", "7", "predict", "m", "x", "--out", "p.csv"],
            "--seed does not apply",
        ),
        (["--epochs", "3", "preview", "--digits", "--out", "p.png"], "--epochs does not apply"),
    ],
)
def test_options_before_a_command_that_lacks_them_are_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert exc.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"skimgaug {args[2]}: error: {message} to {args[2]}"


def test_options_given_before_the_command_apply_to_it(monkeypatch):
    runs = []
    monkeypatch.setattr(cli, "run", runs.append)
    assert cli.main(["--epochs", "1", "--seed", "7", "cv", "--digits", "--folds", "3"]) == 0
    assert cli.main(["--epochs", "1", "cv", "--digits", "--epochs", "2"]) == 0
    assert cli.main(["--epochs", "1", "--batch-size", "8"]) == 0  # the digits demo
    assert cli.main(["cv", "--digits"]) == 0
    settings = [(a.epochs, a.seed, a.folds, a.batch_size) for a in runs]
    assert settings == [(1, 7, 3, 32), (2, 0, 5, 32), (1, 0, 5, 8), (10, 0, 5, 32)]
    assert runs[2].digits and runs[2].compare


def test_version_is_the_installed_package_version():
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout == f"skimgaug {importlib.metadata.version('skimgaug')}\n"


def test_failures_exit_1_with_a_message_not_a_trace(tmp_path):
    result = _run("cv", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"skimgaug: error: no such folder or CSV file: '{tmp_path / 'nowhere'}'"
    )


def test_a_failed_run_leaves_no_empty_out_folder(tmp_path, capsys):
    out = tmp_path / "results"
    assert cli.main(["cv", str(tmp_path / "nowhere"), "--out", str(out)]) == 1
    assert "no such folder or CSV file" in capsys.readouterr().err
    assert not out.exists()


def test_a_multi_line_message_is_printed_on_one_line(monkeypatch, capsys):
    def fails(args):
        raise ValueError("Invalid settings:\n- first problem\n- second problem")

    monkeypatch.setattr(cli, "run", fails)
    assert cli.main(["cv", "--digits"]) == 1
    assert capsys.readouterr().err == (
        "skimgaug: error: Invalid settings: first problem; second problem\n"
    )


def test_an_unexpected_error_is_one_line_unless_a_traceback_is_asked_for(monkeypatch, capsys):
    def fails(args):
        raise RuntimeError("what went wrong\ndetails")

    monkeypatch.setattr(cli, "run", fails)
    assert cli.main(["cv", "--digits"]) == 1
    assert capsys.readouterr().err == (
        "skimgaug: error: RuntimeError: what went wrong "
        "(run again with --traceback for the details)\n"
    )
    with pytest.raises(RuntimeError, match="what went wrong"):
        cli.main(["cv", "--digits", "--traceback"])


def test_ctrl_c_prints_one_line_and_exits_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run", interrupted)
    assert cli.main(["cv", "--digits"]) == 130
    assert capsys.readouterr().err == "skimgaug: interrupted\n"


@pytest.mark.slow
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_ctrl_c_during_training_ends_the_process_with_one_line(n_jobs):
    command = [sys.executable, "-m", "skimgaug.cli", "cv", "--digits", "--epochs", "100"]
    command += ["--n-jobs", str(n_jobs)]
    started = "fold 1/5 epoch 1/100" if n_jobs == 1 else "[augmentation] fold"
    # As from a terminal: Ctrl-C handled by default, whatever an earlier test in this
    # process did with SIGINT (an ignored signal stays ignored across exec), and sent
    # to the whole process group (the workers too).
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        start_new_session=True,
    )
    line = ""
    try:
        if n_jobs == 1:
            for line in process.stderr:  # until the first progress line: training has begun
                if started in line:
                    break
        else:
            time.sleep(30)  # workers started and training (no per-epoch lines in parallel)
            line = started
        os.killpg(process.pid, signal.SIGINT)
        rest = process.communicate(timeout=60)[1]
    finally:
        process.kill()
    assert started in line
    assert process.returncode == 130
    assert rest.splitlines()[-1] == "skimgaug: interrupted"
    # no resource-tracker warning about the stopped workers' semaphores
    assert "Traceback" not in rest and "Warning" not in rest


@pytest.mark.parametrize(
    "builder, message",
    [
        ("returns_none", "must return a keras.Model; it returned None"),
        ("returns_text", "must return a keras.Model; it returned a str"),
        ("uncompiled", "is not compiled and has 2 outputs.* Compile it in the builder"),
    ],
)
def test_a_builder_giving_no_compiled_model_exits_1_saying_what_to_do(
    builder, message, tmp_path, monkeypatch, capsys
):
    (tmp_path / "badbuilders.py").write_text(BUILDERS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "badbuilders", raising=False)
    spec = f"badbuilders:{builder}"
    code = cli.main(["cv", "--digits", "--model", spec, "--folds", "2", "--epochs", "1"])
    assert code == 1
    err = capsys.readouterr().err
    assert re.match(rf"skimgaug: error: The model (builder|built by) --model {spec} {message}", err)
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.slow
def test_tensorflow_log_lines_never_reach_the_terminal():
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = _run("cv", "--digits", "--folds", "2", "--epochs", "1", "--quiet", env=env)
    assert result.returncode == 0, result.stderr
    assert not re.search(r"^[IWEF]\d{4} ", result.stderr, re.M), result.stderr
    assert "cuInit" not in result.stderr
    assert "absl::InitializeLog" not in result.stderr


@pytest.mark.parametrize(
    "text, value",
    [
        ("true", True),
        ("off", False),
        ("20", 20),
        ("0.2", 0.2),
        ("1/255", 1 / 255),
        ("1/127.5", 1 / 127.5),
        ("0.9,1.1", [0.9, 1.1]),
        ("reflect", "reflect"),
        ("none", None),
    ],
)
def test_datagen_values_are_parsed_to_the_right_types(text, value):
    assert cli.parse_value(text) == value


def test_help_explains_everything():
    top = " ".join(_run("--help").stdout.split())
    assert "augmentation is applied to training folds only" in top
    assert "Options given before a command apply to it too" in top
    sub = " ".join(_run("cv", "--help").stdout.split())
    options = (
        "--folds --groups --epochs --batch-size --image-size --color-mode --model --datagen "
        "--compare --seed --out --traceback"
    )
    for option in options.split():
        assert option in sub


def test_format_lines_up_metrics():
    from skimgaug.cli.runs._cv import FoldResult, format_summary, summarize

    perfect = {"accuracy": 1.0, "balanced_accuracy": 1.0, "macro_f1": 1.0, "roc_auc": np.nan}
    results = [FoldResult("a", i, np.arange(2), np.eye(2), perfect) for i in range(2)]
    table = format_summary(summarize(results))
    assert table.splitlines()[-1].split()[:5] == ["mean", "±", "std", "1.0000", "±"]
    assert "nan" in table


def test_a_corrupt_image_exits_1_naming_the_file(image_folder, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(image_folder, copy)
    (copy / "class0" / "p0000_broken.png").write_text("not a png")
    code = cli.main(
        ["cv", str(copy), "--folds", "2", "--epochs", "1", "--image-size", "16x16", "--quiet"]
    )
    assert code == 1
    assert re.search(
        r"skimgaug: error: Cannot read image file .*p0000_broken\.png", capsys.readouterr().err
    )


def test_a_truncated_image_in_a_later_training_batch_exits_1_naming_the_file(tmp_path, capsys):
    from sklearn.model_selection import StratifiedKFold

    root = write_image_folder(tmp_path / "scans", n_per_class=20, n_classes=2, image_size=8)
    paths, labels = load_image_folder(root)
    # The first fold trains on `train` (20 images, the CLI's folds) in batches of 2
    # with no validation set. Keras reads batches 0 and 1 itself, later ones in
    # tf.data's producer thread: `train[0]` comes in one of those (without the
    # library's re-raise, this run ends in "InvalidArgumentError: Graph execution error").
    train, _ = next(StratifiedKFold(2, shuffle=True, random_state=0).split(paths, labels))
    broken = str(paths[train[0]])
    with open(broken, "rb") as f:
        data = f.read()
    with open(broken, "wb") as f:  # the header is whole, the pixel data cut short
        f.write(data[: len(data) // 2])
    options = "--folds 2 --epochs 1 --batch-size 2 --image-size 8x8 --validation-split 0 --quiet"
    code = cli.main(["cv", root, *options.split()])
    assert code == 1
    err = capsys.readouterr().err
    assert err == f"skimgaug: error: Cannot read image file {broken!r}: image file is truncated\n"


def test_digits_are_resized_to_the_image_size_asked_for():
    import argparse

    from skimgaug.cli._common import load_source
    from skimgaug.datasets import load_digits_images

    X = load_source(argparse.Namespace(digits=True, image_size=(32, 24))).X
    assert X.shape == (1797, 32, 24, 1) and X.dtype == np.float32
    original = load_digits_images()[0]
    assert 0 <= X.min() and X.max() <= 16  # bilinear: no values outside the original range
    np.testing.assert_allclose(X.mean(axis=(1, 2, 3)), original.mean(axis=(1, 2, 3)), atol=0.5)
    same = load_source(argparse.Namespace(digits=True, image_size=None)).X
    np.testing.assert_array_equal(same, original)
