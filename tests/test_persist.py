"""save_model / load_model: a fitted estimator survives a folder, and loading runs no code."""

import json
import pickle
import re
import shutil
from pathlib import Path

import joblib
import keras
import numpy as np
import pytest
from conftest import ARTICLE, fast_clf
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skimgaug._persistence._codec import NotSaveable as _NotSaveable
from skimgaug._persistence._codec import decode as _decode
from skimgaug._persistence._codec import encode as _encode
from skimgaug._persistence._folder import load_model, save_model
from skimgaug.datasets import load_image_folder

FEATUREWISE = {**ARTICLE, "featurewise_center": True, "featurewise_std_normalization": True}


def clf(**params):
    """``fast_clf`` trained eagerly (3x faster than tracing for 4 steps), 4-filter default model."""
    small = {} if "model" in params else {"model__filters": 4}
    return fast_clf(**{**small, "run_eagerly": True, **params})


@keras.saving.register_keras_serializable(package="skimgaug_tests")
def halve(image):
    """A registered preprocessing_function."""
    return image * 0.5


class Unregistered(keras.layers.Layer):
    """A custom layer that Keras cannot find by name on load."""

    def call(self, x):
        return x


def tiny_model(meta, compile_kwargs):
    """A user model builder: recorded by name in the JSON, never imported on load."""
    inputs = keras.Input(shape=meta["X_shape_"][1:])
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def model_with_unregistered_layer(meta, compile_kwargs):
    inputs = keras.Input(shape=meta["X_shape_"][1:])
    x = keras.layers.Flatten()(Unregistered()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


# ----------------------------------------------------------------------------
# Checks written once
# ----------------------------------------------------------------------------
def check_same_predictions(loaded, original, X, y):
    """predict_proba (to float32 round-off), predict (labels and dtype) and score agree."""
    np.testing.assert_allclose(
        loaded.predict_proba(X), original.predict_proba(X), rtol=1e-5, atol=1e-6
    )
    expected = original.predict(X)
    predicted = loaded.predict(X)
    np.testing.assert_array_equal(predicted, expected)
    assert predicted.dtype == expected.dtype
    assert loaded.score(X, y) == pytest.approx(original.score(X, y))


def round_trip(estimator, folder):
    save_model(estimator, folder)
    return load_model(folder)


def copy_of(folder, tmp_path):
    return Path(shutil.copytree(folder, tmp_path / "copy"))


def edit_json(folder, change):
    file = folder / "skimgaug.json"
    document = json.loads(file.read_text())
    change(document)
    file.write_text(json.dumps(document))


def entries(folder):
    return sorted(path.name for path in Path(folder).iterdir())


# ----------------------------------------------------------------------------
# Parameter values <-> JSON
# ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        (8, 8),
        {0: 1.0, 1: 2.5},
        {"a": [1, (2, 3)], "nested": {"b": None}},
        {"__skimgaug_type__": "not a tag"},
        float("inf"),
        np.dtype("<U3"),
        np.float32,
        np.array([["a", "b"]], dtype=object),
        np.arange(6, dtype=np.int16).reshape(2, 3),
    ],
    ids=[
        "tuple",
        "int-keys",
        "nested",
        "tag-like-key",
        "inf",
        "dtype",
        "scalar-type",
        "object-array",
        "int-array",
    ],
)
def test_values_survive_json_with_their_types(value):
    text = json.dumps(_encode(value, "p"), allow_nan=False)
    back = _decode(json.loads(text), "p")
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype
        np.testing.assert_array_equal(back, value)
    else:
        assert back == value
        assert [type(k) for k in getattr(back, "keys", list)()] == [
            type(k) for k in getattr(value, "keys", list)()
        ]


def test_numpy_scalars_become_python_numbers():
    assert _encode({"n": np.int64(3), "x": np.float32(0.5), "b": np.bool_(True)}, "p") == {
        "n": 3,
        "x": 0.5,
        "b": True,
    }
    assert type(_encode(np.int64(3), "p")) is int


@pytest.mark.parametrize(
    "value, reason",
    [
        (object(), "has no JSON form"),
        (lambda x: x, "<lambda>, which is not registered as Keras-serializable; a lambda"),
        ({1, 2}, "has no JSON form"),
    ],
    ids=["object", "lambda", "set"],
)
def test_values_without_a_json_form_are_refused(value, reason):
    with pytest.raises(_NotSaveable, match=reason):
        _encode(value, "p")


