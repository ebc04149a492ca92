"""Small image data sets that need no download, for examples, tests and demos."""

import numpy as np

__all__ = ["load_digits_images", "make_toy_images"]


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
    >>> X.shape, X.max()
    ((1797, 8, 8, 1), np.float32(16.0))
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images[..., np.newaxis].astype(np.float32), digits.target


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
