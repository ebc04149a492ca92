"""Random colour jitter of a training batch: gamma, contrast, saturation, hue.

Each function draws one factor per image from a uniform range and applies
it with the vectorized or the reference engine (see
:mod:`skimgaug._augment._kernels`). Values are taken in each image's value
range ``[low, high]`` (:func:`skimgaug._augment._ranges.value_ranges`), the
result is clipped to it, and the alpha channel of 2- and 4-channel images is
left as it is.

The formulas are PIL's ``ImageEnhance`` on float images: contrast blends
with the image's mean grey level, saturation with its grey image (ITU-R
601-2 luma, as ``convert("L")``), without PIL's rounding to 8 bits.
"""

import numpy as np

from ._kernels import (
    check_engine,
    colour_channels,
    dispatch,
    draw_uniform,
    luma_weights,
)


# --------------------------------------------------------------------------
# gamma
# --------------------------------------------------------------------------
def gamma(batch, rng, gamma_range, *, engine="vectorized", ranges=None):
    """Gamma correction with ``gamma ~ U(gamma_range)`` per image.

    ``x' = low + (high - low) * ((x - low) / (high - low)) ** gamma``: a
    gamma below 1 brightens, above 1 darkens; ``low`` and ``high`` stay put.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
        Images in their own units; owned by the caller (changed in place).
    rng : numpy.random.RandomState
    gamma_range : tuple (low, high)
        ``0 < low <= high``; ``(1, 1)`` changes nothing.
    engine : {"vectorized", "reference"}, default="vectorized"
    ranges : tuple of two arrays of shape (n,), optional
        Value range of every image; by default
        :func:`~skimgaug._augment._ranges.value_ranges` of ``batch``.

    Returns
    -------
    ndarray
        The transformed batch, same shape and dtype.

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.full((1, 2, 2, 1), 63.75, dtype=np.float32)
    >>> gamma(batch, np.random.RandomState(0), (0.5, 0.5))[0, 0, 0, 0]
    np.float32(127.5)
    """
    return dispatch(
        "gamma", _gamma_vectorized, _gamma_reference, batch, rng, engine, ranges, gamma_range
    )


def _gamma_vectorized(batch, rng, bounds, low, high):
    g = draw_uniform(rng, bounds, len(batch))
    k = colour_channels(batch.shape[-1])
    for i in range(len(batch)):  # one image at a time stays in the CPU's cache
        lo, hi = float(low[i, 0, 0, 0]), float(high[i, 0, 0, 0])
        colour = _colour_of(batch[i], k)
        colour -= lo
        colour *= 1 / (hi - lo)
        np.clip(colour, 0, 1, out=colour)
        np.power(colour, colour.dtype.type(g[i]), out=colour)
        colour *= hi - lo
        colour += lo
        np.clip(colour, lo, hi, out=colour)  # float rounding only
        _put_colour(batch[i], k, colour)
    return batch


def _colour_of(image, k):
    """The colour channels of one image as a contiguous array (a view when all are colour)."""
    return image if k == image.shape[-1] else np.ascontiguousarray(image[..., :k])


def _put_colour(image, k, colour):
    if k != image.shape[-1]:
        image[..., :k] = colour


def _gamma_reference(batch, rng, bounds, low, high):
    k = colour_channels(batch.shape[-1])
    for i, image in enumerate(batch):
        g = rng.uniform(*bounds)
        lo, hi = float(low[i, 0, 0, 0]), float(high[i, 0, 0, 0])
        colour = image[..., :k].astype(np.float64)
        colour = np.power(np.clip((colour - lo) / (hi - lo), 0.0, 1.0), g) * (hi - lo) + lo
        image[..., :k] = np.clip(colour, lo, hi)
    return batch


