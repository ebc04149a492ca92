"""Image files as ``X``: decoded lazily, batch by batch, on a few threads.

An :class:`ImagePaths` stands in for an image array everywhere the estimator
needs one: it has a ``shape`` ``(n, height, width, channels)``, it can be
indexed by rows (giving another ``ImagePaths``), and :meth:`ImagePaths.load`
decodes the images it names. Memory therefore stays bounded by the batch,
not the data set.
"""

import os
import warnings

import numpy as np

from .._validation import COLOR_MODES
from ..exceptions import MixedImageSizesWarning

#: PIL modes of more than 8 bits per pixel (all single-channel), with the
#: divisor that brings them to the 0-255 range of 8-bit images.
_HIGH_PRECISION = dict.fromkeys(["I;16", "I;16B", "I;16L", "I;16N", "I"], 257.0) | {"F": 1.0}
_PATH_TYPES = (str, bytes, os.PathLike)


def _executor():
    """The decoding pool: one thread per core of this process' budget.

    PIL releases the GIL while it decodes and resizes. In a joblib or Dask
    worker the budget is the worker's share (see :mod:`skimgaug._parallel`).
    """
    from .._parallel import cpu_budget, shared_executor

    return shared_executor("decode", cpu_budget())


def is_path_input(X):
    """True for a 1-D sequence (list, array, Series) holding image file names.

    One str, bytes or path-like element is enough: a list of paths with a
    stray non-path is then refused by :class:`ImagePaths`, naming its index,
    rather than being taken for an image array.
    """
    if isinstance(X, ImagePaths):
        return True
    if isinstance(X, _PATH_TYPES) or not hasattr(X, "__len__"):
        return False
    if hasattr(X, "dtype") and np.asarray(X).dtype.kind not in "OUS":
        return False
    try:
        values = np.asarray(X, dtype=object)
    except ValueError:  # ragged nested sequences: not a list of paths
        return False
    return values.ndim == 1 and any(isinstance(v, _PATH_TYPES) for v in values)


def path_name(path):
    """``path`` (str, bytes or path-like) as a plain ``str``, for opening and messages."""
    return str(os.fsdecode(path))


def _as_path_names(paths):
    """Every element of ``paths`` as a plain ``str``; refuse non-paths by index."""
    names, problems = [], []
    for i, path in enumerate(paths):
        if isinstance(path, _PATH_TYPES):
            names.append(path_name(path))
        else:
            problems.append(f"X[{i}] is {path!r} ({type(path).__name__})")
    if problems:
        shown = ", ".join(problems[:5])
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise TypeError(
            "X must be a 1-D sequence of image file paths (str, bytes or os.PathLike); "
            f"{shown}{more}."
        )
    return names


def decode_image(path, target_size, color_mode, dtype=np.float32, window=None):
    """One image file as an array ``(height, width, channels)`` with values 0-255.

    8-bit images are converted to ``color_mode`` and resized by PIL, as
    Keras' ``load_img`` does. Images of more than 8 bits are not rounded to
    8 bits: 16-bit integer images (PIL modes ``"I;16*"``, and ``"I"`` whose
    values are 0 to 65535; other 32-bit integer values are refused) are
    divided by 257, which maps 0-65535 onto 0-255 as floats, and float images
    (mode ``"F"``, e.g. a float TIFF) keep their values as they are (NaN or
    infinite values are refused). Such an image has one channel: ``"rgb"`` repeats it, ``"rgba"``
    also adds an opaque alpha of 255. 16-bit color PNGs and TIFFs (which PIL
    would round to 8 bits) are read with OpenCV and divided by 257 too
    (``"grayscale"``: PIL's weighted sum of R, G and B). Images of more than
    8 bits are resized (bilinear) in float.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    IsADirectoryError
        If ``path`` is a directory.
    ValueError
        If the file is not a readable image, not a regular file (a named
        pipe), larger than PIL's decompression-bomb limit, or holds values
        refused above; the message names the file.
    """
    return decode_pixels(path, target_size, color_mode, dtype, window).astype(dtype, copy=False)


