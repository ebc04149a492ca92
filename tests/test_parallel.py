"""Parallel folds, Dask, faults, and many fits in one process."""

import gc
import os
import signal
import threading
import time
import warnings
from functools import partial

import joblib
import numpy as np
import pytest
from conftest import fast_clf
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate

from skimgaug._parallel import (
    ENV_BATCH_THREADS,
    ENV_THREADS,
    batch_threads,
    cpu_budget,
    worker_threads,
)

AUGMENT = {"rotation_range": 15, "zoom_range": 0.1}


_clf = partial(fast_clf, datagen=AUGMENT, random_state=0)


def _tolerance(n_samples, cv):
    # Worker processes run TensorFlow with fewer threads, so float sums may be
    # ordered differently: allow one prediction per test fold to flip.
    return 1.0 / (n_samples // cv) + 1e-9


@pytest.mark.slow
def test_n_jobs_2_gives_the_scores_of_n_jobs_1(toy):
    X, y = toy
    serial = cross_val_score(_clf(), X, y, cv=3, n_jobs=1)
    parallel = cross_val_score(_clf(), X, y, cv=3, n_jobs=2)
    np.testing.assert_allclose(parallel, serial, atol=_tolerance(len(X), 3))
    result = cross_validate(_clf(), X, y, cv=3, n_jobs=2, return_estimator=True)
    assert all(len(e.history_["loss"]) == 1 for e in result["estimator"])
    search = GridSearchCV(_clf(), {"datagen__rotation_range": [0, 20]}, cv=2, n_jobs=2)
    serial_search = GridSearchCV(_clf(), {"datagen__rotation_range": [0, 20]}, cv=2)
    np.testing.assert_allclose(
        search.fit(X, y).cv_results_["mean_test_score"],
        serial_search.fit(X, y).cv_results_["mean_test_score"],
        atol=_tolerance(len(X), 2),
    )


def _threads_after_fit(X, y):
    import tensorflow as tf

    _clf().fit(X, y)
    return (
        os.environ.get("OMP_NUM_THREADS"),
        tf.config.threading.get_intra_op_parallelism_threads(),
        cpu_budget(),
    )


@pytest.mark.slow
def test_joblib_workers_cap_tensorflow_threads_to_their_share(toy):
    X, y = toy
    results = joblib.Parallel(n_jobs=2)(joblib.delayed(_threads_after_fit)(X, y) for _ in range(2))
    for omp, intra, budget in results:
        share = max(1, (os.cpu_count() or 1) // 2)
        assert omp is not None and intra == int(omp) == budget == share


def test_thread_override_and_its_validation(monkeypatch):
    monkeypatch.setenv(ENV_THREADS, "3")
    assert worker_threads() == 3
    monkeypatch.setenv(ENV_THREADS, "many")
    with pytest.raises(ValueError, match=rf"{ENV_THREADS} environment variable must be"):
        worker_threads()
    monkeypatch.delenv(ENV_THREADS)
    assert worker_threads() is None  # the main process is left alone


@pytest.mark.slow
def test_ten_fits_leave_no_live_keras_models(digits):
    import keras

    def live_models():
        gc.collect()
        return {id(o) for o in gc.get_objects() if isinstance(o, keras.Model)}

    X, y = digits
    before = live_models()  # models other tests of this process still hold
    for _ in range(10):
        clf = _clf(validation_split=0.1).fit(X[:300], y[:300])
        clf.predict(X[300:400])
        del clf
        assert live_models() <= before


@pytest.mark.slow
def test_failing_candidate_scores_nan_with_a_warning(toy):
    X, y = toy
    search = GridSearchCV(_clf(), {"datagen__rotation_range": [10, -5]}, cv=2, error_score=np.nan)
    with pytest.warns(FitFailedWarning, match="rotation_range must be a finite number >= 0"):
        search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    assert search.best_params_ == {"datagen__rotation_range": 10}


# ----------------------------------------------------------------------------
# Dask
# ----------------------------------------------------------------------------
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def dask_client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=50,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _search():
    return GridSearchCV(_clf(), {"datagen__rotation_range": [0, 15, 30]}, cv=3)


@pytest.mark.slow
def test_grid_search_on_dask_matches_the_serial_run(toy, dask_client):
    X, y = toy
    serial = _search().fit(X, y).cv_results_
    with joblib.parallel_backend("dask"):
        remote = _search().fit(X, y).cv_results_
    for key in ("split0_test_score", "split1_test_score", "split2_test_score"):
        np.testing.assert_allclose(remote[key], serial[key], atol=_tolerance(len(X), 3))
    # Each worker has one thread: its fits give TensorFlow one intra-op thread,
    # and skimgaug's own pools a budget of one core.
    futures = [dask_client.submit(_threads_after_fit, X, y, pure=False) for _ in range(2)]
    assert [(intra, budget) for _, intra, budget in dask_client.gather(futures)] == [(1, 1)] * 2


@pytest.mark.slow
def test_a_worker_killed_mid_search_is_retried(toy, dask_client):
    X, y = toy
    serial = _search().fit(X, y).cv_results_["mean_test_score"]
    victim = next(iter(dask_client.run(os.getpid).values()))

    def kill_when_busy():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(dask_client.processing().values()):
                time.sleep(1.0)  # let it get into a fit
                os.kill(victim, signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with joblib.parallel_backend("dask"):
            remote = _search().fit(X, y).cv_results_["mean_test_score"]
    killer.join()
    assert victim not in dask_client.run(os.getpid).values()  # it really died
    np.testing.assert_allclose(remote, serial, atol=_tolerance(len(X), 3))


@pytest.fixture
def tensorflow_threads_unset(monkeypatch):
    import tensorflow as tf

    monkeypatch.setattr(tf.config.threading, "get_intra_op_parallelism_threads", lambda: 0)
    return tf


def test_batch_threads_are_the_cores_left_after_tensorflows_share(
    monkeypatch, tensorflow_threads_unset
):
    monkeypatch.delenv(ENV_BATCH_THREADS, raising=False)
    monkeypatch.setenv(ENV_THREADS, "8")  # this process' budget: 8 cores
    assert cpu_budget() == 8
    assert batch_threads(gpu=False) == 4  # the CPU trains: half each
    assert batch_threads(gpu=True) == 7  # a GPU trains: one core feeds it
    tf = tensorflow_threads_unset
    monkeypatch.setattr(tf.config.threading, "get_intra_op_parallelism_threads", lambda: 6)
    assert batch_threads(gpu=False) == 2  # TensorFlow configured to 6 threads
    monkeypatch.setenv(ENV_THREADS, "1")
    assert batch_threads(gpu=False) == 1  # at least one
    monkeypatch.setenv(ENV_BATCH_THREADS, "3")
    assert batch_threads() == 3
    monkeypatch.setenv(ENV_BATCH_THREADS, "some")
    with pytest.raises(ValueError, match=rf"{ENV_BATCH_THREADS} environment variable must be"):
        batch_threads()


def test_the_decoding_pool_follows_the_budget(monkeypatch):
    from skimgaug._data._paths import _executor

    monkeypatch.setenv(ENV_THREADS, "1")
    assert _executor()._max_workers == 1
    monkeypatch.setenv(ENV_THREADS, "3")
    assert _executor()._max_workers == 3
    monkeypatch.delenv(ENV_THREADS)
    assert _executor()._max_workers == len(os.sched_getaffinity(0))
