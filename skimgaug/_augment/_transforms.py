"""Random transforms of training batches: the reference and the vectorized engine.

Both engines draw each image's parameters with :func:`sample_transform`, a
draw-for-draw mirror of ``ImageDataGenerator.get_random_transform`` on a private
RNG, so for the same seed they apply the *same* transforms. They differ only in
how the transforms are applied:

``"imagedatagenerator"`` (reference)
    ``ImageDataGenerator.apply_transform`` image by image (SciPy, channel by
    channel), exactly what ``ImageDataGenerator.flow`` does.
``"vectorized"``
    Transform matrices for the whole batch at once, warps in OpenCV with
    SciPy's border semantics (see :mod:`skimgaug._augment._warp`; flips are folded into
    the warp), then channel shift and brightness as whole-batch NumPy
    operations, in ``apply_transform``'s order.
"""

import contextlib
import warnings

import numpy as np

from .._compat import quiet_legacy_transforms
from ._warp import single_threaded_opencv, warp_batch

# Spline orders the vectorized warp implements.
_INTERPOLATIONS = (0, 1)


def sample_transform(augmenter, image_shape, rng):
    """Draw random transform parameters exactly as ``ImageDataGenerator`` does.

    A call-for-call mirror of ``ImageDataGenerator.get_random_transform``
    drawing from ``rng`` instead of the global ``np.random``: with
    ``rng = np.random.RandomState(s)`` the result equals
    ``get_random_transform`` after ``np.random.seed(s)``.

    Parameters
    ----------
    augmenter : ImageDataGenerator
    image_shape : tuple of int
        ``(height, width, channels)``.
    rng : numpy.random.RandomState

    Returns
    -------
    dict
        Parameters for ``augmenter.apply_transform``.
    """
    g = augmenter
    theta = rng.uniform(-g.rotation_range, g.rotation_range) if g.rotation_range else 0
    tx = _sample_shift(g.height_shift_range, image_shape[g.row_axis - 1], rng)
    ty = _sample_shift(g.width_shift_range, image_shape[g.col_axis - 1], rng)
    shear = rng.uniform(-g.shear_range, g.shear_range) if g.shear_range else 0
    if g.zoom_range[0] == 1 and g.zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = rng.uniform(g.zoom_range[0], g.zoom_range[1], 2)
    flip_horizontal = (rng.random_sample() < 0.5) * g.horizontal_flip
    flip_vertical = (rng.random_sample() < 0.5) * g.vertical_flip
    channel_shift_intensity = None
    if g.channel_shift_range != 0:
        channel_shift_intensity = rng.uniform(-g.channel_shift_range, g.channel_shift_range)
    brightness = None
    if g.brightness_range is not None:
        brightness = rng.uniform(g.brightness_range[0], g.brightness_range[1])
    return {
        "theta": theta,
        "tx": tx,
        "ty": ty,
        "shear": shear,
        "zx": zx,
        "zy": zy,
        "flip_horizontal": flip_horizontal,
        "flip_vertical": flip_vertical,
        "channel_shift_intensity": channel_shift_intensity,
        "brightness": brightness,
    }


def _sample_shift(shift_range, size, rng):
    if not shift_range:
        return 0
    try:  # a list to choose from, or an int (pixels)
        shift = rng.choice(shift_range)
        shift *= rng.choice([-1, 1])
    except ValueError:  # a float
        shift = rng.uniform(-shift_range, shift_range)
    if np.max(shift_range) < 1:
        shift *= size
    return shift


_PARAMETERS = (
    "theta",
    "tx",
    "ty",
    "shear",
    "zx",
    "zy",
    "flip_horizontal",
    "flip_vertical",
    "channel_shift_intensity",
    "brightness",
)