# ----------------------------------------------------------------------------
# Fitted estimators shared by the module (each fit is about a second)
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def featurewise(toy):
    X, y = toy
    return clf(
        datagen=FEATUREWISE,
        datagen__rescale=0.5,
        optimizer__learning_rate=0.01,
        class_weight={0: 1.0, 1: 2.0},
        target_size=(8, 8),
        random_state=0,
    ).fit(X, y)


@pytest.fixture(scope="module")
def saved(featurewise, tmp_path_factory):
    """The ``featurewise`` estimator's folder; copy it before changing anything in it."""
    folder = tmp_path_factory.mktemp("saved") / "model"
    save_model(featurewise, folder)
    return folder


@pytest.fixture(scope="module")
def zca(toy):
    X, y = toy
    return clf(datagen={"zca_whitening": True}, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def registered(toy):
    X, y = toy
    return clf(datagen={"preprocessing_function": halve}, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def saved_registered(registered, tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved_registered") / "model"
    save_model(registered, folder)
    return folder


# ----------------------------------------------------------------------------
# Round trips
# ----------------------------------------------------------------------------
def test_round_trip_keeps_predictions_with_featurewise_statistics(featurewise, saved, toy):
    loaded = load_model(saved)
    check_same_predictions(loaded, featurewise, *toy)
    np.testing.assert_array_equal(loaded.standardizer_.mean, featurewise.standardizer_.mean)
    np.testing.assert_array_equal(loaded.standardizer_.std, featurewise.standardizer_.std)


def test_round_trip_keeps_zca_whitening(zca, toy, tmp_path):
    loaded = round_trip(zca, tmp_path / "model")
    with np.load(tmp_path / "model" / "statistics.npz", allow_pickle=False) as statistics:
        assert sorted(statistics.files) == ["mean", "zca_whitening_matrix"]
    check_same_predictions(loaded, zca, *toy)


def _bools(y):
    return y.astype(bool)


def _strings(y):
    return np.array(["cat", "dog", "eel"])[y]


def _one_hot(y):
    return np.eye(3, dtype=np.int64)[y]


def _multilabel(y):
    labels = _one_hot(y)
    labels[::4, 0] = 1  # some images hold two classes
    return labels


@pytest.mark.parametrize(
    "labels, target_type",
    [
        (_bools, "binary"),
        (_strings, "multiclass"),
        pytest.param(_one_hot, "multiclass-onehot", marks=pytest.mark.slow),
        pytest.param(_multilabel, "multilabel-indicator", marks=pytest.mark.slow),
    ],
    ids=["binary-bool", "multiclass-strings", "one-hot", "multilabel"],
)
def test_round_trip_keeps_labels(labels, target_type, toy, toy_rgb, tmp_path):
    X, y = toy if labels is _bools else toy_rgb
    y = labels(y)
    original = clf(random_state=0).fit(X, y)
    assert original.target_type_ == target_type
    loaded = round_trip(original, tmp_path / "model")
    np.testing.assert_array_equal(loaded.classes_, original.classes_)
    assert loaded.classes_.dtype == original.classes_.dtype
    assert loaded.target_type_ == target_type
    check_same_predictions(loaded, original, X, y)


@pytest.mark.slow
def test_round_trip_keeps_the_class_order_given_to_partial_fit(toy, tmp_path):
    X, y = toy
    y = _strings(y)
    original = clf(random_state=0).partial_fit(X, y, classes=np.array(["eel", "dog", "cat"]))
    loaded = round_trip(original, tmp_path / "model")
    np.testing.assert_array_equal(loaded.classes_, ["eel", "dog", "cat"])
    check_same_predictions(loaded, original, X, y)


def test_round_trip_keeps_a_registered_preprocessing_function(registered, saved_registered, toy):
    document = json.loads((saved_registered / "skimgaug.json").read_text())
    assert document["params"]["datagen"]["preprocessing_function"] == {
        "__skimgaug_type__": "registered",
        "name": "skimgaug_tests>halve",
    }
    loaded = load_model(saved_registered)
    assert loaded.datagen["preprocessing_function"] is halve
    check_same_predictions(loaded, registered, *toy)


def test_round_trip_of_image_files_decodes_them_to_the_fitted_size(image_folder, tmp_path):
    paths, labels = load_image_folder(image_folder)
    original = clf(target_size=(8, 8), color_mode="grayscale")
    original.fit(paths, labels)
    loaded = round_trip(original, tmp_path / "model")
    assert loaded.X_shape_ == (len(paths), 8, 8, 1)
    check_same_predictions(loaded, original, paths, labels)


def test_parameters_come_back_with_their_types(featurewise, saved):
    loaded = load_model(saved)
    assert loaded.get_params(deep=False) == featurewise.get_params(deep=False)
    assert type(loaded.target_size) is tuple
    assert list(loaded.class_weight) == [0, 1]  # integer keys, although JSON keys are strings
    assert loaded.get_params()["model__filters"] == 4
    assert loaded.get_params()["optimizer__learning_rate"] == 0.01


def test_clone_of_loaded_estimator_keeps_saved_params(featurewise, saved):
    cloned = clone(load_model(saved))
    assert cloned.get_params(deep=False) == featurewise.get_params(deep=False)
    assert not hasattr(cloned, "model_")


def test_loaded_estimator_refits_with_the_default_model(saved, toy):
    X, y = toy
    loaded = load_model(saved)
    before = loaded.model_
    loaded.fit(X, y)
    assert loaded.model_ is not before
    assert loaded.predict_proba(X).shape == (len(X), 2)


@pytest.mark.slow
def test_loaded_estimator_continues_training_with_partial_fit(featurewise, saved, toy):
    X, y = toy
    loaded = load_model(saved)
    mean = loaded.standardizer_.mean.copy()
    loaded.partial_fit(X, y)
    assert loaded.current_epoch == featurewise.current_epoch + 1
    np.testing.assert_array_equal(loaded.standardizer_.mean, mean)  # statistics belong to it


def test_folder_layout_and_versions(saved):
    assert entries(saved) == ["model.keras", "skimgaug.json", "statistics.npz"]
    document = json.loads((saved / "skimgaug.json").read_text())
    assert document["format"] == "skimgaug-model"
    assert document["format_version"] == 1
    assert {"skimgaug", "keras", "tensorflow"} <= document["versions"].keys()
    assert document["fitted"]["statistics"] == ["mean", "std"]
    with np.load(saved / "statistics.npz", allow_pickle=False) as statistics:
        assert sorted(statistics.files) == ["mean", "std"]


@pytest.fixture(scope="module")
def custom(toy):
    """A user model builder, a callback and a Keras optimizer object as parameters."""
    X, y = toy
    return clf(
        model=tiny_model,
        callbacks=[keras.callbacks.EarlyStopping(monitor="loss")],
        optimizer=keras.optimizers.Adam(learning_rate=0.02),
    ).fit(X, y)


@pytest.fixture(scope="module")
def saved_custom(custom, tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved_custom") / "model"
    save_model(custom, folder)
    return folder


def test_unsaveable_params_are_listed_and_come_back_as_defaults_with_one_warning(
    custom, saved_custom, toy
):
    not_saved = json.loads((saved_custom / "skimgaug.json").read_text())["not_saved"]
    assert sorted(not_saved) == ["callbacks", "model"]
    assert not_saved["model"].endswith(":tiny_model")  # module:qualname, for information only
    with pytest.warns(UserWarning) as record:
        loaded = load_model(saved_custom)
    assert len(record) == 1
    message = str(record[0].message)
    assert re.search(r"back to their defaults: .*model \(.*:tiny_model\)", message)
    assert "callbacks (" in message and "set_params(model=...)" in message
    assert loaded.model is None and loaded.callbacks is None
    check_same_predictions(loaded, custom, *toy)


def test_keras_objects_given_as_params_come_back_from_their_keras_config(saved_custom):
    with pytest.warns(UserWarning, match="back to their defaults"):
        loaded = load_model(saved_custom)
    assert isinstance(loaded.optimizer, keras.optimizers.Adam)
    assert loaded.optimizer.get_config()["learning_rate"] == pytest.approx(0.02)


def test_params_this_version_does_not_accept_are_ignored_with_a_warning(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    edit_json(folder, lambda document: document["params"].update(future_option=3))
    with pytest.warns(UserWarning, match="does not accept were ignored: future_option"):
        loaded = load_model(folder)
    assert "future_option" not in loaded.get_params()


def test_load_model_never_unpickles(saved, featurewise, toy, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("load_model unpickled something")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(joblib, "load", refuse)
    numpy_load, keras_load = np.load, keras.saving.load_model
    calls = []

    def checked_numpy_load(*args, allow_pickle=False, **kwargs):
        calls.append(("numpy", allow_pickle))
        return numpy_load(*args, allow_pickle=allow_pickle, **kwargs)

    def checked_keras_load(*args, safe_mode=True, **kwargs):
        calls.append(("keras", safe_mode))
        return keras_load(*args, safe_mode=safe_mode, **kwargs)

    monkeypatch.setattr(np, "load", checked_numpy_load)
    monkeypatch.setattr(keras.saving, "load_model", checked_keras_load)
    loaded = load_model(saved)
    assert ("numpy", False) in calls and ("keras", True) in calls
    assert all(flag is (kind == "keras") for kind, flag in calls)
    check_same_predictions(loaded, featurewise, *toy)


def test_saving_again_replaces_a_previous_model_folder(featurewise, zca, tmp_path):
    save_model(featurewise, tmp_path / "model")
    save_model(zca, tmp_path / "model")
    assert load_model(tmp_path / "model").datagen == {"zca_whitening": True}
    assert entries(tmp_path) == ["model"]  # no temporary sibling left behind


def test_a_failed_save_leaves_the_previous_model_in_place(featurewise, zca, tmp_path, monkeypatch):
    save_model(featurewise, tmp_path / "model")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model(zca, tmp_path / "model")
    monkeypatch.undo()
    assert entries(tmp_path) == ["model"]
    assert load_model(tmp_path / "model").datagen == featurewise.datagen


# ----------------------------------------------------------------------------
# Errors when saving: nothing is written
# ----------------------------------------------------------------------------
def test_save_refuses_an_unregistered_preprocessing_function(toy, tmp_path):
    X, y = toy
    estimator = clf(datagen={"preprocessing_function": lambda image: image}).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"datagen\['preprocessing_function'\] is .*<lambda>, which is not registered as "
        r"Keras-serializable; a lambda .* define it with def and decorate it with "
        r"@keras\.saving\.register_keras_serializable",
    ):
        save_model(estimator, tmp_path / "model")
    assert entries(tmp_path) == []


def test_save_refuses_a_model_with_an_unregistered_layer(toy, tmp_path):
    X, y = toy
    estimator = clf(model=model_with_unregistered_layer).fit(X, y)
    message = (
        r"Cannot save the Keras model so that it loads safely: its layer classes "
        r"'Unregistered' \(test_persist\) are not registered with Keras; decorate it with "
        r"@keras\.saving\.register_keras_serializable"
    )
    with pytest.raises(ValueError, match=message) as raised:
        save_model(estimator, tmp_path / "model")
    assert len(str(raised.value)) < 400  # not Keras' dump of the model's config
    assert entries(tmp_path) == []


def test_save_refuses_an_unfitted_estimator(tmp_path):
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        save_model(fast_clf(), tmp_path / "model")
    assert entries(tmp_path) == []


def test_save_refuses_standardization_changed_since_fit(featurewise, tmp_path, monkeypatch):
    monkeypatch.setattr(featurewise, "datagen__rescale", 0.25)
    with pytest.raises(ValueError, match=r"changed since it was fitted: rescale \(0\.5 -> 0\.25\)"):
        save_model(featurewise, tmp_path / "model")


def test_save_refuses_a_folder_with_other_content(featurewise, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match=r"not part of a saved model \(notes\.txt\)"):
        save_model(featurewise, tmp_path)
    assert entries(tmp_path) == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_save_refuses_a_file_as_path(featurewise, tmp_path):
    (tmp_path / "model").write_text("")
    with pytest.raises(ValueError, match="must be a folder. Got .* which is a file"):
        save_model(featurewise, tmp_path / "model")


# ----------------------------------------------------------------------------
# Errors when loading: the folder and the problem are named
# ----------------------------------------------------------------------------
def test_load_reports_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No saved model at .*nowhere.*does not exist"):
        load_model(tmp_path / "nowhere")


def test_load_reports_a_missing_file(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    (folder / "model.keras").unlink()
    with pytest.raises(FileNotFoundError, match=r"copy'?: model\.keras is missing"):
        load_model(folder)


def test_load_reports_corrupted_json(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    (folder / "skimgaug.json").write_text('{"format": "skimgaug-model",')
    with pytest.raises(ValueError, match=r"copy'?: skimgaug\.json is not valid JSON"):
        load_model(folder)


def test_load_reports_a_json_missing_a_key(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    edit_json(folder, lambda document: document["fitted"].pop("one_hot_targets"))
    with pytest.raises(ValueError, match=r"skimgaug\.json is corrupted .*one_hot_targets"):
        load_model(folder)


def test_load_reports_a_truncated_keras_file(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    data = (folder / "model.keras").read_bytes()
    (folder / "model.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"copy'?: model\.keras is damaged or truncated"):
        load_model(folder)


@pytest.mark.parametrize(
    "other, message",
    [
        (
            "rgb",
            r"model\.keras takes inputs of shape \(8, 10, 3\), but skimgaug\.json says .* "
            r"\(8, 8, 1\): the files come from different models",
        ),
        (
            "three_classes",
            r"model\.keras has 3 output units, but skimgaug\.json names 2 "
            r"classes: the files come from different models",
        ),
    ],
)
def test_load_reports_a_model_file_from_another_model(
    saved, toy, toy_rgb, tmp_path, other, message
):
    X, y = toy_rgb if other == "rgb" else (toy[0], np.arange(len(toy[1])) % 3)
    save_model(clf().fit(X, y), tmp_path / "other")
    folder = copy_of(saved, tmp_path)
    shutil.copy(tmp_path / "other" / "model.keras", folder / "model.keras")
    with pytest.raises(ValueError, match=message):
        load_model(folder)


def test_load_reports_statistics_missing_an_array(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    with np.load(folder / "statistics.npz") as statistics:
        mean = statistics["mean"]
    np.savez(folder / "statistics.npz", mean=mean)
    with pytest.raises(ValueError, match=r"statistics\.npz lacks the array\(s\) std"):
        load_model(folder)


def test_load_refuses_statistics_stored_as_python_objects(saved, tmp_path, monkeypatch):
    folder = copy_of(saved, tmp_path)
    np.savez(folder / "statistics.npz", mean=np.array([0.5], dtype=object), std=np.ones(1))
    monkeypatch.setattr(pickle, "load", lambda *args, **kwargs: pytest.fail("unpickled"))
    with pytest.raises(ValueError, match=r"statistics\.npz is damaged, or holds Python objects"):
        load_model(folder)


def test_load_reports_a_newer_format_version(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    edit_json(folder, lambda document: document.update(format_version=2))
    with pytest.raises(
        ValueError, match="format version 2 .* reads format versions up to 1. Upgrade skimgaug"
    ):
        load_model(folder)


def test_load_reports_a_registered_function_that_is_not_available(saved_registered, monkeypatch):
    monkeypatch.delitem(keras.saving.get_custom_objects(), "skimgaug_tests>halve")
    with pytest.raises(
        ValueError,
        match=r"'skimgaug_tests>halve', which is not registered with Keras in this process",
    ):
        load_model(saved_registered)


def test_routed_settings_set_after_construction_are_kept(toy, tmp_path):
    """GridSearchCV's best estimator gets datagen__* through set_params, not __init__."""
    import warnings

    X, y = toy
    clf = fast_clf().set_params(datagen__rescale=0.5, datagen__rotation_range=10)
    clf.fit(X, y)
    save_model(clf, tmp_path / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing ignored
        loaded = load_model(tmp_path / "m")
    assert loaded.get_params()["datagen__rescale"] == 0.5
    assert loaded.get_params()["datagen__rotation_range"] == 10
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_label_names_are_saved_for_labels_and_outputs_only(tmp_path, toy):
    from skimgaug import AugmentedKerasClassifier, load_model, save_model

    X, labels = toy
    Y = np.column_stack([labels, X.mean(axis=(1, 2, 3)) > np.median(X)]).astype(int)
    multilabel = AugmentedKerasClassifier(epochs=1, verbose=0, random_state=0).fit(X, Y)
    save_model(multilabel, tmp_path / "ml", label_names=["sick", "healthy"])
    assert load_model(tmp_path / "ml").label_names_.tolist() == ["sick", "healthy"]
    with pytest.raises(ValueError, match="must be 2 non-empty strings, one per label"):
        save_model(multilabel, tmp_path / "bad", label_names=["sick"])
    assert not (tmp_path / "bad").exists()
    single = AugmentedKerasClassifier(epochs=1, verbose=0, random_state=0).fit(X, labels)
    with pytest.raises(ValueError, match="whose names are its classes_"):
        save_model(single, tmp_path / "single", label_names=["a", "b"])
    save_model(single, tmp_path / "single")
    assert not hasattr(load_model(tmp_path / "single"), "label_names_")
