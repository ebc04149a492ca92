"""Successive halving with epochs as the resource: scikit-learn's search, run on the estimator."""

import keras
import numpy as np
import pytest
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GroupKFold, HalvingGridSearchCV

from skimgaug import AugmentedKerasClassifier
from skimgaug.datasets import make_toy_images

#: (epochs, steps per epoch, the cosine schedule's decay steps) of every fit.
FITS = []


class _Schedule(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        schedule = self.model.optimizer.get_config()["learning_rate"]["config"]
        FITS.append((self.params["epochs"], self.params["steps"], schedule["decay_steps"]))


@pytest.mark.slow  # eight fits
def test_halving_over_epochs_gives_each_round_its_epochs_and_schedule_and_keeps_groups():
    X, y = make_toy_images(64, image_size=8, n_classes=2, random_state=0)
    groups = np.arange(len(y)) // 4  # 16 patients of 4 images
    FITS.clear()
    clf = AugmentedKerasClassifier(
        epochs=1,
        batch_size=16,
        validation_split=0.0,
        verbose=0,
        random_state=0,
        callbacks=[_Schedule()],
    )
    search = HalvingGridSearchCV(
        clf,
        {"datagen__rotation_range": [0, 10, 20]},
        resource="epochs",
        min_resources=1,
        max_resources=3,
        factor=3,
        cv=GroupKFold(2),
        refit=False,
        random_state=0,
    )
    search.fit(X, y, groups=groups)
    results = search.cv_results_
    # round 0: 3 candidates x 1 epoch; round 1: the best x 3 epochs
    assert results["iter"].tolist() == [0, 0, 0, 1]
    assert results["n_resources"].tolist() == [1, 1, 1, 3]
    assert sorted(epochs for epochs, _, _ in FITS) == [1] * 6 + [3] * 2
    for epochs, steps, decay_steps in FITS:  # the learning rate decays over the round's epochs
        assert decay_steps == epochs * steps
    assert search.n_resources_ == [1, 3]
