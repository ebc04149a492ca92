"""The augmentation preview shows what training draws, and nothing else."""

import os
import random
import struct

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import recording_model  # noqa: E402

from skimgaug import AugmentedKerasClassifier  # noqa: E402
from skimgaug._augment._batches import TrainingBatches  # noqa: E402
from skimgaug._augment._keys import resolve_datagen  # noqa: E402
from skimgaug._augment._preview import (
    plot_augmentations,
    save_augmentation_preview,  # noqa: E402
)
from skimgaug._augment._transforms import make_augmenter  # noqa: E402
from skimgaug._data._paths import decode_image  # noqa: E402
from skimgaug._random import (
    child_seeds,
    resolve_seed,  # noqa: E402
)
from skimgaug.datasets import load_image_folder  # noqa: E402

AUGMENT = {"rotation_range": 20, "zoom_range": 0.2}


@pytest.fixture(autouse=True)
def close_new_figures():
    """Close the pyplot figures a test opened (and only those)."""
    before = set(plt.get_fignums())
    yield
    for number in set(plt.get_fignums()) - before:
        plt.close(number)


@pytest.fixture(scope="module")
def small_digits(digits):
    X, _ = digits
    return X[:40]


def _grid(fig, n):
    """The plotted arrays as (rows, n + 1, ...): the original, then the copies."""
    arrays = [np.asarray(ax.images[0].get_array()) for ax in fig.axes]
    return np.stack(arrays).reshape(-1, n + 1, *arrays[0].shape)


def _shown_rows(fig, n):
    """The indices of X shown, read from the row labels "X[i]"."""
    return [int(ax.get_ylabel()[2:-1]) for ax in fig.axes[:: n + 1]]


def _title(fig):
    """The suptitle's two lines, each unwrapped."""
    lines = fig.texts[0].get_text().split("\n")
    split = next(
        i for i, line in enumerate(lines) if line.startswith(("random transforms", "shown before"))
    )
    first, second = " ".join(lines[:split]), " ".join(lines[split:])
    return first, second


def _training_batches(images, settings, engine, n, random_state):
    """The training path over ``images`` each repeated ``n`` times, one image per batch."""
    config = resolve_datagen(settings, {})
    _, batch_seed = child_seeds(resolve_seed(random_state), 2)
    return TrainingBatches(
        np.repeat(images, n, axis=0),
        np.zeros(len(images) * n),
        None,
        indices=None,
        augmenter=make_augmenter(engine, config.augmenter()),
        standardizer=config.standardizer(),
        batch_size=n,
        shuffle=False,
        seed=batch_seed,
    )


# ----------------------------------------------------------------------------
# The grid
# ----------------------------------------------------------------------------
def test_grid_has_one_row_per_image_and_the_original_then_n_copies(small_digits):
    fig = plot_augmentations(small_digits, AUGMENT, n=3, images=4)
    assert len(fig.axes) == 4 * (3 + 1)
    assert [ax.get_title() for ax in fig.axes[:4]] == ["original", "1", "2", "3"]
    assert all(ax.get_title() == "" for ax in fig.axes[4:])
    assert all(len(ax.images) == 1 for ax in fig.axes)
    assert all(not ax.get_xticks().size and not ax.get_yticks().size for ax in fig.axes)
    rows = _shown_rows(fig, 3)
    assert len(set(rows)) == 4 and rows == sorted(rows)
    np.testing.assert_array_equal(_grid(fig, 3)[:, 0], small_digits[rows, :, :, 0])


def test_all_images_are_shown_when_x_has_fewer_than_requested(small_digits):
    fig = plot_augmentations(small_digits[:3], AUGMENT, n=2, images=6)
    assert len(fig.axes) == 3 * 3
    assert _shown_rows(fig, 2) == [0, 1, 2]


def test_gray_images_share_the_original_scale_in_gray(small_digits):
    fig = plot_augmentations(small_digits, AUGMENT, n=2, images=3)
    for r, row in enumerate(_shown_rows(fig, 2)):
        original = small_digits[row]
        for ax in fig.axes[r * 3 : (r + 1) * 3]:
            image = ax.images[0]
            assert image.get_cmap().name == "gray"
            assert image.get_clim() == (original.min(), original.max())


def test_uint8_images_are_shown_on_the_0_255_scale(small_digits):
    X = (small_digits * 8).astype(np.uint8)  # 0-128: a dim image stays dim
    fig = plot_augmentations(X, AUGMENT, n=2, images=2)
    assert all(ax.images[0].get_clim() == (0, 255) for ax in fig.axes)


# ----------------------------------------------------------------------------
# Drawn as training draws them
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["vectorized", "imagedatagenerator"])
def test_copies_are_the_training_path_batches_for_the_same_seed(small_digits, engine):
    n = 4
    fig = plot_augmentations(small_digits, AUGMENT, n=n, images=3, random_state=7, engine=engine)
    grid, rows = _grid(fig, n), _shown_rows(fig, n)
    batches = _training_batches(small_digits[rows], AUGMENT, engine, n, random_state=7)
    for r in range(len(rows)):
        np.testing.assert_array_equal(grid[r, 1:], batches[r][0][..., 0])
        for copy in grid[r, 1:]:
            assert not np.allclose(copy, grid[r, 0]), "a copy was not augmented"


