"""What every ``augment`` kernel shares: engines, value ranges, colour channels.

A kernel transforms a training batch, an ndarray ``(n, height, width,
channels)`` of float32 or float64 in the images' own units (before
``rescale`` and standardization), and returns it; it may work in place, as
the caller owns the batch. Each kernel has two engines:

``"vectorized"``
    The whole batch at once (NumPy, OpenCV), every image's parameters drawn
    in one call.
``"reference"``
    Image by image, plain code (NumPy, SciPy, PIL-like formulas), drawing
    each image's parameters from the same distributions.

The value range of each image is given by
:func:`skimgaug._augment._ranges.value_ranges` (or passed in as ``ranges``,
so that a chain of kernels keeps the range of the original images), and
outputs are clipped to it.

Channels: 1 (grey), 2 (grey and alpha), 3 (RGB) or 4 (RGBA). The alpha
channel is not a colour: colour transforms (gamma, contrast, saturation,
hue, noise, CLAHE) leave it as it is; spatial ones (blur, elastic
deformation, erasing) treat it as any other channel.
"""

import numpy as np

from .._validation import one_of
from ._ranges import value_ranges

#: The kernels' engines.
KERNEL_ENGINES = ("vectorized", "reference")
_ENGINE = one_of(*KERNEL_ENGINES)


def check_engine(engine, owner):
    """``engine`` if it is one of :data:`KERNEL_ENGINES`.

    Raises
    ------
    InvalidParameterError
        Naming ``owner``, the kernel (a ``ValueError``).
    """
    return _ENGINE.check(engine, "engine", owner)


def batch_ranges(batch, ranges=None):
    """``(low, high)`` of every image, each of shape ``(n, 1, 1, 1)`` in ``batch``'s dtype.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c)
    ranges : tuple of two array-likes of shape (n,), optional
        Precomputed ranges; by default :func:`value_ranges` of ``batch``.
    """
    low, high = value_ranges(batch) if ranges is None else ranges
    shape = (len(batch), 1, 1, 1)
    return (
        np.asarray(low, dtype=batch.dtype).reshape(shape),
        np.asarray(high, dtype=batch.dtype).reshape(shape),
    )


def dispatch(owner, vectorized, reference, batch, rng, engine, ranges, *args):
    """Check ``engine``, read the value ranges, run the engine's kernel on a non-empty batch.

    The kernel is called as ``kernel(batch, rng, *args, low, high)`` with
    :func:`batch_ranges`; an empty batch is returned as it is.
    """
    check_engine(engine, owner)
    if not len(batch):
        return batch
    low, high = batch_ranges(batch, ranges)
    kernel = vectorized if engine == "vectorized" else reference
    return kernel(batch, rng, *args, low, high)


def colour_channels(channels):
    """How many leading channels are colour (the rest is alpha): 1, 3 or ``channels``."""
    return {2: 1, 4: 3}.get(channels, channels)


def clip_(batch, low, high):
    """Clip ``batch`` in place to per-image bounds; return it."""
    return np.clip(batch, low, high, out=batch)


def gaussian_kernel_size(sigma, truncate=4.0):
    """Odd kernel width covering ``truncate`` sigmas, as SciPy's ``gaussian_filter``."""
    return 2 * int(truncate * float(sigma) + 0.5) + 1


def luma_weights(dtype):
    """ITU-R 601-2 luma weights, as PIL's ``convert("L")``."""
    return np.array([0.299, 0.587, 0.114], dtype=dtype)


def draw_uniform(rng, bounds, n):
    """``n`` draws of ``U(bounds)`` in one call (a constant when low == high)."""
    low, high = bounds
    return rng.uniform(low, high, n)
