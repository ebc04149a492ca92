"""export_model and ``skimgaug export``: one graph from raw pixels to predict_proba's numbers."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from skimgaug import AugmentedKerasClassifier, AugmentedKerasRegressor, export_model

#: The tolerance the issue asks for, on float32 outputs.
TOLERANCE = 1e-4


@keras.saving.register_keras_serializable(package="skimgaug_export_tests")
def halve(image):
    """A registered preprocessing_function written with keras.ops: it runs on tensors."""
    return keras.ops.multiply(image, 0.5)


def unregistered(image):
    return image * 0.5


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X.reshape(-1, 8, 8, 1).astype(np.float32), y


def _fit(estimator_class, X, y, **params):
    settings = {"epochs": 1, "verbose": 0, "random_state": 0}
    return estimator_class(**{**settings, **params}).fit(X, y)


def _saved_model_output(path, X):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # kept: its variables live as long as it does
    return loaded.serve(tf.constant(X.astype(np.float32))).numpy()


def _onnx_output(path, X):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path))
    return session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})[0]


def test_saved_model_and_onnx_give_predict_proba_with_the_statistics_inside(digits, tmp_path):
    X, y = digits
    clf = _fit(
        AugmentedKerasClassifier,
        X[:200],
        y[:200],
        datagen={
            "rescale": 1 / 16,
            "featurewise_center": True,
            "featurewise_std_normalization": True,
            "rotation_range": 10,
        },
        tta=2,
    )
    expected = clf.set_params(tta=0).predict_proba(X[200:230])
    meta = export_model(clf, tmp_path / "saved", format="saved_model")
    assert meta["columns"] == [str(c) for c in range(10)] and "not exported" in meta["tta"]
    assert meta["input"]["shape"] == ["batch", 8, 8, 1]
    written = json.loads((tmp_path / "saved" / "export.json").read_text())
    assert written == meta
    assert not list((tmp_path / "saved").rglob("*.pkl")) and not list(
        (tmp_path / "saved").rglob("*.pickle")
    )
    np.testing.assert_allclose(
        _saved_model_output(tmp_path / "saved", X[200:230]), expected, atol=TOLERANCE
    )
    pytest.importorskip("tf2onnx")
    export_model(clf, tmp_path / "digits.onnx")
    np.testing.assert_allclose(
        _onnx_output(tmp_path / "digits.onnx", X[200:230]), expected, atol=TOLERANCE
    )
    import onnx

    props = {p.key: p.value for p in onnx.load(tmp_path / "digits.onnx").metadata_props}
    assert json.loads(props["columns"]) == meta["columns"] and props["task"] == "classification"


def test_what_cannot_be_exported_is_refused_by_name(digits, tmp_path, monkeypatch):
    X, y = digits
    clf = _fit(
        AugmentedKerasClassifier, X[:100], y[:100], datagen={"preprocessing_function": unregistered}
    )
    with pytest.raises(ValueError, match="preprocessing_function unregistered is not registered"):
        export_model(clf, tmp_path / "m", format="saved_model")
    assert not (tmp_path / "m").exists()
    with pytest.raises(ValueError, match="'format' parameter of export_model must be"):
        export_model(clf, tmp_path / "m", format="tflite")
    (tmp_path / "taken").mkdir()
    with pytest.raises(ValueError, match="must not exist yet"):
        export_model(clf, tmp_path / "taken", format="saved_model")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tf2onnx" else real(name, *a)
    )
    with pytest.raises(ImportError, match=r"needs tf2onnx.*skimgaug\[export\]"):
        export_model(clf, tmp_path / "m.onnx")


@pytest.mark.slow  # six fits and twelve exports
@pytest.mark.parametrize(
    "case", ["binary_zca", "multilabel", "regression", "uint8", "registered", "pretrained"]
)
def test_every_target_and_preprocessing_exports_the_same_numbers(digits, tmp_path, case):
    from skimgaug import load_model, save_model

    X, y = digits
    method = "predict_proba"
    if case == "binary_zca":
        est = _fit(
            AugmentedKerasClassifier,
            X[:200],
            y[:200] % 2,
            datagen={
                "samplewise_center": True,
                "samplewise_std_normalization": True,
                "zca_whitening": True,
            },
        )
    elif case == "multilabel":
        Y = np.column_stack([y % 2 == 0, y > 4]).astype(int)
        est = _fit(AugmentedKerasClassifier, X[:200], Y[:200])
        save_model(est, tmp_path / "model", label_names=["even", "big"])
        est = load_model(tmp_path / "model")
    elif case == "regression":
        est = _fit(AugmentedKerasRegressor, X[:200], y[:200].astype(float), standardize_target=True)
        method = "predict"
    elif case == "uint8":
        X = (X * 16).clip(0, 255).astype(np.uint8)
        est = _fit(AugmentedKerasClassifier, X[:200], y[:200], datagen={"rescale": 1 / 255})
    elif case == "registered":
        est = _fit(
            AugmentedKerasClassifier, X[:200], y[:200], datagen={"preprocessing_function": halve}
        )
    else:
        from skimgaug.models import pretrained

        X = np.repeat(np.kron(X[:60], np.ones((1, 4, 4, 1))), 3, axis=-1)  # 32x32 RGB
        est = _fit(
            AugmentedKerasClassifier,
            X[:40],
            y[:40] % 2,
            model=pretrained("mobilenet_v3_small", weights=None),
        )
    expected = np.reshape(getattr(est, method)(X[40:60]), (20, -1))
    meta = export_model(est, tmp_path / "saved", format="saved_model")
    if case == "multilabel":
        assert meta["columns"] == ["even", "big"] and meta["task"] == "multilabel"
    np.testing.assert_allclose(
        _saved_model_output(tmp_path / "saved", X[40:60]), expected, atol=TOLERANCE
    )
    pytest.importorskip("tf2onnx")
    export_model(est, tmp_path / "m.onnx")
    np.testing.assert_allclose(
        _onnx_output(tmp_path / "m.onnx", X[40:60]), expected, atol=TOLERANCE
    )


LOADER = """
import sys
sys.modules["skimgaug"] = None  # skimgaug cannot be imported here
import json, numpy as np
X = np.load(sys.argv[3])
if sys.argv[1] == "onnx":
    import onnxruntime as ort
    s = ort.InferenceSession(sys.argv[2])
    out = s.run(None, {s.get_inputs()[0].name: X})[0]
