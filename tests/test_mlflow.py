"""MLflow: ``--mlflow [TRACKING_URI]`` of cv, search and train; ``callbacks.MLflowLogger``."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

mlflow = pytest.importorskip("mlflow")


@pytest.fixture
def tracking(tmp_path):
    """A SQLite store of this test as MLflow's tracking URI; the process's URI put back."""
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(previous)


def _runs(client, experiment="skimgaug"):
    """Every run of ``experiment``, oldest first, and the runs by id."""
    found = client.get_experiment_by_name(experiment)
    runs = client.search_runs([found.experiment_id], order_by=["attributes.start_time ASC"])
    return runs, {run.info.run_id: run for run in runs}


def _children(runs, parent):
    return [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]


def test_the_logger_gives_each_fold_of_cross_validate_a_child_run_with_its_epochs(tracking):
    from sklearn.model_selection import cross_validate

    from skimgaug import AugmentedKerasClassifier
    from skimgaug.callbacks import MLflowLogger
    from skimgaug.datasets import make_toy_images

    X, y = make_toy_images(32, image_size=8, n_classes=2, random_state=0)
    logger = MLflowLogger(run_name="fold", prefix="fit/")
    clf = AugmentedKerasClassifier(
        epochs=2, batch_size=16, validation_split=0.25, random_state=0, callbacks=[logger]
    )
    mlflow.set_experiment("logger")
    with mlflow.start_run(run_name="cv") as parent:
        cross_validate(clf, X, y, cv=2)
    assert mlflow.active_run() is None
    client = mlflow.MlflowClient(tracking)
    runs, _ = _runs(client, "logger")
    folds = _children(runs, parent)
    assert sorted(r.info.run_name for r in folds) == ["fold 1", "fold 2"]
    for run in folds:
        assert run.info.status == "FINISHED"
        assert run.data.params["epochs"] == "2"
        for name in ("fit/loss", "fit/accuracy", "fit/val_loss", "fit/val_accuracy"):
            steps = [m.step for m in client.get_metric_history(run.info.run_id, name)]
            assert steps == [0, 1], name
    assert logger._run is None and logger._parent is None  # the user's callback kept clean


def test_the_logger_without_a_run_per_fit_needs_an_active_run(tracking):
    from skimgaug import AugmentedKerasClassifier
    from skimgaug.callbacks import MLflowLogger
    from skimgaug.datasets import make_toy_images

    X, y = make_toy_images(16, image_size=8, n_classes=2, random_state=0)
    clf = AugmentedKerasClassifier(
        epochs=1, validation_split=0.0, random_state=0, callbacks=[MLflowLogger(run_per_fit=False)]
    )
    with pytest.raises(RuntimeError, match="no run is active"):
        clf.fit(X, y)
    mlflow.set_experiment("one fit")
    with mlflow.start_run() as run:
        clf.fit(X, y)
    history = mlflow.MlflowClient(tracking).get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0]
    assert np.isclose(history[0].value, clf.history_["loss"][0], rtol=1e-6)


def test_without_the_mlflow_package_the_option_says_what_to_install(monkeypatch, capsys):
    import importlib.util

    from skimgaug import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a)
    )
    with pytest.raises(SystemExit) as exited:
        cli.main(["cv", "--digits", "--mlflow"])
    assert exited.value.code == 2
    assert "pip install 'skimgaug[mlflow]'" in capsys.readouterr().err


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_tracking_uri_that_does_not_work_is_said_before_any_fit(capsys):
    from skimgaug import cli

    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    cases = ((closed, "no MLflow tracking server answers there"), ("nosuch://x", "could not start"))
    for uri, said in cases:
        start = time.perf_counter()
        with pytest.raises(SystemExit) as exited:
            cli.main(["train", "--digits", "--mlflow", uri, "--out", "never-written"])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert said in err and uri in err and "Traceback" not in err
        assert time.perf_counter() - start < 30  # no minutes of retries
    assert not os.path.exists("never-written")


@pytest.fixture
def server(tmp_path):
    """A real MLflow tracking server on 127.0.0.1 with a SQLite backend store."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the MLflow server did not start")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow  # a server and a halving search of 9 candidates (26 fits) and a refit
