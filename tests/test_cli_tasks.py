"""``--task multilabel|regression`` on the command line: CSV targets, folds, outputs, predict."""

import csv
import json
import re

import numpy as np
import pytest
from conftest import run_cli_cases
from PIL import Image
from sklearn.datasets import load_digits

from skimgaug import cli, load_model

pytestmark = pytest.mark.filterwarnings("ignore::skimgaug.exceptions.ChanceLevelWarning")


@pytest.fixture(scope="module")
def csv_source(tmp_path_factory):
    """60 digit PNGs, a CSV with findings ("even|big"), a value and a patient per row."""
    root = tmp_path_factory.mktemp("tasks")
    (root / "img").mkdir()
    X, y = load_digits(return_X_y=True)
    rows = []
    for i in range(60):
        Image.fromarray((X[i].reshape(8, 8) * 16).clip(0, 255).astype(np.uint8)).save(
            root / "img" / f"{i}.png"
        )
        found = [name for name, has in (("even", y[i] % 2 == 0), ("big", y[i] > 4)) if has]
        rows.append(
            {
                "path": f"img/{i}.png",
                "findings": ";".join(found) or "none",
                "value": f"{y[i]:.1f}",
                "patient": f"p{i // 2}",
                "site": "A",
            }
        )
    with open(root / "index.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["path", "findings", "value", "patient", "site"])
        writer.writeheader()
        writer.writerows(rows)
    return root, rows


COMMON = ["--epochs", "1", "--folds", "3", "--bootstraps", "50", "--color-mode", "grayscale"]


def _oof(path):
    with open(path / "oof_predictions.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow  # six fits
def test_cv_multilabel_from_a_csv_with_patients(csv_source, capsys):
    root, rows = csv_source
    out = root / "ml"
    args = [str(root / "index.csv"), "--task", "multilabel", "--label-column", "findings"]
    args += ["--label-separator", ";", "--groups", "patient", "--compare", "--out", str(out)]
    assert cli.main(["cv", *args, *COMMON, "--datagen", "rotation_range=10"]) == 0
    printed = capsys.readouterr().out
    assert "iterative stratified group 3-fold" in printed
    assert re.search(
        r"^fold\s+roc_auc\s+average_precision\s+macro_f1\s+subset_accuracy$", printed, re.M
    )
    assert "per label (F1 at 0.5):" in printed and "ROC AUC (macro over labels)" in printed
    document = json.loads((out / "results.json").read_text())
    assert document["task"] == "multilabel" and document["labels"] == ["big", "even", "none"]
    evaluation = document["evaluation"]["augmentation"]
    assert evaluation["settings"]["target"] == "multilabel"
    assert "patients" in evaluation["settings"]["interval"]
    assert evaluation["audit"]["groups_in_several_folds"] == []
    oof = _oof(out)
    assert len(oof) == 2 * len(rows)
    first = oof[0]
    truth = rows[int(first["index"])]["findings"].split(";")
    assert [first[f"true_{n}"] for n in ("big", "even", "none")] == [
        str(int(n in truth)) for n in ("big", "even", "none")
    ]
    assert 0 <= float(first["proba_even"]) <= 1
    page = (out / "report.html").read_text()
    assert "Per label" in page and "Confusion matrices" not in page


@pytest.mark.slow  # three fits, a train and a predict
def test_regression_cv_train_and_predict_from_a_csv(csv_source, capsys, tmp_path):
    root, rows = csv_source
    out = root / "reg"
    source = [str(root / "index.csv"), "--task", "regression", "--label-column", "value"]
    assert cli.main(["cv", *source, *COMMON, "--groups", "patient", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "group 3-fold" in printed and "values from 0 to 9" in printed
    assert re.search(r"^fold\s+r2\s+mae\s+rmse$", printed, re.M)
    document = json.loads((out / "results.json").read_text())
    (evaluation,) = document["evaluation"].values()
    levels = {row["level"] for row in evaluation["metrics"]}
    assert levels == {"image", "patient"}
    oof = _oof(out)
    mae = np.mean([abs(float(r["true_value"]) - float(r["predicted_value"])) for r in oof])
    assert document["folds"][0]["metrics"]["mae"] > 0
    row = [r for r in evaluation["metrics"] if r["metric"] == "mean_absolute_error"][0]
    assert row["estimate"] == pytest.approx(mae, rel=1e-4)
    assert (out / "predicted_vs_true.png").stat().st_size > 0
    assert "Predicted against true" in (out / "report.html").read_text()

    model = tmp_path / "model"
    train = source + ["--epochs", "2", "--color-mode", "grayscale", "--standardize-target"]
    assert cli.main(["train", *train, "--out", str(model)]) == 0
    assert "R² " in capsys.readouterr().out
    loaded = load_model(model)
    assert loaded.label_names_.tolist() == ["value"] and loaded.standardize_target
    predictions = tmp_path / "p.csv"
    cli.main(
        [
            "predict",
            str(model),
            str(root / "index.csv"),
            "--label-column",
            "value",
            "--out",
            str(predictions),
        ]
    )
    printed = capsys.readouterr().out
    assert "MAE " in printed and "R² " in printed
    with open(predictions, newline="") as f:
        written = list(csv.DictReader(f))
    assert list(written[0]) == ["path", "predicted_value", "true_value"]
    paths = [r["path"] for r in written]
    np.testing.assert_allclose(
        [float(r["predicted_value"]) for r in written],
        loaded.predict(np.array(paths)),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.slow  # a train and a predict
def test_multilabel_train_saves_label_names_and_predict_writes_a_column_per_label(tmp_path, capsys):
    model = tmp_path / "model"
    assert (
        cli.main(
            ["train", "--digits", "--task", "multilabel", "--epochs", "2", "--out", str(model)]
        )
        == 0
    )
    assert "subset accuracy" in capsys.readouterr().out
    loaded = load_model(model)
    assert loaded.label_names_.tolist() == ["even", "greater_than_4"]
    image = tmp_path / "seven.png"
    X, y = load_digits(return_X_y=True)
    Image.fromarray((X[7].reshape(8, 8) * 16).astype(np.uint8)).save(image)
    assert cli.main(["predict", str(model), str(image), "--out", str(tmp_path / "p.csv")]) == 0
    with open(tmp_path / "p.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert list(row)[1:] == [
        "predicted_even",
        "predicted_greater_than_4",
        "proba_even",
        "proba_greater_than_4",
    ]
    proba = loaded.predict_proba(np.array([str(image)]))[0]
    assert float(row["proba_even"]) == pytest.approx(proba[0], abs=1e-5)
    assert row["predicted_even"] == str(int(proba[0] > 0.5))


def test_labels_and_values_are_read_as_the_task_says(csv_source):
    from argparse import Namespace

    from skimgaug.cli._tasks import targets

    args = Namespace(task="multilabel", label_separator=";", label_column="findings")
    y, names = targets(["even;big", "none", " big ; even ", "big"], args, "x.csv")
    assert names == ["big", "even", "none"]
    np.testing.assert_array_equal(y, [[1, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 0]])
    args = Namespace(task="regression", label_column="value")
    y, names = targets(["1.5", "-2", "3e1"], args, "x.csv")
    assert y.tolist() == [1.5, -2.0, 30.0] and names == ["value"]
    with pytest.raises(ValueError, match=r"x.csv', line 3: the 'value' column holds 'n/a'"):
        targets(["1", "n/a"], args, "x.csv")
    with pytest.raises(ValueError, match=r"line 2: .*'inf'"):
        targets(["inf"], args, "x.csv")
    args = Namespace(task="multilabel", label_separator="|", label_column="findings")
    with pytest.raises(ValueError, match="1 label .*is --label-separator right"):
        targets(["a;b", "a;b"], args, "x.csv")


TASK_ERRORS = [
    (["cv", "FOLDER", "--task", "multilabel"], "reads its labels from a CSV file"),
    (["cv", "--digits", "--task", "regression", "--balance", "oversample"], "--balance weights"),
    (["cv", "--digits", "--task", "multilabel", "--balance", "oversample"], "several labels"),
    (["cv", "--digits", "--task", "multilabel", "--threshold", "youden:"], "--threshold"),
    (
        ["cv", "--digits", "--task", "multilabel", "--threshold", "sensitivity:0.9"],
        "fixed threshold",
    ),
    (["cv", "--digits", "--task", "regression", "--threshold", "0.3"], "has none"),
    (["cv", "--digits", "--standardize-target"], "give --task regression"),
    (["cv", "--digits", "--task", "regression", "--patient-aggregation", "max"], "the mean"),
    (
        [
            "search",
            "--digits",
            "--task",
            "regression",
            "--grid",
            "epochs=1,2",
            "--scoring",
            "accuracy",
            "--out",
            "s",
        ],
        "not a score of --task regression",
    ),
    (["cv", "--digits", "--task", "multilabel", "--label-separator", ""], "must not be empty"),
    (
        ["cv", "CSV", "--task", "multilabel", "--label-column", "site", "--epochs", "1"],
        "needs at least 2",
    ),
    (
        ["cv", "CSV", "--task", "regression", "--label-column", "findings", "--epochs", "1"],
        "needs a finite number",
    ),
    (
        [
            "cv",
            "CSV",
            "--task",
            "multilabel",
            "--label-column",
            "findings",
            "--label-separator",
            ";",
            "--folds",
            "40",
            "--epochs",
            "1",
        ],
        "needs each label on at least 40",
    ),
]


def test_task_mistakes_are_refused_before_tensorflow(csv_source, image_folder, tmp_path):
    root, _ = csv_source
    cases = [
        [
            {"FOLDER": str(image_folder), "CSV": str(root / "index.csv")}.get(arg, arg)
            for arg in args
        ]
        for args, _ in TASK_ERRORS
    ]
    outcomes = run_cli_cases(cases, tmp_path)
    for (args, message), (status, _, tensorflow, _first, stderr) in zip(
        TASK_ERRORS, outcomes, strict=True
    ):
        assert status in (1, 2), (args, stderr)
        assert message in stderr, (args, stderr)
        assert not tensorflow, args
        assert "Traceback" not in stderr


@pytest.mark.slow  # four fits and a refit
def test_search_over_an_augmentation_key_for_labels_and_values(csv_source, tmp_path, capsys):
    root, _ = csv_source
    grid = ["--grid", "datagen__rotation_range=0,10", "--epochs", "1", "--folds", "2"]
    out = tmp_path / "ml"
    args = ["search", str(root / "index.csv"), "--task", "multilabel", "--label-column"]
    args += ["findings", "--label-separator", ";", "--color-mode", "grayscale"]
    assert cli.main([*args, *grid, "--refit-out", str(tmp_path / "best"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "iterative stratified folds" in printed and "mean roc_auc" in printed
    assert load_model(tmp_path / "best").label_names_.tolist() == ["big", "even", "none"]
    args = ["search", str(root / "index.csv"), "--task", "regression", "--label-column", "value"]
    args += ["--color-mode", "grayscale", "--groups", "patient"]
    assert cli.main([*args, *grid, "--out", str(tmp_path / "reg")]) == 0
    printed = capsys.readouterr().out
    assert "group folds" in printed and "mean r2" in printed
    with open(tmp_path / "reg" / "cv_results.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 2


def test_predict_reads_known_values_as_numbers_and_a_wrong_separator_warns():
    from argparse import Namespace

    from skimgaug.cli._tasks import targets
    from skimgaug.cli.predict import _known_targets

    args = Namespace(task=None, label_column="value", label_separator="|", sources=["t.csv"])
    values, known = _known_targets(["1.5", None, "2"], "regression", ["value"], args)
    assert values.ravel().tolist() == [1.5, 0.0, 2.0] and known.tolist() == [True, False, True]
    with pytest.raises(ValueError, match=r"t.csv', line 2: the 'value' column holds 'even'"):
        _known_targets(["even"], "regression", ["value"], args)
    args = Namespace(task="multilabel", label_separator=";", label_column="tags")
    with pytest.warns(UserWarning, match=r"'even,big' hold a separator other than"):
        targets(["even,big", "even", "big"], args, "x.csv")
