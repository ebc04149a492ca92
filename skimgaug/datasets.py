"""Loading images from disk, and small data sets that need no download.

- :func:`load_image_folder`: the class-per-subfolder layout ``root/<class>/<image>``.
- :func:`load_image_csv`: a table of file paths, labels and optional groups.
- :func:`load_digits_images`: scikit-learn's bundled 8x8 digits as images.
- :func:`load_texture_patches`: patches of scikit-learn's two bundled photographs.
- :func:`make_toy_images` and :func:`write_image_folder`: generated images for
  examples, tests and benchmarks.
"""

import csv
import os
import re

import numpy as np

__all__ = [
    "IMAGE_EXTENSIONS",
    "load_digits_images",
    "load_image_csv",
    "load_image_folder",
    "load_texture_patches",
    "make_toy_images",
    "write_image_folder",
]

#: File name endings recognised as images (case-insensitive).
IMAGE_EXTENSIONS = (
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".ppm",
    ".webp",
    ".dcm",
    ".dicom",
)
#: The prefix of ``groups`` that reads each file's group from its DICOM header.
DICOM_GROUPS = "dicom:"


def _group_of(name, pattern, where):
    match = pattern.search(name)
    if match is None:
        raise ValueError(
            f"The groups pattern {pattern.pattern!r} does not match the file name "
            f"{name!r} ({where})."
        )
    return match.group(1) if pattern.groups else match.group(0)


def load_image_folder(path, groups=None):
    r"""Image paths and labels from the layout ``root/<class>/<image>``.

    Parameters
    ----------
    path : str or path-like
        The root folder; each subfolder is a class, named by the folder.
    groups : str or None, default=None
        A regular expression searched in each file name (without folder); its
        first capturing group (or the whole match) is the sample's group,
        for example ``r"^(patient\d+)_"`` for ``patient07_scan2.png``. Or
        ``"dicom:<keyword>"`` (``"dicom:PatientID"``, ``"dicom:StudyInstanceUID"``):
        the tag of each DICOM file's header (only that tag is read).

    Returns
    -------
    paths : ndarray of str
        Sorted by class, then file name.
    labels : ndarray of str
        The class (subfolder name) of each image.
    groups : ndarray of str
        Only when ``groups`` is given.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a folder.
    ValueError
        If it holds no class folder with images, or a file name does not
        match ``groups``.

    Examples
    --------
    >>> import tempfile
    >>> from skimgaug.datasets import load_image_folder, write_image_folder
    >>> root = write_image_folder(tempfile.mkdtemp(), n_per_class=3, n_classes=2)
    >>> paths, labels, groups = load_image_folder(root, groups=r"^(p\d+)_")
    >>> len(paths), sorted(set(labels.tolist()))
    (6, ['class0', 'class1'])
    """
    root = os.fspath(path)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"Image folder not found: {root!r}")
    pattern = None
    if groups is not None and groups.startswith(DICOM_GROUPS):
        paths, labels = load_image_folder(root)
        return paths, labels, _dicom_groups(paths, groups)
    if groups is not None:
        try:
            pattern = re.compile(groups)
        except re.error as exc:
            raise ValueError(
                f"The 'groups' parameter must be a regular expression whose first group is "
                f"the group id; {groups!r} does not compile: {exc}."
            ) from None
    paths, labels, group_ids = [], [], []
    for label in sorted(os.listdir(root)):
        folder = os.path.join(root, label)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.lower().endswith(IMAGE_EXTENSIONS) and not _dicom_without_extension(
                os.path.join(folder, name)
            ):
                continue
            paths.append(os.path.join(folder, name))
            labels.append(label)
            if pattern is not None:
                group_ids.append(_group_of(name, pattern, os.path.join(label, name)))
    if not paths:
        raise ValueError(
            f"No images found in {root!r}: expected subfolders per class holding files "
            f"ending in {', '.join(IMAGE_EXTENSIONS)}."
        )
    result = (np.array(paths), np.array(labels))
    return result + (np.array(group_ids),) if pattern is not None else result


def _dicom_without_extension(path):
    """A file named without an extension that starts as DICOM does (``DICM`` after 128 bytes)."""
    from ._data._dicom import is_dicom

    return "." not in os.path.basename(path) and os.path.isfile(path) and is_dicom(path)