def test_a_halving_search_records_rounds_candidates_and_folds_in_a_real_server(
    server, tmp_path, capsys
):
    from skimgaug import cli

    grid = tmp_path / "grid.toml"
    grid.write_text("[[grid]]\ndatagen__rotation_range = [0, 5, 10, 15, 20, 25, 30, 35, 40]\n")
    args = ["search", "--digits", "--grid-file", str(grid), "--folds", "2", "--quiet"]
    args += ["--strategy", "halving", "--min-epochs", "1", "--max-epochs", "9", "--factor", "3"]
    args += ["--out", str(tmp_path / "out"), "--refit-out", str(tmp_path / "model")]
    assert cli.main([*args, "--mlflow", server]) == 0
    assert "recorded in MLflow: run " in capsys.readouterr().out

    client = mlflow.MlflowClient(server)
    runs, by_id = _runs(client)
    (search,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert search.info.run_name == "search" and search.info.status == "FINISHED"
    assert search.data.params["args.strategy"] == "halving"
    rounds = client.get_metric_history(search.info.run_id, "round_candidates")
    assert [(m.step, m.value) for m in rounds] == [(1, 9), (2, 3), (3, 1)]
    epochs = [m.value for m in client.get_metric_history(search.info.run_id, "round_epochs")]
    assert epochs == [1, 3, 9]
    trained = search.data.metrics["epochs_trained"]
    assert trained == 2 * (9 * 1 + 3 * 3 + 1 * 9)
    assert trained <= 2 * 9 * 9 / 2  # at most half of the grid's epochs at --max-epochs
    candidates = [r for r in _children(runs, search) if r.info.run_name != "refit"]
    assert [r.data.params["round"] for r in candidates] == ["1"] * 9 + ["2"] * 3 + ["3"]
    first = {r.data.params["datagen__rotation_range"] for r in candidates[:9]}
    assert first == {str(angle) for angle in range(0, 45, 5)}
    for candidate in candidates:
        folds = _children(runs, candidate)
        assert sorted(r.info.run_name for r in folds) == ["fold 1", "fold 2"]
        scores = [r.data.metrics["test_accuracy"] for r in folds]
        assert np.isclose(np.mean(scores), candidate.data.metrics["mean_accuracy"], atol=1e-6)
        for fold in folds:  # a serial search keeps every epoch of every fit
            history = client.get_metric_history(fold.info.run_id, "loss")
            assert len(history) == int(candidate.data.params["epochs"])
    (refit,) = [r for r in _children(runs, search) if r.info.run_name == "refit"]
    assert {a.path for a in client.list_artifacts(refit.info.run_id, "model")} >= {
        "model/model.keras",
        "model/skimgaug.json",
    }
    assert {"report.html", "cv_results.csv", "best.json"} <= {
        a.path for a in client.list_artifacts(search.info.run_id)
    }
    assert len(by_id) == 1 + 13 + 26 + 1


@pytest.mark.slow  # two settings x two folds, then a train
def test_cv_and_train_record_folds_intervals_and_the_model_in_a_file_store(
    tmp_path, capsys, monkeypatch
):
    from skimgaug import cli

    store = tmp_path / "mlruns"
    common = ["--digits", "--folds", "2", "--epochs", "1", "--bootstraps", "200", "--quiet"]
    cv = ["cv", *common, "--datagen", "rotation_range=10", "--compare"]
    assert cli.main([*cv, "--out", str(tmp_path / "cv"), "--mlflow", str(store)]) == 0
    train = ["train", "--digits", "--epochs", "1", "--quiet", "--out", str(tmp_path / "m")]
    assert cli.main([*train, "--mlflow", str(store)]) == 0
    capsys.readouterr()

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # reading the store back
    client = mlflow.MlflowClient(store.as_uri())
    runs, _ = _runs(client)
    (cv_run,) = [r for r in runs if r.info.run_name == "cv"]
    folds = _children(runs, cv_run)
    assert sorted(r.info.run_name for r in folds) == [
        "augmentation / fold 1",
        "augmentation / fold 2",
        "no augmentation / fold 1",
        "no augmentation / fold 2",
    ]
    for fold in folds:
        augmented = fold.data.params["setting"] == "augmentation"
        assert fold.data.params.get("datagen.rotation_range") == ("10" if augmented else None)
        assert "test_accuracy" in fold.data.metrics and "loss" in fold.data.metrics
    metrics = cv_run.data.metrics
    for setting in ("augmentation", "no augmentation"):
        low, value, high = (
            metrics[f"{setting}/image/accuracy{end}"] for end in ("_low", "", "_high")
        )
        assert low <= value <= high
    assert "report.html" in {a.path for a in client.list_artifacts(cv_run.info.run_id)}
    (train_run,) = [r for r in runs if r.info.run_name == "train"]
    assert train_run.data.metrics["train_accuracy_clean"] > 0.5
    assert "model/model.keras" in {
        a.path for a in client.list_artifacts(train_run.info.run_id, "model")
    }