def decode_pixels(path, target_size, color_mode, dtype=np.float32, window=None):
    """:func:`decode_image` in the most compact exact dtype: uint8 for 8-bit images.

    Images of more than 8 bits come in ``dtype``. The decoded-image cache keeps
    these, four times smaller than float32 for 8-bit files. DICOM files are
    read by :func:`skimgaug._data._dicom.read_dicom` (``window`` applies to them).
    """
    from PIL import Image, UnidentifiedImageError

    from ._dicom import is_dicom

    name = path_name(path)
    mode, channels = COLOR_MODES[color_mode]
    height, width = target_size
    if is_dicom(name):  # its errors name the file themselves
        try:
            _check_regular_file(name)
        except FileNotFoundError:
            raise FileNotFoundError(f"Image file not found: {name!r}") from None
        return _decode_dicom(name, target_size, channels, dtype, window)
    try:
        _check_regular_file(name)
        with Image.open(name) as image:
            if image.mode in _HIGH_PRECISION:
                return _decode_high_precision(image, name, target_size, channels, dtype)
            if _is_16_bit_color(image):
                return _decode_16_bit_color(name, target_size, channels, dtype)
            image = image.convert(mode)
            if image.size != (width, height):
                image = image.resize((width, height), Image.Resampling.BILINEAR)
            array = np.asarray(image, dtype=np.uint8)
    except FileNotFoundError:
        raise FileNotFoundError(f"Image file not found: {name!r}") from None
    except IsADirectoryError:
        raise IsADirectoryError(_directory_message(name)) from None
    except Image.DecompressionBombError as exc:
        raise ValueError(_bomb_message(name, exc)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"Cannot read image file {name!r}: {exc}") from None
    return array.reshape(height, width, channels)


def _decode_dicom(name, target_size, channels, dtype, window):
    """A DICOM file's planes (see :mod:`skimgaug._data._dicom`), resized and as ``channels``."""
    from ._dicom import read_dicom

    planes = read_dicom(name, window)
    if planes[0].shape != tuple(target_size):
        planes = [resize_plane(plane, target_size) for plane in planes]
    return _as_channels(planes, channels).astype(dtype)


def _check_regular_file(name):
    """A named pipe, socket or device named ``*.png`` would block or mislead: refused."""
    import stat

    mode = os.stat(name).st_mode  # FileNotFoundError for a missing file
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(_directory_message(name))
    if not stat.S_ISREG(mode):
        raise ValueError(
            f"Cannot read image file {name!r}: it is not a regular file (a named pipe, "
            "socket or device), which is never opened."
        )


def _bomb_message(name, exc):
    from PIL import Image

    return (
        f"Cannot read image file {name!r}: {exc} Images of more than "
        f"{2 * Image.MAX_IMAGE_PIXELS} pixels are refused (PIL.Image.MAX_IMAGE_PIXELS); "
        "if the file is genuine, resize it, or raise that limit before fitting."
    )


def _decode_high_precision(image, name, target_size, channels, dtype):
    """A single-channel image of more than 8 bits, without rounding (see decode_image).

    Float images must hold finite values; 32-bit integer images (mode ``"I"``)
    must hold 16-bit values (0 to 65535), scaled as 16-bit images are: other
    values would be scaled to no known range.
    """
    height, width = target_size
    values = np.asarray(image)
    if image.mode == "F" and not np.isfinite(values).all():
        bad = int(np.size(values) - np.isfinite(values).sum())
        raise ValueError(
            f"Cannot use image file {name!r}: {bad} of its pixels are NaN or infinite, "
            "which would make the loss NaN. Replace them (e.g. by 0) in the file."
        )
    if image.mode == "I" and values.size and (values.min() < 0 or values.max() > 65535):
        raise ValueError(
            f"Cannot use image file {name!r}: a 32-bit integer image with values from "
            f"{values.min()} to {values.max()}; skimgaug reads 8- and 16-bit integer images "
            "(0 to 65535, scaled to 0-255) and float images (values kept). Save it as 16-bit "
            "or as float."
        )
    if image.size != (width, height):
        values = resize_plane(values, target_size)
    gray = (values.astype(np.float64) / _HIGH_PRECISION[image.mode]).astype(dtype)
    return _as_channels([gray], channels)


def _is_16_bit_color(image):
    """A 16-bit RGB(A) PNG or TIFF, which PIL opens as 8-bit RGB(A), rounding its values."""
    if image.mode not in ("RGB", "RGBA") or not image.tile:
        return False
    args = image.tile[0][3]
    rawmode = args[0] if isinstance(args, tuple) and args else args
    return isinstance(rawmode, str) and ";16" in rawmode


#: PIL's weights of R, G and B when it converts to grayscale ("L"), as ITU-R 601-2.
_LUMA = (0.299, 0.587, 0.114)


