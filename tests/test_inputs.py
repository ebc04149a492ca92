"""Bad input gets a clear ValueError/TypeError before any training."""

import numpy as np
import pytest
from conftest import fast_clf
from sklearn.exceptions import NotFittedError


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if Keras training starts: errors must come first."""
    import keras

    def refuse(*args, **kwargs):
        raise AssertionError("training started before the input error")

    monkeypatch.setattr(keras.Model, "fit", refuse)


@pytest.mark.parametrize("bad, name", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_nan_or_infinite_pixels(toy, no_training, bad, name):
    X, y = toy
    X = X.copy()
    X[3, 2, 2, 0] = bad
    with pytest.raises(ValueError, match=f"Input X contains {name}"):
        fast_clf(datagen={"rotation_range": 10}).fit(X, y)


def test_x_and_y_lengths_differ(toy, no_training):
    X, y = toy
    with pytest.raises(ValueError, match="X has 60 and y has 59"):
        fast_clf().fit(X, y[:-1])


@pytest.mark.parametrize("shape", [(60,), (60, 8, 8, 1, 1)])
def test_image_rank_must_be_2_3_or_4(toy, no_training, shape):
    _, y = toy
    with pytest.raises(ValueError, match=r"X must be images of shape \(n, height, width"):
        fast_clf().fit(np.zeros(shape), y)


def test_rows_need_image_shape_when_datagen_is_set(toy, no_training):
    X, y = toy
    with pytest.raises(ValueError, match=r"need images.*image_shape=\(8, 8, 1\)"):
        fast_clf(datagen={"rotation_range": 10}).fit(X.reshape(60, -1), y)


def test_image_shape_must_match_the_rows(toy, no_training):
    X, y = toy
    with pytest.raises(
        ValueError, match=r"64 values per row, but image_shape=\(8, 4, 1\) needs 32"
    ):
        fast_clf(image_shape=(8, 4, 1)).fit(X.reshape(60, -1), y)


@pytest.mark.parametrize("image_shape", [(8, 8, 0), "8x8", (8,), (8.0, 8, 1)])
def test_image_shape_parameter_is_checked(toy, no_training, image_shape):
    X, y = toy
    with pytest.raises(ValueError, match=r"The 'image_shape' parameter .* Got"):
        fast_clf(image_shape=image_shape).fit(X, y)


def test_predict_with_another_channel_count(toy_rgb):
    X, y = toy_rgb
    clf = fast_clf().fit(X, y)
    with pytest.raises(ValueError, match=r"images with 1 channels, but .* expecting 3 channels"):
        clf.predict(X[..., :1])


def test_predict_with_another_image_size(toy_rgb):
    X, y = toy_rgb
    clf = fast_clf().fit(X, y)
    with pytest.raises(ValueError, match=r"samples of shape \(8, 8, 3\), .* \(8, 10, 3\)"):
        clf.predict(X[:, :, :8])


def test_single_class(toy, no_training):
    X, _ = toy
    with pytest.raises(ValueError, match=r"at least 2 classes .* got only 1 class: \[7\]"):
        fast_clf().fit(X, np.full(len(X), 7))


@pytest.mark.parametrize(
    "X, error, message",
    [
        (np.full((4, 8, 8), "a"), TypeError, "X must contain numbers.*could not be converted"),
        (np.zeros((4, 8, 8), dtype=complex), ValueError, "Complex data not supported"),
    ],
)
def test_non_numeric_x(no_training, X, error, message):
    with pytest.raises(error, match=message):
        fast_clf().fit(X, [0, 1, 0, 1])


def test_sparse_x_is_refused(no_training):
    from scipy import sparse

    with pytest.raises(TypeError, match=r"sparse input is not supported.*toarray"):
        fast_clf().fit(sparse.csr_matrix(np.eye(4)), [0, 1, 0, 1])


def test_unknown_datagen_key_before_training(toy, no_training):
    X, y = toy
    with pytest.raises(ValueError, match="did you mean 'rotation_range'"):
        fast_clf(datagen={"rotation": 10}).fit(X, y)


def test_datagen_key_given_as_estimator_parameter(toy, no_training):
    X, y = toy
    with pytest.raises(
        ValueError, match=r"'rotation_range' \(did you mean 'datagen__rotation_range'\?\)"
    ):
        fast_clf(rotation_range=10).fit(X, y)


def test_out_of_range_routed_value(toy, no_training):
    X, y = toy
    with pytest.raises(ValueError, match=r"datagen__fill_mode must be one of .* got 'mirror'"):
        fast_clf(datagen__fill_mode="mirror").fit(X, y)


def test_validation_split_inside_datagen(toy, no_training):
    X, y = toy
    with pytest.raises(ValueError, match=r"AugmentedKerasClassifier\(validation_split=\.\.\.\)"):
        fast_clf(datagen={"validation_split": 0.2}).fit(X, y)


@pytest.mark.parametrize("value", [1.0, -0.1, "0.2", True])
def test_validation_split_parameter_is_checked(toy, no_training, value):
    X, y = toy
    with pytest.raises(ValueError, match=r"'validation_split' parameter .* \[0, 1\)"):
        fast_clf(validation_split=value).fit(X, y)


def test_validation_split_and_validation_data_together(toy, no_training):
    X, y = toy
    with pytest.raises(ValueError, match="either validation_split or validation_data"):
        fast_clf(validation_split=0.2).fit(X, y, validation_data=(X, y))


def test_random_state_of_the_wrong_type(toy, no_training):
    X, y = toy
    with pytest.raises(
        TypeError,
        match=r"'random_state' parameter of AugmentedKerasClassifier must be None, an int",
    ):
        fast_clf(random_state="seed").fit(X, y)


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        fast_clf().predict(np.zeros((2, 8, 8, 1)))
