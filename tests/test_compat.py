"""Version quirks handled in skimgaug._compat, pinned so a new release fails loudly."""

import numpy as np
import pytest
from conftest import FAST
from scikeras.wrappers import KerasClassifier
from sklearn.base import is_classifier
from sklearn.utils import get_tags

from skimgaug import AugmentedKerasClassifier
from skimgaug._compat import as_2d_proba, image_data_generator_class


def test_image_data_generator_is_found_in_one_place():
    import tensorflow as tf

    assert image_data_generator_class() is tf.keras.preprocessing.image.ImageDataGenerator


def test_scikeras_alone_is_not_a_classifier_but_ours_is():
    # If this first assertion fails, scikeras fixed its tags and the override in
    # _compat.classifier_tags can go.
    assert not is_classifier(KerasClassifier())
    assert is_classifier(AugmentedKerasClassifier())
    tags = get_tags(AugmentedKerasClassifier())
    assert tags.estimator_type == "classifier"
    assert tags.classifier_tags.poor_score
    assert tags.target_tags.required


def test_legacy_transform_warnings_do_not_reach_the_user(toy, recwarn):
    # The reference engine runs ImageDataGenerator.apply_transform, which reaches
    # scipy.ndimage.interpolation.affine_transform: SciPy deprecates that namespace
    # and warns on every image unless _compat.quiet_legacy_transforms silences it.
    # (The default "vectorized" engine never calls SciPy, so it could not fail here.)
    X, y = toy
    clf = AugmentedKerasClassifier(
        datagen={"rotation_range": 20}, engine="imagedatagenerator", **FAST
    )
    clf.fit(X, y)
    assert not [w for w in recwarn if "scipy.ndimage.interpolation" in str(w.message)]


@pytest.mark.parametrize(
    "proba, n, shape", [(np.array([0.2, 0.8]), 1, (1, 2)), (np.ones((3, 2)), 3, (3, 2))]
)
def test_single_sample_probabilities_stay_2d(proba, n, shape):
    assert as_2d_proba(proba, n).shape == shape
