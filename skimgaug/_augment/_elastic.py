"""Elastic deformation of a training batch (Simard et al., 2003).

Every image gets its own displacement field: two fields of ``U(-1, 1)``
values per pixel (columns, rows), each smoothed by a Gaussian of standard
deviation ``sigma`` pixels (reflected borders, 4 sigmas of reach) and
multiplied by ``alpha`` pixels. The output pixel ``(x, y)`` samples the
input at ``(x + dx, y + dy)``, bilinearly, with a reflected border; all
channels move together.

Simard, P. Y., Steinkraus, D., Platt, J. C. (2003). Best practices for
convolutional neural networks applied to visual document analysis. ICDAR.
"""

import numpy as np

from ._kernels import batch_ranges, check_engine, clip_, gaussian_kernel_size


def elastic(batch, rng, alpha, sigma=4.0, *, engine="vectorized", ranges=None):
    """Deform every image by a random smooth displacement field.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
        Images in their own units; owned by the caller (changed in place).
    rng : numpy.random.RandomState
    alpha : float
        Scale of the displacements in pixels, ``>= 0``; 0 changes nothing
        (and draws nothing). The typical displacement is well below
        ``alpha``: smoothing shrinks the field by about ``1 / (2 * sigma)``.
    sigma : float, default=4.0
        Gaussian smoothing of the field in pixels, ``> 0``: small values
        make a local jitter, large ones a gentle bend.
    engine : {"vectorized", "reference"}, default="vectorized"
        Fields drawn for the whole batch at once, smoothed with OpenCV plane
        by plane and applied with one ``cv2.remap`` per image;
        or image by image with SciPy (``gaussian_filter``, then
        ``map_coordinates`` per channel). Both draw the same fields for the
        same seed.
    ranges : tuple of two arrays of shape (n,), optional
        Value range of every image; by default
        :func:`~skimgaug._augment._ranges.value_ranges` of ``batch``.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.tile(np.arange(16.0), (2, 16, 1))[..., None]  # two ramps
    >>> warped = elastic(batch.copy(), np.random.RandomState(0), alpha=34.0, sigma=4.0)
    >>> warped.shape, bool((warped != batch).any())
    ((2, 16, 16, 1), True)
    """
    check_engine(engine, "elastic")
    if alpha == 0 or not len(batch):
        return batch
    low, high = batch_ranges(batch, ranges)
    if engine == "vectorized":
        fields = displacement_fields(rng, batch.shape[:3], alpha, sigma)
        return clip_(remap_batch(batch, fields), low, high)
    return _elastic_reference(batch, rng, alpha, sigma, low, high)


def displacement_fields(rng, shape, alpha, sigma):
    """Smoothed random displacements for a batch, all drawn in one call.

    Parameters
    ----------
    rng : numpy.random.RandomState
    shape : tuple (n, height, width)
    alpha, sigma : float
        See :func:`elastic`.

    Returns
    -------
    ndarray of float32, shape (n, 2, height, width)
        ``[:, 0]`` the column (x) displacements, ``[:, 1]`` the row (y) ones.
    """
    import cv2

    n, height, width = shape
    # float32 uniforms from a Generator seeded by rng (RandomState draws float64 only).
    generator = np.random.default_rng(rng.randint(2**31))
    fields = generator.random((n, 2, height, width), dtype=np.float32)
    fields *= 2
    fields -= 1
    size = gaussian_kernel_size(sigma)
    for plane in fields.reshape(2 * n, height, width):  # plane by plane: stays in cache
        cv2.GaussianBlur(
            plane,
            (size, size),
            sigmaX=sigma,
            sigmaY=sigma,
            dst=plane,
            borderType=cv2.BORDER_REFLECT,
        )
    fields *= np.float32(alpha)
    return fields


def remap_batch(batch, fields):
    """Apply displacement fields: one bilinear ``cv2.remap`` per image.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c)
        Changed in place.
    fields : ndarray of shape (n, 2, h, w)
        As :func:`displacement_fields` returns.

    Returns
    -------
    ndarray
        ``batch``.
    """
    import cv2

    height, width = batch.shape[1:3]
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    for image, (dx, dy) in zip(batch, fields, strict=True):
        warped = cv2.remap(
            image.copy(),  # remap cannot write into its own source
            grid_x + dx,
            grid_y + dy,
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        image[...] = warped.reshape(image.shape)  # OpenCV drops a single channel axis
    return batch


def _elastic_reference(batch, rng, alpha, sigma, low, high):
    from scipy.ndimage import gaussian_filter

    height, width = batch.shape[1:3]
    for i, image in enumerate(batch):
        dx = gaussian_filter(rng.uniform(-1, 1, (height, width)), sigma, mode="reflect")
        dy = gaussian_filter(rng.uniform(-1, 1, (height, width)), sigma, mode="reflect")
        image[...] = remap_image(image, alpha * dx, alpha * dy)
        image[...] = np.clip(image, low[i, 0, 0, 0], high[i, 0, 0, 0])
    return batch


def remap_image(image, dx, dy):
    """One image sampled at ``(x + dx, y + dy)``: SciPy, bilinear, reflected border.

    Parameters
    ----------
    image : ndarray of shape (h, w, c)
    dx, dy : ndarray of shape (h, w)
        Column and row displacements in pixels.

    Returns
    -------
    ndarray of shape (h, w, c), float64
    """
    from scipy.ndimage import map_coordinates

    height, width = image.shape[:2]
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    coordinates = np.stack([rows + dy, cols + dx])
    return np.stack(
        [
            map_coordinates(image[..., j].astype(np.float64), coordinates, order=1, mode="reflect")
            for j in range(image.shape[-1])
        ],
        axis=-1,
    )
