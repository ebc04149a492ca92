"""The audit of an evaluation's folds: who is where, and what crossed a split.

- Images and patients per fold and class, and the patients found in more
  than one test fold (none when skimgaug made the folds with the groups).
- Exact and near-duplicate images in different folds, found by a difference
  hash (dHash: the image in gray, resized to 9x8, one bit per pair of
  horizontal neighbours, 64 bits); two images whose hashes differ in at most
  ``max_distance`` bits are counted as duplicates. A duplicate in a training
  and a test fold inflates the score as a patient on both sides does.
- A warning when image file names look like they carry patient ids (a prefix
  before ``_`` shared by several files) and no groups were given.
"""

import os
import warnings
from collections import Counter

import numpy as np

#: Most duplicate pairs listed (the count says how many there are).
MAX_LISTED = 1000


def fold_audit(labels, classes, groups, folds):
    """Images (and patients) per fold and class, and groups found in several test folds."""
    audit = {"images_per_fold_and_class": None, "patients_per_fold_and_class": None}
    audit["groups_in_several_folds"] = None if groups is None or folds is None else []
    audit["duplicates_across_folds"] = None  # needs the images: skimgaug.evaluate checks
    if folds is None:
        return audit
    names = [str(c) for c in classes]
    audit["images_per_fold_and_class"] = {
        int(f): {names[c]: int(np.sum((folds == f) & (labels == c))) for c in range(len(names))}
        for f in np.unique(folds)
    }
    if groups is not None:
        groups = np.asarray(groups)
        audit["patients_per_fold_and_class"] = {
            int(f): {
                names[c]: len(set(groups[(folds == f) & (labels == c)].tolist()))
                for c in range(len(names))
            }
            for f in np.unique(folds)
        }
        folds_of = {}
        for g, f in zip(groups.tolist(), folds.tolist(), strict=True):
            folds_of.setdefault(g, set()).add(f)
        audit["groups_in_several_folds"] = sorted(
            (g for g, fs in folds_of.items() if len(fs) > 1), key=str
        )
    return audit


def _dhash(gray):
    """The 64-bit difference hash of one 2-D image (any size)."""
    from PIL import Image

    small = Image.fromarray(np.asarray(gray, dtype=np.float32)).resize(
        (9, 8), Image.Resampling.BILINEAR
    )
    pixels = np.asarray(small)
    bits = (pixels[:, 1:] > pixels[:, :-1]).ravel()
    return int(np.packbits(bits).view(">u8")[0])


def image_hashes(X):
    """The dHash of every image of ``X`` (arrays or file paths), or None for feature rows."""
    from .._data._paths import ImagePaths, decode_image, is_path_input

    if is_path_input(X):
        paths = X.paths if isinstance(X, ImagePaths) else list(X)
        return np.array(
            [_dhash(decode_image(p, (32, 36), "grayscale")[..., 0]) for p in paths],
            dtype=np.uint64,
        )
    X = np.asarray(X)
    if X.ndim not in (3, 4):
        return None  # rows of features: no image to hash
    gray = X if X.ndim == 3 else X.mean(axis=-1)
    return np.array([_dhash(image) for image in gray], dtype=np.uint64)


def duplicates_across_folds(hashes, folds, max_distance=2):
    """``(pairs, count)``: index pairs ``[i, j]`` (i < j) of alike images in different folds.

    At most :data:`MAX_LISTED` pairs are listed; ``count`` is how many there are.
    """
    pairs, count = [], 0
    n = len(hashes)
    for start in range(0, n, 512):
        block = hashes[start : start + 512]
        distance = np.bitwise_count(block[:, None] ^ hashes[None, :])
        rows, cols = np.nonzero(distance <= max_distance)
        rows = rows + start
        keep = (rows < cols) & (folds[rows] != folds[cols])
        count += int(keep.sum())
        if len(pairs) < MAX_LISTED:
            found = np.column_stack([rows[keep], cols[keep]])[: MAX_LISTED - len(pairs)]
            pairs += found.tolist()
    return pairs, count


def warn_if_names_look_like_patients(X):
    """Warn when file names share prefixes before ``_`` as patient ids do, and no groups."""
    from .._data._paths import ImagePaths, is_path_input

    if not is_path_input(X):
        return
    paths = X.paths if isinstance(X, ImagePaths) else list(X)
    prefixes = Counter(
        os.path.basename(str(p)).split("_", 1)[0] for p in paths if "_" in os.path.basename(str(p))
    )
    shared = {prefix: count for prefix, count in prefixes.items() if count > 1}
    if len(shared) >= 2 and sum(shared.values()) >= len(paths) / 2:
        example = next(iter(shared))
        warnings.warn(
            f"The file names look like they carry patient ids ({len(shared)} prefixes before "
            f"'_' shared by several files, e.g. {example!r}), but no groups were given: "
            "images of one patient may be on both sides of a split, which inflates every "
            "score. Pass groups=... (e.g. load_image_folder(path, groups=r'^([^_]+)_')).",
            UserWarning,
            stacklevel=3,
        )