# --------------------------------------------------------------------------
# contrast
# --------------------------------------------------------------------------
def contrast(batch, rng, contrast_range, *, engine="vectorized", ranges=None):
    """Contrast change by ``factor ~ U(contrast_range)`` per image.

    As PIL's ``ImageEnhance.Contrast``: each image is blended with a
    constant image of its mean grey level, ``mean + factor * (x - mean)``;
    0 gives a flat grey image, 1 the image itself.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
    rng : numpy.random.RandomState
    contrast_range : tuple (low, high)
        ``0 <= low <= high``.
    engine : {"vectorized", "reference"}, default="vectorized"
    ranges : tuple of two arrays of shape (n,), optional
        See :func:`gamma`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.array([[[[100.0]], [[200.0]]]])  # one 2x1 grey image
    >>> contrast(batch, np.random.RandomState(0), (0.5, 0.5))[0, :, 0, 0]
    array([125., 175.])
    """
    return dispatch(
        "contrast",
        _contrast_vectorized,
        _contrast_reference,
        batch,
        rng,
        engine,
        ranges,
        contrast_range,
    )


def _grey_vectorized(colour):
    """Grey level of every pixel of a batch's colour channels, keeping the channel axis."""
    if colour.shape[-1] == 1:
        return colour
    return (colour @ luma_weights(colour.dtype))[..., None]


def _contrast_vectorized(batch, rng, bounds, low, high):
    import cv2

    factor = draw_uniform(rng, bounds, len(batch))
    k = colour_channels(batch.shape[-1])
    weights = luma_weights(np.float64) if k == 3 else np.ones(1)
    for i in range(len(batch)):
        colour = _colour_of(batch[i], k)
        # The mean grey level is the luma of the channel means (a linear map).
        mean = float(np.dot(weights, cv2.mean(colour)[:k]))
        f = float(factor[i])
        colour *= f
        colour += (1 - f) * mean
        np.clip(colour, low[i, 0, 0, 0], high[i, 0, 0, 0], out=colour)
        _put_colour(batch[i], k, colour)
    return batch


def _grey_image(image):
    """Grey level of one (h, w, k) image, as PIL's ``convert("L")`` without rounding."""
    if image.shape[-1] == 1:
        return image[..., 0].astype(np.float64)
    red, green, blue = (image[..., j].astype(np.float64) for j in range(3))
    return red * 299 / 1000 + green * 587 / 1000 + blue * 114 / 1000


def _blend(degenerate, image, factor):
    """PIL's ``Image.blend(degenerate, image, factor)`` in floats."""
    return degenerate * (1.0 - factor) + image * factor


def _contrast_reference(batch, rng, bounds, low, high):
    k = colour_channels(batch.shape[-1])
    for i, image in enumerate(batch):
        factor = rng.uniform(*bounds)
        colour = image[..., :k].astype(np.float64)
        degenerate = np.full_like(colour, _grey_image(colour).mean())
        blended = _blend(degenerate, colour, factor)
        image[..., :k] = np.clip(blended, low[i, 0, 0, 0], high[i, 0, 0, 0])
    return batch


# --------------------------------------------------------------------------
# saturation
# --------------------------------------------------------------------------
def saturation(batch, rng, saturation_range, *, engine="vectorized", ranges=None):
    """Saturation change by ``factor ~ U(saturation_range)`` per image.

    As PIL's ``ImageEnhance.Color``: each image is blended with its own grey
    image, ``grey + factor * (x - grey)``; 0 gives a grey image, 1 the image
    itself. Grey images (1 or 2 channels) are returned unchanged, without
    drawing from ``rng``.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
    rng : numpy.random.RandomState
    saturation_range : tuple (low, high)
        ``0 <= low <= high``.
    engine : {"vectorized", "reference"}, default="vectorized"
    ranges : tuple of two arrays of shape (n,), optional
        See :func:`gamma`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.array([[[[200.0, 100.0, 0.0]]]])
    >>> saturation(batch, np.random.RandomState(0), (0.0, 0.0)).round(1)
    array([[[[118.5, 118.5, 118.5]]]])
    """
    if colour_channels(batch.shape[-1]) == 1:
        check_engine(engine, "saturation")
        return batch
    return dispatch(
        "saturation",
        _saturation_vectorized,
        _saturation_reference,
        batch,
        rng,
        engine,
        ranges,
        saturation_range,
    )