def _dicom_groups(paths, spec):
    """The groups ``"dicom:<keyword>"`` names: that tag of every file's header."""
    from ._data._dicom import dicom_tags

    return dicom_tags(paths, spec[len(DICOM_GROUPS) :])


def load_image_csv(
    path, path_column="path", label_column="label", group_column=None, blank_labels="error"
):
    """Image paths, labels and optional groups from a CSV file.

    Relative image paths are taken relative to the CSV file's folder.

    Parameters
    ----------
    path : str or path-like
    path_column, label_column : str, default="path", "label"
    group_column : str or None, default=None
        A column of group ids (for example a patient id), or
        ``"dicom:<keyword>"``: that tag of each (DICOM) file's header.
    blank_labels : {"error", "keep"}, default="error"
        ``"error"``: a row without a label is refused, naming its line (a
        blank label would become a class ``''``). ``"keep"``: it is returned
        as ``''`` (labels that are not known yet, as for prediction).

    Returns
    -------
    paths, labels[, groups] : ndarray of str

    Raises
    ------
    FileNotFoundError
        If the CSV file does not exist.
    ValueError
        If a named column is missing, the file has no rows or is not UTF-8
        text, or a row has an empty path, label or group (naming its line).
    """
    csv_path = os.fspath(path)
    if not os.path.isfile(csv_path):
        raise FileNotFoundError(f"CSV file not found: {csv_path!r}")
    base = os.path.dirname(os.path.abspath(csv_path))
    from_headers = group_column is not None and group_column.startswith(DICOM_GROUPS)
    if from_headers:
        loaded = load_image_csv(path, path_column, label_column, None, blank_labels)
        return (*loaded, _dicom_groups(loaded[0], group_column))
    columns = [path_column, label_column] + ([group_column] if group_column else [])
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(
                    f"CSV file {csv_path!r} has no column {missing[0]!r}; its columns are "
                    f"{reader.fieldnames!r}."
                )
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"CSV file {csv_path!r} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
            f"position {exc.start}); save it as UTF-8 (in a spreadsheet: 'CSV UTF-8')."
        ) from None
    if not rows:
        raise ValueError(f"CSV file {csv_path!r} has no rows.")
    if blank_labels not in ("error", "keep"):
        raise ValueError(
            f"The 'blank_labels' parameter of load_image_csv must be 'error' or 'keep'. "
            f"Got {blank_labels!r} instead."
        )
    required = [c for c in columns if not (c == label_column and blank_labels == "keep")]
    for number, row in enumerate(rows, start=2):  # line 1 holds the column names
        blank = [c for c in required if not (row.get(c) or "").strip()]
        if blank:
            raise ValueError(
                f"CSV file {csv_path!r}, line {number}: the {blank[0]!r} column is empty; "
                "every row needs a path, a label (and a group, when groups are read)."
            )
    paths = np.array([os.path.join(base, row[path_column]) for row in rows])
    result = (paths, np.array([(row[label_column] or "").strip() for row in rows]))
    if group_column:
        result += (np.array([row[group_column] for row in rows]),)
    return result