@pytest.mark.filterwarnings("ignore:.*chance-level loss")
def test_copies_are_what_the_model_sees_in_a_seeded_fit(small_digits, seen):
    """End to end: the classifier's own seed derivation, augmenter and batches."""
    n, images = 4, 2
    fig = plot_augmentations(small_digits, AUGMENT, n=n, images=images, random_state=3)
    grid, rows = _grid(fig, n), _shown_rows(fig, n)
    clf = AugmentedKerasClassifier(
        recording_model,
        model__log_key="preview",
        datagen=AUGMENT,
        random_state=3,
        batch_size=n,
        shuffle=False,
        epochs=1,
        verbose=0,
    )
    clf.fit(np.repeat(small_digits[rows], n, axis=0), np.repeat([0, 1], n))
    trained = [batch for phase, batch in seen["preview"] if phase == "train"]
    assert len(trained) == images
    for r in range(images):
        np.testing.assert_allclose(grid[r, 1:], trained[r][..., 0], rtol=0, atol=1e-6)


def test_without_augmentation_the_copies_equal_the_original_and_the_title_says_so(
    small_digits,
):
    fig = plot_augmentations(small_digits, {"rescale": 1 / 16, "fill_mode": "constant"}, n=3)
    grid = _grid(fig, 3)
    for r in range(len(grid)):
        for copy in grid[r, 1:]:
            np.testing.assert_array_equal(copy, grid[r, 0])
    first, second = _title(fig)
    assert first.startswith("no random augmentation in these settings (fill_mode='constant') —")
    assert second == "shown before standardization (not applied: rescale=0.0625)"


def test_title_states_augmentation_settings_engine_seed_and_no_standardization(small_digits):
    settings = {"rotation_range": 10, "zoom_range": 0.1, "rescale": 1 / 16}
    fig = plot_augmentations(
        small_digits, settings, n=2, images=2, random_state=5, engine="imagedatagenerator"
    )
    first, second = _title(fig)
    assert first == "rotation_range=10, zoom_range=0.1 — engine imagedatagenerator, seed 5"
    assert "shown before standardization" in second
    assert "rescale=0.0625" in second  # named as not applied, not as an augmentation


def test_same_random_state_draws_the_same_figure_and_another_a_different_one(small_digits):
    def drawn(X, random_state):
        fig = plot_augmentations(X, AUGMENT, n=3, images=4, random_state=random_state)
        return _shown_rows(fig, 3), _grid(fig, 3)

    rows, grid = drawn(small_digits, 0)
    again_rows, again = drawn(small_digits, 0)
    assert again_rows == rows
    np.testing.assert_array_equal(again, grid)
    other_rows, _ = drawn(small_digits, 1)
    assert other_rows != rows
    # The same four images: the same transforms with seed 0, others with seed 1.
    _, same_seed = drawn(small_digits[rows], 0)
    np.testing.assert_array_equal(same_seed, grid)
    _, other_seed = drawn(small_digits[rows], 1)
    np.testing.assert_array_equal(other_seed[:, 0], grid[:, 0])
    for r in range(len(rows)):
        for k in range(1, 4):
            assert not np.allclose(other_seed[r, k], grid[r, k])


def test_a_random_state_instance_is_not_advanced_and_its_shown_seed_redraws(small_digits):
    rs = np.random.RandomState(11)
    state = rs.get_state()[1].copy()
    fig = plot_augmentations(small_digits, AUGMENT, n=2, images=2, random_state=rs)
    np.testing.assert_array_equal(rs.get_state()[1], state)
    first, _ = _title(fig)
    assert first.endswith("(from the RandomState)")
    seed = int(first.split("seed ")[1].split()[0])
    again = plot_augmentations(small_digits, AUGMENT, n=2, images=2, random_state=seed)
    np.testing.assert_array_equal(_grid(again, 2), _grid(fig, 2))


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------
def test_rows_with_image_shape_and_3d_arrays_are_images(small_digits):
    rows = small_digits.reshape(len(small_digits), -1)
    from_rows = plot_augmentations(rows, AUGMENT, n=2, images=3, image_shape=(8, 8))
    from_3d = plot_augmentations(small_digits[..., 0], AUGMENT, n=2, images=3)
    from_4d = plot_augmentations(small_digits, AUGMENT, n=2, images=3)
    np.testing.assert_array_equal(_grid(from_rows, 2), _grid(from_4d, 2))
    np.testing.assert_array_equal(_grid(from_3d, 2), _grid(from_4d, 2))


