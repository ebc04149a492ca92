"""Keras callbacks for skimgaug's estimators.

:class:`MLflowLogger` records every fit's per-epoch metrics in MLflow. Pass it
in ``callbacks=`` of :class:`~skimgaug.AugmentedKerasClassifier` or
:class:`~skimgaug.AugmentedKerasRegressor`; scikit-learn's ``clone`` (made for
every fold of ``cross_validate`` and every fit of ``GridSearchCV``) copies
its settings, never a previous fit's model or run.

Importing this module imports Keras; MLflow is imported by the first fit
(``pip install 'skimgaug[mlflow]'``).
"""

import time

import keras

__all__ = ["MLflowLogger"]


class MLflowLogger(keras.callbacks.Callback):
    """Log each epoch's training and validation metrics to MLflow.

    Parameters
    ----------
    run_per_fit : bool, default=True
        Give every fit a run of its own, nested under the run that was active
        when the estimator was cloned or fitted (``mlflow.start_run()``
        around ``cross_validate`` or ``GridSearchCV``: one child run per fold
        or per candidate and fold), or a top-level run when none was active.
        With False, metrics go into the active run itself (one fit inside
        ``mlflow.start_run()``); without an active run, the fit is refused.
    run_name : str, optional
        The name of each fit's run (MLflow draws one when None); a number is
        appended to name the fits of one parent apart: ``"fold 1"``,
        ``"fold 2"``, ...
    prefix : str, default=""
        Put before every metric name (``"fit/"`` gives ``fit/loss``).
    tracking_uri : str, optional
        Where to log; by default MLflow's current tracking URI
        (``mlflow.set_tracking_uri``, ``MLFLOW_TRACKING_URI``, or MLflow's
        local default).

    Notes
    -----
    The run is found when the fit starts, or earlier, when scikit-learn
    copies the estimator: a copy made inside ``mlflow.start_run()`` remembers
    that run, so fits in joblib's worker processes (``n_jobs=2``) still nest
    their runs under it. Metrics are logged with MLflow's client, one batch
    per epoch, step = epoch (0-based).

    Examples
    --------
    >>> from skimgaug.callbacks import MLflowLogger
    >>> logger = MLflowLogger(run_name="fold", prefix="fit/")
    >>> logger.run_name, logger.prefix
    ('fold', 'fit/')

    Cross-validation with one child run per fold (not run here)::

        import mlflow
        from sklearn.model_selection import cross_validate
        clf = AugmentedKerasClassifier(callbacks=[MLflowLogger(run_name="fold")])
        with mlflow.start_run(run_name="cv"):
            scores = cross_validate(clf, X, y, cv=5)
            mlflow.log_metric("accuracy", scores["test_score"].mean())
    """

    def __init__(self, run_per_fit=True, run_name=None, prefix="", tracking_uri=None):
        super().__init__()
        self.run_per_fit = run_per_fit
        self.run_name = run_name
        self.prefix = prefix
        self.tracking_uri = tracking_uri
        self._parent = None  # (tracking URI, run id) remembered when copied inside a run
        self._run = None  # (client, run id, created by us) during a fit

    def get_config(self):
        return {
            "run_per_fit": self.run_per_fit,
            "run_name": self.run_name,
            "prefix": self.prefix,
            "tracking_uri": self.tracking_uri,
        }

    def __deepcopy__(self, memo):
        # A copy keeps the settings and the parent run, never a fit's model or run.
        copy = type(self)(**self.get_config())
        copy._parent = self._parent or _active_run()
        return copy

    def __getstate__(self):  # pickled into a worker process: settings and parent only
        return {"config": self.get_config(), "parent": self._parent or _active_run()}

    def __setstate__(self, state):
        self.__init__(**state["config"])
        self._parent = state["parent"]

    def on_train_begin(self, logs=None):
        from mlflow import MlflowClient

        active = _active_run()
        if not self.run_per_fit:
            if active is None:
                raise RuntimeError(
                    "MLflowLogger(run_per_fit=False) logs into the active MLflow run, and no "
                    "run is active: fit inside `with mlflow.start_run():`, or use "
                    "run_per_fit=True"
                )
            uri, run_id = active
            self._run = (MlflowClient(tracking_uri=self.tracking_uri or uri), run_id, False)
            return
        uri, parent = self._parent or active or (self.tracking_uri, None)
        client = MlflowClient(tracking_uri=self.tracking_uri or uri)
        tags = {}
        if parent is not None:
            experiment = client.get_run(parent).info.experiment_id
            tags["mlflow.parentRunId"] = parent
        else:
            experiment = _current_experiment()
        name = self.run_name
        if name is not None and parent is not None:
            name = f"{name} {_children(client, experiment, parent) + 1}"
        run = client.create_run(experiment, run_name=name, tags=tags)
        self._run = (client, run.info.run_id, True)
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        client.log_batch(
            run.info.run_id,
            params=_params({"epochs": epochs, "steps_per_epoch": steps}),
        )

    def on_epoch_end(self, epoch, logs=None):
        if self._run is None or not logs:
            return
        from mlflow.entities import Metric

        client, run_id, _ = self._run
        now = int(time.time() * 1000)
        metrics = [
            Metric(f"{self.prefix}{name}", float(value), now, int(epoch))
            for name, value in logs.items()
            if _is_number(value)
        ]
        client.log_batch(run_id, metrics=metrics)

    def on_train_end(self, logs=None):
        if self._run is None:
            return
        client, run_id, created = self._run
        if created:
            client.set_terminated(run_id, "FINISHED")
        self._run = None


def _active_run():
    """``(tracking URI, run id)`` of MLflow's active run in this thread, or None."""
    import sys

    mlflow = sys.modules.get("mlflow")
    if mlflow is None:  # never imported: no run can be active
        return None
    run = mlflow.active_run()
    return None if run is None else (mlflow.get_tracking_uri(), run.info.run_id)


def _current_experiment():
    from ._compat import mlflow_current_experiment

    return mlflow_current_experiment()


def _children(client, experiment, parent):
    """How many runs are already nested under ``parent``."""
    runs = client.search_runs([experiment], filter_string=f"tags.mlflow.parentRunId = '{parent}'")
    return len(runs)


def _params(values):
    from mlflow.entities import Param

    return [Param(k, str(v)) for k, v in values.items() if v is not None]


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
