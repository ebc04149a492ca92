"""The commands that keep and use a model: train, predict; and preview."""

import csv
import json
import os
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from skimgaug import cli, load_model
from skimgaug.datasets import load_image_folder


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def trained(image_folder, tmp_path_factory):
    """A model trained by the CLI on the 24-image folder (1 epoch)."""
    model_dir = tmp_path_factory.mktemp("cli") / "model"
    code = cli.main(["train", image_folder, "--epochs", "1", "--quiet", "--out", str(model_dir)])
    assert code == 0
    return str(model_dir)


def test_train_saves_a_model_that_predicts_like_the_estimator(trained, image_folder, capsys):
    clf = load_model(trained)
    assert clf.X_shape_[1:] == (16, 16, 3)  # the images' own size
    assert clf.classes_.tolist() == ["class0", "class1"]
    paths, labels = load_image_folder(image_folder)
    proba = clf.predict_proba(paths)
    out = os.path.join(os.path.dirname(trained), "predictions.csv")
    assert cli.main(["predict", trained, image_folder, "--out", out]) == 0
    rows = _rows(out)
    assert [r["path"] for r in rows] == paths.tolist()
    assert [r["true_label"] for r in rows] == labels.tolist()
    np.testing.assert_allclose(
        [[float(r["proba_class0"]), float(r["proba_class1"])] for r in rows], proba, atol=2e-6
    )
    assert [r["predicted_label"] for r in rows] == clf.predict(paths).tolist()
    printed = capsys.readouterr().out
    accuracy = np.mean(clf.predict(paths) == labels)
    assert f"accuracy {accuracy:.4f}, balanced accuracy" in printed
    assert "confusion matrix (rows: true, columns: predicted)" in printed


def test_predict_takes_loose_files_and_folders_without_classes(trained, image_folder, tmp_path):
    loose = tmp_path / "new"
    (loose / "deeper").mkdir(parents=True)
    first = os.path.join(image_folder, "class0", sorted(os.listdir(f"{image_folder}/class0"))[0])
    shutil.copy(first, loose / "a.png")
    Image.open(first).convert("L").resize((40, 30)).save(loose / "deeper" / "b.png")
    out = tmp_path / "p.csv"
    assert cli.main(["predict", trained, str(loose), first, "--out", str(out)]) == 0
    rows = _rows(out)
    assert [os.path.basename(r["path"]) for r in rows] == [
        "a.png",
        "b.png",
        os.path.basename(first),
    ]
    assert "true_label" not in rows[0]  # labels unknown
    assert rows[0]["proba_class0"] == rows[2]["proba_class0"]  # same image, same prediction


def test_predict_scores_the_labelled_images_and_says_which_are_not(
    trained, image_folder, tmp_path, capsys
):
    paths, labels = load_image_folder(image_folder)
    labels = labels.astype(object)
    labels[0], labels[1] = "", "c9"  # not known; not a class of the model
    index = tmp_path / "index.csv"
    with open(index, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label"])
        writer.writerows(zip(paths, labels, strict=True))
    out = tmp_path / "p.csv"
    assert cli.main(["predict", trained, str(index), "--out", str(out)]) == 0
    rows = _rows(out)
    assert [r["true_label"] for r in rows] == ["", "c9", *labels[2:]]
    printed = capsys.readouterr().out
    scored = [r["predicted_label"] == r["true_label"] for r in rows[2:]]
    assert f"accuracy {np.mean(scored):.4f}, balanced accuracy" in printed
    assert (
        "not scored: 1 without a label; 1 labelled 'c9', not a class of this model "
        "('class0', 'class1')"
    ) in printed


def test_predict_says_when_subfolders_are_not_classes(trained, image_folder, tmp_path, capsys):
    dated = tmp_path / "dated"
    shutil.copytree(os.path.join(image_folder, "class0"), dated / "2024-01")
    out = tmp_path / "p.csv"
    assert cli.main(["predict", trained, str(dated), "--out", str(out)]) == 0
    assert "note: subfolders of" in capsys.readouterr().err
    assert "true_label" not in _rows(out)[0]


@pytest.mark.slow
def test_predict_with_tta_changes_probabilities_reproducibly(image_folder, tmp_path):
    model_dir = tmp_path / "augmented"
    args = ["train", image_folder, "--epochs", "1", "--quiet", "--out", str(model_dir)]
    assert cli.main(args + ["--datagen", "rotation_range=40"]) == 0
    outs = [tmp_path / f"p{i}.csv" for i in range(3)]
    for out, tta in zip(outs, ["0", "3", "3"], strict=True):
        assert (
            cli.main(["predict", str(model_dir), image_folder, "--tta", tta, "--out", str(out)])
            == 0
        )
    plain, first, second = (_rows(out) for out in outs)
    assert first == second
    assert first != plain


def test_predict_errors_are_one_line(trained, tmp_path, capsys):
    assert cli.main(["predict", trained, str(tmp_path / "none"), "--out", "p.csv"]) == 1
    assert "no such folder, CSV or image file" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli.main(["predict", trained, str(tmp_path / "empty"), "--out", "p.csv"]) == 1
    assert "no image files in" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["predict", str(tmp_path / "nomodel"), str(tmp_path), "--out", "p.csv"])
    assert exc.value.code == 2
    assert "MODEL_DIR" in capsys.readouterr().err


