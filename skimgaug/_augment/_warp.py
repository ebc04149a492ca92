"""Affine warps of a batch with SciPy ``ndimage`` semantics, computed by OpenCV.

``ImageDataGenerator`` warps with ``scipy.ndimage.affine_transform``, one
channel at a time. OpenCV's ``warpAffine`` computes the same bilinear or
nearest-neighbour resampling, all channels at once, in SIMD code that
releases the GIL. Border handling is matched to SciPy's modes:

- ``"nearest"`` and ``"reflect"`` map to OpenCV's replicate and reflect borders;
- ``"constant"``: SciPy fills every output pixel whose source lies outside
  the image with ``cval`` and never blends ``cval`` into border pixels, so we
  warp with a replicated border and then fill that region;
- ``"wrap"``: SciPy's legacy ``wrap`` repeats with period ``n - 1`` (the last
  and first rows coincide), which no OpenCV border does, so source
  coordinates are computed and wrapped explicitly, then sampled with
  ``remap``.
"""

import contextlib

import numpy as np

from .._parallel import SharedSetting

_BORDERS = {"nearest": "BORDER_REPLICATE", "reflect": "BORDER_REFLECT"}


def _cv2():
    import cv2

    return cv2


def _set_opencv_threads(threads):
    _cv2().setNumThreads(threads)


_OPENCV_THREADS = SharedSetting(lambda: _cv2().getNumThreads(), _set_opencv_threads)


@contextlib.contextmanager
def single_threaded_opencv():
    """Run OpenCV single-threaded inside the block; restore its setting after.

    The warps run on a background thread while TensorFlow trains on every
    core; OpenCV's own worker threads would only compete with TensorFlow
    (and spin while they wait), so a fit keeps OpenCV to one thread.
    ``cv2.setNumThreads`` is process-wide: with fits running in several
    threads at once, the first one in saves the user's setting and the last
    one out restores it.
    """
    with _OPENCV_THREADS.preserved():
        _cv2().setNumThreads(0)
        yield


def warp_batch(batch, matrices, rows, order, fill_mode, cval):
    """Warp the images ``batch[rows]`` with their inverse affine maps.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
    matrices : ndarray of shape (len(rows), 2, 3)
        For each image, the map from an output pixel ``(x=column, y=row)``
        to the input position it samples: ``src = M @ [x, y, 1]``.
    rows : ndarray of int
        The images to warp, in place; the others are left as they are.
    order : {0, 1}
        Nearest-neighbour or bilinear interpolation.
    fill_mode : {"nearest", "reflect", "constant", "wrap"}
    cval : float

    Returns
    -------
    ndarray
        ``batch``.
    """
    cv2 = _cv2()
    interpolation = cv2.INTER_NEAREST if order == 0 else cv2.INTER_LINEAR
    height, width = batch.shape[1:3]
    border = getattr(cv2, _BORDERS.get(fill_mode, "BORDER_REPLICATE"))
    gray = batch.shape[-1] == 1
    scratch = np.empty(batch.shape[1:3] if gray else batch.shape[1:], dtype=batch.dtype)
    for row, matrix in zip(rows, matrices, strict=True):
        target = batch[row, ..., 0] if gray else batch[row]
        scratch[...] = target  # the warp cannot read and write the same image
        if fill_mode == "wrap":
            map_x, map_y = (
                _wrap(c, n)
                for c, n in zip(
                    _source_coordinates(matrix, height, width), (width, height), strict=True
                )
            )
            cv2.remap(scratch, map_x, map_y, interpolation, dst=target, borderMode=border)
        else:
            flags = interpolation | cv2.WARP_INVERSE_MAP
            cv2.warpAffine(
                scratch, matrix, (width, height), dst=target, borderMode=border, flags=flags
            )
        if fill_mode == "constant":
            src_x, src_y = _source_coordinates(matrix, height, width)
            outside = (src_x < 0) | (src_x > width - 1) | (src_y < 0) | (src_y > height - 1)
            batch[row][outside] = cval
    return batch


def _source_coordinates(matrix, height, width):
    """Source (x, y) of every output pixel of one image: two (h, w) arrays."""
    rows = np.arange(height, dtype=np.float32)[:, None]
    cols = np.arange(width, dtype=np.float32)[None, :]
    m = matrix.astype(np.float32)
    src_x = m[0, 0] * cols + m[0, 1] * rows + m[0, 2]
    src_y = m[1, 0] * cols + m[1, 1] * rows + m[1, 2]
    return src_x, src_y


def _wrap(coordinate, size):
    """scipy.ndimage's legacy ``wrap``: period ``size - 1``."""
    if size <= 1:
        return np.zeros_like(coordinate)
    return np.mod(coordinate, size - 1)
