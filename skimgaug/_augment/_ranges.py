"""The value range each image of a batch is augmented in.

Photometric transforms (gamma, contrast, equalize, solarize, CLAHE, ...) need
to know what "black" and "white" are. Training batches reach the augmenters
in the images' own units, before ``rescale`` and standardization, so the
range is read off each image by one documented rule:

- with a ``rescale`` (``datagen``'s, which maps the images onto 0-1), an
  image within ``[0, 1 / rescale]`` is in that range (0-16 for the digits
  with ``rescale=1/16``);
- otherwise an image within ``[0, 255]`` is in ``[0, 255]`` (8-bit sources, and DICOM
  images after a ``window``);
- otherwise an image within ``[0, 65535]`` is in ``[0, 65535]`` (16-bit
  sources);
- otherwise (negative values, e.g. Hounsfield units without a window, or
  floats beyond 16 bits) the image's own minimum and maximum; an image of a
  single value gets the range ``[value, value + 1]``.

The rule looks at one image only, so it is the same in training whatever
else is in the batch, and nothing is learned from other images.
"""

import numpy as np


def value_ranges(batch, rescale=None):
    """``(low, high)`` of every image of ``batch``, each an array of shape ``(n,)``.

    Parameters
    ----------
    batch : ndarray of shape (n, height, width, channels)
    rescale : float, optional
        ``datagen``'s ``rescale``: images within ``[0, 1 / rescale]`` are in
        that range.

    Returns
    -------
    low, high : ndarray of float32, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.stack([np.full((2, 2, 1), 200.0), np.full((2, 2, 1), 4000.0)])
    >>> low, high = value_ranges(batch)
    >>> low.tolist(), high.tolist()
    ([0.0, 0.0], [255.0, 65535.0])
    >>> value_ranges(np.full((1, 2, 2, 1), 9.0), rescale=1 / 16)[1].tolist()
    [16.0]
    """
    axes = tuple(range(1, batch.ndim))
    minimum = batch.min(axis=axes).astype(np.float32)
    maximum = batch.max(axis=axes).astype(np.float32)
    positive = minimum >= 0
    white = np.float32(1 / rescale) if rescale and rescale > 0 else None
    rescaled = positive & (maximum <= white) if white is not None else np.zeros_like(positive)
    eight_bit = positive & (maximum <= 255) & ~rescaled
    sixteen_bit = positive & (maximum <= 65535) & ~(rescaled | eight_bit)
    own = ~(rescaled | eight_bit | sixteen_bit)
    low = np.where(own, minimum, 0).astype(np.float32)
    high = np.where(eight_bit, 255, np.where(sixteen_bit, 65535, maximum)).astype(np.float32)
    if white is not None:
        high = np.where(rescaled, white, high).astype(np.float32)
    high = np.where(high <= low, low + 1, high).astype(np.float32)
    return low, high