def _decode_16_bit_color(name, target_size, channels, dtype):
    """A 16-bit color image read by OpenCV (which keeps 16 bits), divided by 257.

    Grayscale is PIL's weighted sum of R, G and B; RGBA without alpha in the
    file gets an opaque alpha of 255. Each channel is resized in float.
    """
    import cv2

    data = np.fromfile(name, dtype=np.uint8)
    values = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if values is None or values.dtype != np.uint16 or values.ndim != 3:
        raise ValueError(f"Cannot read the 16-bit color image {name!r}")
    order = [2, 1, 0, 3][: values.shape[2]]  # OpenCV gives BGR(A)
    planes = [values[..., c].astype(np.float64) / 257.0 for c in order]
    if planes[0].shape != tuple(target_size):
        planes = [resize_plane(plane, target_size) for plane in planes]
    return _as_channels(planes, channels).astype(dtype)


def _as_channels(planes, channels):
    """The float planes of an image of more than 8 bits (one gray plane, or R, G, B and
    maybe A) as ``channels`` channels: gray repeated for RGB, PIL's weighted sum of R, G
    and B for grayscale, an opaque alpha of 255 where the file has none."""
    color = planes * 3 if len(planes) == 1 else planes[:3]
    if channels == 1:
        chosen = (
            planes[:1]
            if len(planes) == 1
            else [sum(w * p for w, p in zip(_LUMA, color, strict=True))]
        )
    else:
        chosen = color
        if channels == 4:
            chosen += [planes[3] if len(planes) == 4 else np.full_like(planes[0], 255)]
    return np.stack(chosen, axis=-1)


