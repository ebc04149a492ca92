"""With ``datagen=None``, AugmentedKerasClassifier does what scikeras' KerasClassifier does.

Each test pins one behaviour that scikeras 0.13.0's own test suite checks for
``KerasClassifier`` (the scikeras test is named in the docstring).
"""

import keras
import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import FunctionTransformer

from skimgaug import AugmentedKerasClassifier

#: scikeras' defaults (its batch size of 32 included, which some tests count on), 1 epoch.
PLAIN = {"epochs": 1, "verbose": 0, "random_state": 0}


@pytest.fixture
def rows():
    """12 rows of 4 features, 2 balanced classes."""
    X = np.random.RandomState(0).uniform(size=(12, 4)).astype("float32")
    return X, np.arange(12) % 2


def small_mlp(meta, compile_kwargs):
    """One hidden layer, a softmax over the classes."""
    inputs = keras.Input(shape=meta["X_shape_"][1:])
    hidden = keras.layers.Dense(4, activation="relu")(inputs)
    outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(hidden)
    model = keras.Model(inputs, outputs, name="small_mlp")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


class BatchCounter(keras.callbacks.Callback):
    """Counts training batches."""

    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.batches += 1


# ----------------------------------------------------------------------------
# Keyword arguments of fit override the parameters (test_parameters::test_kwargs)
# ----------------------------------------------------------------------------
def test_fit_batch_size_and_epochs_given_to_fit_override_the_parameters(rows):
    X, y = rows
    counter = BatchCounter()
    clf = AugmentedKerasClassifier(small_mlp, batch_size=12, callbacks=[counter], **PLAIN)
    clf.fit(X, y, batch_size=4, epochs=2)
    assert counter.batches == 2 * 3  # 2 epochs of 12 / 4 batches
    assert len(clf.history_["loss"]) == 2
    assert clf.batch_size == 12  # the parameter itself is unchanged


def test_fit_validation_split_given_to_fit_holds_out_a_validation_set(rows):
    X, y = rows
    clf = AugmentedKerasClassifier(small_mlp, **PLAIN).fit(X, y, validation_split=0.25)
    assert "val_loss" in clf.history_
    assert clf.validation_split == 0.0


def test_fit_validation_split_given_to_fit_is_checked(rows):
    X, y = rows
    with pytest.raises(ValueError, match=r"'fit\(validation_split=...\)' parameter .* Got 1.5"):
        AugmentedKerasClassifier(small_mlp, **PLAIN).fit(X, y, validation_split=1.5)


# ----------------------------------------------------------------------------
# A subclass's _keras_build_fn is the model (test_api::test_classify_inherit_class_build_fn)
# ----------------------------------------------------------------------------
class OwnBuilder(AugmentedKerasClassifier):
    def _keras_build_fn(self, meta, compile_kwargs):
        return small_mlp(meta, compile_kwargs)


def test_a_subclass_keras_build_fn_is_used_instead_of_the_default_model(rows):
    X, y = rows
    clf = OwnBuilder(**PLAIN).fit(X, y)
    assert clf.model_.name == "small_mlp"
    assert clf.predict(X).shape == (12,)


# ----------------------------------------------------------------------------
# Several outputs: y reaches Keras as a list (test_input_outputs, test_compile_kwargs)
# ----------------------------------------------------------------------------
class OneOutputPerLabel(BaseEstimator, TransformerMixin):
    """Multilabel ``y`` of shape (n, k) -> k arrays of shape (n, 1), one per output."""

    def fit(self, y):
        self.n_outputs_expected_ = y.shape[1]
        return self

    def transform(self, y):
        return np.split(np.asarray(y, dtype="float32"), y.shape[1], axis=1)

    def inverse_transform(self, y, return_proba=False):
        proba = np.column_stack(y)
        return proba if return_proba else (proba > 0.5).astype(int)

    def get_metadata(self):
        return {"n_outputs_expected_": self.n_outputs_expected_}


class MultiOutputClassifier(AugmentedKerasClassifier):
    @property
    def target_encoder(self):
        return OneOutputPerLabel()


def two_sigmoid_outputs(meta, compile_kwargs):
    inputs = keras.Input(shape=meta["X_shape_"][1:])
    hidden = keras.layers.Dense(4, activation="relu")(inputs)
    outputs = [keras.layers.Dense(1, activation="sigmoid")(hidden) for _ in range(2)]
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss=["binary_crossentropy"] * 2)
    return model


@pytest.fixture
def multilabel(rows):
    X, y = rows
    return X, np.column_stack([y, 1 - y])


def test_a_multi_output_target_trains_and_predicts(multilabel):
    X, y = multilabel
    clf = MultiOutputClassifier(two_sigmoid_outputs, batch_size=5, **PLAIN)
    clf.fit(X, y, sample_weight=np.ones(len(y)))
    assert clf.predict(X).shape == (12, 2)


def test_a_multi_output_target_can_hold_out_a_validation_set(multilabel):
    X, y = multilabel
    clf = MultiOutputClassifier(two_sigmoid_outputs, validation_split=0.25, **PLAIN)
    clf.fit(X, y)
    assert "val_loss" in clf.history_


def test_multi_output_predictions_made_in_chunks_are_joined_output_by_output(
    multilabel, monkeypatch
):
    X, y = multilabel
    clf = MultiOutputClassifier(two_sigmoid_outputs, batch_size=5, **PLAIN).fit(X, y)
    monkeypatch.setattr(
        "skimgaug._augment._batches._CHUNK_BYTES", 8 * X.shape[1] * 5
    )  # 5 rows each
    expected = np.column_stack(clf.model_.predict(X, verbose=0))
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-5)


