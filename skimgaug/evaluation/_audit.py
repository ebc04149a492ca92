"""The audit of an evaluation's folds: who is where, and what crossed a split.

- Images and patients per fold and class, and the patients found in more
  than one test fold (none when skimgaug made the folds with the groups).
- Exact and near-duplicate images in different folds. Candidates are pairs
  whose difference hashes (dHash: the image in gray, resized to 9x8, one bit
  per pair of horizontal neighbours, 64 bits) differ in at most
  ``max_distance`` bits; a candidate counts as a duplicate when the two
  images also look alike pixel by pixel: their 16x16 gray thumbnails, each
  stretched to the full range (so brightness and contrast changes do not
  matter), differ by at most :data:`TOLERANCE` of the range on average. The
  hash alone is not enough for small or plain images (two handwritten 8x8
  ones share a hash far more often than they are copies). A duplicate in a
  training and a test fold inflates the score as a patient on both sides
  does.
- A warning when image file names look like they carry patient ids (a prefix
  before ``_`` shared by several files) and no groups were given.
"""

import os
import warnings
from collections import Counter

import numpy as np

#: Mean absolute difference of two stretched thumbnails, as a share of the
#: range, up to which a pair of alike hashes counts as a duplicate.
TOLERANCE = 0.02
#: Side of the gray thumbnails the candidate pairs are compared on.
THUMBNAIL = 16
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


def _resize_matrix(source, target):
    """``(target, source)`` weights of a triangle-filter resize (antialiased when shrinking)."""
    scale = source / target
    support = max(scale, 1.0)
    centers = (np.arange(target) + 0.5) * scale
    positions = np.arange(source) + 0.5
    weights = np.maximum(0.0, 1.0 - np.abs(positions[None, :] - centers[:, None]) / support)
    return weights / weights.sum(axis=1, keepdims=True)


def _resized(gray, height, width):
    """Images ``(m, h, w)`` resized to ``(m, height, width)``, all at once."""
    rows = _resize_matrix(gray.shape[1], height)
    columns = _resize_matrix(gray.shape[2], width)
    return np.einsum("ih,mhw,jw->mij", rows, gray, columns, optimize=True)


class Signatures:
    """The difference hashes and stretched thumbnails of a set of images.

    Parameters
    ----------
    gray : ndarray of shape (m, h, w)
        The images in gray (more can be added with :meth:`add`).
    """

    def __init__(self, gray=None):
        self.hashes = np.zeros(0, dtype=np.uint64)
        self.thumbnails = np.zeros((0, THUMBNAIL, THUMBNAIL), dtype=np.uint8)
        if gray is not None:
            self.add(gray)

    def add(self, gray):
        """Add the signatures of the images ``gray`` ``(m, h, w)``."""
        gray = np.asarray(gray, dtype=np.float64)
        small = _resized(gray, 8, 9)
        bits = (small[:, :, 1:] > small[:, :, :-1]).reshape(len(gray), 64)
        hashes = np.packbits(bits, axis=1).view(">u8")[:, 0].astype(np.uint64)
        thumbnails = _resized(gray, THUMBNAIL, THUMBNAIL)
        low = thumbnails.min(axis=(1, 2), keepdims=True)
        span = thumbnails.max(axis=(1, 2), keepdims=True) - low
        stretched = np.where(span > 0, (thumbnails - low) / np.where(span > 0, span, 1), 0.0)
        self.hashes = np.r_[self.hashes, hashes]
        self.thumbnails = np.concatenate(
            [self.thumbnails, np.round(255 * stretched).astype(np.uint8)]
        )

    def __len__(self):
        return len(self.hashes)