def _saturation_vectorized(batch, rng, bounds, low, high):
    import cv2

    factor = draw_uniform(rng, bounds, len(batch))
    for i in range(len(batch)):
        colour = _colour_of(batch[i], 3)
        if colour.dtype == np.float32:  # ITU-R 601-2 luma, as PIL's "L"
            grey = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY)
        else:  # OpenCV converts no float64 colours
            grey = colour @ luma_weights(colour.dtype)
        f = float(factor[i])
        colour *= f
        grey *= 1 - f
        colour += grey[..., None]
        np.clip(colour, low[i, 0, 0, 0], high[i, 0, 0, 0], out=colour)
        _put_colour(batch[i], 3, colour)
    return batch


def _saturation_reference(batch, rng, bounds, low, high):
    for i, image in enumerate(batch):
        factor = rng.uniform(*bounds)
        colour = image[..., :3].astype(np.float64)
        degenerate = np.repeat(_grey_image(colour)[..., None], 3, axis=-1)
        blended = _blend(degenerate, colour, factor)
        image[..., :3] = np.clip(blended, low[i, 0, 0, 0], high[i, 0, 0, 0])
    return batch


# --------------------------------------------------------------------------
# hue
# --------------------------------------------------------------------------
def hue(batch, rng, hue_range, *, engine="vectorized", ranges=None):
    """Hue rotation by ``shift ~ U(hue_range)`` of a full turn per image.

    Each RGB image is mapped to ``[0, 1]`` with its value range, converted to
    HSV, its hue shifted by ``shift`` turns (0.5 is half the colour circle,
    so red becomes cyan) modulo one turn, and converted back. Saturation
    and value are kept. Grey images (1 or 2 channels) have no hue: they
    are returned unchanged, without drawing from ``rng``.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
        RGB(A) images, red first.
    rng : numpy.random.RandomState
    hue_range : tuple (low, high)
        ``-0.5 <= low <= high <= 0.5``.
    engine : {"vectorized", "reference"}, default="vectorized"
        The vectorized engine converts with OpenCV in float32, the
        reference one with ``matplotlib.colors`` image by image.
    ranges : tuple of two arrays of shape (n,), optional
        See :func:`gamma`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> red = np.array([[[[255.0, 0.0, 0.0]]]], dtype=np.float32)
    >>> hue(red, np.random.RandomState(0), (0.5, 0.5))[0, 0, 0].round()
    array([  0., 255., 255.], dtype=float32)
    """
    if colour_channels(batch.shape[-1]) == 1:
        check_engine(engine, "hue")
        return batch
    return dispatch("hue", _hue_vectorized, _hue_reference, batch, rng, engine, ranges, hue_range)


def _hue_vectorized(batch, rng, bounds, low, high):
    import cv2

    shift = draw_uniform(rng, bounds, len(batch))
    for i in range(len(batch)):  # one image at a time stays in the CPU's cache
        lo, hi = float(low[i, 0, 0, 0]), float(high[i, 0, 0, 0])
        colour = np.ascontiguousarray(batch[i, ..., :3], dtype=np.float32)
        colour -= lo
        colour *= 1 / (hi - lo)
        np.clip(colour, 0, 1, out=colour)
        hsv = cv2.cvtColor(colour, cv2.COLOR_RGB2HSV)  # hue in degrees
        # OpenCV's HSV2RGB wraps hues of 360 degrees and more (not negative ones):
        # a shift kept positive needs no modulo.
        hsv[..., 0] += np.float32(360 * shift[i] % 360)
        cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB, dst=colour)
        colour *= hi - lo
        colour += lo
        np.clip(colour, lo, hi, out=colour)
        batch[i, ..., :3] = colour
    return batch


def _hue_reference(batch, rng, bounds, low, high):
    from matplotlib.colors import hsv_to_rgb, rgb_to_hsv

    for i, image in enumerate(batch):
        shift = rng.uniform(*bounds)
        lo, hi = float(low[i, 0, 0, 0]), float(high[i, 0, 0, 0])
        unit = np.clip((image[..., :3].astype(np.float64) - lo) / (hi - lo), 0.0, 1.0)
        hsv = rgb_to_hsv(unit)
        hsv[..., 0] = (hsv[..., 0] + shift) % 1.0
        image[..., :3] = np.clip(lo + (hi - lo) * hsv_to_rgb(hsv), lo, hi)
    return batch
