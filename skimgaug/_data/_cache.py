"""Decoded images kept across epochs, folds and search candidates.

Cross-validating a folder decodes every file once per epoch, fold and
candidate; for images stored larger than the network input, decoding then
dominates. A cache keeps each file's decoded, resized pixels once per process
(``"auto"``: in memory up to a budget, then in files under a cache folder) or
on disk in a folder of your choice, reusable by later runs and by joblib or
Dask workers on the same machine.

The key is the file's identity (real path, size, modification time) and how it
was decoded (target size, color mode, dtype), so a changed file is decoded
again, never served stale. Files are written atomically (a temporary name,
then :func:`os.replace`), so a concurrent reader never sees half a file.
"""

import hashlib
import os
import tempfile
import threading
import uuid

import numpy as np

#: Share of the memory available when the first "auto" cache is made that it may use.
MEMORY_SHARE = 0.25
#: Most bytes an "auto" cache keeps in memory, whatever the machine.
MEMORY_CAP = 8 * 2**30


def _available_memory():
    """Bytes of memory available now (Linux ``MemAvailable``; else a guess from sysconf)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2 * 2**30


def default_cache_folder():
    """Where ``"auto"`` spills beyond its memory budget (per user, under the temp dir)."""
    user = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"skimgaug-cache-{user}")


def file_key(path, target_size, color_mode, dtype):
    """The identity of one decoded image: the file as it is now, and how it is decoded.

    Raises ``FileNotFoundError`` (and the like) from :func:`os.stat` for a missing file.
    """
    stat = os.stat(path)
    return (
        os.path.realpath(path),
        stat.st_size,
        stat.st_mtime_ns,
        tuple(target_size),
        color_mode,
        np.dtype(dtype).str,
    )


class DiskCache:
    """Decoded images as ``.npy`` files in ``folder``, read memory-mapped.

    Parameters
    ----------
    folder : str
        Created if needed.
    """

    def __init__(self, folder):
        self.folder = os.fspath(folder)

    def _file(self, key):
        name = hashlib.sha256(repr(key).encode()).hexdigest()
        return os.path.join(self.folder, name[:2], name + ".npy")

    def get(self, key):
        try:
            return np.load(self._file(key), mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):  # absent, or unreadable: decode again
            return None

    def put(self, key, image):
        target = self._file(key)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            temporary = f"{target}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
            with open(temporary, "wb") as f:
                np.save(f, np.ascontiguousarray(image), allow_pickle=False)
            os.replace(temporary, target)  # atomic: readers see all of it or nothing
        except OSError:  # a full or read-only disk: the cache is an optimisation only
            try:
                os.remove(temporary)
            except (OSError, UnboundLocalError):
                pass


class MemoryCache:
    """Decoded images in memory up to ``budget`` bytes, then in ``spill``.

    Images that no longer fit go to ``spill`` (a :class:`DiskCache`) when
    given; nothing is evicted. An epoch reads every training image in turn,
    so evicting the least recently used one would miss on every read once
    the images outgrow the budget; keeping the first ones in memory and
    reading the rest from disk misses none.
    """

    def __init__(self, budget, spill=None):
        self.budget = int(budget)
        self.spill = spill
        self.used = 0
        self._images = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            image = self._images.get(key)
        if image is not None:
            return image
        return self.spill.get(key) if self.spill is not None else None

    def put(self, key, image):
        with self._lock:
            if key in self._images:
                return
            if self.used + image.nbytes <= self.budget:
                self._images[key] = image
                self.used += image.nbytes
                return
        if self.spill is not None:
            self.spill.put(key, image)

    def clear(self):
        with self._lock:
            self._images.clear()
            self.used = 0


_caches = {}
_caches_lock = threading.Lock()


def get_cache(spec):
    """The process-wide cache for a ``cache`` parameter value (None: no cache).

    ``"auto"``: memory up to :data:`MEMORY_SHARE` of the memory available at
    first use (at most :data:`MEMORY_CAP`), then files in
    :func:`default_cache_folder`. A path: files in that folder.
    """
    if spec is None:
        return None
    key = "auto" if spec == "auto" else os.path.abspath(os.fspath(spec))
    with _caches_lock:
        if key not in _caches:
            if key == "auto":
                budget = min(MEMORY_CAP, MEMORY_SHARE * _available_memory())
                _caches[key] = MemoryCache(budget, spill=DiskCache(default_cache_folder()))
            else:
                _caches[key] = DiskCache(key)
        return _caches[key]