def resize_plane(values, target_size):
    """One 2-D plane resized to ``target_size`` ``(height, width)``: PIL bilinear, in float32."""
    from PIL import Image

    height, width = target_size
    resized = Image.fromarray(np.asarray(values, dtype=np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    return np.asarray(resized)


def _directory_message(name):
    return f"{name!r} is a directory, not an image file."


class ImagePaths:
    """Image files standing in for an image array ``(n, height, width, channels)``.

    Parameters
    ----------
    paths : sequence of str, bytes or path-like
        Stored as plain ``str``; any other element raises a ``TypeError``
        naming its index.
    target_size : (int, int)
        ``(height, width)`` every image is resized to.
    color_mode : {"grayscale", "rgb", "rgba"}
    cache : None, "auto" or str, default=None
        Where decoded images are kept for the next epoch, fold or fit (see
        :mod:`skimgaug._data._cache`); only this setting is pickled, never pixels.
    window : None, "dicom" or (float, float), default=None
        The window of grayscale DICOM files (see :mod:`skimgaug._data._dicom`).
    """

    def __init__(self, paths, target_size, color_mode, cache=None, window=None):
        self.paths = np.asarray(_as_path_names(paths), dtype=object)
        self.target_size = tuple(target_size)
        self.color_mode = color_mode
        self.cache = cache
        self.window = window

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
        return ImagePaths(
            self.paths[rows], self.target_size, self.color_mode, self.cache, self.window
        )

    def load(self, dtype=np.float32):
        """Decode every image (or take it from the cache), on a few threads; ``(n, h, w, c)``."""
        from ._cache import entry_fits, file_key, get_cache

        out = np.empty(self.shape, dtype=dtype)
        cache = get_cache(self.cache)

        def decode(i):
            path = self.paths[i]
            if cache is None:
                out[i] = decode_image(path, self.target_size, self.color_mode, dtype, self.window)
                return
            try:
                key = file_key(path, self.target_size, self.color_mode, dtype, self.window)
            except OSError:  # missing: let decode_image name it
                key = None
            channels = self.shape[-1]
            expect = lambda image: entry_fits(image, key, channels)  # noqa: E731
            image = cache.get(key, expect) if key is not None else None
            if image is None:
                image = decode_pixels(path, self.target_size, self.color_mode, dtype, self.window)
                if key is not None:
                    cache.put(key, image)
            out[i] = image  # uint8 pixels of 8-bit files become dtype here

        # list() re-raises the first error (missing or unreadable file).
        list(_executor().map(decode, range(len(self.paths))))
        return out

    def check_files(self):
        """Fail early: every path must be a file with an image header.

        Reading headers is cheap (no pixel is decoded); a file whose pixel
        data is corrupt is reported when its batch is decoded.

        Returns
        -------
        list of (int, int)
            Each file's stored ``(height, width)``.
        """
        return [(height, width) for height, width, _ in self.check_headers()]

    def check_headers(self):
        """:meth:`check_files`, with each file's PIL mode: ``[(height, width, mode), ...]``."""
        return list(_executor().map(_stored_header, self.paths))

    def __reduce__(self):
        args = (self.paths.tolist(), self.target_size, self.color_mode, self.cache, self.window)
        return (ImagePaths, args)


def _stored_header(path):
    """``(height, width, mode)`` of an image file, from its header; errors name the file."""
    from PIL import Image, UnidentifiedImageError

    from ._dicom import dicom_header, is_dicom

    if not os.path.exists(path):
        raise FileNotFoundError(f"Image file not found: {path!r}")
    _check_regular_file(path)
    if is_dicom(path):
        return dicom_header(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
            mode = image.mode
    except Image.DecompressionBombError as exc:
        raise ValueError(_bomb_message(path, exc)) from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError(f"Cannot read image file {path!r}: {exc}") from None
    return height, width, mode


def most_common_size(sizes):
    """The most common ``(height, width)`` in ``sizes``, how many have it, how many differ.

    Ties go to the larger image.

    Returns
    -------
    size : (int, int)
    count : int
        Images of that size.
    n_sizes : int
        Distinct sizes.
    """
    from collections import Counter

    counts = Counter(tuple(size) for size in sizes)
    size, count = max(counts.items(), key=lambda item: (item[1], item[0][0] * item[0][1]))
    return size, count, len(counts)


def load_rows(x, rows, dtype):
    """A float copy of ``x[rows]``, decoding files when ``x`` is :class:`ImagePaths`."""
    if isinstance(x, ImagePaths):
        return x[rows].load(dtype)
    return x[rows].astype(dtype, order="C")  # any layout in, C-contiguous out (OpenCV)


def size_of_images(sizes, owner):
    """``target_size=None``: the images' own size, or the most common one (with a warning)."""
    size, count, n_sizes = most_common_size(sizes)
    if n_sizes > 1:
        warnings.warn(
            f"{owner}: the {len(sizes)} image files have {n_sizes} different sizes; all are "
            f"resized to the most common one, {size[0]}x{size[1]} ({count} of {len(sizes)} "
            "images). Set target_size=(height, width) to choose the size.",
            MixedImageSizesWarning,
            stacklevel=4,
        )
    return size


#: PIL modes of one channel: gray (of any depth) and black and white.
GRAY_MODES = frozenset({"1", "L", "LA", "I", "F", "I;16", "I;16B", "I;16L", "I;16N"})


def warn_if_gray_read_as_color(headers, color_mode, owner):
    """A warning when every file is grayscale but ``color_mode`` repeats it into 3 or 4 channels."""
    if color_mode == "grayscale" or not headers:
        return
    if all(mode in GRAY_MODES for _, _, mode in headers):
        warnings.warn(
            f"{owner}: all {len(headers)} image files are grayscale, and color_mode="
            f"{color_mode!r} repeats their one channel into {COLOR_MODES[color_mode][1]}: "
            "three times the memory and time for the same information. Pass "
            "color_mode='grayscale' (--color-mode grayscale) unless the model needs "
            "color input (a pretrained backbone does).",
            UserWarning,
            stacklevel=4,
        )


def warn_if_converted_at_predict(headers, fitted_shape, target_size, color_mode, owner):
    """A warning when files given to predict are resized or lose their color unasked.

    Resizing is said only for a model fitted at the images' own size
    (``target_size=None``): a ``target_size`` asks for it. Color files given to
    a model fitted on one-channel images lose their color, said unless
    ``color_mode="grayscale"`` asks for it; gray files given to a color model
    are repeated into its channels, as in ``fit``, and not said.
    """
    height, width, channels = fitted_shape
    resized = sum((h, w) != (height, width) for h, w, _ in headers)
    if resized and target_size is None:
        warnings.warn(
            f"{owner}: {resized} of the {len(headers)} image files are not {height}x{width}, "
            "the size the model was fitted on; they are resized to it (bilinear) for "
            "prediction, which changes what the model sees.",
            MixedImageSizesWarning,
            stacklevel=4,
        )
    color = sum(mode not in GRAY_MODES for _, _, mode in headers)
    if color and channels == 1 and color_mode != "grayscale":
        warnings.warn(
            f"{owner}: {color} of the {len(headers)} image files are in color, but the model "
            "was fitted on one-channel images; they are converted to grayscale for "
            "prediction.",
            UserWarning,
            stacklevel=4,
        )
