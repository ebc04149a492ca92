"""The RandAugment operations, each applied to a group of images as whole-array NumPy.

Every function here takes a float32 group ``x`` of shape ``(m, h, w, c)``,
the value range ``low, high`` of each image (arrays of shape ``(m,)``, from
:func:`skimgaug._augment._ranges.value_ranges`) and the op's strength for
each image, and returns a new float32 array in the same range. "Black" is
``low`` and "white" is ``high``; photometric ops change the colour channels
only (the alpha channel of a 4-channel image is left as it is).

Ops defined on 8-bit levels (posterize, equalize) place each value on the
level ``round((x - low) / (high - low) * 255)`` of the range, as the
reference engine's conversion to an 8-bit PIL image does, and map the new
level back; the others compute in the images' own units. Each op mirrors
its PIL counterpart (``ImageOps`` / ``ImageEnhance``):

- blends (brightness, color, contrast, sharpness) are
  ``degenerate + factor * (x - degenerate)``, clipped to the range, with
  PIL's degenerate images (black; the luma image; a flat image at the mean
  luma; the image smoothed by PIL's ``SMOOTH`` kernel, its border kept);
- luma is ITU-R 601-2, ``0.299 R + 0.587 G + 0.114 B``, as PIL's ``"L"``;
- geometric ops map each output pixel to the input position it samples,
  with pixel centres at integer coordinates (as :func:`warp_batch` does),
  sample bilinearly, and fill what comes from outside the image with ``low``
  (PIL's rule for "outside", see :func:`warp`).
"""

import numpy as np

from ._warp import _cv2, warp_batch

#: PIL's ``ImageFilter.SMOOTH``: a 3x3 kernel of ones with 5 in the centre, over 13.
_SMOOTH = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], dtype=np.float32) / 13
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def colour_channels(x):
    """How many leading channels the photometric ops change: 1 or 3 (never alpha)."""
    return 3 if x.shape[-1] == 4 else x.shape[-1]


def _column(values):
    """Per-image values, shaped to broadcast over ``(m, h, w, c)``."""
    return np.asarray(values, dtype=np.float32).reshape(-1, 1, 1, 1)


def _luma(colour):
    """The luma of the colour channels, keeping a channel axis of length 1."""
    if colour.shape[-1] == 1:
        return colour
    return (colour @ _LUMA)[..., None]


def _with_colour(x, colour):
    """``x`` with its colour channels replaced by ``colour``."""
    out = x.copy()
    out[..., : colour.shape[-1]] = colour
    return out


def _blend(x, degenerate, factor, low, high):
    """PIL's ``Image.blend(degenerate, x, factor)`` on the colour channels, clipped."""
    colour = x[..., : colour_channels(x)]
    blended = degenerate + _column(factor) * (colour - degenerate)
    return _with_colour(x, np.clip(blended, _column(low), _column(high)))


def to_levels(x, low, high):
    """Each value's 8-bit level in its image's range: uint8 of the same shape."""
    low, span = _column(low), _column(high) - _column(low)
    return np.clip(np.rint((x - low) / span * 255.0), 0, 255).astype(np.uint8)


def from_levels(levels, low, high):
    """The values of 8-bit ``levels`` in each image's range: float32."""
    low, span = _column(low), _column(high) - _column(low)
    return (levels.astype(np.float32) / 255.0 * span + low).astype(np.float32)


def identity(x, low, high, values):
    """The images unchanged (a copy)."""
    return x.copy()


def brightness(x, low, high, factor):
    """Blend with black (``low``): ``ImageEnhance.Brightness``."""
    return _blend(x, _column(low), factor, low, high)


def color(x, low, high, factor):
    """Blend with the luma image: ``ImageEnhance.Color`` (a no-op on one channel)."""
    colour = x[..., : colour_channels(x)]
    return _blend(x, _luma(colour), factor, low, high)


def contrast(x, low, high, factor):
    """Blend with the image's mean luma: ``ImageEnhance.Contrast``."""
    colour = x[..., : colour_channels(x)]
    mean = _luma(colour).mean(axis=(1, 2, 3), dtype=np.float64)
    return _blend(x, _column(mean), factor, low, high)


