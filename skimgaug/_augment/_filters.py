"""Random noise, blur and local contrast (CLAHE) of a training batch.

Two engines per transform (see :mod:`skimgaug._augment._kernels`); every
result is clipped to each image's value range
(:func:`skimgaug._augment._ranges.value_ranges`).
"""

import numpy as np

from ._kernels import (
    batch_ranges,
    check_engine,
    clip_,
    colour_channels,
    dispatch,
    draw_uniform,
    gaussian_kernel_size,
)

#: CLAHE's tile grid, as OpenCV's default.
CLAHE_TILES = (8, 8)


# --------------------------------------------------------------------------
# Gaussian noise
# --------------------------------------------------------------------------
def gaussian_noise(batch, rng, std, *, rescale=None, engine="vectorized", ranges=None):
    """Add independent ``N(0, std)`` noise to every colour value.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
        Images in their own units; owned by the caller (changed in place).
    rng : numpy.random.RandomState
    std : float
        Standard deviation in the units the model sees, after ``rescale``:
        with ``rescale=1/255`` and ``std=0.05``, the noise added to 8-bit
        values has a standard deviation of ``0.05 * 255``. 0 changes nothing
        (and draws nothing).
    rescale : float or None, default=None
        The estimator's ``rescale`` (None: the model sees the images' units).
    engine : {"vectorized", "reference"}, default="vectorized"
    ranges : tuple of two arrays of shape (n,), optional
        Value range of every image; by default
        :func:`~skimgaug._augment._ranges.value_ranges` of ``batch``.

    Returns
    -------
    ndarray
        The noisy batch, clipped to each image's range; the alpha channel
        of 2- and 4-channel images is left as it is.

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.full((200, 8, 8, 1), 128.0)
    >>> noisy = gaussian_noise(batch, np.random.RandomState(0), 0.02, rescale=1 / 255)
    >>> round(float(noisy.std()), 1)  # 0.02 * 255
    5.1
    """
    check_engine(engine, "gaussian_noise")
    if std == 0 or not len(batch):
        return batch
    pixel_std = std / abs(rescale) if rescale else std
    low, high = batch_ranges(batch, ranges)
    k = colour_channels(batch.shape[-1])
    if engine == "vectorized":
        # float32 normals from a Generator seeded by rng: the ziggurat in single
        # precision is several times faster than RandomState's float64 normals.
        generator = np.random.default_rng(rng.randint(2**31))
        noise = generator.standard_normal(batch[..., :k].shape, dtype=np.float32)
        noise *= np.float32(pixel_std)
        batch[..., :k] += noise.astype(batch.dtype, copy=False)
        return clip_(batch, low, high)
    for i, image in enumerate(batch):
        noisy = image[..., :k] + rng.normal(0.0, pixel_std, size=image[..., :k].shape)
        image[..., :k] = np.clip(noisy, low[i, 0, 0, 0], high[i, 0, 0, 0])
    return batch


# --------------------------------------------------------------------------
# Gaussian blur
# --------------------------------------------------------------------------
def gaussian_blur(batch, rng, sigma_range, *, engine="vectorized", ranges=None):
    """Gaussian blur with ``sigma ~ U(sigma_range)`` pixels per image.

    The kernel reaches 4 sigmas on each side, with mirrored borders (SciPy's
    ``mode="mirror"``, OpenCV's ``BORDER_REFLECT_101``); all channels are
    blurred, alpha included. An image whose sigma is 0 is left unchanged.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
    rng : numpy.random.RandomState
    sigma_range : tuple (low, high)
        ``0 <= low <= high``, in pixels.
    engine : {"vectorized", "reference"}, default="vectorized"
        OpenCV's ``GaussianBlur`` (all channels at once) or SciPy's
        ``gaussian_filter``, image by image.
    ranges : tuple of two arrays of shape (n,), optional
        See :func:`gaussian_noise`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.zeros((1, 17, 17, 1))
    >>> batch[0, 8, 8, 0] = 255.0
    >>> blurred = gaussian_blur(batch, np.random.RandomState(0), (1.0, 1.0))
    >>> round(float(blurred.sum()), 6), round(float(blurred[0, 8, 8, 0]), 1)
    (255.0, 40.6)
    """
    return dispatch(
        "gaussian_blur", _blur_vectorized, _blur_reference, batch, rng, engine, ranges, sigma_range
    )


def _blur_vectorized(batch, rng, bounds, low, high):
    import cv2

    sigma = draw_uniform(rng, bounds, len(batch))
    for i in np.flatnonzero(sigma > 0):
        size = gaussian_kernel_size(sigma[i])
        blurred = cv2.GaussianBlur(
            batch[i],
            (size, size),
            sigmaX=sigma[i],
            sigmaY=sigma[i],
            borderType=cv2.BORDER_REFLECT_101,
        )
        batch[i] = blurred.reshape(batch.shape[1:])  # OpenCV drops a single channel axis
    # A blur averages with positive weights summing to 1: it stays in the image's range.
    return batch


def _blur_reference(batch, rng, bounds, low, high):
    from scipy.ndimage import gaussian_filter

    for i, image in enumerate(batch):
        sigma = rng.uniform(*bounds)
        if sigma > 0:
            blurred = gaussian_filter(image, sigma=(sigma, sigma, 0), mode="mirror", truncate=4.0)
            image[...] = np.clip(blurred, low[i, 0, 0, 0], high[i, 0, 0, 0])
    return batch


