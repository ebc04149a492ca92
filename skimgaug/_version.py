"""skimgaug's version (the one place it is written) and the versions a run depends on."""

import platform
from importlib import metadata

__version__ = "0.1.0"

#: Distributions whose versions results, reports and saved models record, by display name;
#: the first installed name of each tuple counts.
DISTRIBUTIONS = {
    "skimgaug": ("skimgaug",),
    "TensorFlow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"),
    "Keras": ("keras", "keras-nightly"),
    "scikeras": ("scikeras",),
    "scikit-learn": ("scikit-learn",),
    "NumPy": ("numpy",),
    "SciPy": ("scipy",),
    "OpenCV": ("opencv-python-headless", "opencv-python", "opencv-contrib-python-headless"),
    "Pillow": ("pillow",),
    "Matplotlib": ("matplotlib",),
}


def distribution_version(names):
    """The version of the first installed distribution of ``names``, or None."""
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def versions():
    """Versions of Python, the platform and :data:`DISTRIBUTIONS`, without importing them.

    Returns
    -------
    dict of str to str
        By display name; ``"not installed"`` for a missing distribution.

    Examples
    --------
    >>> from skimgaug._version import versions
    >>> sorted(versions())[:3]
    ['Keras', 'Matplotlib', 'NumPy']
    """
    found = {"Python": platform.python_version()}
    for label, names in DISTRIBUTIONS.items():
        found[label] = distribution_version(names) or "not installed"
    found["skimgaug"] = __version__
    found["platform"] = platform.platform()
    return found
