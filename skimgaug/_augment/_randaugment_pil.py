"""The RandAugment operations on one image with PIL: the reference engine.

Each image goes through an 8-bit round trip: its values are placed on the
256 levels of its value range (``round((x - low) / (high - low) * 255)``),
made into a PIL image (``"L"``, ``"RGB"`` or ``"RGBA"``), transformed by
PIL's own ``ImageOps`` / ``ImageEnhance`` / ``Image.transform``, and mapped
back with ``low + level / 255 * (high - low)``. The round trip is exact for
8-bit images (integer values in ``[0, 255]``) and quantizes others to 256
levels of their range. Photometric ops see the colour channels only (PIL's
``ImageOps`` refuses ``"RGBA"``); the alpha channel is put back unchanged.
Geometric ops transform each channel as an ``"L"`` image (PIL would
premultiply an ``"RGBA"`` image by its alpha; Keras and the vectorized engine
interpolate every channel on its own) and fill with level 0 (``low``).
"""

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from ._randaugment_ops import colour_channels, from_levels, to_levels

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def _pil(levels):
    """An 8-bit ``(h, w, c)`` array as a PIL image."""
    channels = levels.shape[-1]
    array = levels[..., 0] if channels == 1 else levels
    return Image.fromarray(np.ascontiguousarray(array), mode=_MODES[channels])


def _array(image, channels):
    """A PIL image as an 8-bit ``(h, w, channels)`` array."""
    return np.asarray(image, dtype=np.uint8).reshape(image.size[1], image.size[0], channels)


def _blend_op(enhancer):
    return lambda image, factor: enhancer(image).enhance(factor)


def _affine_op(coefficients):
    def op(image, value):
        fill = (0,) * len(image.getbands()) if len(image.getbands()) > 1 else 0
        data = coefficients(value, image.size)
        return image.transform(
            image.size, Image.Transform.AFFINE, data, Image.Resampling.BILINEAR, fillcolor=fill
        )

    return op


def _rotate(image, degrees):
    fill = (0,) * len(image.getbands()) if len(image.getbands()) > 1 else 0
    return image.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=fill)


def _posterize(image, bits):
    return image if bits >= 8 else ImageOps.posterize(image, int(bits))


#: Photometric ops: ``op(pil_image, value)`` on the colour channels.
PHOTOMETRIC = {
    "identity": lambda image, value: image,
    "auto_contrast": lambda image, value: ImageOps.autocontrast(image),
    "equalize": lambda image, value: ImageOps.equalize(image),
    "solarize": lambda image, threshold: ImageOps.solarize(image, threshold * 255.0),
    "color": _blend_op(ImageEnhance.Color),
    "posterize": _posterize,
    "contrast": _blend_op(ImageEnhance.Contrast),
    "brightness": _blend_op(ImageEnhance.Brightness),
    "sharpness": _blend_op(ImageEnhance.Sharpness),
}

#: Geometric ops: ``op(pil_image, value)`` on all channels.
GEOMETRIC = {
    "rotate": _rotate,
    "shear_x": _affine_op(lambda s, size: (1, s, 0, 0, 1, 0)),
    "shear_y": _affine_op(lambda s, size: (1, 0, 0, s, 1, 0)),
    "translate_x": _affine_op(lambda t, size: (1, 0, t, 0, 1, 0)),
    "translate_y": _affine_op(lambda t, size: (1, 0, 0, 0, 1, t)),
}


def apply_reference(image, low, high, name, value):
    """Apply op ``name`` with strength ``value`` to one ``(h, w, c)`` image via PIL.

    Parameters
    ----------
    image : ndarray of shape (h, w, c), float32
    low, high : float
        The image's value range.
    name : str
        An op of :data:`PHOTOMETRIC` or :data:`GEOMETRIC`.
    value : float
        The op's strength, as :func:`skimgaug._augment._randaugment.op_values` gives it.

    Returns
    -------
    ndarray of shape (h, w, c), float32
    """
    low_, high_ = np.float32([low]), np.float32([high])
    levels = to_levels(image[None], low_, high_)[0]
    channels = image.shape[-1]
    if name in GEOMETRIC:
        # Band by band: PIL would premultiply RGBA by alpha before interpolating.
        bands = [GEOMETRIC[name](_pil(levels[..., [i]]), float(value)) for i in range(channels)]
        levels = np.stack([_array(band, 1)[..., 0] for band in bands], axis=-1)
    else:
        c = colour_channels(image)
        colour = PHOTOMETRIC[name](_pil(levels[..., :c]), value)
        levels = levels.copy()
        levels[..., :c] = _array(colour, c)
    return from_levels(levels[None], low_, high_)[0]