# --------------------------------------------------------------------------
# CLAHE
# --------------------------------------------------------------------------
def clahe(batch, rng, clip_limit, *, probability=1.0, engine="vectorized", ranges=None):
    """Contrast-limited adaptive histogram equalization, each image with ``probability``.

    OpenCV's ``createCLAHE(clip_limit, tileGridSize=(8, 8))`` works on
    integer images, so the plane it equalizes is quantized: to ``uint8``
    for 8-bit images (value range ``[0, 255]``), to ``uint16`` for 16-bit
    ones (``[0, 65535]``), and for any other range, mapped linearly onto
    ``0..65535`` as ``uint16`` and back. Grey images are equalized
    directly. Colour images are equalized on the lightness of CIE Lab
    (``L`` quantized as above), then converted back to RGB: equalizing
    R, G and B apart would shift their hues; 8-bit colour images go through
    OpenCV's 8-bit Lab (their RGB rounded to integers, as albumentations
    does), other ranges through its float Lab. The alpha channel is kept.

    Note that OpenCV scales the clip limit by the tile's pixel count over
    the histogram's size (256 or 65536 bins) and never below one count per
    bin, so 16-bit and other-range images of a few pixels per tile are
    clipped much harder than 8-bit ones.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
    rng : numpy.random.RandomState
    clip_limit : float
        ``> 0``; OpenCV's ``clipLimit`` (2.0 to 4.0 is usual).
    probability : float, default=1.0
        Chance that an image is equalized, drawn per image.
    engine : {"vectorized", "reference"}, default="vectorized"
        Both call OpenCV's CLAHE once per image (it has no batch form); the
        vectorized engine converts colours and quantizes the whole batch at
        once, the reference engine image by image.
    ranges : tuple of two arrays of shape (n,), optional
        See :func:`gaussian_noise`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.tile(np.linspace(100, 140, 16), (16, 1))[None, :, :, None]
    >>> equalized = clahe(ramp.copy(), np.random.RandomState(0), 4.0)
    >>> bool(np.ptp(equalized) > np.ptp(ramp))
    True
    """
    return dispatch(
        "clahe",
        _clahe_vectorized,
        _clahe_reference,
        batch,
        rng,
        engine,
        ranges,
        clip_limit,
        probability,
    )


def _clahe_vectorized(batch, rng, clip_limit, probability, low, high):
    """CLAHE image by image (in the cache); 8-bit colour images in OpenCV's uint8 Lab."""
    import cv2

    rows = np.flatnonzero(rng.random_sample(len(batch)) < probability)
    if not len(rows):
        return batch
    equalizer = cv2.createCLAHE(clipLimit=float(clip_limit), tileGridSize=CLAHE_TILES)
    colour = colour_channels(batch.shape[-1]) == 3
    for i in rows:
        lo, hi = float(low[i, 0, 0, 0]), float(high[i, 0, 0, 0])
        image = batch[i]
        if colour and lo == 0 and hi == 255:
            rgb = np.rint(np.clip(image[..., :3], 0, 255)).astype(np.uint8)
            lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)  # L on 0-255
            lab[..., 0] = equalizer.apply(np.ascontiguousarray(lab[..., 0]))
            image[..., :3] = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
        elif colour:
            rgb = np.ascontiguousarray(image[..., :3], dtype=np.float32)
            rgb -= lo
            rgb *= 1 / (hi - lo)
            np.clip(rgb, 0, 1, out=rgb)
            lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
            lab[..., 0] = _equalize_plane(equalizer, lab[..., 0], 0.0, 100.0, lo, hi) * 100.0
            cv2.cvtColor(lab, cv2.COLOR_Lab2RGB, dst=rgb)
            np.clip(rgb, 0, 1, out=rgb)
            image[..., :3] = lo + (hi - lo) * rgb
        else:
            unit = _equalize_plane(equalizer, image[..., 0], lo, hi, lo, hi)
            image[..., 0] = lo + (hi - lo) * unit
        np.clip(image, lo, hi, out=image)
    return batch


def _clahe_reference(batch, rng, clip_limit, probability, low, high):
    import cv2

    equalizer = cv2.createCLAHE(clipLimit=float(clip_limit), tileGridSize=CLAHE_TILES)
    for i, image in enumerate(batch):
        if not rng.random_sample() < probability:
            continue
        lo, hi = float(low[i, 0, 0, 0]), float(high[i, 0, 0, 0])
        if colour_channels(image.shape[-1]) == 3 and lo == 0 and hi == 255:
            rgb = np.rint(np.clip(image[..., :3], 0, 255)).astype(np.uint8)
            lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
            lab[..., 0] = equalizer.apply(np.ascontiguousarray(lab[..., 0]))
            image[..., :3] = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
        elif colour_channels(image.shape[-1]) == 3:
            rgb = np.clip((image[..., :3] - lo) / (hi - lo), 0, 1).astype(np.float32)
            lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
            lab[..., 0] = _equalize_plane(equalizer, lab[..., 0], 0.0, 100.0, lo, hi) * 100.0
            rgb = np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0, 1)
            image[..., :3] = np.clip(lo + (hi - lo) * rgb, lo, hi)
        else:
            unit = _equalize_plane(equalizer, image[..., 0], lo, hi, lo, hi)
            image[..., 0] = np.clip(lo + (hi - lo) * unit, lo, hi)
    return batch


def _equalize_plane(equalizer, plane, plane_low, plane_high, image_low, image_high):
    """CLAHE of one plane in ``[plane_low, plane_high]``; the result in ``[0, 1]``.

    The image's value range ``[image_low, image_high]`` decides the integer
    type: ``uint8`` for an 8-bit image, else ``uint16``.
    """
    unit = np.clip((plane.astype(np.float64) - plane_low) / (plane_high - plane_low), 0, 1)
    if image_low == 0 and image_high == 255:
        return equalizer.apply(np.rint(unit * 255).astype(np.uint8)) / 255.0
    return equalizer.apply(np.rint(unit * 65535).astype(np.uint16)) / 65535.0
