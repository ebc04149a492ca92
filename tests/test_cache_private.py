"""The decoded-image cache is private to the user and treats damage as a miss."""

import os
import stat
import warnings

import numpy as np
import pytest
from conftest import count_decodes
from PIL import Image

from skimgaug._data import _cache
from skimgaug._data._cache import DiskCache, default_cache_folder, get_cache
from skimgaug._data._paths import ImagePaths
from skimgaug.exceptions import CacheWarning


@pytest.fixture
def images(tmp_path):
    """Four 8x8 RGB PNG files and their pixels."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(4, 8, 8, 3)).astype(np.uint8)
    (tmp_path / "images").mkdir()
    paths = [str(tmp_path / "images" / f"{i}.png") for i in range(len(X))]
    for path, image in zip(paths, X, strict=True):
        Image.fromarray(image).save(path)
    return paths, X.astype(np.float32)


@pytest.fixture
def fresh_caches(monkeypatch):
    """No process-wide cache made before the test (and none kept after it)."""
    monkeypatch.setattr(_cache, "_caches", {})


def _files(folder):
    return [os.path.join(d, f) for d, _, names in os.walk(folder) for f in names]


def test_auto_spills_to_a_private_per_user_folder(tmp_path, monkeypatch, fresh_caches, images):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = default_cache_folder()
    assert folder == str(tmp_path / "xdg" / "skimgaug" / "images")
    cache = get_cache("auto")
    cache.budget = 0  # everything spills to disk
    paths, X = images
    loaded = ImagePaths(paths, (8, 8), "rgb", cache="auto").load()
    np.testing.assert_array_equal(loaded, X)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    entries = _files(folder)
    assert len(entries) == len(paths)
    assert {stat.S_IMODE(os.stat(f).st_mode) for f in entries} == {0o600}
    assert not folder.startswith(os.path.realpath("/tmp") + os.sep + "skimgaug")


@pytest.mark.parametrize("kind", ["symlink", "others_may_write", "another_user", "a_file"])
def test_an_unsafe_cache_folder_is_not_used(tmp_path, monkeypatch, fresh_caches, images, kind):
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    folder = tmp_path / "cache"
    if kind == "symlink":
        folder.symlink_to(target)  # another user could point it anywhere
    elif kind == "a_file":
        folder.write_bytes(b"")
    else:
        folder.mkdir(mode=0o700)
        if kind == "others_may_write":
            os.chmod(folder, 0o777)
        else:
            monkeypatch.setattr(_cache, "_current_uid", lambda: os.getuid() + 1)
    with pytest.warns(CacheWarning, match=rf"{folder}.* is not used: .*memory only"):
        cache = get_cache(str(folder)) if kind != "a_file" else DiskCache(str(folder))
    assert not _files(target)
    if kind != "a_file":
        paths, X = images
        images_ = ImagePaths(paths, (8, 8), "rgb", cache=str(folder))
        (first, decoded), (second, again) = count_decodes(images_.load), count_decodes(images_.load)
        np.testing.assert_array_equal(first, X)
        np.testing.assert_array_equal(second, X)
        assert (decoded, again) == (len(paths), 0)  # kept in memory instead
        assert not _files(target)
        assert not isinstance(cache, DiskCache)


@pytest.mark.parametrize(
    "damage",
    ["empty", "truncated", "wrong_shape", "wrong_dtype", "not_npy"],
)
def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path, fresh_caches, images, damage):
    paths, X = images
    folder = tmp_path / "cache"
    images_ = ImagePaths(paths, (8, 8), "rgb", cache=str(folder))
    images_.load()
    entry = sorted(_files(folder))[0]
    if damage == "empty":
        open(entry, "wb").close()  # what a power cut leaves after a rename without fsync
    elif damage == "truncated":
        data = open(entry, "rb").read()
        open(entry, "wb").write(data[: len(data) // 2])
    elif damage == "wrong_shape":
        np.save(entry, np.zeros((3, 3, 3), np.uint8))
    elif damage == "wrong_dtype":
        np.save(entry, np.zeros((8, 8, 3), np.int64))
    else:
        open(entry, "wb").write(b"not an array at all")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded, decoded = count_decodes(images_.load)
    np.testing.assert_array_equal(loaded, X)
    assert decoded == 1  # the damaged entry only
    again, decoded = count_decodes(images_.load)
    np.testing.assert_array_equal(again, X)
    assert decoded == 0  # rewritten
    assert np.load(entry).shape == (8, 8, 3)


def test_entries_reach_the_disk_before_they_are_renamed(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(_cache.os, "fsync", lambda fd: calls.append(("fsync", fd)))
    real_replace = os.replace

    def replace(src, dst):
        calls.append(("replace", dst))
        real_replace(src, dst)

    monkeypatch.setattr(_cache.os, "replace", replace)
    DiskCache(str(tmp_path / "c")).put(("k",), np.zeros((2, 2, 1), np.uint8))
    assert [c[0] for c in calls] == ["fsync", "replace"]
