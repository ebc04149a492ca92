"""The caller's process is left as it was: global RNGs, TensorFlow determinism, OpenCV."""

import os
import random
import subprocess
import sys
import threading

import numpy as np
import pytest
from conftest import FAST

from skimgaug import AugmentedKerasClassifier
from skimgaug._augment._warp import single_threaded_opencv

AUGMENT = {"rotation_range": 20, "horizontal_flip": True}

_FRESH_PROCESS = """
import os
import random
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
random.seed(7)
state = random.getstate()
from skimgaug import AugmentedKerasClassifier  # imports TensorFlow, which draws from random
from skimgaug.datasets import make_toy_images
from tensorflow.python.framework import config
X, y = make_toy_images(40, image_size=8, n_classes=2, random_state=0)
AugmentedKerasClassifier(epochs=1, verbose=0, random_state=0).fit(X, y)
print("determinism", config.is_op_determinism_enabled())
print("python random untouched", random.getstate() == state)
"""


@pytest.mark.parametrize(
    ("env_value", "expected"),
    [
        pytest.param(None, "False", marks=pytest.mark.slow),
        pytest.param("1", "True", marks=pytest.mark.slow),
    ],  # 6 s each in a fresh process; test_two_fits_in_two_threads checks in this one
)
def test_a_seeded_fit_leaves_op_determinism_as_it_was_in_a_fresh_process(env_value, expected):
    # scikeras sets TF_DETERMINISTIC_OPS=1 before TensorFlow's first read of it.
    env = {k: v for k, v in os.environ.items() if k != "TF_DETERMINISTIC_OPS"}
    if env_value is not None:
        env["TF_DETERMINISTIC_OPS"] = env_value
    result = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"determinism {expected}" in result.stdout
    assert "python random untouched True" in result.stdout  # importing TensorFlow included


def test_seeded_fits_in_threads_never_lose_the_determinism_variable(monkeypatch):
    # scikeras saves TF_DETERMINISTIC_OPS, reads TensorFlow's seed, sets the variable,
    # and pops it without a default on exit: two seeded fits that both save "absent"
    # before either sets it would pop it twice (KeyError). Force that interleaving.
    from scikeras.utils import random_state as scikeras_random

    from skimgaug._compat import preserved_op_determinism

    monkeypatch.delenv("TF_DETERMINISTIC_OPS", raising=False)
    barrier = threading.Barrier(2, timeout=10)
    real_get_seed = scikeras_random.tf_get_seed

    def get_seed_after_both_saved():
        if sys._getframe(1).f_code.co_name == "tensorflow_random_state":  # not our own save
            barrier.wait()
        return real_get_seed()

    monkeypatch.setattr(scikeras_random, "tf_get_seed", get_seed_after_both_saved)
    errors = []

    def seeded_fit(seed):
        try:
            with preserved_op_determinism(seeded=True):
                with scikeras_random.tensorflow_random_state(seed):
                    barrier.wait()  # both inside: the exits come in either order
        except Exception as exc:  # noqa: BLE001 - any error of the thread is the failure
            errors.append(repr(exc))

    threads = [threading.Thread(target=seeded_fit, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert "TF_DETERMINISTIC_OPS" not in os.environ  # as it was before


@pytest.mark.parametrize("random_state", [None, 0])
def test_python_random_is_left_alone_by_fit_partial_fit_and_predict(toy, random_state):
    X, y = toy
    random.seed(123)
    state = random.getstate()
    clf = AugmentedKerasClassifier(datagen=AUGMENT, random_state=random_state, **FAST)
    clf.fit(X, y)
    clf.partial_fit(X, y)
    clf.predict_proba(X)
    assert random.getstate() == state


@pytest.mark.slow  # 3-5 s of fits: run once in CI with the slow tests
def test_unseeded_fits_start_from_different_weights(toy):
    # No augmentation and no shuffling: only the initial weights can differ.
    X, y = toy
    random.seed(0)

    def unseeded():
        clf = AugmentedKerasClassifier(shuffle=False, **FAST)
        return clf.fit(X, y).predict_proba(X)

    assert not np.array_equal(unseeded(), unseeded())


def test_opencv_threads_are_restored_when_fits_overlap_in_threads():
    cv2 = pytest.importorskip("cv2")
    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
        inside = []

        def first():
            with single_threaded_opencv():
                first_in.set()
                second_in.wait(5)
            first_out.set()

        def second():
            first_in.wait(5)
            with single_threaded_opencv():
                second_in.set()
                first_out.wait(5)
                inside.append(cv2.getNumThreads())  # still single-threaded for this fit

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert inside == [1]
        assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(before)


def test_two_fits_in_two_threads_leave_the_process_as_it_was(toy):
    cv2 = pytest.importorskip("cv2")
    from tensorflow.python.framework import config

    X, y = toy
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    random.seed(5)
    np.random.seed(5)
    python_state, numpy_state = random.getstate(), np.random.get_state()[1].copy()
    determinism = config.is_op_determinism_enabled()
    variable = os.environ.get("TF_DETERMINISTIC_OPS")
    from scikeras.utils.random_state import tf_get_seed

    seed = tf_get_seed()
    try:
        errors = []

        def fit(random_state):
            try:
                AugmentedKerasClassifier(datagen=AUGMENT, random_state=random_state, **FAST).fit(
                    X, y
                )
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=fit, args=(seed,)) for seed in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert cv2.getNumThreads() == 2
        assert random.getstate() == python_state
        assert np.array_equal(np.random.get_state()[1], numpy_state)
        assert config.is_op_determinism_enabled() == determinism
        # scikeras' seeded fit also sets this variable and TensorFlow's global seed
        assert os.environ.get("TF_DETERMINISTIC_OPS") == variable
        assert tf_get_seed() == seed
    finally:
        cv2.setNumThreads(before)


@pytest.mark.slow  # 6-25 s: run by CI once
def test_a_seeded_fit_ignores_other_threads_drawing_from_python_random(toy):
    """Dask's worker samples Python's global random while fits run in its threads."""
    import random
    import threading

    from conftest import fast_clf

    X, y = toy
    quiet = fast_clf(random_state=0, model__dropout=0.5).fit(X, y).predict_proba(X)
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()

    thread = threading.Thread(target=draw)
    thread.start()
    try:
        busy = fast_clf(random_state=0, model__dropout=0.5).fit(X, y).predict_proba(X)
    finally:
        stop.set()
        thread.join()
    np.testing.assert_allclose(busy, quiet, rtol=1e-5, atol=1e-6)