def test_file_paths_are_decoded_at_their_own_size_or_target_size(image_folder):
    paths, _, *_ = load_image_folder(image_folder)
    fig = plot_augmentations(paths, AUGMENT, n=2, images=3)
    grid = _grid(fig, 2)
    assert grid.shape[2:] == (16, 16, 3)  # the first file's size, RGB
    names = [os.path.basename(path) for path in paths]
    shown = [ax.get_ylabel() for ax in fig.axes[::3]]  # rows are labelled by file name
    for r, row in enumerate(names.index(name) for name in shown):
        decoded = decode_image(paths[row], (16, 16), "rgb")
        np.testing.assert_allclose(grid[r, 0], decoded / 255, atol=1e-7)
    for copy in grid[:, 1:].reshape(-1, 16, 16, 3):
        assert not np.allclose(copy, grid[0, 0])

    gray = plot_augmentations(
        paths, AUGMENT, n=2, images=3, target_size=(8, 12), color_mode="grayscale"
    )
    assert _grid(gray, 2).shape[2:] == (8, 12)
    assert gray.axes[0].images[0].get_cmap().name == "gray"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"n": 0},
            ValueError,
            r"The 'n' parameter of plot_augmentations must be an int in \[1, 30\] .* Got 0",
        ),
        ({"n": True}, ValueError, r"The 'n' parameter .* Got True"),
        ({"images": 1.5}, ValueError, r"The 'images' parameter .* in \[1, 50\] .* Got 1\.5"),
        ({"images": 51}, ValueError, r"The 'images' parameter .* in \[1, 50\] .* Got 51"),
        ({"engine": "fast"}, ValueError, r"'engine' parameter of plot_augmentations .* Got 'fast'"),
        ({"random_state": -1}, ValueError, r"'random_state' parameter .* Got -1"),
        ({"random_state": "0"}, TypeError, r"'random_state' parameter .* Got '0'"),
        ({"color_mode": "cmyk"}, ValueError, r"'color_mode' parameter .* Got 'cmyk'"),
        ({"target_size": (8,)}, ValueError, r"'target_size' parameter .* Got \(8,\)"),
        ({"image_shape": (8, 0)}, ValueError, r"'image_shape' parameter .* Got \(8, 0\)"),
        (
            {"datagen": {"rotation_rnage": 10, "zoom_range": 2}},
            ValueError,
            r"(?s)for plot_augmentations.*did you mean 'rotation_range'\?.*zoom_range",
        ),
    ],
)
def test_parameters_are_checked_before_any_image_is_read(kwargs, error, match):
    kwargs = {"datagen": AUGMENT, **kwargs}
    with pytest.raises(error, match=match):
        plot_augmentations(["no/such/file.png"], **kwargs)


@pytest.mark.parametrize(
    "X, kwargs, match",
    [
        (np.zeros((5, 64)), {}, r"set plot_augmentations\(image_shape=.*\(8, 8, 1\)"),
        (np.zeros((5, 8, 8, 2)), {}, r"1 \(gray\), 3 \(RGB\) or 4 \(RGBA\) channels"),
        (np.zeros((0, 8, 8, 1)), {}, r"X holds no images"),
        (np.zeros((5, 64)), {"image_shape": (4, 4)}, r"64 values per row"),
    ],
)
def test_unusable_images_are_refused(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_augmentations(X, AUGMENT, **kwargs)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.png"):
        plot_augmentations([str(tmp_path / "missing.png")], AUGMENT)


# ----------------------------------------------------------------------------
# No side effects
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["vectorized", "imagedatagenerator"])
def test_the_callers_x_is_not_modified(small_digits, engine):
    rows = small_digits.reshape(len(small_digits), -1).copy()  # reshaped into a view inside
    before = rows.copy()
    plot_augmentations(rows, AUGMENT, n=3, images=4, image_shape=(8, 8, 1), engine=engine)
    np.testing.assert_array_equal(rows, before)


def test_global_rngs_are_left_as_they_were(small_digits):
    np.random.seed(1)
    random.seed(1)
    numpy_state, python_state = np.random.get_state()[1].copy(), random.getstate()
    plot_augmentations(small_digits, AUGMENT, n=3, images=3, random_state=None)
    plot_augmentations(small_digits, AUGMENT, n=3, images=3, engine="imagedatagenerator")
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert random.getstate() == python_state


# ----------------------------------------------------------------------------
# The PNG file
# ----------------------------------------------------------------------------
def test_save_writes_a_png_of_the_grid_and_leaves_no_figure_open(small_digits, tmp_path):
    path = tmp_path / "preview.png"
    open_before = plt.get_fignums()
    returned = save_augmentation_preview(small_digits, AUGMENT, path, n=4, images=3)
    assert returned == path
    assert plt.get_fignums() == open_before
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    # 5 columns by 3 rows of 1.25 in, a title, at 100 dpi (matplotlib rounds a pixel apart)
    assert abs(width - 675) <= 2 and abs(height - 485) <= 2
    assert len(data) > 10_000
