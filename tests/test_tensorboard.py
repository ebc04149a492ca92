"""``--tensorboard DIR``: Keras' own TensorBoard callback, one log folder per fit."""

import pytest


def _event_files(folder):
    return [p for p in folder.rglob("events.out.tfevents.*") if p.stat().st_size > 0]


@pytest.mark.slow  # four fits and a train
def test_cv_and_train_write_one_log_folder_per_fit(tmp_path, capsys):
    from skimgaug import cli, load_model

    logs = tmp_path / "logs"
    args = ["--digits", "--folds", "2", "--epochs", "1", "--bootstraps", "0", "--quiet"]
    assert cli.main(["cv", *args, "--compare", "--tensorboard", str(logs)]) == 0
    for setting in ("augmentation", "no_augmentation"):
        for fold in (1, 2):
            folder = logs / setting / f"fold_{fold}"
            assert _event_files(folder / "train"), folder
            assert _event_files(folder / "validation"), folder  # the internal validation split
    model = tmp_path / "model"
    train = ["train", "--digits", "--epochs", "1", "--quiet", "--tensorboard", str(logs)]
    assert cli.main([*train, "--out", str(model)]) == 0
    capsys.readouterr()
    assert _event_files(logs / "train")
    assert load_model(model).callbacks is None  # the callback is no setting of the model


def test_without_the_tensorboard_package_the_option_says_what_to_install(monkeypatch, capsys):
    import importlib.util

    from skimgaug import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboard" else real(name, *a),
    )
    with pytest.raises(SystemExit) as exited:
        cli.main(["cv", "--digits", "--tensorboard", "logs"])
    assert exited.value.code == 2
    assert "pip install 'skimgaug[tensorboard]'" in capsys.readouterr().err


@pytest.mark.slow  # a halving search of 2 candidates x 2 folds, then the best
def test_a_serial_search_writes_one_log_folder_per_candidate_run_and_fold(tmp_path, capsys):
    from skimgaug import cli

    logs = tmp_path / "logs"
    grid = tmp_path / "grid.toml"
    grid.write_text("[[grid]]\ndatagen__rotation_range = [0, 10]\n")
    args = ["search", "--digits", "--grid-file", str(grid), "--folds", "2", "--quiet"]
    args += ["--strategy", "halving", "--min-epochs", "1", "--max-epochs", "2", "--factor", "2"]
    assert cli.main([*args, "--out", str(tmp_path / "out"), "--tensorboard", str(logs)]) == 0
    capsys.readouterr()
    runs = sorted(p.name for p in logs.iterdir())
    assert runs == [
        "round_1_of_2_1_epochs_candidate_1_of_2",
        "round_1_of_2_1_epochs_candidate_2_of_2",
        "round_2_of_2_2_epochs_candidate_1_of_1",
    ]
    for run in runs:
        for fold in ("fold_1", "fold_2"):
            assert _event_files(logs / run / fold / "train"), (run, fold)


def test_tensorboard_in_a_search_needs_the_fits_in_this_process(capsys):
    pytest.importorskip("tensorboard")  # without it, --tensorboard says what to install first
    from skimgaug import cli

    with pytest.raises(SystemExit) as exited:
        cli.main(
            ["search", "--digits", "--grid", "datagen__rotation_range=0,10", "--out", "x"]
            + ["--n-jobs", "2", "--tensorboard", "logs"]
        )
    assert exited.value.code == 2
    assert "--tensorboard follows the fits of a search in this process" in capsys.readouterr().err