def sample_transforms(augmenter, image_shape, n, rng):
    """Parameters for ``n`` images, as ``n`` calls of :func:`sample_transform`.

    When every setting draws plain uniform numbers (float or zero shift
    ranges), each image consumes a fixed number of doubles from ``rng`` in a
    fixed order, so all of them are drawn in one call and mapped with the
    same formula as ``RandomState.uniform`` (``low + (high - low) * u``):
    the result equals ``n`` sequential :func:`sample_transform` calls.
    Integer or list shift ranges draw with ``choice`` and go image by image.

    Returns
    -------
    dict of ndarray of shape (n,)
        Keys as in :func:`sample_transform`; ``channel_shift_intensity`` and
        ``brightness`` are None when the setting is off.
    """
    g = augmenter
    if not all(_draws_uniform(r) for r in (g.height_shift_range, g.width_shift_range)):
        params = [sample_transform(g, image_shape, rng) for _ in range(n)]
        return {
            key: None if params[0][key] is None else np.array([p[key] for p in params])
            for key in _PARAMETERS
        }
    columns = []  # (name, low, high) per double drawn, in get_random_transform's order
    if g.rotation_range:
        columns.append(("theta", -g.rotation_range, g.rotation_range))
    for name, shift in (("tx", g.height_shift_range), ("ty", g.width_shift_range)):
        if shift:
            columns.append((name, -shift, shift))
    if g.shear_range:
        columns.append(("shear", -g.shear_range, g.shear_range))
    if not (g.zoom_range[0] == 1 and g.zoom_range[1] == 1):
        columns += [("zx", *g.zoom_range), ("zy", *g.zoom_range)]
    columns += [("flip_horizontal", 0.0, 1.0), ("flip_vertical", 0.0, 1.0)]
    if g.channel_shift_range != 0:
        columns.append(("channel_shift_intensity", -g.channel_shift_range, g.channel_shift_range))
    if g.brightness_range is not None:
        columns.append(("brightness", *g.brightness_range))
    draws = rng.random_sample(n * len(columns)).reshape(n, len(columns))
    params = {
        "theta": 0.0,
        "tx": 0.0,
        "ty": 0.0,
        "shear": 0.0,
        "zx": 1.0,
        "zy": 1.0,
        "channel_shift_intensity": None,
        "brightness": None,
    }
    params = {key: value if value is None else np.full(n, value) for key, value in params.items()}
    for j, (name, low, high) in enumerate(columns):
        params[name] = low + (high - low) * draws[:, j]
    for name, size in (("tx", image_shape[g.row_axis - 1]), ("ty", image_shape[g.col_axis - 1])):
        shift = g.height_shift_range if name == "tx" else g.width_shift_range
        if shift and shift < 1:
            params[name] = params[name] * size
    params["flip_horizontal"] = (params["flip_horizontal"] < 0.5) & bool(g.horizontal_flip)
    params["flip_vertical"] = (params["flip_vertical"] < 0.5) & bool(g.vertical_flip)
    return params


def _draws_uniform(shift_range):
    return not shift_range or isinstance(shift_range, float)


class ReferenceAugmenter:
    """``ImageDataGenerator.apply_transform``, image by image.

    Parameters
    ----------
    generator : ImageDataGenerator
        Holds the random augmentation settings.
    """

    engine = "imagedatagenerator"

    def __init__(self, generator):
        self.generator = generator

    def running(self):
        """Context for a fit using this augmenter (nothing to set up)."""
        return contextlib.nullcontext()

    def __call__(self, batch, rng):
        """Transform ``batch`` (owned by the caller) in place; return it."""
        with quiet_legacy_transforms():
            for i in range(len(batch)):
                params = sample_transform(self.generator, batch[i].shape, rng)
                batch[i] = self.generator.apply_transform(batch[i], params)
        return batch