else:
    import tensorflow as tf
    loaded = tf.saved_model.load(sys.argv[2])
    out = loaded.serve(tf.constant(X)).numpy()
np.save(sys.argv[4], out)
"""


@pytest.mark.slow  # a train, two exports and two fresh processes
def test_the_cli_exports_a_model_that_predicts_without_skimgaug(digits, tmp_path, capsys):
    from skimgaug import cli, load_model

    model = tmp_path / "model"
    assert cli.main(["train", "--digits", "--epochs", "1", "--out", str(model)]) == 0
    X, _ = digits
    np.save(tmp_path / "x.npy", X[:25])
    expected = load_model(model).predict_proba(X[:25])
    formats = [("saved_model", tmp_path / "saved")]
    if all(__import__("importlib").util.find_spec(m) for m in ("tf2onnx", "onnxruntime")):
        formats.append(("onnx", tmp_path / "digits.onnx"))
    for format, path in formats:
        assert cli.main(["export", str(model), "--format", format, "--out", str(path)]) == 0
        assert "test-time augmentation is not exported" in capsys.readouterr().out
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                LOADER,
                format,
                str(path),
                str(tmp_path / "x.npy"),
                str(tmp_path / f"{format}.npy"),
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": ""},
        )
        assert result.returncode == 0, result.stderr[-2000:]
        np.testing.assert_allclose(np.load(tmp_path / f"{format}.npy"), expected, atol=TOLERANCE)
