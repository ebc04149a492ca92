"""RandAugment and TrivialAugment-Wide on a batch of images in their own units.

RandAugment (Cubuk et al., 2020, "RandAugment: Practical automated data
augmentation with a reduced search space") applies ``n_ops`` operations to
each image, drawn uniformly with replacement from :data:`OPERATIONS`, all at
one ``magnitude``. TrivialAugment-Wide (Müller & Hutter, 2021,
"TrivialAugment: Tuning-free yet state-of-the-art data augmentation")
applies one operation per image at a magnitude drawn uniformly from the
wider ranges. Ops with a direction (rotate, shear, translate and the four
blends) take a random sign.

Magnitudes
----------
``magnitude`` runs from 0 to 1; 1 is the strongest setting of torchvision's
tables (``torchvision.transforms.RandAugment._augmentation_space`` and
``TrivialAugmentWide._augmentation_space``, ``num_bins=31``), whose bin ``b``
is magnitude ``b / 30``: torchvision's default RandAugment
(``magnitude=9``) is ``magnitude=0.3`` here. The strength at magnitude ``m``
(sign ``s`` = +1 or -1):

============================  ========================  ========================
op                            RandAugment               TrivialAugment-Wide
============================  ========================  ========================
rotate (degrees)              ``30 m s``                ``135 m s``
shear_x, shear_y (factor)     ``0.3 m s``               ``0.99 m s``
translate_x, translate_y      ``150/331 m s`` of size   ``150/331 m s`` of size
brightness, color, contrast,  factor ``1 + 0.9 m s``    factor ``1 + 0.99 m s``
sharpness
posterize (bits kept)         ``8 - round(4 m)``        ``8 - round(6 m)``
solarize (threshold)          ``high - m (high - low)`` the same
identity, auto_contrast,      no magnitude              no magnitude
equalize
============================  ========================  ========================

Two departures from torchvision: TrivialAugment-Wide's translation is
32 pixels whatever the image size there, and is relative here (the
RandAugment bound, 150/331 of the size, so it suits 8x8 and 512x512 images
alike); and its magnitude is drawn from ``U(0, 1)`` rather than from 31 bins.

Value range and fill
--------------------
Each image's range ``[low, high]`` is read once, before any op, by
:func:`~skimgaug._augment._ranges.value_ranges`; ops relative to "black" and
"white" (solarize, posterize, equalize, auto-contrast, brightness) use it,
and every op keeps values within it. Geometric ops sample bilinearly and
fill with ``low`` where the source lies outside the image. Shears are about
the top-left corner, as in torchvision and the original PIL policies.

Engines
-------
Both engines consume the RNG identically, so with the same seed they
choose the same ops, magnitudes and signs for every image; they differ only
in how the ops are applied:

``"vectorized"``
    All draws in one call each, then every op applied to the group of images
    that drew it, as whole-array NumPy and OpenCV warps
    (:mod:`skimgaug._augment._randaugment_ops`).
``"reference"``
    Image by image with PIL, through an 8-bit round trip in the image's range
    (:mod:`skimgaug._augment._randaugment_pil`).
"""

import numpy as np

from .._validation import Constraint, integer, is_real, one_of, real
from ._randaugment_ops import VECTORIZED
from ._randaugment_pil import apply_reference
from ._ranges import value_ranges

#: The operations, in the RandAugment paper's order.
OPERATIONS = (
    "identity",
    "auto_contrast",
    "equalize",
    "rotate",
    "solarize",
    "color",
    "posterize",
    "contrast",
    "brightness",
    "sharpness",
    "shear_x",
    "shear_y",
    "translate_x",
    "translate_y",
)
#: The magnitude tables, by space.
SPACES = ("randaugment", "wide")
#: Strength at magnitude 1: (RandAugment, TrivialAugment-Wide); see the module docstring.
MAXIMA = {
    "rotate": (30.0, 135.0),
    "shear_x": (0.3, 0.99),
    "shear_y": (0.3, 0.99),
    "translate_x": (150 / 331, 150 / 331),
    "translate_y": (150 / 331, 150 / 331),
    "brightness": (0.9, 0.99),
    "color": (0.9, 0.99),
    "contrast": (0.9, 0.99),
    "sharpness": (0.9, 0.99),
    "posterize": (4, 6),
    "solarize": (1.0, 1.0),
}
_ENGINE = one_of("vectorized", "reference")
_SPACE = one_of(*SPACES)
_OPERATION = one_of(*OPERATIONS)
_MAGNITUDE = real(0, 1)
_SIGN = Constraint("1 or -1", lambda v: is_real(v) and v in (1, -1), float)