def sharpness(x, low, high, factor):
    """Blend with the smoothed image: ``ImageEnhance.Sharpness``.

    The smoothed image is PIL's ``SMOOTH`` filter on the interior; the
    one-pixel border keeps its values, as PIL's 3x3 filters do.
    """
    colour = x[..., : colour_channels(x)]
    smooth = colour.copy()
    height, width = colour.shape[1:3]
    if height > 2 and width > 2:
        # All images stacked along rows: rows where two images meet are border rows,
        # which keep their values, so the kernel never mixes two images.
        rows = np.ascontiguousarray(colour).reshape(-1, width, colour.shape[-1])
        filtered = _cv2().filter2D(rows, -1, _SMOOTH, borderType=_cv2().BORDER_REPLICATE)
        filtered = filtered.reshape(colour.shape)
        smooth[:, 1:-1, 1:-1] = filtered[:, 1:-1, 1:-1]
    return _blend(x, smooth, factor, low, high)


def auto_contrast(x, low, high, values):
    """Stretch each colour channel's min..max onto the range: ``ImageOps.autocontrast``.

    A channel of a single value is left as it is.
    """
    colour = x[..., : colour_channels(x)]
    m, c = len(x), colour.shape[-1]
    # Reduce along a contiguous last axis (much faster than over axes 1 and 2).
    planes = np.ascontiguousarray(np.moveaxis(colour, -1, 1)).reshape(m, c, -1)
    cmin = planes.min(axis=2).reshape(m, 1, 1, c)
    cmax = planes.max(axis=2).reshape(m, 1, 1, c)
    flat = cmax <= cmin
    scale = np.where(flat, 1, (_column(high) - _column(low)) / np.where(flat, 1, cmax - cmin))
    base = np.where(flat, cmin, _column(low))
    return _with_colour(x, (base + (colour - cmin) * scale).astype(np.float32))


