"""Recording a command in MLflow (``--mlflow [TRACKING_URI]``).

One run per command, in the experiment ``skimgaug`` (or ``MLFLOW_EXPERIMENT_NAME``):

- ``cv``: parameters (the command's settings and the data), a child run per
  setting and fold (the setting's estimator parameters with ``datagen``
  keys flattened, per-epoch metrics under Keras' names, the fold's scores
  as ``test_<metric>``), the out-of-fold metrics with their intervals
  (``<setting>/<level>/<metric>`` and ``_low``/``_high``), and the output
  folder as artefacts;
- ``search``: a child run per candidate run (its parameters, round and
  epochs, mean and spread of the score), a child of it per fold (the fold's
  score and, in a serial search, per-epoch metrics), a ``refit`` child with
  the saved model, the best parameters and the epochs trained;
- ``train``: the fit's per-epoch metrics, its score on the clean training
  images, and the saved model folder.

Everything is written with ``mlflow.MlflowClient`` after each fit ends, in
the command's process (folds fitted in worker processes included), so the
process's active MLflow run is never changed.
"""

import contextlib
import os
import pathlib
import time

EXPERIMENT = "skimgaug"


def flat_params(estimator):
    """``{name: text}`` of an estimator's settings; ``datagen`` keys as ``datagen.<key>``."""
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        if isinstance(value, dict):
            for key, inner in value.items():
                params[f"{name}.{key}"] = _text(inner)
        else:
            params[name] = _text(value)
    return params