def op_values(name, magnitude, sign, space, height, width):
    """Strength of op ``name`` at ``magnitude`` and ``sign``, as the op functions take it.

    Parameters
    ----------
    name : str
        One of :data:`OPERATIONS`.
    magnitude, sign : float or ndarray
        In [0, 1], and +1 or -1 (ignored by ops without a direction).
    space : {"randaugment", "wide"}
    height, width : int
        Image size: translations are a fraction of it, returned in pixels.

    Returns
    -------
    float or ndarray
        Degrees (rotate), a shear factor, pixels (translate), a blend factor,
        bits kept (posterize), the threshold as a fraction of the range
        (solarize), or 0 for ops without a magnitude.

    Examples
    --------
    >>> float(op_values("rotate", 0.5, -1, "randaugment", 32, 32))
    -15.0
    >>> int(op_values("posterize", 1.0, 1, "wide", 32, 32))
    2
    """
    if name not in MAXIMA:
        return np.zeros_like(np.asarray(magnitude, dtype=np.float64))
    maximum = MAXIMA[name][SPACES.index(space)]
    m, s = np.asarray(magnitude, dtype=np.float64), np.asarray(sign, dtype=np.float64)
    if name in ("rotate", "shear_x", "shear_y"):
        return s * m * maximum
    if name.startswith("translate"):
        return s * m * maximum * (width if name == "translate_x" else height)
    if name == "posterize":
        return 8 - np.rint(m * maximum)
    if name == "solarize":
        return 1 - m
    return 1 + s * m * maximum


def _draw(rng, n, n_ops, magnitude):
    """Ops (indices), magnitudes and signs of every image: three arrays (n, n_ops)."""
    ops = rng.randint(len(OPERATIONS), size=(n, n_ops))
    if magnitude is None:
        magnitudes = rng.random_sample((n, n_ops))
    else:
        magnitudes = np.full((n, n_ops), float(magnitude))
    signs = np.where(rng.random_sample((n, n_ops)) < 0.5, -1.0, 1.0)
    return ops, magnitudes, signs


def _checked_batch(batch, owner):
    batch = np.asarray(batch)
    if batch.ndim != 4 or batch.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"{owner} takes a batch of shape (n, height, width, channels) with 1, 3 or 4 "
            f"channels. Got shape {batch.shape} instead."
        )
    return np.array(batch, dtype=np.float32, copy=True)


def _apply(batch, plan, space, engine, ranges=None):
    """Apply a drawn plan to a copy of ``batch``, with ``engine``."""
    ops, magnitudes, signs = plan
    if batch.size == 0 or ops.shape[1] == 0:
        return batch
    low, high = value_ranges(batch) if ranges is None else ranges
    height, width = batch.shape[1:3]
    if engine == "vectorized":
        for k in range(ops.shape[1]):
            for index, name in enumerate(OPERATIONS):
                rows = np.flatnonzero(ops[:, k] == index)
                if name == "identity" or not len(rows):
                    continue
                values = op_values(name, magnitudes[rows, k], signs[rows, k], space, height, width)
                batch[rows] = VECTORIZED[name](batch[rows], low[rows], high[rows], values)
        return batch
    for i, image in enumerate(batch):
        for k in range(ops.shape[1]):
            name = OPERATIONS[ops[i, k]]
            if name == "identity":
                continue
            value = op_values(name, magnitudes[i, k], signs[i, k], space, height, width)
            image = apply_reference(image, low[i], high[i], name, value)
        batch[i] = image
    return batch


