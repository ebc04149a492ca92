"""Files that are not what they claim: refused before training, each naming the file."""

import os

import numpy as np
import pytest
from PIL import Image

from skimgaug._data._paths import ImagePaths, decode_image
from skimgaug.datasets import load_image_csv


def _png(path, size=(8, 8)):
    Image.fromarray(np.zeros((*size, 3), np.uint8)).save(path)
    return str(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_called_png_is_refused_without_opening_it(tmp_path):
    pipe = tmp_path / "scan.png"
    os.mkfifo(pipe)  # opening it for reading would block until a writer comes
    paths = [_png(tmp_path / "a.png"), str(pipe)]
    with pytest.raises(ValueError, match=r"scan\.png.*not a regular file"):
        ImagePaths(paths, (8, 8), "rgb").check_files()
    with pytest.raises(ValueError, match=r"scan\.png.*not a regular file"):
        decode_image(str(pipe), (8, 8), "rgb")


def test_a_decompression_bomb_is_refused_naming_the_file(tmp_path, monkeypatch):
    path = _png(tmp_path / "bomb.png", size=(64, 64))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64x64 = 4096 > 2 x 1000
    with pytest.raises(ValueError, match=r"bomb\.png.*decompression bomb.*MAX_IMAGE_PIXELS"):
        ImagePaths([path], (8, 8), "rgb").check_files()
    with pytest.raises(ValueError, match=r"bomb\.png.*MAX_IMAGE_PIXELS"):
        decode_image(path, (8, 8), "rgb")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_infinite_pixels_of_a_float_tiff_are_refused(tmp_path, bad):
    values = np.ones((8, 8), np.float32)
    values[2, 3] = bad
    path = str(tmp_path / "float.tif")
    Image.fromarray(values, mode="F").save(path)
    with pytest.raises(ValueError, match=r"float\.tif.*1 of its pixels are NaN or infinite"):
        decode_image(path, (8, 8), "grayscale")


def test_a_32_bit_integer_tiff_beyond_16_bits_is_refused(tmp_path):
    path = str(tmp_path / "int32.tif")
    Image.fromarray(np.full((8, 8), 255_000, np.int32), mode="I").save(path)
    with pytest.raises(ValueError, match=r"int32\.tif.*32-bit integer image.*255000"):
        decode_image(path, (8, 8), "grayscale")


def test_a_32_bit_integer_tiff_of_16_bit_values_is_scaled_as_16_bit(tmp_path):
    path = str(tmp_path / "int32.tif")
    Image.fromarray(np.full((8, 8), 65535, np.int32), mode="I").save(path)
    np.testing.assert_allclose(decode_image(path, (8, 8), "grayscale"), 255.0)


@pytest.mark.parametrize("column", ["label", "path"])
def test_a_blank_csv_cell_is_refused_naming_its_line(tmp_path, column):
    _png(tmp_path / "a.png")
    rows = {"label": "a.png,cat\na.png,  \n", "path": "a.png,cat\n,dog\n"}[column]
    (tmp_path / "data.csv").write_text("path,label\n" + rows)
    with pytest.raises(ValueError, match=rf"data\.csv', line 3: the '{column}' column is empty"):
        load_image_csv(tmp_path / "data.csv")


def test_a_latin_1_csv_is_refused_naming_the_file(tmp_path):
    (tmp_path / "data.csv").write_bytes("path,label\nb.png,b\u00e9b\u00e9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"data\.csv' is not UTF-8 text .*0xe9.*CSV UTF-8"):
        load_image_csv(tmp_path / "data.csv")


def test_a_csv_with_a_byte_order_mark_is_read(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "data.csv").write_bytes("path,label\na.png,cat\n".encode("utf-8-sig"))
    paths, labels = load_image_csv(tmp_path / "data.csv")
    assert labels.tolist() == ["cat"]


def test_a_binary_grid_file_is_refused_naming_the_file(tmp_path):
    from skimgaug.cli._grid import GridError, read_grid_file

    (tmp_path / "grid.toml").write_bytes(b"\x00\x01\xff\xfe binary")
    with pytest.raises(GridError, match=r"grid\.toml' is not UTF-8 text"):
        read_grid_file(tmp_path / "grid.toml")


def test_a_deeply_nested_model_description_is_refused_as_not_a_model(tmp_path):
    from skimgaug import load_model

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "skimgaug.json").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "model.keras").write_bytes(b"")
    (folder / "statistics.npz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"model': skimgaug\.json is nested too deeply"):
        load_model(folder)


def test_blank_labels_may_be_kept_for_images_not_labelled_yet(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "data.csv").write_text("path,label\na.png,cat\na.png, \n")
    paths, labels = load_image_csv(tmp_path / "data.csv", blank_labels="keep")
    assert labels.tolist() == ["cat", ""]