def _text(value):
    """A readable parameter value: callables and objects by name, never an address."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) + "}"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}".lstrip(".")
    return type(value).__name__


class Tracker:
    """The MLflow run of one command and its child runs.

    Parameters
    ----------
    client : mlflow.MlflowClient
    experiment_id : str
    run_id : str
        The command's run.
    """

    def __init__(self, client, experiment_id, run_id):
        self.client = client
        self.experiment_id = experiment_id
        self.run_id = run_id

    def child(self, name, parent=None, params=None):
        """A new run nested under ``parent`` (the command's run by default); its id."""
        run = self.client.create_run(
            self.experiment_id,
            run_name=name,
            tags={"mlflow.parentRunId": parent or self.run_id},
        )
        if params:
            self.params(params, run.info.run_id)
        return run.info.run_id

    def params(self, values, run_id=None):
        from mlflow.entities import Param

        items = [Param(str(k), _text(v)[:6000]) for k, v in values.items() if v is not None]
        self._log(run_id, "params", items, 100)  # MLflow takes 100 parameters per batch

    def metrics(self, values, run_id=None, step=0):
        """Log finite numbers; None and NaN (an undefined metric) are left out."""
        finite = {k: v for k, v in values.items() if v is not None and float(v) == float(v)}
        self._log_metrics(run_id, ((k, v, step) for k, v in finite.items()))

    def history(self, history, run_id):
        """Per-epoch metrics (``history_``), step = epoch (0-based)."""
        self._log_metrics(
            run_id,
            (
                (name, v, epoch)
                for name, values in history.items()
                for epoch, v in enumerate(values)
            ),
        )

    def _log_metrics(self, run_id, triples):
        """``(name, value, step)`` triples, logged in batches."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(_metric_name(k), float(v), now, step) for k, v, step in triples]
        self._log(run_id, "metrics", items, 1000)

    def _log(self, run_id, kind, items, per_batch):
        for start in range(0, len(items), per_batch):
            self.client.log_batch(run_id or self.run_id, **{kind: items[start : start + per_batch]})

    def artifacts(self, path, run_id=None, where=None):
        """A file or folder as artefacts of ``run_id`` (the command's run by default)."""
        run_id = run_id or self.run_id
        if os.path.isdir(path):
            self.client.log_artifacts(run_id, path, where)
        elif os.path.isfile(path):
            self.client.log_artifact(run_id, path, where)

    def end(self, run_id=None, status="FINISHED"):
        self.client.set_terminated(run_id or self.run_id, status)


def _metric_name(name):
    """MLflow's allowed characters: letters, digits, ``_ - . / :`` and spaces."""
    allowed = set("_-./: ")
    return "".join(c if c.isalnum() or c in allowed else "_" for c in str(name))


@contextlib.contextmanager
def tracked(uri, command, params, parent=None):
    """The command's run, ended FINISHED, FAILED (an error) or KILLED (Ctrl-C).

    Yields None when ``uri`` is None (no ``--mlflow``). ``uri`` ``""`` is
    MLflow's default store (``MLFLOW_TRACKING_URI``, else its local default).
    With a ``parent`` :class:`Tracker`, the run is a child of its run
    (``train --cross-validate``).
    """
    if uri is None:
        yield None
        return
    if parent is not None:
        run_id = parent.child(command, params=params)
        tracker = Tracker(parent.client, parent.experiment_id, run_id)
        with _ended(tracker):
            yield tracker
        return
    import mlflow

    from .._options import UsageError

    if uri and ":" not in uri:  # a folder: MLflow's file store
        uri = pathlib.Path(uri).resolve().as_uri()
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or EXPERIMENT
    try:
        with _answer_or_fail():
            client, experiment_id, run = _start(uri or mlflow.get_tracking_uri(), name, command)
    except Exception as exc:  # a bad URI, a server that does not answer
        raise UsageError(_why_not(uri or mlflow.get_tracking_uri(), exc)) from None
    tracker = Tracker(client, experiment_id, run.info.run_id)
    tracker.params(params)
    with _ended(tracker):
        yield tracker


@contextlib.contextmanager
def _ended(tracker):
    try:
        yield
    except KeyboardInterrupt:
        tracker.end(status="KILLED")
        raise
    except BaseException:
        tracker.end(status="FAILED")
        raise
    tracker.end()


def _why_not(uri, exc):
    """The usage error of a tracking URI that did not work."""
    text = str(exc)
    if uri.startswith(("http:", "https:")) and any(
        word in text for word in ("Connection", "connect", "Max retries", "timed out")
    ):
        return (
            f"--mlflow {uri}: no MLflow tracking server answers there (start one with "
            f"`mlflow server --host ... --port ...`, or give sqlite:///mlflow.db or a folder "
            "for a local store)"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    if len(first) > 200:
        first = first[:200].rsplit(" ", 1)[0] + " ..."
    return (
        f"--mlflow {uri}: could not start a run: {first}. Give a tracking server's URL "
        "(http://host:port), sqlite:///mlflow.db, or a folder"
    )


def _artifact_location(uri):
    """Where a new experiment of a SQLite store keeps its artefacts: beside the database.

    MLflow's default is ``./mlruns`` in the current folder, which mixes the
    artefacts of every store used from that folder.
    """
    if not uri.startswith("sqlite:///"):
        return None
    database = pathlib.Path(uri[len("sqlite:///") :])
    return (database.parent / "mlartifacts").resolve().as_uri()


def _start(uri, name, command):
    from mlflow import MlflowClient

    with _file_store_allowed(uri):
        client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        experiment_id = experiment.experiment_id
    else:
        experiment_id = client.create_experiment(name, _artifact_location(uri))
    run = client.create_run(experiment_id, run_name=command, tags={"skimgaug.command": command})
    return client, experiment_id, run


@contextlib.contextmanager
def _file_store_allowed(uri):
    """A folder the user named is MLflow's file store, which MLflow 3 only opens when asked."""
    variable = "MLFLOW_ALLOW_FILE_STORE"
    if not uri.startswith("file:") or variable in os.environ:
        yield
        return
    os.environ[variable] = "true"
    try:
        yield
    finally:
        os.environ.pop(variable, None)


@contextlib.contextmanager
def _answer_or_fail():
    """A tracking server must answer the first requests at once: no minutes of retries."""
    quick = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
    saved = {k: os.environ.get(k) for k in quick}
    os.environ.update({k: v for k, v in quick.items() if saved[k] is None})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)


def where(tracker):
    """``"run <id> of experiment skimgaug at <uri>"``: what the command says at the end."""
    name = tracker.client.get_experiment(tracker.experiment_id).name
    return f"run {tracker.run_id} of experiment {name!r} at {tracker.client.tracking_uri}"


def evaluation_metrics(setting, evaluation):
    """``{"<setting>/<level>/<metric>": value}`` with ``_low``/``_high`` for the interval."""
    metrics = {}
    for row in evaluation.metrics:
        label = f"/{row['label']}" if row.get("label") is not None else ""
        base = f"{setting}/{row['level']}{label}/{row['metric']}"
        metrics[base] = row.get("estimate")
        metrics[f"{base}_low"] = row.get("low")
        metrics[f"{base}_high"] = row.get("high")
    return metrics


def log_fold(tracker, result, estimator):
    """A child run for one finished fold of ``cv``: parameters, epochs, scores."""
    if tracker is None:
        return
    run_id = tracker.child(
        f"{result.setting} / fold {result.fold + 1}",
        params={**flat_params(estimator), "setting": result.setting, "fold": result.fold + 1},
    )
    tracker.history(result.history, run_id)
    tracker.metrics(
        {
            **{f"test_{name}": value for name, value in result.metrics.items()},
            "n_train": result.n_train,
            "n_test": len(result.test),
            "fit_seconds": result.fit_seconds,
            "predict_seconds": result.predict_seconds,
        },
        run_id,
    )
    tracker.end(run_id)


def log_search(tracker, result, rows, histories, scoring):
    """Child runs of ``search``: one per candidate run, one per fold below it."""
    if tracker is None:
        return
    n_splits = result.n_splits
    for index, row in enumerate(rows):
        title = f"candidate {row['candidate']}"
        extra = {}
        if "round" in row:
            title = f"round {row['round']} / {title}"
            extra = {"round": row["round"], "epochs": row["epochs"]}
        run_id = tracker.child(title, params={**row["params"], **extra})
        tracker.metrics(
            {
                f"mean_{scoring}": row["mean_test_score"],
                f"std_{scoring}": row["std_test_score"],
                "rank": row["rank_test_score"],
                "mean_fit_time": row["mean_fit_time"],
            },
            run_id,
        )
        for fold in range(n_splits):
            fold_run = tracker.child(f"fold {fold + 1}", parent=run_id, params={"fold": fold + 1})
            fit = index * n_splits + fold
            if histories is not None and fit < len(histories):
                tracker.history(histories[fit], fold_run)
            tracker.metrics({f"test_{scoring}": row[f"split{fold}_test_score"]}, fold_run)
            tracker.end(fold_run)
        tracker.end(run_id)
    for number, round_ in enumerate(result.rounds, 1):
        tracker.metrics(
            {
                "round_candidates": round_["candidates"],
                "round_epochs": round_["epochs"],
                f"round_best_{scoring}": round_["best"],
            },
            step=number,
        )
    best = rows[result.search.best_index_]
    tracker.params({f"best.{k}": v for k, v in best["params"].items()})
    tracker.metrics(
        {
            f"best_mean_{scoring}": best["mean_test_score"],
            f"best_std_{scoring}": best["std_test_score"],
            "epochs_trained": result.epochs_trained,
            "candidate_runs": len(rows),
            "search_seconds": result.seconds,
        }
    )


def log_refit(tracker, best, model_dir):
    """A ``refit`` child run: the best parameters, the fit's epochs and the saved model."""
    if tracker is None:
        return
    run_id = tracker.child("refit", params=flat_params(best))
    tracker.history(best.history_, run_id)
    tracker.artifacts(model_dir, run_id, "model")
    tracker.artifacts(model_dir, where="model")
    tracker.end(run_id)


class HistoryRecorder:
    """A Keras callback shared by every fit of a serial search: each fit's per-epoch logs.

    ``GridSearchCV`` deep-copies the estimator's callbacks for every fit; a
    copy of this callback is itself, so ``histories`` holds the fits in the
    search's order (candidate by candidate, fold by fold).
    """

    def __new__(cls):
        import keras

        class _Recorder(keras.callbacks.Callback):
            histories = None

            def __deepcopy__(self, memo):
                return self

            def on_train_begin(self, logs=None):
                self.histories.append({})

            def on_epoch_end(self, epoch, logs=None):
                for name, value in (logs or {}).items():
                    self.histories[-1].setdefault(name, []).append(float(value))

        recorder = _Recorder()
        recorder.histories = []
        return recorder