def rand_augment(batch, rng, n_ops, magnitude, engine="vectorized", *, ranges=None):
    """RandAugment: ``n_ops`` random ops per image, all at ``magnitude``.

    Parameters
    ----------
    batch : ndarray of shape (n, height, width, channels)
        Images in their own units (before ``rescale``), 1, 3 or 4 channels.
    rng : numpy.random.RandomState
        Source of every random choice: the same seed gives the same output.
    n_ops : int
        Ops per image (torchvision's default: 2), drawn uniformly with
        replacement from :data:`OPERATIONS`; 0 returns the batch unchanged.
    magnitude : float
        In [0, 1]; the strength of every op (see the module's table).
        torchvision's default ``magnitude=9`` of 31 bins is 0.3.
    engine : {"vectorized", "reference"}, default="vectorized"
        Whole-array NumPy, or PIL image by image (same draws).
    ranges : tuple of two ndarrays of shape (n,), optional
        Each image's ``(low, high)``; default :func:`value_ranges` of ``batch``.

    Returns
    -------
    ndarray of float32, same shape
        A new array; ``batch`` is not changed.

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.random.RandomState(0).uniform(0, 255, (4, 16, 16, 3)).astype(np.float32)
    >>> out = rand_augment(batch, np.random.RandomState(1), n_ops=2, magnitude=0.5)
    >>> out.shape, out.dtype
    ((4, 16, 16, 3), dtype('float32'))
    >>> bool(out.min() >= 0 and out.max() <= 255)
    True
    """
    owner = "rand_augment"
    n_ops = integer(0).check(n_ops, "n_ops", owner)
    magnitude = _MAGNITUDE.check(magnitude, "magnitude", owner)
    engine = _ENGINE.check(engine, "engine", owner)
    batch = _checked_batch(batch, owner)
    plan = _draw(rng, len(batch), n_ops, magnitude)
    return _apply(batch, plan, "randaugment", engine, ranges)


def trivial_augment(batch, rng, engine="vectorized", *, ranges=None):
    """TrivialAugment-Wide: one random op per image at a random wide-range magnitude.

    Parameters
    ----------
    batch : ndarray of shape (n, height, width, channels)
        Images in their own units (before ``rescale``), 1, 3 or 4 channels.
    rng : numpy.random.RandomState
        Source of every random choice: the same seed gives the same output.
    engine : {"vectorized", "reference"}, default="vectorized"
        Whole-array NumPy, or PIL image by image (same draws).
    ranges : tuple of two ndarrays of shape (n,), optional
        Each image's ``(low, high)``; default :func:`value_ranges` of ``batch``.

    Returns
    -------
    ndarray of float32, same shape
        A new array; ``batch`` is not changed.

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.random.RandomState(0).uniform(0, 255, (4, 16, 16, 1)).astype(np.float32)
    >>> out = trivial_augment(batch, np.random.RandomState(1))
    >>> out.shape, out.dtype
    ((4, 16, 16, 1), dtype('float32'))
    """
    owner = "trivial_augment"
    engine = _ENGINE.check(engine, "engine", owner)
    batch = _checked_batch(batch, owner)
    plan = _draw(rng, len(batch), 1, None)
    return _apply(batch, plan, "wide", engine, ranges)


def apply_operation(image, name, magnitude, sign=1, *, space="randaugment", engine="vectorized"):
    """One image transformed by the op ``name`` at ``magnitude``, for previews and docs.

    Parameters
    ----------
    image : ndarray of shape (height, width, channels)
        In its own units, 1, 3 or 4 channels.
    name : str
        One of :data:`OPERATIONS`.
    magnitude : float
        In [0, 1].
    sign : {1, -1}, default=1
        Direction of ops that have one (rotate, shear, translate, blends).
    space : {"randaugment", "wide"}, default="randaugment"
        Which magnitude table: RandAugment's or TrivialAugment-Wide's.
    engine : {"vectorized", "reference"}, default="vectorized"

    Returns
    -------
    ndarray of float32, shape of ``image``

    Examples
    --------
    >>> import numpy as np
    >>> image = np.tile(np.arange(0, 256, 16, dtype=np.float32), (16, 1))[..., None]
    >>> apply_operation(image, "solarize", 0.5)[0, -3:, 0].tolist()
    [47.0, 31.0, 15.0]
    """
    owner = "apply_operation"
    name = _OPERATION.check(name, "name", owner)
    magnitude = _MAGNITUDE.check(magnitude, "magnitude", owner)
    sign = _SIGN.check(sign, "sign", owner)
    space = _SPACE.check(space, "space", owner)
    engine = _ENGINE.check(engine, "engine", owner)
    batch = _checked_batch(np.asarray(image)[None], owner)
    plan = (
        np.array([[OPERATIONS.index(name)]]),
        np.array([[magnitude]]),
        np.array([[sign]]),
    )
    return _apply(batch, plan, space, engine)[0]
