"""Valid settings that are almost surely mistakes are questioned, once, before or at use."""

import argparse
import math
import warnings

import numpy as np
import pytest
from conftest import FAST
from PIL import Image

from skimgaug import AugmentedKerasClassifier
from skimgaug.cli._common import make_splitter
from skimgaug.cli._options import UsageError
from skimgaug.cli.runs._cv import format_summary
from skimgaug.exceptions import MixedImageSizesWarning


def _messages(function):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        function()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize(
    ("datagen", "expected"),
    [
        ({"rescale": 255}, "rescale=255 multiplies pixel values by 255 .* rescale=1/255\\?"),
        ({"rotation_range": 720}, "rotation_range=720 draws angles up to 720 degrees"),
    ],
)
def test_a_likely_mistake_in_datagen_warns(toy, datagen, expected):
    X, y = toy
    with pytest.warns(UserWarning, match=expected):
        AugmentedKerasClassifier(datagen=datagen, **FAST).fit(X, y)


def test_usual_settings_do_not_warn(toy):
    X, y = toy
    datagen = {"rescale": 1 / 255, "rotation_range": 360}
    messages = _messages(lambda: AugmentedKerasClassifier(datagen=datagen, **FAST).fit(X, y))
    assert not [m for m in messages if "rescale" in m or "rotation_range" in m]


def _files(folder, mode, size, n=8):
    folder.mkdir()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        shape = (*size, 3) if mode == "RGB" else size
        Image.fromarray(rng.integers(0, 256, shape).astype(np.uint8), mode=None).convert(mode).save(
            folder / f"{i}.png"
        )
        paths.append(str(folder / f"{i}.png"))
    return paths, np.arange(n) % 2


def test_grayscale_files_read_as_rgb_warn(tmp_path):
    paths, y = _files(tmp_path / "gray", "L", (8, 8))
    with pytest.warns(UserWarning, match="all 8 image files are grayscale.*color_mode='grayscale'"):
        AugmentedKerasClassifier(**FAST).fit(paths, y)
    messages = _messages(
        lambda: AugmentedKerasClassifier(color_mode="grayscale", **FAST).fit(paths, y)
    )
    assert not [m for m in messages if "are grayscale" in m]


def test_predict_says_when_files_are_resized_to_the_fitted_size(tmp_path):
    paths, y = _files(tmp_path / "small", "RGB", (8, 8))
    larger, _ = _files(tmp_path / "large", "RGB", (12, 12), n=3)
    clf = AugmentedKerasClassifier(**FAST).fit(paths, y)
    with pytest.warns(MixedImageSizesWarning, match="3 of the 3 image files are not 8x8"):
        clf.predict(larger)
    asked = AugmentedKerasClassifier(target_size=(8, 8), **FAST).fit(paths, y)
    assert not [m for m in _messages(lambda: asked.predict(larger)) if "resized" in m]


def test_predict_says_when_color_files_meet_a_model_fitted_on_one_channel(tmp_path, toy):
    X, y = toy  # 8x8, one channel
    color, _ = _files(tmp_path / "color", "RGB", (8, 8), n=2)
    clf = AugmentedKerasClassifier(**FAST).fit(X, y)
    with pytest.warns(UserWarning, match="2 of the 2 image files are in color"):
        clf.predict(color)


def _args(folds):
    return argparse.Namespace(folds=folds, seed=0)


def test_folds_and_classes_are_checked_in_one_message():
    y = np.array(["cat"] * 10 + ["dog"] * 3 + ["owl"] * 2)
    with pytest.raises(UsageError) as err:
        make_splitter(_args(5), y, None)
    assert str(err.value) == (
        "--folds 5 needs at least 5 images of each class (every fold tests some of each); "
        "class 'dog' has 3, class 'owl' has 2. Use --folds 2 or fewer, or add images"
    )
    assert make_splitter(_args(2), y, None).get_n_splits() == 2


def test_folds_and_groups_of_a_class_are_checked_in_one_message():
    y = np.array(["a"] * 6 + ["b"] * 6)
    groups = np.array(["p1", "p1", "p2", "p2", "p3", "p3", "q1", "q2", "q3", "q4", "q5", "q6"])
    with pytest.raises(UsageError, match=r"each class in at least 4 groups .* class 'a' is in 3"):
        make_splitter(_args(4), y, groups)
    assert type(make_splitter(_args(3), y, groups)).__name__ == "StratifiedGroupKFold"


def test_the_summary_says_over_how_many_folds_a_partly_undefined_metric_is_averaged():
    folds = [
        {"accuracy": 0.9, "balanced_accuracy": 0.9, "macro_f1": 0.9, "roc_auc": v}
        for v in (0.8, math.nan, 0.9)
    ]
    summary = {"s": {"folds": folds, "mean": folds[0], "std": folds[0]}}
    text = format_summary(summary)
    assert "roc_auc: mean and std over the 2 of 3 folds where it is defined" in text
    assert "accuracy: mean" not in text
