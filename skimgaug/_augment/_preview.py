"""Preview of random augmentation: a grid of images as ``fit`` would augment them.

What "as training draws them" means here
----------------------------------------
``fit`` builds one augmenter and one batch seed, then gives training batch
``b`` of epoch ``e`` the private generator ``legacy_rng(batch_seed, e, b)``
(see :class:`skimgaug._augment._batches.TrainingBatches`). The preview does the same:

- the augmenter is :func:`skimgaug._augment._pipeline.per_image_augmenter`
  for the settings validated by :func:`skimgaug._augment._keys.resolve_datagen`
  and ``resolve_augment``, as in ``fit`` (with its fallback to the reference
  engine for an ``interpolation_order`` the vectorized engine lacks);
- the batch seed is ``child_seeds(resolve_seed(random_state), 2)[1]``, the
  one ``fit(random_state=...)`` uses;
- the ``n`` augmented versions in row ``r`` are training batch ``r`` of the
  first epoch (``legacy_rng(batch_seed, 0, r)``) of a batch holding the
  row's image ``n`` times, read with :func:`skimgaug._data._paths.load_rows` as
  training reads it (a float copy of the generator's dtype).

So the pixels equal those of ``TrainingBatches`` over the shown images each
repeated ``n`` times (``batch_size=n``, no shuffling), before
standardization, with the seed ``fit`` derives from the same
``random_state``. They are not the pixels one particular image got in a
particular fit, which depend on where shuffling put it; they are draws from
the same distributions, through the same code.

Known gap: Keras 3.15's ``fit`` calls ``on_epoch_end`` once before the first
epoch (``EpochIterator.reset``), so inside ``fit`` the first epoch's batches
are keyed epoch 1, not ``first_epoch=0``; until ``TrainingBatches`` accounts
for that, the preview equals ``TrainingBatches``' first epoch, not the first
epoch a ``fit`` call trains on (``tests/test_preview.py`` pins this with a
strict xfail).

Images are shown before standardization (``rescale``, ``preprocessing_function``,
centering, ZCA): their values would not be viewable.
"""

import os
import textwrap
from dataclasses import dataclass

import numpy as np

from .._data._inputs import as_model_input
from .._data._paths import ImagePaths, is_path_input, load_rows
from .._random import child_seeds, legacy_rng, preserved_global_rngs, resolve_seed
from .._validation import (
    COLOR_MODE,
    ENGINE,
    IMAGE_SHAPE,
    RANDOM_STATE,
    TARGET_SIZE,
    WINDOW,
    integer,
    validate_params,
)
from ._augment_keys import AUGMENT_SPECS, mixes, resolve_augment
from ._keys import DatagenConfig, resolve_datagen
from ._pipeline import per_image_augmenter

_OWNER = "plot_augmentations"
_CELL_INCHES = 1.25
#: The epoch key of the copies: ``TrainingBatches``' first epoch (``first_epoch=0``).
_FIRST_EPOCH = 0


@dataclass(frozen=True)
class _Preview:
    """What the figure shows: sampled rows, their originals and augmented copies."""

    rows: np.ndarray  # indices into X
    names: tuple  # each row's label: its file name, or X[i]
    originals: np.ndarray  # (images, h, w, c), before standardization
    copies: np.ndarray  # (images, n, h, w, c), before standardization
    fixed_range: bool  # 0-255 display scale (uint8 arrays, image files)
    config: DatagenConfig
    augment: dict  # the augment keys given (not at their default)
    drawn: bool  # whether any random transform drew the copies
    mixing: bool  # MixUp or CutMix set (not drawn: they mix images of a batch)
    engine: str  # the engine that drew the copies
    seed: int
    random_state: object


