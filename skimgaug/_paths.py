"""Image files as ``X``: decoded lazily, batch by batch, on a few threads.

An :class:`ImagePaths` stands in for an image array everywhere the estimator
needs one: it has a ``shape`` ``(n, height, width, channels)``, it can be
indexed by rows (giving another ``ImagePaths``), and :meth:`ImagePaths.load`
decodes the images it names. Memory therefore stays bounded by the batch,
not the data set.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
_DECODE_THREADS = min(4, os.cpu_count() or 1)
_pool = None


def _executor():
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(_DECODE_THREADS, thread_name_prefix="skimgaug-decode")
    return _pool


def is_path_input(X):
    """True for a 1-D sequence of file names (list, array of str/object, Series)."""
    if isinstance(X, ImagePaths):
        return True
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        return False
    if hasattr(X, "dtype") and np.asarray(X).dtype.kind not in "OUS":
        return False
    values = np.asarray(X, dtype=object)
    return values.ndim == 1 and len(values) > 0 and isinstance(values[0], (str, os.PathLike))


def check_target_size(target_size, owner):
    """``target_size`` must be (height, width) of positive integers."""
    ok = (
        isinstance(target_size, (tuple, list))
        and len(target_size) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                for v in target_size)
    )  # fmt: skip
    if not ok:
        raise ValueError(
            f"The 'target_size' parameter of {owner} must be a tuple (height, width) of "
            f"positive integers. Got {target_size!r} instead."
        )
    return int(target_size[0]), int(target_size[1])


def check_color_mode(color_mode, owner):
    """``color_mode`` must be one of :data:`COLOR_MODES`."""
    if color_mode not in COLOR_MODES:
        raise ValueError(
            f"The 'color_mode' parameter of {owner} must be one of "
            f"{', '.join(repr(m) for m in COLOR_MODES)}. Got {color_mode!r} instead."
        )
    return color_mode


def decode_image(path, target_size, color_mode, dtype=np.float32):
    """One image file as an array ``(height, width, channels)`` with values 0-255.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a readable image; the message names the file.
    """
    from PIL import Image, UnidentifiedImageError

    mode, channels = COLOR_MODES[color_mode]
    height, width = target_size
    try:
        with Image.open(path) as image:
            image = image.convert(mode)
            if image.size != (width, height):
                image = image.resize((width, height), Image.Resampling.BILINEAR)
            array = np.asarray(image, dtype=dtype)
    except FileNotFoundError:
        raise FileNotFoundError(f"Image file not found: {os.fspath(path)!r}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"Cannot read image file {os.fspath(path)!r}: {exc}") from None
    return array.reshape(height, width, channels)


class ImagePaths:
    """Image files standing in for an image array ``(n, height, width, channels)``.

    Parameters
    ----------
    paths : sequence of str or path-like
    target_size : (int, int)
        ``(height, width)`` every image is resized to.
    color_mode : {"grayscale", "rgb", "rgba"}
    """

    def __init__(self, paths, target_size, color_mode):
        self.paths = np.asarray([os.fspath(p) for p in paths], dtype=object)
        self.target_size = tuple(target_size)
        self.color_mode = color_mode

    @property
    def shape(self):
        return (len(self.paths), *self.target_size, COLOR_MODES[self.color_mode][1])

    @property
    def ndim(self):
        return 4

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, rows):
        if isinstance(rows, tuple):  # scikeras indexes as X[mask, ...]
            rows = rows[0]
        return ImagePaths(self.paths[rows], self.target_size, self.color_mode)

    def load(self, dtype=np.float32):
        """Decode every image, on a few threads; returns ``(n, h, w, c)``."""
        out = np.empty(self.shape, dtype=dtype)

        def decode(i):
            out[i] = decode_image(self.paths[i], self.target_size, self.color_mode, dtype)

        # list() re-raises the first error (missing or unreadable file).
        list(_executor().map(decode, range(len(self.paths))))
        return out

    def check_files(self):
        """Fail early: every file must exist and have an image header.

        Reading headers is cheap (no pixel is decoded); a file whose pixel
        data is corrupt is reported when its batch is decoded.
        """
        from PIL import Image, UnidentifiedImageError

        def check(path):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"Image file not found: {path!r}")
            try:
                with Image.open(path):
                    pass
            except (UnidentifiedImageError, OSError, SyntaxError) as exc:
                raise ValueError(f"Cannot read image file {path!r}: {exc}") from None

        list(_executor().map(check, self.paths))

    def __reduce__(self):
        return (ImagePaths, (self.paths.tolist(), self.target_size, self.color_mode))


def load_rows(x, rows, dtype):
    """A float copy of ``x[rows]``, decoding files when ``x`` is :class:`ImagePaths`."""
    if isinstance(x, ImagePaths):
        return x[rows].load(dtype)
    return x[rows].astype(dtype)