def test_train_refuses_a_folder_holding_other_files(image_folder, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", image_folder, "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "is a folder holding other files" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_preview_writes_the_grid_png(tmp_path, capsys):
    out = tmp_path / "preview.png"
    args = ["preview", "--digits", "--datagen", "rotation_range=20", "--n", "3", "--images", "2"]
    assert cli.main(args + ["--out", str(out)]) == 0
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width > 300
    assert "wrote" in capsys.readouterr().out


def test_preview_needs_a_png_name(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["preview", "--digits", "--out", "preview.jpg"])
    assert exc.value.code == 2
    assert "ending in .png" in capsys.readouterr().err


def test_training_options_reach_the_estimator():
    from skimgaug.cli import _common

    parser = cli.build_parser()
    args = parser.parse_args(
        [
            "cv",
            "--digits",
            "--optimizer",
            "sgd",
            "--learning-rate",
            "0.01",
            "--loss",
            "categorical_focal_crossentropy",
            "--class-weight",
            "balanced",
            "--early-stopping",
            "3",
            "--tta",
            "2",
            "--cache",
            "none",
        ]
    )
    clf = _common.make_estimator(args, None, {})
    params = clf.get_params()
    assert params["optimizer"] == "sgd"
    assert params["optimizer__learning_rate"] == 0.01
    assert params["loss"] == "categorical_focal_crossentropy"
    assert params["class_weight"] == "balanced"
    assert params["tta"] == 2 and params["cache"] is None
    (stopping,) = params["callbacks"]
    assert (stopping.monitor, stopping.patience, stopping.restore_best_weights) == (
        "val_loss",
        3,
        True,
    )


@pytest.mark.parametrize(
    "options, message",
    [
        (["--early-stopping", "2", "--validation-split", "0"], "needs|give --validation-split"),
        (["--balance", "oversample", "--class-weight", "balanced"], "weight the classes twice"),
        (["--learning-rate", "-1"], "learning_rate' parameter .* must be a number > 0"),
        (["--n-jobs", "0"], "expected a positive integer"),
    ],
)
def test_training_option_mistakes_are_usage_errors(options, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["cv", "--digits", *options])
    assert exc.value.code == 2
    assert re.search(message, capsys.readouterr().err.splitlines()[-1])


@pytest.mark.slow
def test_parallel_folds_give_the_serial_scores(tmp_path):
    outs = []
    for n_jobs in ("1", "2"):
        out = tmp_path / n_jobs
        args = ["cv", "--digits", "--folds", "2", "--epochs", "1", "--quiet"]
        assert cli.main(args + ["--n-jobs", n_jobs, "--out", str(out)]) == 0
        outs.append(json.loads((out / "results.json").read_text()))
    serial, parallel = (o["settings"]["augmentation"]["folds"] for o in outs)
    for a, b in zip(serial, parallel, strict=True):
        assert a["accuracy"] == pytest.approx(b["accuracy"], abs=1e-6)


@pytest.mark.parametrize("option, value, most", [("--images", "51", 50), ("--n", "31", 30)])
def test_preview_refuses_a_grid_too_large_to_draw(option, value, most, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["preview", "--digits", option, value, "--out", "preview.png"])
    assert exc.value.code == 2
    message = f"argument {option}: The {option[2:]!r} parameter of plot_augmentations must be "
    message += f"an int in [1, {most}] (a larger grid is too large to read). Got {value} instead."
    assert capsys.readouterr().err.splitlines()[-1].endswith(message)


def test_train_fits_on_all_images_unless_asked_for_a_validation_split():
    parser = cli.build_parser()
    assert parser.parse_args(["train", "--digits", "--out", "m"]).validation_split == 0
    assert parser.parse_args(["cv", "--digits"]).validation_split == 0.1
    args = ["train", "--digits", "--validation-split", "0.2", "--out", "m"]
    assert parser.parse_args(args).validation_split == 0.2


@pytest.mark.slow  # 6-25 s: run by CI once
def test_compare_without_random_augmentation_says_why_there_is_one_setting(image_folder, capsys):
    args = ["cv", image_folder, "--folds", "2", "--epochs", "1", "--compare", "--quiet"]
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert "note: --compare needs random augmentation" in captured.err
    assert "verdict" not in captured.out.lower()


def test_train_reports_the_clean_accuracy_that_predict_gives_and_what_early_stopping_did(
    image_folder, tmp_path, capsys
):
    model_dir = tmp_path / "model"
    args = ["train", image_folder, "--epochs", "4", "--validation-split", "0.25"]
    args += ["--early-stopping", "1", "--quiet", "--out", str(model_dir)]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    clf = load_model(model_dir)
    paths, labels = load_image_folder(image_folder)
    clean = clf.score(paths, labels)
    assert f"accuracy {clean:.4f} on the {len(labels)} training images, clean" in printed
    assert "on the augmented training batches" in printed
    assert "on the internal validation images" in printed
    ran = len(clf.history_["loss"])
    best = int(np.argmin(clf.history_["val_loss"])) + 1
    stopped = f"stopped after epoch {ran} of 4" if ran < 4 else "ran all 4 epochs"
    assert f"early stopping: {stopped}; weights of epoch {best} restored (val_loss " in printed


def test_predict_writes_the_csv_to_standard_output_with_out_dash(trained, image_folder, capsys):
    assert cli.main(["predict", trained, image_folder, "--out", "-"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(captured.out.splitlines()))
    paths, labels = load_image_folder(image_folder)
    assert [r["path"] for r in rows] == paths.tolist()
    assert "wrote standard output" in captured.err
    assert "accuracy" in captured.err and "accuracy" not in captured.out.splitlines()[0]