# ----------------------------------------------------------------------------
# Several inputs: X reaches Keras as a list or dict (test_input_outputs::test_multi_input)
# ----------------------------------------------------------------------------
def split_list(X):
    return [X[:, :1], X[:, 1:]]


def split_dict(X):
    return {"first": X[:, :1], "rest": X[:, 1:]}


class MultiInputClassifier(AugmentedKerasClassifier):
    def __init__(self, model=None, *, split=split_list, **kwargs):
        super().__init__(model, **kwargs)
        self.split = split

    @property
    def feature_encoder(self):
        return FunctionTransformer(self.split)


def two_inputs(meta, compile_kwargs, named=False):
    first = keras.Input(shape=(1,), name="first")
    rest = keras.Input(shape=(meta["X_shape_"][-1] - 1,), name="rest")
    hidden = keras.layers.Concatenate()([keras.layers.Dense(3)(first), rest])
    outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(hidden)
    model = keras.Model({"first": first, "rest": rest} if named else [first, rest], outputs)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize("split", [split_list, split_dict], ids=["list", "dict"])
def test_multi_input_X_is_passed_through_untouched(rows, split):
    X, y = rows
    clf = MultiInputClassifier(
        two_inputs, split=split, model__named=split is split_dict, batch_size=5, **PLAIN
    )
    clf.fit(X, y, validation_data=(X[:4], y[:4]))
    assert "val_loss" in clf.history_
    expected = clf.model_.predict(split(X), verbose=0)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-6)
    assert clf.score(X, y) == np.mean(clf.predict(X) == y)


def test_multi_input_X_with_image_settings_is_refused_naming_X():
    X = np.random.RandomState(0).uniform(size=(8, 4, 4, 1)).astype("float32")
    y = np.arange(8) % 2

    def image_and_mean(images):
        return [images, images.mean(axis=(1, 2))]

    clf = MultiInputClassifier(
        two_inputs, split=image_and_mean, datagen={"rotation_range": 10}, **PLAIN
    )
    with pytest.raises(ValueError, match=r"X reaches the model as a list of 2 arrays"):
        clf.fit(X, y)


# ----------------------------------------------------------------------------
# partial_fit on changed data raises as in scikeras (test_errors)
# ----------------------------------------------------------------------------
def test_partial_fit_with_an_added_target_dimension_raises(rows):
    X, y = rows
    clf = AugmentedKerasClassifier(small_mlp, **PLAIN).fit(X, y)
    with pytest.raises(ValueError, match="y has 2 dimensions, but this "):
        clf.partial_fit(X, y.reshape(-1, 1))


def test_partial_fit_with_more_target_columns_raises(rows):
    X, y = rows
    column = y.reshape(-1, 1)
    with pytest.warns(UserWarning, match="column-vector y"):  # scikit-learn's warning
        clf = AugmentedKerasClassifier(small_mlp, **PLAIN).fit(X, column)
        clf.partial_fit(X, column)  # the shape of fit's y is fine
    with pytest.raises(ValueError, match="target features"):
        clf.partial_fit(X, np.column_stack([column, column]))


def test_partial_fit_with_an_unsafely_cast_X_dtype_raises():
    X, y = np.array([[1, 2], [2, 3]] * 3), np.array([1, 3] * 3)
    clf = AugmentedKerasClassifier(small_mlp, **PLAIN).fit(X, y)
    clf.partial_fit(X.astype(np.uint8), y)  # a safe cast is fine
    with pytest.raises(ValueError, match="Got X with dtype float64, but this "):
        clf.partial_fit(X.astype(np.float64), y)
    assert clf.predict(X.astype(np.float64)).shape == (6,)  # predict takes any number


@pytest.mark.parametrize(
    "loss",
    [
        "sparse_categorical_crossentropy",
        keras.losses.SparseCategoricalCrossentropy(),
        keras.losses.SparseCategoricalCrossentropy,
    ],
    ids=["name", "instance", "class"],
)
def test_a_sparse_categorical_loss_on_binary_labels_gets_a_softmax_head(toy, loss):
    # scikeras' test_compile_kwargs gives losses as names, classes and instances.
    X, y = toy
    clf = AugmentedKerasClassifier(loss=loss, epochs=2, verbose=0, random_state=0).fit(X, y)
    assert clf.model_.outputs[0].shape[-1] == 2
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize(
    "loss", ["categorical_crossentropy", keras.losses.CategoricalCrossentropy()]
)
def test_a_one_hot_loss_on_binary_labels_is_refused_by_the_default_model(toy, loss):
    # scikeras one-hot encodes multiclass labels for it, never binary ones.
    X, y = toy
    clf = AugmentedKerasClassifier(loss=loss, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="needs one-hot labels.*sparse_categorical_crossentropy"):
        clf.fit(X, y)


def test_a_loss_from_logits_is_refused_by_the_default_model_before_training(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(
        loss=keras.losses.BinaryCrossentropy(from_logits=True), epochs=1, verbose=0
    )
    with pytest.raises(ValueError, match=r"BinaryCrossentropy\(from_logits=True\)"):
        clf.fit(X, y)
    assert not hasattr(clf, "history_")


def test_verbose_may_be_a_bool_as_in_scikeras(rows):
    # scikeras' test_parameters.py::test_kwargs fits with verbose=False.
    X, y = rows
    AugmentedKerasClassifier(small_mlp, **{**PLAIN, "verbose": False}).fit(X, y)


def test_history_holds_the_accuracy_unless_metrics_are_given(rows):
    X, y = rows
    default = AugmentedKerasClassifier(**PLAIN).fit(X, y)
    assert set(default.history_) == {"loss", "accuracy"}
    none = AugmentedKerasClassifier(metrics=[], **PLAIN).fit(X, y)
    assert set(none.history_) == {"loss"}