def equalize(x, low, high, values):
    """Equalize each colour channel's 8-bit histogram: ``ImageOps.equalize``.

    Histograms and look-ups image by image in OpenCV; PIL's look-up tables
    computed for every image and channel at once: with
    ``h`` the histogram and ``step = (count - h[last non-empty bin]) // 255``,
    level ``i`` maps to ``(step // 2 + h[:i].sum()) // step``; a channel with
    ``step == 0`` (one busy level, or fewer than 256 pixels outside the
    last busy level: images under 16x16) is left as it is, as in PIL and
    torchvision.
    """
    cv2 = _cv2()
    c = colour_channels(x)
    m = len(x)
    levels = to_levels(x[..., :c], low, high)
    hist = np.empty((m, c, 256), dtype=np.int64)
    for i, k in np.ndindex(m, c):
        hist[i, k] = cv2.calcHist([levels[i]], [k], None, [256], [0, 256]).ravel()
    hist = hist.reshape(m * c, 256)
    last = 255 - np.argmax(hist[:, ::-1] > 0, axis=1)
    step = (hist.sum(axis=1) - hist[np.arange(m * c), last]) // 255
    before = np.cumsum(hist, axis=1) - hist
    safe = np.maximum(step, 1)[:, None]
    lut = np.minimum((safe // 2 + before) // safe, 255)
    lut = np.where(step[:, None] > 0, lut, np.arange(256)).astype(np.uint8)
    luts = lut.reshape(m, c, 256).transpose(0, 2, 1)  # cv2.LUT: (256, 1, channels)
    mapped = np.empty_like(levels)
    for i in range(m):
        table = np.ascontiguousarray(luts[i]).reshape(256, 1, c)
        mapped[i] = cv2.LUT(levels[i], table).reshape(levels.shape[1:])
    return _with_colour(x, from_levels(mapped, low, high))


def solarize(x, low, high, threshold):
    """Invert (``low + high - x``) values at or above the threshold: ``ImageOps.solarize``.

    ``threshold`` is a fraction of each image's range: 1 inverts only
    ``high``, 0 every value.
    """
    colour = x[..., : colour_channels(x)]
    cut = _column(low) + _column(threshold) * (_column(high) - _column(low))
    # Branch-free select: np.where is slow on noisy masks.
    flip = (colour >= cut) * (_column(low) + _column(high) - 2 * colour)
    return _with_colour(x, colour + flip)


def posterize(x, low, high, bits):
    """Keep the top ``bits`` bits of each 8-bit level: ``ImageOps.posterize``.

    Images given 8 bits are returned unchanged (not quantized).
    """
    bits = np.asarray(bits, dtype=np.int64)
    out = x.copy()
    rows = np.flatnonzero(bits < 8)
    if len(rows):
        c = colour_channels(x)
        levels = to_levels(x[rows, ..., :c], low[rows], high[rows])
        mask = (0xFF & ~((1 << (8 - bits[rows])) - 1)).astype(np.uint8)
        kept = levels & mask[:, None, None, None]
        out[rows, ..., :c] = from_levels(kept, low[rows], high[rows])
    return out


def _affine(a, b, c, d, e, f):
    """Stack per-image entries into matrices ``[[a, b, c], [d, e, f]]``: (m, 2, 3).

    Entries are rounded to 1e-12 (as PIL rounds rotations to 1e-15), so that a
    quarter turn maps the edge pixels exactly onto the edge, not 1e-15 outside.
    """
    m = max(np.size(v) for v in (a, b, c, d, e, f))
    columns = [np.broadcast_to(np.asarray(v, dtype=np.float64), (m,)) for v in (a, b, c, d, e, f)]
    return np.round(np.stack(columns, axis=1), 12).reshape(m, 2, 3)


def rotation_matrices(degrees, height, width):
    """Rotate counter-clockwise about the centre, as PIL's ``Image.rotate``."""
    t = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    cx, cy = (width - 1) / 2, (height - 1) / 2
    cos, sin = np.cos(t), np.sin(t)
    return _affine(cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy)


def shear_matrices(axis, factor, height, width):
    """Shear about the image's top-left corner, as PIL's ``(1, s, 0, 0, 1, 0)`` transform.

    The corner is at ``(-0.5, -0.5)`` in pixel-centre coordinates, hence the
    offset ``s / 2``.
    """
    s = np.asarray(factor, dtype=np.float64)
    if axis == "x":
        return _affine(1, s, s / 2, 0, 1, 0)
    return _affine(1, 0, 0, s, 1, s / 2)


def translation_matrices(axis, pixels, height, width):
    """Sample at ``x + pixels`` (or ``y + pixels``): the image moves by ``-pixels``."""
    t = np.asarray(pixels, dtype=np.float64)
    if axis == "x":
        return _affine(1, 0, t, 0, 1, 0)
    return _affine(1, 0, 0, 0, 1, t)


def warp(x, low, matrices):
    """Bilinear warps of every image, filled with its ``low`` outside the source.

    As PIL's ``Image.transform``: an output pixel is filled when its source
    lies outside the pixels' area, ``[-0.5, size - 0.5)`` in pixel-centre
    coordinates; inside, it is interpolated with the edge pixels replicated.
    (SciPy's and :func:`warp_batch`'s ``"constant"`` fill starts half a pixel
    further in, at the outer pixel centres.)
    """
    height, width = x.shape[1:3]
    out = np.array(x, dtype=np.float32, order="C", copy=True)
    warp_batch(out, matrices, np.arange(len(x)), 1, "nearest", 0.0)
    cols = np.arange(width, dtype=np.float64)[None, None, :]
    rows = np.arange(height, dtype=np.float64)[None, :, None]
    m = matrices[:, :, :, None, None]
    src_x = m[:, 0, 0] * cols + m[:, 0, 1] * rows + m[:, 0, 2]
    src_y = m[:, 1, 0] * cols + m[:, 1, 1] * rows + m[:, 1, 2]
    outside = (src_x < -0.5) | (src_x >= width - 0.5) | (src_y < -0.5) | (src_y >= height - 0.5)
    image, row, col = np.nonzero(outside)
    out[image, row, col] = np.asarray(low, dtype=np.float32)[image, None]
    return out


def _geometric(build, *args):
    def op(x, low, high, values):
        return warp(x, low, build(*args, values, *x.shape[1:3]))

    op.__doc__ = f"Warp with :func:`{build.__name__}` {' '.join(map(str, args))}."
    return op


def rotate(x, low, high, degrees):
    """Rotate by ``degrees`` counter-clockwise about the centre."""
    return warp(x, low, rotation_matrices(degrees, *x.shape[1:3]))


#: The vectorized implementation of each op, by name.
VECTORIZED = {
    "identity": identity,
    "auto_contrast": auto_contrast,
    "equalize": equalize,
    "rotate": rotate,
    "solarize": solarize,
    "color": color,
    "posterize": posterize,
    "contrast": contrast,
    "brightness": brightness,
    "sharpness": sharpness,
    "shear_x": _geometric(shear_matrices, "x"),
    "shear_y": _geometric(shear_matrices, "y"),
    "translate_x": _geometric(translation_matrices, "x"),
    "translate_y": _geometric(translation_matrices, "y"),
}
