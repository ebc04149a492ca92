"""Decoded images kept across epochs, folds and search candidates.

Cross-validating a folder decodes every file once per epoch, fold and
candidate; for images stored larger than the network input, decoding then
dominates. A cache keeps each file's decoded, resized pixels once per process
(``"auto"``: in memory up to a budget, then in files under a per-user cache
folder) or on disk in a folder of your choice, reusable by later runs and by
joblib or Dask workers on the same machine.

The key is the file's identity (real path, size, modification time) and how it
was decoded (target size, color mode, dtype), so a changed file is decoded
again, never served stale.

The cache is private and robust to damage:

- ``"auto"`` spills to ``$XDG_CACHE_HOME/skimgaug/images`` (by default
  ``~/.cache/skimgaug/images``), created with mode 0700, never in the shared
  temporary folder; entries are written 0600.
- A cache folder that is a symbolic link, is not a folder, is not owned by the
  user, or that others may write to, is not used: a :class:`CacheWarning` says
  so once, and images are kept in memory only.
- Entries are written to a temporary name, flushed to disk (``fsync``), then
  renamed, so a reader sees all of an entry or none of it. An entry that
  cannot be read, or holds an image of another shape or type than its key
  says (a truncated file after a power cut, a planted file), is a miss: the
  file is decoded again and the entry rewritten.
"""

import hashlib
import os
import stat
import threading
import uuid
import warnings

import numpy as np

from ..exceptions import CacheWarning

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
    """Where ``"auto"`` spills beyond its memory budget: a per-user cache folder.

    ``$XDG_CACHE_HOME/skimgaug/images``, or ``~/.cache/skimgaug/images``, as
    pip and Keras keep theirs.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "skimgaug", "images")


def _current_uid():
    return os.getuid() if hasattr(os, "getuid") else None


def folder_problem(folder, create):
    """Why ``folder`` cannot hold a private cache, or None (it is then ready to use).

    Parameters
    ----------
    folder : str
    create : bool
        Create a missing folder (mode 0700), and tighten an existing one of
        the user's to 0700 (the default folder, which is skimgaug's own).
    """
    try:
        if create and not os.path.lexists(folder):
            os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError as exc:
        return f"it cannot be created or read ({exc.strerror or exc})"
    if stat.S_ISLNK(info.st_mode):
        return "it is a symbolic link, which the cache never follows"
    if not stat.S_ISDIR(info.st_mode):
        return "it is not a folder"
    uid = _current_uid()
    if uid is not None and info.st_uid != uid:
        return f"it belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        if not create:
            return f"others may write to it (mode {stat.S_IMODE(info.st_mode):o})"
        try:
            os.chmod(folder, 0o700)
        except OSError as exc:
            return f"its mode cannot be set to 0700 ({exc.strerror or exc})"
    elif create and info.st_mode & 0o077:
        try:
            os.chmod(folder, 0o700)  # ours: nobody else reads the pixels
        except OSError:
            pass
    return None


def file_key(path, target_size, color_mode, dtype, window=None):
    """The identity of one decoded image: the file as it is now, and how it is decoded.

    Raises ``FileNotFoundError`` (and the like) from :func:`os.stat` for a missing file.
    """
    info = os.stat(path)
    return (
        os.path.realpath(path),
        info.st_size,
        info.st_mtime_ns,
        tuple(target_size),
        color_mode,
        np.dtype(dtype).str,
        *(() if window is None else (repr(window),)),  # DICOM windows decode differently
    )


def entry_fits(image, key, channels):
    """True when ``image`` has the shape and type that ``key`` describes.

    8-bit files are kept as uint8; others in the key's dtype.
    """
    height, width = key[3]
    shape_ok = getattr(image, "shape", None) == (height, width, channels)
    dtype = getattr(image, "dtype", None)
    return shape_ok and dtype in (np.dtype(np.uint8), np.dtype(key[5]))


class DiskCache:
    """Decoded images as ``.npy`` files in a private ``folder``, read memory-mapped.

    Parameters
    ----------
    folder : str
    own : bool, default=False
        The folder is skimgaug's own (the default): created if needed and
        kept at mode 0700. A folder the user chose is used as it is, if it
        is safe (see :func:`folder_problem`).
    """

    def __init__(self, folder, own=False):
        self.folder = os.fspath(folder)
        problem = folder_problem(self.folder, create=True if own else not os.path.exists(folder))
        self.usable = problem is None
        if problem:
            warnings.warn(
                f"The decoded-image cache folder {self.folder!r} is not used: {problem}. "
                "Decoded images are kept in memory only; choose a private folder with "
                "cache=... (--cache DIR), or cache=None to silence this.",
                CacheWarning,
                stacklevel=2,
            )

    def _file(self, key):
        name = hashlib.sha256(repr(key).encode()).hexdigest()
        return os.path.join(self.folder, name[:2], name + ".npy")

    def get(self, key, expect=None):
        """The entry of ``key``, or None: absent, unreadable, or refused by ``expect(image)``."""
        if not self.usable:
            return None
        file = self._file(key)
        try:
            image = np.load(file, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):  # truncated or not an .npy file
            image = None
        if image is None or (expect is not None and not expect(image)):
            self._discard(file)  # a miss: decoded again and written anew
            return None
        return image

    def _discard(self, file):
        try:
            os.remove(file)
        except OSError:
            pass

    def put(self, key, image):
        if not self.usable:
            return
        target = self._file(key)
        temporary = f"{target}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        try:
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            with os.fdopen(os.open(temporary, flags, 0o600), "wb") as f:
                np.save(f, np.ascontiguousarray(image), allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())  # on disk before the rename makes it visible
            os.replace(temporary, target)  # atomic: readers see all of it or nothing
        except OSError:  # a full or read-only disk: the cache is an optimisation only
            self._discard(temporary)


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

    def get(self, key, expect=None):
        with self._lock:
            image = self._images.get(key)
        if image is not None:
            return image
        return self.spill.get(key, expect) if self.spill is not None else None

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
    :func:`default_cache_folder`. A path: files in that folder, or memory only
    (with a :class:`~skimgaug.exceptions.CacheWarning`) when the folder is
    not safe to use.
    """
    if spec is None:
        return None
    key = "auto" if spec == "auto" else os.path.abspath(os.fspath(spec))
    with _caches_lock:
        if key not in _caches:
            _caches[key] = _new_cache(key)
        return _caches[key]


def _new_cache(key):
    budget = min(MEMORY_CAP, MEMORY_SHARE * _available_memory())
    if key == "auto":
        spill = DiskCache(default_cache_folder(), own=True)
        return MemoryCache(budget, spill=spill if spill.usable else None)
    disk = DiskCache(key)
    return disk if disk.usable else MemoryCache(budget)  # an unsafe folder: memory only