def plot_augmentations(
    X,
    datagen,
    n=8,
    images=6,
    random_state=0,
    engine="vectorized",
    target_size=None,
    color_mode="rgb",
    image_shape=None,
    window=None,
    augment=None,
):
    """Plot images next to random augmentations drawn as ``fit`` draws them.

    One row per shown image: the original, then ``n`` augmented versions.
    Row ``r``'s versions are training batch ``r`` of the first epoch of a
    batch holding that image ``n`` times, drawn by the same augmenter engine,
    from the same parameter distributions and with the same seed derivation
    as :class:`~skimgaug.AugmentedKerasClassifier` with this
    ``random_state`` (see :mod:`skimgaug._augment._preview` for the exact
    equivalence). Images are shown *before* standardization (``rescale``,
    feature-wise statistics, ...), as the figure says.

    Parameters
    ----------
    X : array-like or sequence of image file paths
        Images ``(n_samples, h, w, c)`` or ``(n_samples, h, w)``; rows
        ``(n_samples, h*w*c)`` with ``image_shape``; or image file paths,
        decoded with ``target_size`` and ``color_mode`` as in ``fit``. Not
        modified.
    datagen : None or dict
        ``ImageDataGenerator`` settings, as the estimator's ``datagen``.
        Without random augmentation the copies equal the original and the
        title says so.
    n : int, default=8
        Augmented versions per image.
    images : int, default=6
        Images shown (rows), sampled without replacement from ``X`` with a
        seed derived from ``random_state``, in the order of ``X``; all of
        them if ``X`` has fewer.
    random_state : None, int or numpy.random.RandomState, default=0
        As the estimator's. The integer seed it resolves to is shown in the
        title; passing it as ``random_state`` redraws the same figure. A
        ``RandomState`` is not advanced.
    engine : {"vectorized", "imagedatagenerator"}, default="vectorized"
        As the estimator's; both draw the same transforms.
    target_size : None or tuple (height, width), default=None
        For file paths: the size images are resized to; None uses the size
        of the first image, ``X[0]``.
    color_mode : {"grayscale", "rgb", "rgba"}, default="rgb"
        For file paths: the channels images are converted to.
    image_shape : None or tuple of int, default=None
        ``(h, w, c)`` or ``(h, w)`` to reshape rows of ``X`` into images.
    window : None, (center, width), "dicom" or a preset name, default=None
        For DICOM files: the window, as the estimator's ``window``.
    augment : None or dict, default=None
        The estimator's ``augment`` transforms, applied after ``datagen``'s
        as in ``fit``. MixUp and CutMix mix an image with *other* images of
        its batch: a row of copies of one image would not show them, and the
        title says they are not drawn.

    Returns
    -------
    matplotlib.figure.Figure
        A pyplot figure with ``images * (n + 1)`` axes, row by row; close it
        with ``plt.close(fig)`` when done. One-channel images use the gray
        colour map. The display scale is 0-255 for ``uint8`` arrays and image
        files, otherwise each original's minimum and maximum, shared by its
        copies (values beyond are clipped on screen).

    Raises
    ------
    ValueError
        For ``n`` or ``images`` not an int >= 1, an unknown ``engine``,
        ``color_mode``, a bad ``target_size``, ``image_shape`` or
        ``random_state``, ``datagen`` settings (all listed, with "did you
        mean"), no images, or images with other than 1, 3 or 4 channels.

    See Also
    --------
    save_augmentation_preview : The same figure, written to a PNG file.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skimgaug._augment._preview import plot_augmentations
    >>> from skimgaug.datasets import load_digits_images
    >>> X, _ = load_digits_images()
    >>> fig = plot_augmentations(X[:50], {"rotation_range": 20}, n=4, images=3)
    >>> len(fig.axes)
    15
    >>> print(fig.texts[0].get_text().splitlines()[0])
    rotation_range=20 — engine vectorized, seed 0
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    preview = _draw_preview(
        X,
        datagen,
        n,
        images,
        random_state,
        engine,
        target_size,
        color_mode,
        image_shape,
        window,
        augment,
    )
    return _draw_figure(preview, plt.figure)


def save_augmentation_preview(X, datagen, path, **kwargs):
    """Write :func:`plot_augmentations`' figure to a PNG file.

    The figure is drawn without pyplot (no window, no backend switch, nothing
    left open) at 100 dpi.

    Parameters
    ----------
    X, datagen
        As in :func:`plot_augmentations`.
    path : str or path-like
        The PNG file to write.
    **kwargs
        Any other parameter of :func:`plot_augmentations`.

    Returns
    -------
    str or path-like
        ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> from skimgaug._augment._preview import save_augmentation_preview
    >>> from skimgaug.datasets import make_toy_images
    >>> X, _ = make_toy_images(10, image_size=8, random_state=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "preview.png")
    >>> save_augmentation_preview(X, {"zoom_range": 0.2}, path, n=3, images=2) == path
    True
    """
    from matplotlib.figure import Figure

    preview = _draw_preview(X, datagen, **kwargs)
    figure = _draw_figure(preview, Figure)
    figure.savefig(path, dpi=100, format="png")
    return path


# ----------------------------------------------------------------------
# Drawing the images: the training path's augmentation, nothing else
# ----------------------------------------------------------------------
def _draw_preview(
    X,
    datagen,
    n=8,
    images=6,
    random_state=0,
    engine="vectorized",
    target_size=None,
    color_mode="rgb",
    image_shape=None,
    window=None,
    augment=None,
):
    """Validate everything, then sample rows and augment them as ``fit`` does."""
    checked = validate_params(
        {
            "n": n,
            "images": images,
            "engine": engine,
            "random_state": random_state,
            "image_shape": image_shape,
            "color_mode": color_mode,
            "target_size": target_size,
            "window": window,
        },
        PREVIEW_CONSTRAINTS,
        _OWNER,
    )
    config = resolve_datagen(datagen, {}, owner=_OWNER)
    augment = resolve_augment(augment, owner=_OWNER)
    image_shape, color_mode = checked["image_shape"], checked["color_mode"]
    target_size = checked["target_size"]

    with preserved_global_rngs():
        x, fixed_range = _as_images(X, image_shape, target_size, color_mode, checked["window"])
        if len(x) == 0:
            raise ValueError(f"X holds no images; {_OWNER} needs at least one.")
        channels = x.shape[-1]
        if channels not in (1, 3, 4):
            raise ValueError(
                f"{_OWNER} shows images with 1 (gray), 3 (RGB) or 4 (RGBA) channels; "
                f"X holds images of shape {tuple(x.shape[1:])}."
            )
        seed = resolve_seed(random_state)
        _, batch_seed = child_seeds(seed, 2)  # as in AugmentedKerasClassifier.fit
        sample_seed = child_seeds(seed, 3)[2]  # a third child: independent of both
        rows = _sample_rows(len(x), images, sample_seed)
        generator = config.augmenter()  # its format settings give the dtype, as in fit
        originals = load_rows(x, rows, generator.dtype)
        augmenter = per_image_augmenter(config, augment, engine)
        copies = np.repeat(originals[:, np.newaxis], n, axis=1)
        if augmenter is not None:
            with augmenter.running():
                for r, row in enumerate(rows):
                    # Training batch r of epoch 0, holding the row's image n times:
                    # copied (or decoded) as fit reads it, then transformed.
                    batch = load_rows(x, np.full(n, row), generator.dtype)
                    copies[r] = augmenter(batch, legacy_rng(batch_seed, _FIRST_EPOCH, r))
    names = tuple(_short_name(x.paths[i]) if isinstance(x, ImagePaths) else f"X[{i}]" for i in rows)
    return _Preview(
        rows=rows,
        names=names,
        originals=originals,
        copies=copies,
        fixed_range=fixed_range,
        config=config,
        augment={k: v for k, v in augment.items() if v != AUGMENT_SPECS[k].default},
        drawn=augmenter is not None,
        mixing=mixes(augment),
        engine=(augmenter.engine or engine) if augmenter is not None else engine,
        seed=seed,
        random_state=random_state,
    )


#: The most rows (images) and augmented copies per row a preview draws: beyond
#: them the figure is too large to read, and to hold in memory.
MAX_ROWS = 50
MAX_COPIES = 30


#: What the preview's parameters accept: the estimator's primitives.
PREVIEW_CONSTRAINTS = {
    "n": integer(1, MAX_COPIES, note="(a larger grid is too large to read)"),
    "images": integer(1, MAX_ROWS, note="(a larger grid is too large to read)"),
    "engine": ENGINE,
    "random_state": RANDOM_STATE,
    "image_shape": IMAGE_SHAPE,
    "color_mode": COLOR_MODE,
    "target_size": TARGET_SIZE,
    "window": WINDOW,
}


def _as_images(X, image_shape, target_size, color_mode, window=None):
    """``(images, fixed_range)``: an array or ImagePaths of shape (n, h, w, c).

    Image files show on 0-255, except unwindowed DICOM files (modality values).
    """
    if is_path_input(X):
        from .._data._dicom import is_dicom

        paths = X.paths if isinstance(X, ImagePaths) else X
        paths = ImagePaths(paths, target_size or (1, 1), color_mode, window=window)
        if target_size is None and len(paths):
            paths = ImagePaths(paths.paths, _first_image_size(paths), color_mode, window=window)
        modality = window is None and len(paths) and is_dicom(paths.paths[0])
        return paths, not modality
    x = as_model_input(X, image_shape, requires_images=True, owner=_OWNER)
    return x, x.dtype == np.uint8


def _first_image_size(paths):
    """``(height, width)`` of the first image file."""
    return tuple(paths[:1].check_files()[0])  # a missing or unreadable file, named


def _short_name(path, limit=20):
    """A file's name for a row label, shortened in the middle beyond ``limit`` characters."""
    name = os.path.basename(path)
    return name if len(name) <= limit else f"{name[: limit // 2 - 1]}…{name[-(limit // 2) :]}"


