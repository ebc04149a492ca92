"""The ``skimgaug`` command line: the digits demo and ``skimgaug cv``."""

import csv
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from skimgaug import cli
from skimgaug.datasets import write_image_folder


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "skimgaug.cli", *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("scans")
    return write_image_folder(root, n_per_class=12, n_classes=2, image_size=16,
                              patients_per_class=4)  # fmt: skip


def test_digits_demo_prints_per_fold_and_mean_std_metrics(capsys):
    assert cli.main(["--folds", "2", "--epochs", "1", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "stratified 2-fold cross-validation on scikit-learn digits (1797 images" in out
    for setting in ("no augmentation", "augmentation"):
        assert re.search(rf"^{setting}\n\s*fold\s+accuracy\s+balanced_accuracy\s+macro_f1"
                         r"\s+roc_auc$", out, re.M)  # fmt: skip
    assert len(re.findall(r"^[12]\s+(0\.\d{4}\s+){3}0\.\d{4}$", out, re.M)) == 4
    assert len(re.findall(r"^mean ± std(\s+0\.\d{4} ± 0\.\d{4}){4}$", out, re.M)) == 2
    assert "[augmentation] fold 2/2 epoch 1/1" in captured.err
    assert "remaining ~" in captured.err


def test_cv_on_a_folder_with_groups_writes_every_output(folder, tmp_path, capsys):
    out = tmp_path / "results"
    code = cli.main([
        "cv", str(folder), "--groups", r"^(p\d+)_", "--folds", "2", "--epochs", "1",
        "--image-size", "16x16", "--datagen", "rotation_range=10", "--compare",
        "--out", str(out), "--quiet",
    ])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "stratified group 2-fold cross-validation" in printed
    assert "(24 images, 16x16, 2 classes, 8 groups)" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "confusion_matrix.png", "learning_curves.png", "oof_predictions.csv",
        "results.csv", "results.json",
    ]  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    assert set(results["settings"]) == {"no augmentation", "augmentation"}
    assert set(results["settings"]["augmentation"]["mean"]) == {
        "accuracy", "balanced_accuracy", "macro_f1", "roc_auc"}  # fmt: skip
    assert results["config"]["datagen"]["no augmentation"] == {"rescale": 1 / 255}
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


def test_cv_on_a_csv_with_a_custom_model(folder, tmp_path, capsys, monkeypatch):
    from skimgaug.datasets import load_image_folder

    paths, labels = load_image_folder(folder)
    table = tmp_path / "index.csv"
    table.write_text("file,y\n" + "\n".join(f"{p},{label}" for p, label in
                                              zip(paths, labels, strict=True)) + "\n")  # fmt: skip
    (tmp_path / "tinymodels.py").write_text(
        "import keras\n"
        "def build(meta, compile_kwargs):\n"
        "    m = keras.Sequential([keras.Input(meta['X_shape_'][1:]), keras.layers.Flatten(),\n"
        "                          keras.layers.Dense(meta['n_classes_'], activation='softmax')])\n"
        "    m.compile('adam', 'sparse_categorical_crossentropy')\n"
        "    return m\n"
    )
    monkeypatch.chdir(tmp_path)
    code = cli.main(["cv", str(table), "--path-column", "file", "--label-column", "y",
                     "--model", "tinymodels:build", "--folds", "2", "--epochs", "1",
                     "--image-size", "16x16", "--color-mode", "grayscale", "--quiet",
                     "--validation-split", "0"])  # fmt: skip
    assert code == 0
    assert "model: tinymodels:build" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["cv", "--digits", "--datagen", "rotation=10"], "did you mean 'rotation_range'"),
        (["cv", "--digits", "--datagen", "zoom_range"], "expects key=value"),
        (["cv", "--digits", "--datagen", "fill_mode=mirror"], "--datagen fill_mode must be one"),
        (["cv", "--digits", "--image-size", "big"], "expected HEIGHTxWIDTH"),
        (["cv"], "give a SOURCE folder or CSV file, or --digits"),
        (["cv", "here", "--digits"], "either SOURCE or --digits"),
        (["cv", "--digits", "--model", "nocolon"], "expects MODULE:FUNCTION"),
        (["--folds", "0"], "expected a positive integer"),
        (["--unknown"], "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message):
    result = _run(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_failures_exit_1_with_a_message_not_a_trace(tmp_path):
    result = _run("cv", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"skimgaug: error: no such folder or CSV file: '{tmp_path / 'nowhere'}'"
    )


def test_help_explains_everything():
    top = " ".join(_run("--help").stdout.split())
    assert "augmentation is applied to training folds only" in top
    sub = " ".join(_run("cv", "--help").stdout.split())
    for option in (
        "--folds",
        "--groups",
        "--epochs",
        "--batch-size",
        "--image-size",
        "--color-mode",
        "--model",
        "--datagen",
        "--compare",
        "--seed",
        "--out",
    ):
        assert option in sub  # fmt: skip


@pytest.mark.parametrize(
    "text, value",
    [("true", True), ("off", False), ("20", 20), ("0.2", 0.2), ("1/255", 1 / 255),
     ("0.9,1.1", [0.9, 1.1]), ("reflect", "reflect"), ("none", None)],
)  # fmt: skip
def test_datagen_values_are_parsed_to_the_right_types(text, value):
    assert cli.parse_value(text) == value


def test_format_lines_up_metrics():
    from skimgaug._cv import FoldResult, format_summary, summarize

    results = [FoldResult("a", i, np.arange(2), np.eye(2), {"accuracy": 1.0,
               "balanced_accuracy": 1.0, "macro_f1": 1.0, "roc_auc": float("nan")})
               for i in range(2)]  # fmt: skip
    table = format_summary(summarize(results))
    assert table.splitlines()[-1].split()[:5] == ["mean", "±", "std", "1.0000", "±"]
    assert "nan" in table


def test_a_corrupt_image_exits_1_naming_the_file(folder, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "class0" / "p0000_broken.png").write_text("not a png")
    code = cli.main(["cv", str(copy), "--folds", "2", "--epochs", "1", "--image-size", "16x16",
                     "--quiet"])  # fmt: skip
    assert code == 1
    assert re.search(r"skimgaug: error: Cannot read image file .*p0000_broken\.png",
                     capsys.readouterr().err)  # fmt: skip
