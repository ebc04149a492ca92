"""``fresh_processes`` and ``--fresh-process-per-fit``: every fit in a new worker process."""

import gc
import sys

import numpy as np
import pytest

from skimgaug import fresh_processes

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="needs Python 3.11")


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"n_jobs": 0}, r"'n_jobs' parameter of fresh_processes must be -1 \(one per core\)"),
        ({"n_jobs": 1.5}, "Got 1.5 instead"),
        ({"fits_per_process": 0}, "'fits_per_process' parameter of fresh_processes"),
    ],
)
def test_bad_settings_are_refused_before_any_process_starts(kwargs, said):
    with pytest.raises(ValueError, match=said), fresh_processes(**kwargs):
        pass  # pragma: no cover


@pytest.mark.slow  # three fits in one process, then three in fresh processes
def test_fits_in_fresh_processes_score_as_in_this_process_and_build_no_model_here():
    import keras
    from sklearn.model_selection import cross_validate

    from skimgaug import AugmentedKerasClassifier
    from skimgaug.datasets import make_toy_images

    X, y = make_toy_images(48, image_size=8, n_classes=2, random_state=0)
    X_before = X.copy()
    clf = AugmentedKerasClassifier(
        epochs=2,
        batch_size=16,
        validation_split=0.0,
        verbose=0,
        random_state=0,
        datagen={"rotation_range": 10},
    )
    here = cross_validate(clf, X, y, cv=3, scoring="neg_log_loss")["test_score"]
    gc.collect()
    models = sum(isinstance(o, keras.Model) for o in gc.get_objects())
    with fresh_processes(fits_per_process=1):
        fresh = cross_validate(clf, X, y, cv=3, n_jobs=1, scoring="neg_log_loss")
    np.testing.assert_allclose(fresh["test_score"], here, rtol=1e-4, atol=1e-5)
    gc.collect()
    assert sum(isinstance(o, keras.Model) for o in gc.get_objects()) == models
    np.testing.assert_array_equal(X, X_before)


@pytest.mark.slow  # two folds in fresh processes
def test_cv_with_a_fresh_process_per_fit_gives_the_folds_of_one_process(capsys):
    from skimgaug import cli

    args = ["cv", "--digits", "--folds", "2", "--epochs", "1", "--bootstraps", "0", "--quiet"]
    cli.main(args)
    serial = capsys.readouterr().out
    cli.main([*args, "--fresh-process-per-fit"])
    fresh = capsys.readouterr().out

    def folds(text):
        return [line for line in text.splitlines() if line[:1].isdigit()]

    assert folds(fresh) == folds(serial) and len(folds(serial)) == 2


def test_search_refuses_fresh_processes_with_dask(capsys):
    from skimgaug import cli

    with pytest.raises(SystemExit) as exited:
        cli.main(
            [
                "search",
                "--digits",
                "--grid",
                "datagen__rotation_range=0,10",
                "--out",
                "x",
                "--dask",
                "tcp://127.0.0.1:1",
                "--fresh-process-per-fit",
            ]
        )
    assert exited.value.code == 2
    assert "give one of --dask and --fresh-process-per-fit" in capsys.readouterr().err