def _sample_rows(n_total, images, seed):
    """Indices of the rows shown: all, or ``images`` of them, sorted."""
    if n_total <= images:
        return np.arange(n_total)
    chosen = np.random.default_rng(seed).choice(n_total, size=images, replace=False)
    return np.sort(chosen)


# ----------------------------------------------------------------------
# The figure
# ----------------------------------------------------------------------
def _draw_figure(preview, make_figure):
    n_rows, n = preview.copies.shape[:2]
    height, width = preview.originals.shape[1:3]
    aspect = min(2.0, max(0.5, width / height))
    cell_w, cell_h = _CELL_INCHES * aspect, _CELL_INCHES
    fig_w = max(5.0, (n + 1) * cell_w + 0.5)
    fig_h = n_rows * cell_h + 1.1
    figure = make_figure(figsize=(fig_w, fig_h), layout="constrained")
    axes = figure.subplots(n_rows, n + 1, squeeze=False)
    for r in range(n_rows):
        original = preview.originals[r]
        low, high = _display_range(original, preview.fixed_range)
        for c, image in enumerate([original, *preview.copies[r]]):
            ax = axes[r][c]
            _show(ax, image, low, high)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title("original" if c == 0 else str(c), fontsize="medium")
        axes[r][0].set_ylabel(preview.names[r], fontsize="medium")
    width_chars = max(40, int(fig_w * 12.5))  # medium font: about 12.5 characters an inch
    figure.suptitle(_title(preview, width_chars), fontsize="medium")
    return figure


