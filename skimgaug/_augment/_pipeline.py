"""The ``augment`` transforms of a training batch, in one documented order.

A training batch is made in this order (:class:`skimgaug._augment._batches.TrainingBatches`):

1. the ``datagen`` random transforms (``ImageDataGenerator``'s, either engine);
2. the ``augment`` transforms of :class:`AugmentPipeline`, in this order:
   RandAugment or TrivialAugment, elastic deformation, gamma, contrast,
   saturation, hue, CLAHE, blur, noise, random erasing;
3. MixUp or CutMix (:class:`BatchMixer`), which mixes images *and* their
   targets and sample weights within the batch;
4. standardization (``rescale``, sample-wise and feature-wise statistics, ZCA).

Every ``augment`` transform works on the images' own values (0-255 for 8-bit
files, windowed DICOM; :mod:`skimgaug._augment._ranges` says how other
ranges are read), as ``ImageDataGenerator``'s brightness and channel shift
do: photometric transforms need to know black and white, which the
standardization (a mean of 0, a deviation of 1) no longer says. The value
range of each image is read once, before the first transform, and every
transform keeps its output in it. Random erasing comes last among the
per-image transforms so that it erases to values of the image's range
(Zhong et al. erase after the other transforms).

Validation, ``predict``, ``score`` and ``cross_val_predict`` never see any
of this: they take the inference path, which only standardizes.
"""

import contextlib

import numpy as np

from ._augment_keys import active_transforms
from ._elastic import elastic
from ._erasing import random_erasing
from ._filters import clahe, gaussian_blur, gaussian_noise
from ._mixing import mix_batch
from ._photometric import contrast, gamma, hue, saturation
from ._randaugment import rand_augment, trivial_augment
from ._ranges import value_ranges
from ._transforms import make_augmenter
from ._warp import single_threaded_opencv

#: Bytes of images transformed together (see :meth:`AugmentPipeline.__call__`).
CHUNK_BYTES = 1 << 20

#: The estimator's ``engine`` -> the kernels' engine.
KERNEL_ENGINE = {"vectorized": "vectorized", "imagedatagenerator": "reference"}


def per_image_augmenter(config, augment, engine):
    """The random transforms of each image of a training batch, or None without any.

    ``datagen``'s (``config``, a :class:`~skimgaug._augment._keys.DatagenConfig`),
    then ``augment``'s per-image transforms (resolved settings); MixUp and
    CutMix, which mix the images of a batch, are :class:`BatchMixer`'s.
    """
    augmenter = make_augmenter(engine, config.augmenter()) if config.augments else None
    if any(name != "mixing" for name in active_transforms(augment)):
        rescale = config.standardization.get("rescale")
        augmenter = ChainedAugmenter(augmenter, AugmentPipeline(augment, engine, rescale))
    return augmenter


