"""Image files as X: lazy decoding, same results as in memory, clear file errors."""

import os
import pickle
import re

import numpy as np
import pytest
from conftest import FAST, fast_clf
from PIL import Image
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, cross_validate

from skimgaug import AugmentedKerasClassifier
from skimgaug._data._paths import ImagePaths, decode_image
from skimgaug.datasets import load_image_csv, load_image_folder

SIZE = (16, 16)


@pytest.fixture(scope="module")
def folder(mixed_image_folder):
    """24 RGB PNGs and 12 grayscale JPEGs in two class folders (conftest's, shared)."""
    return mixed_image_folder


def _clf(**params):
    """``fast_clf`` resizing every file to SIZE."""
    return fast_clf(target_size=SIZE, **params)


def test_load_image_folder_returns_paths_labels_and_groups(folder):
    paths, labels, groups = load_image_folder(folder, groups=r"^(p\d+)_")
    assert len(paths) == 36
    assert sorted(set(labels.tolist())) == ["class0", "class1"]
    assert set(groups.tolist()) == {
        "p0000",
        "p0001",
        "p0002",
        "p0003",
        "p1000",
        "p1001",
        "p1002",
        "p1003",
    }
    assert all(os.path.isfile(p) for p in paths)


def test_load_image_folder_errors(tmp_path, folder):
    with pytest.raises(FileNotFoundError, match="Image folder not found"):
        load_image_folder(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="No images found"):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match=r"pattern '\^patient' does not match the file name"):
        load_image_folder(folder, groups="^patient")
    with pytest.raises(ValueError, match=r"'groups' .*'\(unclosed' does not compile: missing \)"):
        load_image_folder(folder, groups="(unclosed")


def test_load_image_csv_resolves_relative_paths(folder, tmp_path):
    paths, labels, groups = load_image_folder(folder, groups=r"^(p\d+)_")
    table = tmp_path / "index.csv"
    rows = [
        f"{os.path.relpath(p, tmp_path)},{label},{group}"
        for p, label, group in zip(paths, labels, groups, strict=True)
    ]
    table.write_text("file,diagnosis,patient\n" + "\n".join(rows) + "\n")
    got = load_image_csv(
        table, path_column="file", label_column="diagnosis", group_column="patient"
    )
    np.testing.assert_array_equal(
        [os.path.realpath(p) for p in got[0]], [os.path.realpath(p) for p in paths]
    )
    np.testing.assert_array_equal(got[1], labels)
    np.testing.assert_array_equal(got[2], groups)
    with pytest.raises(ValueError, match="has no column 'path'; its columns are"):
        load_image_csv(table)


SCORE_PARAMS = {
    "datagen": {"rotation_range": 10, "rescale": 1 / 255, "featurewise_center": True},
    "random_state": 0,
}


@pytest.fixture(scope="module")
def fitted_in_memory(folder):
    """The same files decoded up front, and a model fitted on them."""
    paths, labels = load_image_folder(folder)
    images = ImagePaths(paths, SIZE, "rgb").load()
    return images, _clf(**SCORE_PARAMS).fit(images, labels)


@pytest.mark.parametrize("as_type", [list, np.array, "series", "bytes"])
def test_fit_predict_score_on_paths_equal_those_in_memory(folder, fitted_in_memory, as_type):
    paths, labels = load_image_folder(folder)
    if as_type == "series":
        import pandas as pd

        X = pd.Series(paths)
    elif as_type == "bytes":
        X = [os.fsencode(p) for p in paths]
    else:
        X = as_type(paths.tolist())
    images, memory = fitted_in_memory
    clf = _clf(**SCORE_PARAMS).fit(X, labels)
    assert clf.X_shape_ == (len(paths), 16, 16, 3)
    np.testing.assert_array_equal(clf.predict(X), memory.predict(images))
    np.testing.assert_allclose(
        clf.predict_proba(X), memory.predict_proba(images), rtol=1e-5, atol=1e-6
    )
    assert clf.score(X, labels) == pytest.approx(memory.score(images, labels), abs=1e-6)


