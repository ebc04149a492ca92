"""MixUp and CutMix of a training batch, with its targets and sample weights.

With probability ``probability`` per batch, the batch is mixed with a random
permutation of itself (image ``i`` with image ``perm[i]``), as timm's
``Mixup`` does in its default ``mode="batch"``:

- MixUp (Zhang et al., 2018): ``x = lam * x + (1 - lam) * x[perm]``;
- CutMix (Yun et al., 2019): a box of about ``(1 - lam)`` of the image area
  is pasted from ``x[perm]``, at a uniformly random centre and clipped to
  the image, and ``lam`` is corrected to the area actually kept.

``lam ~ Beta(alpha, alpha)`` is drawn once per batch (one box per batch for
CutMix), so the whole batch is mixed by slicing. When both alphas are
positive, each batch uses MixUp or CutMix with probability 0.5 each.
Targets and sample weights are mixed in the same proportion ``lam``.
Images are mixed in their own units, so both engines expect a batch whose
images share one kind of value range.
"""

import numpy as np

from ._kernels import check_engine


def mix_batch(
    batch,
    targets,
    sample_weight,
    rng,
    mixup_alpha,
    cutmix_alpha,
    probability=1.0,
    *,
    engine="vectorized",
):
    """Mix a batch with a permutation of itself by MixUp or CutMix.

    Parameters
    ----------
    batch : ndarray of shape (n, h, w, c), float32 or float64
        Owned by the caller (changed in place).
    targets : ndarray of shape (n, k)
        Float targets: one-hot rows, or 0/1 indicator rows (multilabel).
    sample_weight : ndarray of shape (n,) or None
    rng : numpy.random.RandomState
    mixup_alpha, cutmix_alpha : float
        ``>= 0``; 0 switches MixUp (CutMix) off.
    probability : float, default=1.0
        Chance that the batch is mixed at all.
    engine : {"vectorized", "reference"}, default="vectorized"
        The whole batch by slicing, or image by image. Both draw the same
        ``lam``, permutation and box for the same seed.

    Returns
    -------
    batch : ndarray
        The mixed batch.
    targets : ndarray of shape (n, k)
        A new float array: ``lam * targets + (1 - lam) * targets[perm]``.
    sample_weight : ndarray of shape (n,) or None
        A new array mixed the same way, or None.

    Examples
    --------
    >>> import numpy as np
    >>> batch = np.stack([np.zeros((4, 4, 1)), np.full((4, 4, 1), 255.0)])
    >>> targets = np.eye(2)
    >>> mixed, mixed_targets, _ = mix_batch(batch, targets, None, np.random.RandomState(0),
    ...                                     mixup_alpha=1.0, cutmix_alpha=0.0)
    >>> bool(np.allclose(mixed[:, 0, 0, 0] / 255, mixed_targets[:, 1]))
    True
    >>> mixed_targets.sum(axis=1)
    array([1., 1.])
    """
    check_engine(engine, "mix_batch")
    targets = np.array(targets, dtype=np.result_type(np.asarray(targets).dtype, np.float32))
    if sample_weight is not None:
        sample_weight = np.array(sample_weight, dtype=np.float64)
    draw = draw_mix(rng, batch.shape[:3], mixup_alpha, cutmix_alpha, probability)
    if draw is None:
        return batch, targets, sample_weight
    lam, perm, box = draw
    if engine == "vectorized":
        batch = _mix_vectorized(batch, perm, lam, box)
    else:
        batch = _mix_reference(batch, perm, lam, box)
    targets = lam * targets + (1 - lam) * targets[perm]
    if sample_weight is not None:
        sample_weight = lam * sample_weight + (1 - lam) * sample_weight[perm]
    return batch, targets, sample_weight


def draw_mix(rng, shape, mixup_alpha, cutmix_alpha, probability=1.0):
    """Draw whether and how a batch is mixed: ``(lam, perm, box)`` or None.

    Parameters
    ----------
    rng : numpy.random.RandomState
    shape : tuple (n, height, width)
    mixup_alpha, cutmix_alpha, probability : float
        See :func:`mix_batch`.

    Returns
    -------
    tuple or None
        None when the batch is not mixed; else the share ``lam`` each image
        keeps, the permutation ``perm`` giving each image's partner, and the
        CutMix box ``(top, bottom, left, right)`` (None for MixUp), ``lam``
        corrected to the box's area.
    """
    n, height, width = shape
    if (mixup_alpha <= 0 and cutmix_alpha <= 0) or not n:
        return None
    if not rng.random_sample() < probability:
        return None
    use_cutmix = cutmix_alpha > 0 and (mixup_alpha <= 0 or rng.random_sample() < 0.5)
    alpha = cutmix_alpha if use_cutmix else mixup_alpha
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(n)
    box = None
    if use_cutmix:
        box = cutmix_box((height, width), lam, rng)
        lam = 1.0 - _area(box) / (height * width)
    return lam, perm, box


def cutmix_box(shape, lam, rng):
    """The box CutMix pastes, as timm's ``rand_bbox``.

    A box of ``sqrt(1 - lam)`` times the height and width, centred on a
    uniformly random pixel, clipped to the image (so it may be smaller).

    Parameters
    ----------
    shape : tuple (height, width)
    lam : float
        The share of the image to keep, in ``[0, 1]``.
    rng : numpy.random.RandomState

    Returns
    -------
    tuple of int
        ``(top, bottom, left, right)``: rows ``top:bottom``, columns ``left:right``.

    Examples
    --------
    >>> import numpy as np
    >>> cutmix_box((10, 10), 0.75, np.random.RandomState(0))
    (3, 7, 0, 2)
    """
    height, width = shape
    ratio = np.sqrt(1.0 - lam)
    cut_h, cut_w = int(height * ratio), int(width * ratio)
    centre_y, centre_x = rng.randint(0, height), rng.randint(0, width)
    top, bottom = np.clip([centre_y - cut_h // 2, centre_y + cut_h // 2], 0, height)
    left, right = np.clip([centre_x - cut_w // 2, centre_x + cut_w // 2], 0, width)
    return int(top), int(bottom), int(left), int(right)


def _area(box):
    top, bottom, left, right = box
    return (bottom - top) * (right - left)


def _mix_vectorized(batch, perm, lam, box):
    if box is not None:
        top, bottom, left, right = box
        batch[:, top:bottom, left:right] = batch[perm, top:bottom, left:right]
        return batch
    partner = batch[perm]  # a copy: fancy indexing
    batch *= batch.dtype.type(lam)
    batch += batch.dtype.type(1 - lam) * partner
    return batch


def _mix_reference(batch, perm, lam, box):
    source = batch.copy()
    for i, j in enumerate(perm):
        if box is not None:
            top, bottom, left, right = box
            batch[i, top:bottom, left:right] = source[j, top:bottom, left:right]
        else:
            batch[i] = lam * source[i] + (1 - lam) * source[j]
    return batch