class VectorizedAugmenter:
    """The same transforms as :class:`ReferenceAugmenter`, a whole batch at once.

    Parameters
    ----------
    generator : ImageDataGenerator
        Holds the random augmentation settings; ``interpolation_order`` must
        be 0 or 1 (see :func:`make_augmenter`).
    """

    engine = "vectorized"

    def __init__(self, generator):
        self.generator = generator

    def running(self):
        """Context for a fit: OpenCV single-threaded, restored afterwards."""
        return single_threaded_opencv()

    def __call__(self, batch, rng):
        """Transform ``batch`` (owned by the caller); return the result."""
        if not len(batch):
            return batch
        p = sample_transforms(self.generator, batch.shape[1:], len(batch), rng)
        batch = self._warp_and_flip(batch, p)
        if p["channel_shift_intensity"] is not None:
            batch = _channel_shift(batch, p["channel_shift_intensity"].astype(batch.dtype))
        if p["brightness"] is not None:
            batch = _brightness(batch, p["brightness"].astype(np.float32))
        return batch

    def _warp_and_flip(self, batch, p):
        # Flips come after the warp and channel shift in apply_transform; both
        # commute with the (per-image uniform) channel shift. An image that is
        # only flipped is flipped with np.flip (exact by construction); for a
        # warped image the flip is folded into the warp matrix (sampling at
        # mirrored output positions). An image with no transform at all is
        # left untouched, as in Keras.
        moved = (p["theta"] != 0) | (p["tx"] != 0) | (p["ty"] != 0) | (p["shear"] != 0)
        moved |= (p["zx"] != 1) | (p["zy"] != 1)
        horizontal = np.asarray(p["flip_horizontal"], dtype=bool)
        vertical = np.asarray(p["flip_vertical"], dtype=bool)
        _flip_rows(batch, horizontal & ~moved, vertical & ~moved)
        if not moved.any():
            return batch
        height, width = batch.shape[1:3]
        keys = ("theta", "tx", "ty", "shear", "zx", "zy")
        rows = np.flatnonzero(moved)
        matrices = affine_matrices(
            *(np.asarray(p[k], dtype=np.float64)[rows] for k in keys), height, width
        )
        matrices = _fold_flips(matrices, horizontal[rows], vertical[rows], height, width)
        g = self.generator
        order = g.interpolation_order
        return warp_batch(batch, matrices, rows, order, g.fill_mode, g.cval)


def _flip_rows(batch, horizontal, vertical):
    """Flip ``batch[i]`` left-right where ``horizontal[i]``, up-down where ``vertical[i]``."""
    for axis, rows in ((2, np.flatnonzero(horizontal)), (1, np.flatnonzero(vertical))):
        if len(rows):
            batch[rows] = np.flip(batch[rows], axis=axis)


def _fold_flips(matrices, horizontal, vertical, height, width):
    """Compose each inverse map with the output flips: src = M @ F @ [x, y, 1]."""
    matrices = matrices.copy()
    h = np.asarray(horizontal, dtype=bool)
    v = np.asarray(vertical, dtype=bool)
    # x -> (width - 1) - x negates column 0 and shifts column 2; same for y.
    matrices[h, :, 2] += matrices[h, :, 0] * (width - 1)
    matrices[h, :, 0] *= -1
    matrices[v, :, 2] += matrices[v, :, 1] * (height - 1)
    matrices[v, :, 1] *= -1
    return matrices