@pytest.mark.slow  # 5 s; test_fit_predict_score_on_paths_equal_those_in_memory runs always
def test_lazy_path_matches_the_in_memory_path(folder):
    paths, labels = load_image_folder(folder)
    images = ImagePaths(paths, SIZE, "grayscale").load()
    params = {
        "datagen": {
            "rotation_range": 15,
            "zoom_range": 0.1,
            "rescale": 1 / 255,
            "featurewise_center": True,
            "featurewise_std_normalization": True,
        },
        "validation_split": 0.25,
        "random_state": 7,
        "color_mode": "grayscale",
        "epochs": 2,
    }
    lazy = _clf(**params).fit(paths, labels)
    memory = _clf(**params).fit(images, labels)
    np.testing.assert_allclose(lazy.standardizer_.mean, memory.standardizer_.mean, rtol=1e-6)
    np.testing.assert_allclose(lazy.history_["val_loss"], memory.history_["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(
        lazy.predict_proba(paths), memory.predict_proba(images), rtol=1e-5, atol=1e-6
    )


def test_mixed_formats_are_converted_to_color_mode_and_size(folder):
    paths, _ = load_image_folder(folder)
    jpeg = next(p for p in paths if p.endswith(".jpg"))
    png = next(p for p in paths if p.endswith(".png"))
    assert decode_image(jpeg, (10, 12), "rgb").shape == (10, 12, 3)
    assert decode_image(png, (16, 16), "grayscale").shape == (16, 16, 1)
    assert decode_image(png, (16, 16), "rgba")[..., 3].min() == 255


def test_groups_never_cross_folds(folder):
    paths, labels, groups = load_image_folder(folder, groups=r"^(p\d+)_")
    result = cross_validate(
        _clf(datagen={"horizontal_flip": True}),
        paths,
        labels,
        groups=groups,
        cv=StratifiedGroupKFold(3),
        return_indices=True,
    )
    for train, test in zip(result["indices"]["train"], result["indices"]["test"], strict=True):
        assert not set(groups[train]) & set(groups[test])
    assert np.all(np.isfinite(result["test_score"]))


@pytest.mark.slow  # 12-15 s: run by CI once
def test_grid_search_and_pickle_with_paths(folder):
    paths, labels = load_image_folder(folder)
    search = GridSearchCV(_clf(random_state=0), {"datagen__rotation_range": [0, 20]}, cv=2)
    search.fit(paths, labels)
    best = search.best_estimator_
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(restored.predict_proba(paths), best.predict_proba(paths))


def test_predict_decodes_to_the_fitted_shape(folder):
    paths, labels = load_image_folder(folder)
    clf = _clf(color_mode="grayscale").fit(paths, labels)
    images = ImagePaths(paths, SIZE, "grayscale").load()
    np.testing.assert_allclose(clf.predict_proba(paths), clf.predict_proba(images), rtol=1e-6)


def test_missing_file_is_named(folder, tmp_path):
    paths, labels = load_image_folder(folder)
    missing = str(tmp_path / "gone.png")
    with pytest.raises(FileNotFoundError, match="Image file not found: .*gone.png"):
        _clf().fit(list(paths[:-1]) + [missing], labels)


def test_file_that_is_not_an_image_is_named(folder, tmp_path):
    paths, labels = load_image_folder(folder)
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    with pytest.raises(ValueError, match="Cannot read image file .*fake.png"):
        _clf().fit(list(paths[:-1]) + [str(fake)], labels)


def test_truncated_image_is_named_when_its_batch_is_decoded(folder, tmp_path):
    paths, labels = load_image_folder(folder)
    broken = tmp_path / "broken.png"
    data = open(paths[0], "rb").read()
    broken.write_bytes(data[: len(data) // 2])  # valid header, missing pixels
    with pytest.raises(ValueError, match="Cannot read image file .*broken.png"):
        _clf(epochs=1).fit(list(paths[:-1]) + [str(broken)], labels)


def test_truncated_image_in_a_later_batch_keeps_our_error(folder, tmp_path):
    # Batches after the first are decoded in tf.data's producer thread.
    paths, labels = load_image_folder(folder)
    png = np.char.endswith(paths.astype(str), ".png")
    paths, labels = paths[png], labels[png]
    broken = tmp_path / "late.png"
    data = open(paths[0], "rb").read()
    broken.write_bytes(data[: len(data) // 2])
    clf = _clf(epochs=1, batch_size=4, shuffle=False)
    with pytest.raises(ValueError, match=r"^Cannot read image file '[^']*late.png'"):
        clf.fit(list(paths[:-1]) + [str(broken)], labels)


@pytest.mark.slow  # 3-5 s of fits: run once in CI with the slow tests
def test_files_are_not_modified(folder):
    paths, labels = load_image_folder(folder)
    before = {p: (os.path.getmtime(p), open(p, "rb").read()) for p in paths}
    _clf(datagen={"rotation_range": 10}).fit(paths, labels).predict(paths)
    assert before == {p: (os.path.getmtime(p), open(p, "rb").read()) for p in paths}


@pytest.mark.parametrize(
    "param, value, message",
    [
        ("target_size", (0, 16), r"'target_size' parameter .* None .* positive ints"),
        ("target_size", 16, r"'target_size' parameter"),
        ("color_mode", "rgb565", r"'color_mode' parameter .* 'grayscale', 'rgb', 'rgba'"),
    ],
)
def test_path_parameters_are_checked(folder, param, value, message):
    paths, labels = load_image_folder(folder)
    with pytest.raises(ValueError, match=message):
        AugmentedKerasClassifier(**{param: value}, **FAST).fit(paths, labels)


def test_zca_too_large_is_refused_up_front(folder):
    paths, labels = load_image_folder(folder)
    clf = AugmentedKerasClassifier(target_size=(128, 128), datagen={"zca_whitening": True}, **FAST)
    with pytest.raises(ValueError, match=r"zca_whitening needs .* 49152x49152 whitening matrix"):
        clf.fit(paths, labels)


def test_images_are_decoded_from_pil(folder):
    paths, _ = load_image_folder(folder)
    png = next(p for p in paths if p.endswith(".png"))
    expected = np.asarray(Image.open(png).convert("RGB"), dtype=np.float32)
    np.testing.assert_array_equal(decode_image(png, (16, 16), "rgb"), expected)


def _write(path, values):
    Image.fromarray(values).save(path)
    return str(path)


#: Known pixels: a 6x8 ramp over the whole 16-bit range, and over 0..1 as floats.
RAMP16 = np.linspace(0, 65535, 48).round().astype(np.uint16).reshape(6, 8)
RAMP_FLOAT = np.linspace(0, 1, 48, dtype=np.float32).reshape(6, 8)


@pytest.mark.parametrize("color_mode", ["grayscale", "rgb", "rgba"])
@pytest.mark.parametrize("size", [(6, 8), (3, 4), (9, 10)], ids=["same", "down", "up"])
@pytest.mark.parametrize(
    "file, values, expected",
    [
        ("image.png", RAMP16, RAMP16 / 257),  # a 16-bit PNG: 0..65535 -> 0..255
        ("image.tif", RAMP_FLOAT, RAMP_FLOAT),  # a float TIFF: values as they are
    ],
    ids=["png16", "tiff_float"],
)
def test_16_bit_and_float_images_keep_their_values(
    tmp_path, file, values, expected, size, color_mode
):
    path = _write(tmp_path / file, values)
    if size != values.shape:  # bilinear, in float: no rounding to 8 bits
        float_image = Image.fromarray(expected.astype(np.float32))
        resized = float_image.resize(size[::-1], Image.Resampling.BILINEAR)
        expected = np.asarray(resized)
    got = decode_image(path, size, color_mode)
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[color_mode]
    assert got.shape == (*size, channels) and got.dtype == np.float32
    for channel in range(min(channels, 3)):  # gray replicated into r, g, b
        np.testing.assert_allclose(got[..., channel], expected, rtol=1e-6, atol=1e-6)
    if channels == 4:
        np.testing.assert_array_equal(got[..., 3], 255)  # opaque alpha


#: 16-bit color: R a ramp, G its reverse, B constant, A half transparent.
RGBA16 = np.stack([RAMP16, 65535 - RAMP16, np.full_like(RAMP16, 40000), RAMP16 * 0 + 32768], -1)


@pytest.mark.parametrize("color_mode", ["grayscale", "rgb", "rgba"])
@pytest.mark.parametrize("size", [(6, 8), (3, 4)], ids=["same", "resized"])
@pytest.mark.parametrize("file", ["rgb.png", "rgba.png", "rgb.tif"])
def test_16_bit_color_images_keep_their_values(tmp_path, file, size, color_mode):
    import cv2

    values = RGBA16 if file == "rgba.png" else RGBA16[..., :3]
    order = [2, 1, 0, 3][: values.shape[-1]]  # OpenCV writes BGR(A)
    assert cv2.imwrite(str(tmp_path / file), values[..., order])
    expected = values / 257
    if color_mode == "grayscale":  # PIL's weights of R, G and B
        expected = expected[..., :3] @ np.array([0.299, 0.587, 0.114])
        expected = expected[..., None]
    elif color_mode == "rgba" and values.shape[-1] == 3:
        expected = np.concatenate([expected, np.full((6, 8, 1), 255.0)], axis=-1)
    elif color_mode == "rgb":
        expected = expected[..., :3]
    if size != (6, 8):
        planes = [
            Image.fromarray(expected[..., c].astype(np.float32)) for c in range(expected.shape[-1])
        ]
        expected = np.stack(
            [np.asarray(p.resize(size[::-1], Image.Resampling.BILINEAR)) for p in planes], -1
        )
    got = decode_image(str(tmp_path / file), size, color_mode)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("size", [(6, 8), (3, 4)], ids=["same", "resized"])
def test_a_16_bit_image_decodes_like_its_8_bit_twin(tmp_path, size):
    eight = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    path8 = _write(tmp_path / "eight.png", eight)
    path16 = _write(tmp_path / "sixteen.png", eight.astype(np.uint16) * 257)
    got8, got16 = decode_image(path8, size, "rgb"), decode_image(path16, size, "rgb")
    # Same values; resizing rounds the 8-bit image only (to integers, after each of
    # PIL's two passes, hence within 1).
    np.testing.assert_allclose(got16, got8, atol=1e-4 if size == (6, 8) else 1)
    assert size == (6, 8) or not np.array_equal(got16, got16.round())


@pytest.mark.parametrize("where", [0, 5], ids=["first", "middle"])
def test_a_non_path_in_a_list_of_paths_is_named_by_index(folder, where):
    paths, labels = load_image_folder(folder)
    X = paths.tolist()
    X[where] = 3
    with pytest.raises(TypeError, match=rf"image file paths .*; X\[{where}\] is 3 \(int\)"):
        _clf().fit(X, labels)


def test_a_directory_is_called_a_directory(folder, tmp_path):
    paths, labels = load_image_folder(folder)
    message = f"{str(tmp_path)!r} is a directory, not an image file"
    with pytest.raises(IsADirectoryError, match=re.escape(message)):
        _clf().fit(list(paths[:-1]) + [tmp_path], labels)
    with pytest.raises(IsADirectoryError, match=re.escape(message)):
        decode_image(os.fsencode(tmp_path), SIZE, "rgb")


def test_paths_in_messages_are_plain_strings(folder, tmp_path):
    paths, labels = load_image_folder(folder)
    missing = str(tmp_path / "gone.png")
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    with pytest.raises(FileNotFoundError) as missing_error:
        _clf().fit(np.array(list(paths[:-1]) + [missing]), labels)  # elements: np.str_
    with pytest.raises(ValueError) as fake_error:
        decode_image(np.str_(fake), SIZE, "rgb")
    assert str(missing_error.value) == f"Image file not found: {missing!r}"
    assert str(fake_error.value).startswith(f"Cannot read image file {str(fake)!r}:")


def test_without_target_size_images_keep_their_own_size(image_folder):
    import warnings

    paths, labels = load_image_folder(image_folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one size: nothing to say
        clf = AugmentedKerasClassifier(**FAST).fit(paths, labels)
    assert clf.X_shape_ == (len(paths), 16, 16, 3)
    assert clf.predict(paths[:3]).shape == (3,)


def test_mixed_sizes_are_resized_to_the_most_common_one_with_a_warning(mixed_image_folder):
    from skimgaug.exceptions import MixedImageSizesWarning

    paths, labels = load_image_folder(mixed_image_folder)  # 24 at 16x16, 12 at 20x20
    message = r"36 image files have 2 different sizes; .* 16x16 \(24 of 36 images\)"
    with pytest.warns(MixedImageSizesWarning, match=message):
        clf = AugmentedKerasClassifier(**FAST).fit(paths, labels)
    assert clf.X_shape_ == (36, 16, 16, 3)


def test_an_explicit_target_size_wins_without_a_warning(mixed_image_folder):
    import warnings

    from skimgaug.exceptions import MixedImageSizesWarning

    paths, labels = load_image_folder(mixed_image_folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixedImageSizesWarning)
        clf = AugmentedKerasClassifier(target_size=(20, 12), **FAST).fit(paths, labels)
    assert clf.X_shape_ == (36, 20, 12, 3)


def test_the_most_common_size_breaks_ties_towards_the_larger_image():
    from skimgaug._data._paths import most_common_size

    assert most_common_size([(8, 8), (16, 16), (8, 8), (16, 16)]) == ((16, 16), 2, 2)
    assert most_common_size([(8, 8), (8, 8), (16, 16)]) == ((8, 8), 2, 2)
