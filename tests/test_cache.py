"""The decoded-image cache: each file decoded once, never served stale."""

import os
import pickle
import shutil

import numpy as np
import pytest
from conftest import FAST, count_decodes
from PIL import Image
from sklearn.model_selection import StratifiedKFold, cross_val_score

from skimgaug import AugmentedKerasClassifier
from skimgaug._data._cache import DiskCache, MemoryCache, file_key, get_cache
from skimgaug._data._paths import ImagePaths
from skimgaug.datasets import load_image_folder


@pytest.fixture
def copied_folder(image_folder, tmp_path):
    """A private copy of the 24-image folder (its files may be changed)."""
    root = tmp_path / "images"
    shutil.copytree(image_folder, root)
    return load_image_folder(root)


def _decoded_during(function):
    return count_decodes(function)[1]


@pytest.mark.slow
def test_a_cross_validation_decodes_each_file_once(copied_folder, tmp_path):
    paths, labels = copied_folder
    clf = AugmentedKerasClassifier(cache=str(tmp_path / "cache"), **{**FAST, "epochs": 3})
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    decoded = _decoded_during(lambda: cross_val_score(clf, paths, labels, cv=cv))
    assert decoded == len(paths)
    # and a later run, from the folder on disk, decodes nothing
    assert _decoded_during(lambda: cross_val_score(clf, paths, labels, cv=cv)) == 0


def test_without_a_cache_every_epoch_decodes_again(copied_folder):
    paths, labels = copied_folder
    clf = AugmentedKerasClassifier(cache=None, **{**FAST, "epochs": 2})
    assert _decoded_during(lambda: clf.fit(paths, labels)) >= 2 * len(paths)


@pytest.mark.parametrize("kind", ["memory", "disk"])
def test_cached_pixels_equal_decoded_pixels(copied_folder, tmp_path, kind):
    paths, _ = copied_folder
    spec = "auto" if kind == "memory" else str(tmp_path / "c")
    plain = ImagePaths(paths, (12, 10), "grayscale").load()
    cached = ImagePaths(paths, (12, 10), "grayscale", cache=spec)
    first, second = cached.load(), cached.load()
    np.testing.assert_array_equal(first, plain)
    np.testing.assert_array_equal(second, plain)


def test_a_changed_file_is_decoded_again(copied_folder, tmp_path):
    paths, _ = copied_folder
    images = ImagePaths(paths[:2], (16, 16), "rgb", cache=str(tmp_path / "c"))
    images.load()
    Image.new("RGB", (16, 16), (255, 0, 0)).save(paths[0])  # same name, new pixels
    stat = os.stat(paths[0])
    os.utime(paths[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    reloaded = images.load()
    np.testing.assert_array_equal(reloaded[0, 0, 0], [255, 0, 0])


def test_the_key_holds_size_and_decoding_settings(copied_folder):
    path = copied_folder[0][0]
    a = file_key(path, (8, 8), "rgb", np.float32)
    assert a != file_key(path, (8, 9), "rgb", np.float32)
    assert a != file_key(path, (8, 8), "grayscale", np.float32)
    assert a[:3] == (os.path.realpath(path), os.stat(path).st_size, os.stat(path).st_mtime_ns)


def test_memory_cache_keeps_to_its_budget_and_spills(tmp_path):
    spill = DiskCache(tmp_path)
    cache = MemoryCache(budget=3 * 400, spill=spill)
    images = {k: np.full((10, 10), k, dtype=np.float32) for k in range(5)}  # 400 bytes each
    for key, image in images.items():
        cache.put(key, image)
    assert cache.used == cache.budget
    for key in range(3):  # the first ones stay in memory, never evicted
        assert cache.get(key) is images[key] and spill.get(key) is None
    for key in (3, 4):  # the rest spill to disk
        assert isinstance(cache.get(key), np.memmap)
        np.testing.assert_array_equal(cache.get(key), images[key])
    big = np.zeros((40, 40), dtype=np.float32)  # over the whole budget: to disk
    cache.put("big", big)
    np.testing.assert_array_equal(cache.get("big"), big)
    assert isinstance(spill.get("big"), np.memmap)


def test_disk_writes_are_atomic_and_leave_no_temporary_files(tmp_path):
    cache = DiskCache(tmp_path)
    cache.put(("k",), np.arange(6.0))
    files = [f for _, _, names in os.walk(tmp_path) for f in names]
    assert len(files) == 1 and files[0].endswith(".npy")


def test_pickling_an_estimator_never_pickles_pixels(copied_folder):
    paths, labels = copied_folder
    clf = AugmentedKerasClassifier(**FAST).fit(paths, labels)
    size = len(pickle.dumps(ImagePaths(paths, (16, 16), "rgb", cache="auto")))
    assert size < 200 * len(paths)  # the names only, not 16 * 16 * 3 * 4 bytes each
    assert get_cache("auto").used > 0  # the pixels are in the process' cache instead
    assert pickle.loads(pickle.dumps(clf)).cache == "auto"


@pytest.mark.parametrize("cache", [3, ["a"], b"x"])
def test_bad_cache_values_are_refused(copied_folder, cache):
    paths, labels = copied_folder
    with pytest.raises(ValueError, match=r"'cache' parameter .* None, 'auto' or a folder"):
        AugmentedKerasClassifier(cache=cache, **FAST).fit(paths, labels)


def test_a_file_as_cache_folder_is_refused(copied_folder, tmp_path):
    paths, labels = copied_folder
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"is a file"):
        AugmentedKerasClassifier(cache=str(tmp_path / "file"), **FAST).fit(paths, labels)


def test_8_bit_files_are_kept_as_uint8_and_16_bit_files_keep_their_values(tmp_path):
    rng = np.random.default_rng(0)
    eight = tmp_path / "eight.png"
    Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)).save(eight)
    sixteen = tmp_path / "sixteen.png"
    Image.fromarray(rng.integers(0, 65536, (6, 5), dtype=np.uint16)).save(sixteen)
    spec = str(tmp_path / "c")
    images = ImagePaths([str(eight), str(sixteen)], (6, 5), "rgb", cache=spec)
    first = images.load()
    stored = [get_cache(spec).get(file_key(p, (6, 5), "rgb", np.float32)) for p in images.paths]
    assert stored[0].dtype == np.uint8  # a quarter of float32's bytes
    assert stored[1].dtype == np.float32  # 16-bit values are not rounded to 8 bits
    np.testing.assert_array_equal(first, ImagePaths(images.paths, (6, 5), "rgb").load())
    np.testing.assert_array_equal(images.load(), first)