def _display_range(original, fixed_range):
    if fixed_range:
        return 0.0, 255.0
    low, high = float(original.min()), float(original.max())
    return (low, high) if high > low else (low, low + 1.0)


def _show(ax, image, low, high):
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=low, vmax=high, interpolation="nearest")
    else:  # RGB(A): matplotlib wants values in [0, 1]
        scaled = np.clip((image.astype(np.float64) - low) / (high - low), 0.0, 1.0)
        ax.imshow(scaled, interpolation="nearest")


def _title(preview, width_chars):
    """Two lines (each wrapped between settings): what was drawn, and what was not applied."""
    config = preview.config
    settings = [f"{key}={_compact(value)}" for key, value in config.augmentation.items()]
    augment = preview.augment
    settings += [f"{key}={_compact(value)}" for key, value in augment.items()]
    drawn = preview.drawn
    seed = f"seed {preview.seed}"
    if preview.random_state is None:
        seed += " (random_state=None)"
    elif isinstance(preview.random_state, np.random.RandomState):
        seed += " (from the RandomState)"
    if drawn:
        first = _joined(settings) + " — " + _joined([f"engine {preview.engine}", seed])
    else:
        first = _atom("no random augmentation in these settings")
        if settings:
            first += " (" + _joined(settings) + ")"
        first += " — " + _joined([f"engine {preview.engine}", seed])
    second = "shown before standardization"
    if drawn:
        second = "random transforms as in fit, " + second
    if preview.mixing:
        second += ", MixUp/CutMix not drawn (they mix images of a batch)"
    colourless = [k for k in ("saturation_range", "hue_range") if k in augment]
    if colourless and preview.originals.shape[-1] in (1, 2):
        verb = "has" if len(colourless) == 1 else "have"
        second += f", {' and '.join(colourless)} {verb} no effect on one-channel images"
    if config.standardization:
        skipped = [f"{key}={_compact(value)}" for key, value in config.standardization.items()]
        second += " (not applied: " + _joined(skipped) + ")"
    lines = (
        textwrap.fill(line, width_chars, break_long_words=False, break_on_hyphens=False)
        for line in (first, second)
    )
    return "\n".join(lines).replace(_NO_BREAK, " ")


_NO_BREAK = "\u00a0"  # textwrap breaks at ASCII whitespace only


def _atom(text):
    """``text`` kept on one line by :func:`textwrap.fill`."""
    return text.replace(" ", _NO_BREAK)


def _joined(items):
    return ", ".join(_atom(item) for item in items)


def _compact(value):
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_compact(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    return repr(value)