class AugmentPipeline:
    """The per-image ``augment`` transforms of resolved ``settings``.

    Parameters
    ----------
    settings : dict
        :func:`skimgaug._augment._augment_keys.resolve_augment`'s result.
    engine : {"vectorized", "imagedatagenerator"}
        The estimator's engine: batched kernels, or the image-by-image
        reference implementations.
    rescale : float or None
        ``datagen``'s ``rescale``: ``gaussian_noise_std`` is in the units
        after it, and images within ``[0, 1 / rescale]`` are in that range
        (:func:`~skimgaug._augment._ranges.value_ranges`).
    """

    def __init__(self, settings, engine, rescale=None):
        self.settings = settings
        self.engine = engine
        self.rescale = rescale or None

    def running(self):
        """Context for a fit: OpenCV single-threaded, restored afterwards."""
        return single_threaded_opencv()

    def __call__(self, batch, rng):
        """Transform ``batch`` (owned by the caller); return the result.

        The batch goes through every transform in chunks of about
        :data:`CHUNK_BYTES` (a few large images, or all of a batch of small
        ones), so that each transform's temporaries stay in the CPU's cache;
        the chunks draw from ``rng`` one after the other.
        """
        if not len(batch):
            return batch
        rows = max(1, CHUNK_BYTES // max(1, batch[0].nbytes))
        if rows >= len(batch):
            return self._chunk(batch, rng)
        for start in range(0, len(batch), rows):
            chunk = batch[start : start + rows]
            result = self._chunk(chunk, rng)
            if result is not chunk:  # most transforms work in place; RandAugment copies
                chunk[...] = result
        return batch

    def _chunk(self, batch, rng):
        s, engine = self.settings, KERNEL_ENGINE[self.engine]
        ranges = value_ranges(batch, self.rescale)
        if s["rand_augment_ops"]:
            ops, magnitude = s["rand_augment_ops"], s["rand_augment_magnitude"]
            batch = rand_augment(batch, rng, ops, magnitude, engine, ranges=ranges)
        elif s["trivial_augment"]:
            batch = trivial_augment(batch, rng, engine, ranges=ranges)
        options = {"engine": engine, "ranges": ranges}
        if s["elastic_alpha"] > 0:
            batch = elastic(batch, rng, s["elastic_alpha"], s["elastic_sigma"], **options)
        for key, transform in (
            ("gamma_range", gamma),
            ("contrast_range", contrast),
            ("saturation_range", saturation),
            ("hue_range", hue),
        ):
            if s[key] is not None:
                batch = transform(batch, rng, s[key], **options)
        if s["clahe_clip_limit"] is not None and s["clahe_probability"] > 0:
            batch = clahe(
                batch, rng, s["clahe_clip_limit"], probability=s["clahe_probability"], **options
            )
        if s["blur_sigma_range"] is not None:
            batch = gaussian_blur(batch, rng, s["blur_sigma_range"], **options)
        if s["gaussian_noise_std"] > 0:
            batch = gaussian_noise(
                batch, rng, s["gaussian_noise_std"], rescale=self.rescale, **options
            )
        if s["erasing_probability"] > 0:
            batch = random_erasing(
                batch, rng, s["erasing_probability"], scale=s["erasing_scale"], **options
            )
        return batch


class BatchMixer:
    """MixUp / CutMix of a training batch with its targets and sample weights.

    Parameters
    ----------
    settings : dict
        Resolved ``augment`` settings with ``mixup_alpha`` or ``cutmix_alpha`` > 0.
    engine : {"vectorized", "imagedatagenerator"}
    """

    def __init__(self, settings, engine):
        self.settings = settings
        self.engine = KERNEL_ENGINE[engine]

    def __call__(self, batch, targets, sample_weight, rng):
        """``(batch, targets, sample_weight)`` mixed; ``targets`` a float array of the batch."""
        s = self.settings
        shape = np.shape(targets)
        flat = np.asarray(targets, dtype=np.float32).reshape(len(batch), -1)
        batch, mixed, weights = mix_batch(
            batch,
            flat,
            sample_weight,
            rng,
            s["mixup_alpha"],
            s["cutmix_alpha"],
            s["mix_probability"],
            engine=self.engine,
        )
        return batch, mixed.reshape(shape), weights


class ChainedAugmenter:
    """``datagen``'s augmenter, then the ``augment`` pipeline (either may be None).

    Has the interface of the ``datagen`` augmenters: ``running()`` and
    ``augmenter(batch, rng)``; both draw from the same ``rng``, one after the
    other, so a seeded batch is reproducible.
    """

    def __init__(self, *augmenters):
        self.augmenters = [a for a in augmenters if a is not None]
        self.engine = getattr(self.augmenters[0], "engine", None) if self.augmenters else None

    def running(self):
        stack = contextlib.ExitStack()
        for augmenter in self.augmenters:
            stack.enter_context(augmenter.running())
        return stack

    def __call__(self, batch, rng):
        for augmenter in self.augmenters:
            batch = augmenter(batch, rng)
        return batch
