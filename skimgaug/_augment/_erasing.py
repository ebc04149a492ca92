"""Random erasing of a training batch (Zhong et al., 2020).

Each image, with a given probability, gets one rectangle replaced by
uniform random values within the image's value range
(:func:`skimgaug._augment._ranges.value_ranges`), every channel of it
(alpha included). The rectangle's area is a fraction ``U(scale)`` of the
image and its aspect ratio (height over width) is log-uniform in
``(0.3, 1 / 0.3)``; a rectangle that does not fit is drawn again, up to
:data:`ATTEMPTS` times (as torchvision's ``RandomErasing``), after which the
image is left as it is.

Zhong, Z., Zheng, L., Kang, G., Li, S., Yang, Y. (2020). Random Erasing Data
Augmentation. AAAI.
"""

import math

import numpy as np

from ._kernels import batch_ranges, check_engine

#: Aspect ratios (height / width) of the rectangle: log-uniform in this interval.
ASPECT_RATIOS = (0.3, 1 / 0.3)
#: Draws of a rectangle before an image is left unerased.
ATTEMPTS = 10


def random_erasing(
    batch, rng, probability, *, scale=(0.02, 0.33), engine="vectorized", ranges=None
):
    """Erase one random rectangle of each image with ``probability``.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
        Images in their own units; owned by the caller (changed in place).
    rng : numpy.random.RandomState
    probability : float
        Chance that an image is erased, in ``[0, 1]``.
    scale : tuple (low, high), default=(0.02, 0.33)
        The rectangle's area as a fraction of the image's, ``0 < low <= high < 1``.
    engine : {"vectorized", "reference"}, default="vectorized"
        All rectangles drawn and filled at once, or image by image as
        torchvision's ``RandomErasing``.
    ranges : tuple of two arrays of shape (n,), optional
        Value range of every image; by default
        :func:`~skimgaug._augment._ranges.value_ranges` of ``batch``.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.zeros((4, 32, 32, 3))
    >>> erased = random_erasing(batch, np.random.RandomState(0), 1.0, scale=(0.25, 0.25))
    >>> [round(float((image != 0).any(axis=-1).mean()), 2) for image in erased]
    [0.25, 0.25, 0.25, 0.25]
    """
    check_engine(engine, "random_erasing")
    if probability == 0 or not len(batch):
        return batch
    low, high = batch_ranges(batch, ranges)
    if engine == "vectorized":
        return _erasing_vectorized(batch, rng, probability, scale, low, high)
    return _erasing_reference(batch, rng, probability, scale, low, high)


def _erasing_vectorized(batch, rng, probability, scale, low, high):
    n, height, width, channels = batch.shape
    erase = rng.random_sample(n) < probability
    area = rng.uniform(scale[0], scale[1], (n, ATTEMPTS)) * (height * width)
    ratio = np.exp(rng.uniform(*np.log(ASPECT_RATIOS), (n, ATTEMPTS)))
    box_h = np.rint(np.sqrt(area * ratio)).astype(np.int64)
    box_w = np.rint(np.sqrt(area / ratio)).astype(np.int64)
    fits = (box_h < height) & (box_w < width)
    first = fits.argmax(axis=1)  # the first rectangle that fits
    erase &= fits.any(axis=1)
    box_h, box_w = box_h[np.arange(n), first], box_w[np.arange(n), first]
    top = (rng.random_sample(n) * (height - box_h + 1)).astype(np.int64)
    left = (rng.random_sample(n) * (width - box_w + 1)).astype(np.int64)
    # Fill values for every erased pixel in one draw, then one slice per image.
    images = np.flatnonzero(erase)
    if not len(images):
        return batch
    sizes = box_h[images] * box_w[images] * channels
    # float32 uniforms from a Generator seeded by rng (RandomState draws float64 only).
    values = np.random.default_rng(rng.randint(2**31)).random(int(sizes.sum()), dtype=np.float32)
    span = (high - low).reshape(-1)
    for i, chunk in zip(images, np.split(values, np.cumsum(sizes)[:-1]), strict=True):
        box = batch[i, top[i] : top[i] + box_h[i], left[i] : left[i] + box_w[i]]
        box[...] = low.reshape(-1)[i] + span[i] * chunk.reshape(box.shape)
    return batch


def _erasing_reference(batch, rng, probability, scale, low, high):
    height, width, channels = batch.shape[1:]
    log_ratios = (math.log(ASPECT_RATIOS[0]), math.log(ASPECT_RATIOS[1]))
    for i, image in enumerate(batch):
        if not rng.random_sample() < probability:
            continue
        for _ in range(ATTEMPTS):
            area = height * width * rng.uniform(*scale)
            ratio = math.exp(rng.uniform(*log_ratios))
            h = int(round(math.sqrt(area * ratio)))
            w = int(round(math.sqrt(area / ratio)))
            if h < height and w < width:
                top = rng.randint(0, height - h + 1)
                left = rng.randint(0, width - w + 1)
                lo, hi = float(low[i, 0, 0, 0]), float(high[i, 0, 0, 0])
                image[top : top + h, left : left + w] = rng.uniform(lo, hi, (h, w, channels))
                break
    return batch