def affine_matrices(theta, tx, ty, shear, zx, zy, height, width):
    """Inverse affine maps equal to ``apply_affine_transform``'s, for a batch.

    Builds, for every image, the matrix ``apply_affine_transform`` builds for
    one channels-last image (rotation, shift, shear, zoom, about the image
    centre, in SciPy's row/column coordinates), and rewrites it as the 2x3
    matrix that maps an output pixel ``(x=column, y=row)`` to the input
    position it samples.

    Parameters
    ----------
    theta, shear : ndarray of shape (n,)
        Degrees.
    tx, ty : ndarray of shape (n,)
        Shifts in pixels along rows and columns.
    zx, zy : ndarray of shape (n,)
        Zoom factors.
    height, width : int

    Returns
    -------
    ndarray of shape (n, 2, 3)
    """
    n = len(theta)

    def matrices(**entries):
        out = np.zeros((n, 3, 3))
        out[:, 2, 2] = 1
        for (i, j), value in zip(
            ((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)), entries.values(), strict=True
        ):
            out[:, i, j] = value
        return out

    rad = np.deg2rad(theta)
    cos, sin = np.cos(rad), np.sin(rad)
    rotation = matrices(a=cos, b=-sin, c=0, d=sin, e=cos, f=0)
    shift = matrices(a=1, b=0, c=tx, d=0, e=1, f=ty)
    rad = np.deg2rad(shear)
    shearing = matrices(a=1, b=-np.sin(rad), c=0, d=0, e=np.cos(rad), f=0)
    zoom = matrices(a=zx, b=0, c=0, d=0, e=zy, f=0)
    matrix = rotation @ shift @ shearing @ zoom
    o_x, o_y = height / 2 - 0.5, width / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    matrix = offset @ matrix @ reset
    # Keras swaps the two axes (P M P) to give SciPy (row, col) coordinates;
    # OpenCV wants (x=col, y=row), which swaps them back: M itself.
    return matrix[:, :2, :].copy()


def _channel_shift(batch, intensity):
    """``apply_channel_shift`` per image: shift, clipped to the image's own range."""
    axes = (1, 2, 3)
    low = batch.min(axis=axes, keepdims=True)
    high = batch.max(axis=axes, keepdims=True)
    return np.clip(batch + intensity[:, None, None, None], low, high)


def _brightness(batch, factor):
    """``apply_brightness_shift(x, factor, scale=False)`` for a batch.

    Keras goes through an 8-bit PIL image: values are scaled to 0-255 only if
    the image leaves that range, truncated to integers, multiplied by the
    factor (PIL ``Image.blend`` with black, truncating and clipping at 255),
    then scaled back. Reproduced with the same float32 arithmetic.
    """
    low = batch.min(axis=(1, 2, 3))
    high = batch.max(axis=(1, 2, 3))
    scaled = (low < 0) | (high > 255)
    out = batch.astype(np.float32, copy=True)
    if scaled.any():
        span = (high - low)[scaled]
        x = out[scaled] - low[scaled, None, None, None]
        x /= np.where(span == 0, 1, span)[:, None, None, None]
        x *= 255
        out[scaled] = x
    quantized = out.astype(np.uint8).astype(np.float32)
    bright = np.minimum(quantized * factor[:, None, None, None], 255.0).astype(np.uint8)
    if batch.shape[-1] == 4:  # RGBA: PIL keeps the (quantized) alpha channel
        bright[..., 3] = quantized[..., 3]
    out = bright.astype(np.float32)
    if scaled.any():
        span = (high - low)[scaled, None, None, None]
        out[scaled] = out[scaled] / 255 * span + low[scaled, None, None, None]
    return out.astype(batch.dtype, copy=False)


def make_augmenter(engine, generator):
    """The augmenter for ``engine``, or the reference one with a warning.

    Parameters
    ----------
    engine : {"vectorized", "imagedatagenerator"}
    generator : ImageDataGenerator
        Random augmentation settings.

    Returns
    -------
    ReferenceAugmenter or VectorizedAugmenter
    """
    if engine == "imagedatagenerator":
        return ReferenceAugmenter(generator)
    if generator.interpolation_order not in _INTERPOLATIONS:
        warnings.warn(
            "engine='vectorized' implements interpolation_order 0 (nearest) and 1 "
            f"(bilinear), not {generator.interpolation_order}; using "
            "engine='imagedatagenerator' for this fit, which is exact but slower.",
            UserWarning,
            stacklevel=4,
        )
        return ReferenceAugmenter(generator)
    return VectorizedAugmenter(generator)