def load_digits_images():
    """scikit-learn's bundled 8x8 handwritten digits as grayscale images.

    Returns
    -------
    X : ndarray of shape (1797, 8, 8, 1), float32
        Pixel values from 0 to 16.
    y : ndarray of shape (1797,), int
        Digit labels 0-9.

    Examples
    --------
    >>> from skimgaug.datasets import load_digits_images
    >>> X, y = load_digits_images()
    >>> X.shape, float(X.max())
    ((1797, 8, 8, 1), 16.0)
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images[..., np.newaxis].astype(np.float32), digits.target


def load_texture_patches(n_per_class=50, size=32, random_state=0):
    """Three classes of photograph patches: small data as it looks in practice.

    Square patches (96 pixels, resized to ``size``) cut at random places from
    scikit-learn's two bundled photographs: class 0 from the top half of
    ``china.jpg``, class 1 from its bottom half, class 2 from ``flower.jpg``.

    Parameters
    ----------
    n_per_class : int, default=50
    size : int, default=32
        Height and width of the returned images.
    random_state : int or None, default=0
        Seed of a private generator that places the patches.

    Returns
    -------
    X : ndarray of shape (3 * n_per_class, size, size, 3), float32
        RGB values from 0 to 255.
    y : ndarray of shape (3 * n_per_class,), int
        Classes 0, 1 and 2, in blocks.

    Examples
    --------
    >>> from skimgaug.datasets import load_texture_patches
    >>> X, y = load_texture_patches(n_per_class=4, size=16)
    >>> X.shape, y.tolist()
    ((12, 16, 16, 3), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    """
    import cv2
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(random_state)
    china, flower = load_sample_images().images
    middle = china.shape[0] // 2
    X, y = [], []
    for label, image in enumerate((china[:middle], china[middle:], flower)):
        for _ in range(n_per_class):
            top = rng.integers(0, image.shape[0] - 96)
            left = rng.integers(0, image.shape[1] - 96)
            patch = np.ascontiguousarray(image[top : top + 96, left : left + 96])
            X.append(cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA))
            y.append(label)
    return np.array(X, dtype=np.float32), np.array(y)


def make_toy_images(
    n_samples=60, image_size=8, n_channels=1, n_classes=2, noise=0.1, random_state=None
):
    """Random images whose class is a bright bar's orientation and position.

    Class ``k`` draws a bar across row or column ``k`` (alternating), plus
    Gaussian noise, so a small CNN separates the classes in a few epochs while
    every image stays distinct.

    Parameters
    ----------
    n_samples : int, default=60
    image_size : int or (int, int), default=8
        ``size`` or ``(height, width)``.
    n_channels : int, default=1
    n_classes : int, default=2
    noise : float, default=0.1
        Standard deviation of the Gaussian noise.
    random_state : int or None, default=None
        Seed of a private generator (the global NumPy RNG is not used).

    Returns
    -------
    X : ndarray of shape (n_samples, height, width, n_channels), float32
        Values roughly in [0, 1].
    y : ndarray of shape (n_samples,), int
        Classes, balanced and shuffled.

    Examples
    --------
    >>> from skimgaug.datasets import make_toy_images
    >>> X, y = make_toy_images(10, image_size=(8, 6), n_channels=3, random_state=0)
    >>> X.shape
    (10, 8, 6, 3)
    """
    height, width = (image_size, image_size) if np.isscalar(image_size) else image_size
    rng = np.random.default_rng(random_state)
    y = rng.permutation(np.arange(n_samples) % n_classes)
    X = rng.normal(0.2, noise, size=(n_samples, height, width, n_channels))
    for label in range(n_classes):
        rows = y == label
        line = label // 2 + 1
        if label % 2 == 0:
            X[rows, line % height, :, :] += 0.7
        else:
            X[rows, :, line % width, :] += 0.7
    return X.astype(np.float32), y


def write_image_folder(
    root,
    n_per_class=10,
    n_classes=2,
    image_size=32,
    patients_per_class=None,
    extension=".png",
    mode="RGB",
    random_state=0,
):
    """Write :func:`make_toy_images` as ``root/class<k>/p<patient>_<i><extension>``.

    Parameters
    ----------
    root : str or path-like
        Created if needed.
    n_per_class : int, default=10
    n_classes : int, default=2
    image_size : int, default=32
    patients_per_class : int or None, default=None
        Images are spread over this many "patients" per class (default: one
        patient per 2 images), named in the file, for group k-fold demos.
    extension : str, default=".png"
        Any format PIL writes (".png", ".jpg", ...).
    mode : {"RGB", "L"}, default="RGB"
    random_state : int, default=0

    Returns
    -------
    str
        ``root``.
    """
    from PIL import Image

    root = os.fspath(root)
    channels = 3 if mode == "RGB" else 1
    X, y = make_toy_images(
        n_per_class * n_classes, image_size, channels, n_classes, random_state=random_state
    )
    patients = patients_per_class or max(1, n_per_class // 2)
    counts = [0] * n_classes
    for image, label in zip(X, y, strict=True):
        folder = os.path.join(root, f"class{label}")
        os.makedirs(folder, exist_ok=True)
        index = counts[label]
        counts[label] += 1
        patient = f"p{label}{index % patients:03d}"
        pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)
        picture = Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode)
        picture.save(os.path.join(folder, f"{patient}_{index:05d}{extension}"))
    return root
