"""Predicting on pixel values far outside the training images' range warns (InputRangeWarning)."""

import warnings

import numpy as np
import pytest
from conftest import FAST

from skimgaug import AugmentedKerasClassifier, load_model, save_model
from skimgaug.exceptions import InputRangeWarning


def test_predict_warns_for_images_scaled_otherwise_and_not_for_clean_ones(digits, tmp_path):
    X, y = digits  # values 0-16
    clf = AugmentedKerasClassifier(datagen={"rescale": 1 / 16}, random_state=0, **FAST)
    clf.fit(X[:200], y[:200])
    assert clf.pixel_range_ == (0.0, 16.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputRangeWarning)
        clf.predict(X[200:260])  # the same kind of images: no warning
        clf.predict(X[200:260] * 1.2)  # a little brighter: still none
    with pytest.warns(InputRangeWarning, match=r"from 0 to 255.*within 0 to 16"):
        clf.predict(X[200:260] * 255 / 16)  # 8-bit values
    with pytest.warns(InputRangeWarning, match="from -16 to 0"):
        clf.predict_proba(-X[200:260])
    save_model(clf, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert loaded.pixel_range_ == (0.0, 16.0)
    with pytest.warns(InputRangeWarning):
        loaded.predict(np.full((4, 8, 8, 1), 255.0, dtype=np.float32))