def image_hashes(X, target_size=None, color_mode="grayscale", cache=None, window=None):
    """The :class:`Signatures` of every image of ``X`` (arrays or paths); None for feature rows.

    Image files are read at ``target_size`` in ``color_mode`` through ``cache``:
    given as the model read them (its size, colours and cache), they come from
    the cache and are not decoded again. Without ``target_size`` they are
    decoded small (36x32 gray), with no cache. ``window``: of DICOM files.
    """
    from .._data._paths import ImagePaths, is_path_input

    if is_path_input(X):
        paths = X.paths if isinstance(X, ImagePaths) else list(X)
        if target_size is None:
            images = ImagePaths(paths, (32, 36), "grayscale", window=window)
        else:
            images = ImagePaths(paths, target_size, color_mode, cache, window)
        signatures = Signatures()
        for start in range(0, len(images), 256):  # bounded memory
            block = images[np.arange(start, min(start + 256, len(images)))].load()
            signatures.add(block.mean(axis=-1))
        return signatures
    X = np.asarray(X)
    if X.ndim not in (3, 4):
        return None  # rows of features: no image to hash
    gray = X if X.ndim == 3 else X.mean(axis=-1)
    signatures = Signatures()
    for start in range(0, len(gray), 1024):  # bounded memory
        signatures.add(gray[start : start + 1024])
    return signatures


def duplicates_across_folds(signatures, folds, max_distance=2, tolerance=TOLERANCE):
    """``(pairs, count)``: index pairs ``[i, j]`` (i < j) of alike images in different folds.

    At most :data:`MAX_LISTED` pairs are listed; ``count`` is how many there are.
    """
    hashes, thumbnails = signatures.hashes, signatures.thumbnails.reshape(len(signatures), -1)
    pairs, count = [], 0
    n = len(hashes)
    for start in range(0, n, 512):
        block = hashes[start : start + 512]
        distance = np.bitwise_count(block[:, None] ^ hashes[None, :])
        rows, cols = np.nonzero(distance <= max_distance)
        rows = rows + start
        keep = (rows < cols) & (folds[rows] != folds[cols])
        rows, cols = rows[keep], cols[keep]
        difference = np.abs(
            thumbnails[rows].astype(np.int16) - thumbnails[cols].astype(np.int16)
        ).mean(axis=1)
        alike = difference <= 255 * tolerance
        count += int(alike.sum())
        if len(pairs) < MAX_LISTED:
            found = np.column_stack([rows[alike], cols[alike]])[: MAX_LISTED - len(pairs)]
            pairs += found.tolist()
    return pairs, count


def record_duplicates(audit, hashes, folds, max_distance=2):
    """Add the duplicates across ``folds`` found among ``hashes`` to ``audit`` (a dict)."""
    pairs, count = duplicates_across_folds(hashes, folds, max_distance)
    audit["duplicates_across_folds"] = pairs
    audit["duplicates_across_folds_count"] = count
    audit["duplicate_max_distance"] = max_distance


def warn_if_names_look_like_patients(X):
    """Warn when file names share prefixes before ``_`` as patient ids do, and no groups."""
    from .._data._paths import ImagePaths, is_path_input

    if not is_path_input(X):
        return
    paths = X.paths if isinstance(X, ImagePaths) else list(X)
    if warn_if_dicom_patients_ungrouped(paths):
        return
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


def warn_if_dicom_patients_ungrouped(paths):
    """Warn when DICOM files share a PatientID and no groups were given; True if it warned.

    Only the PatientID tag is read; the warning gives counts, never an id.
    """
    from .._data._dicom import is_dicom, patient_counts

    dicom = [str(p) for p in paths if is_dicom(str(p))]
    if not dicom:
        return False
    counts = patient_counts(dicom)
    shared = [n for n in counts.values() if n > 1]
    if not shared:
        return False
    warnings.warn(
        f"{len(shared)} patients (PatientID in the DICOM headers) have several files "
        f"({sum(shared)} files), but no groups were given: one patient's images may be on "
        "both sides of a split, which inflates every score. Pass groups='dicom:PatientID' "
        "(the command line's --groups dicom:PatientID).",
        UserWarning,
        stacklevel=3,
    )
    return True
