"""``augment``: modern random transforms, on training batches only, reproducible, searchable."""

import numpy as np
import pytest
from conftest import FAST, recording_model
from sklearn.model_selection import GridSearchCV, KFold, cross_val_predict

from skimgaug import AugmentedKerasClassifier, AugmentedKerasRegressor
from skimgaug._augment._augment_keys import AUGMENT_KEYS, resolve_augment
from skimgaug._augment._pipeline import AugmentPipeline

STANDARDIZE = {"rescale": 0.5, "featurewise_center": True}

#: One setting per transform, strong enough to change (almost) every image.
EACH = {
    "rand_augment": {"rand_augment_ops": 2, "rand_augment_magnitude": 1.0},
    "trivial_augment": {"trivial_augment": True},
    "mixup": {"mixup_alpha": 1.0},
    "cutmix": {"cutmix_alpha": 1.0},
    "erasing": {"erasing_probability": 1.0, "erasing_scale": (0.2, 0.4)},
    "elastic": {"elastic_alpha": 3.0, "elastic_sigma": 1.0},
    "gamma": {"gamma_range": (0.5, 0.7)},
    "contrast": {"contrast_range": (0.3, 0.5)},
    "saturation": {"saturation_range": (0.0, 0.3)},
    "hue": {"hue_range": (0.2, 0.3)},
    "noise": {"gaussian_noise_std": 0.1},
    "blur": {"blur_sigma_range": (0.8, 1.2)},
    "clahe": {"clahe_clip_limit": 4.0},
}


def _contains(images, image, atol=1e-5):
    return bool(np.any(np.all(np.abs(images - image) <= atol, axis=(1, 2, 3))))


def _phase(seen, key, phase):
    return [batch for p, batch in seen[key] if p == phase]


def _recording(log_key, augment, **params):
    return AugmentedKerasClassifier(
        recording_model,
        model__log_key=log_key,
        augment=augment,
        datagen=STANDARDIZE,
        **{**FAST, "random_state": 0, **params},
    )


def test_the_docs_list_every_augment_key():
    from pathlib import Path

    page = (Path(__file__).parents[1] / "docs" / "user_guide" / "augmentations.md").read_text()
    missing = [key for key in AUGMENT_KEYS if f"`{key}`" not in page]
    assert not missing


@pytest.mark.parametrize("name", list(EACH))
def test_each_transform_changes_training_batches_and_never_inference_batches(name, toy_rgb, seen):
    X, y = toy_rgb
    clf = _recording(name, EACH[name], epochs=1, validation_split=0.25)
    clf.fit(X, y)
    clean = X * 0.5 - clf.standardizer_.mean
    train = [image for batch in _phase(seen, name, "train") for image in batch]
    assert len(train) == 36  # the 48 images less the internal validation quarter
    changed = sum(not _contains(clean, image) for image in train)
    assert changed >= 0.75 * len(train), f"{name}: {changed} of {len(train)} changed"
    for phase in ("infer", "check"):  # internal validation, the end-of-fit check
        for batch in _phase(seen, name, phase):
            assert all(_contains(clean, image) for image in batch), phase
    seen[name].clear()
    clf.predict(X)
    clf.predict_proba(X[:5])
    clf.score(X, y)
    inferred = _phase(seen, name, "infer")
    assert inferred and all(_contains(clean, im) for batch in inferred for im in batch)
    assert not _phase(seen, name, "train")


@pytest.mark.parametrize("mixing", ["mixup", "cutmix"])
def test_mixing_gives_soft_targets_in_training_and_hard_ones_in_validation(mixing, toy_rgb, seen):
    X, y = toy_rgb  # three classes: the default loss is sparse; mixing trains on one-hot rows
    clf = _recording(mixing, EACH[mixing], epochs=2, validation_split=0.25)
    clf.fit(X, y)
    targets = np.concatenate(_phase(seen, mixing, "targets"))
    assert targets.shape[1] == 3
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-5)
    assert np.mean((targets > 1e-6) & (targets < 1 - 1e-6)) > 0.2  # soft rows
    validation = np.concatenate(_phase(seen, mixing, "validation targets"))
    assert set(np.unique(validation).tolist()) <= {0.0, 1.0}  # one-hot, never mixed
    np.testing.assert_allclose(validation.sum(axis=1), 1.0)
    assert clf.predict(X).shape == (48,) and set(clf.predict(X)) <= set(y)


def test_mixing_mixes_sample_weights_and_a_regressors_values(toy, seen):
    X, y = toy
    values = y.astype(float) * 3 + 1
    reg = AugmentedKerasRegressor(
        recording_model,
        model__log_key="reg",
        augment={"mixup_alpha": 1.0},
        **{**FAST, "random_state": 0},
    )
    reg.fit(X, values, sample_weight=np.where(y == 1, 2.0, 1.0))
    targets = np.concatenate(_phase(seen, "reg", "targets")).ravel()
    assert ((targets > 1 + 1e-6) & (targets < 4 - 1e-6)).any()  # values between the two
    weights = np.concatenate(_phase(seen, "reg", "weights"))
    assert ((weights > 1 + 1e-6) & (weights < 2 - 1e-6)).any()


@pytest.mark.slow  # three fits
def test_cross_val_predict_sees_clean_test_folds_with_every_transform(toy_rgb, seen):
    X, y = toy_rgb
    every = {key: value for setting in EACH.values() for key, value in setting.items()}
    every.pop("trivial_augment")  # one of RandAugment and TrivialAugment
    clf = _recording("cvp", every)
    cv = KFold(3, shuffle=True, random_state=0)
    cross_val_predict(clf, X, y, cv=cv, method="predict_proba")
    infer = _phase(seen, "cvp", "infer")
    for train, test in cv.split(X, y):
        clean = X[test] * 0.5 - (X[train] * 0.5).mean(axis=(0, 1, 2))
        batches = [b for b in infer if len(b) and _contains(clean, b[0])]
        assert batches and all(_contains(clean, im) for b in batches for im in b)


def test_the_same_random_state_gives_the_same_batches(toy_rgb, seen):
    X, y = toy_rgb
    every = {key: value for setting in EACH.values() for key, value in setting.items()}
    every.pop("trivial_augment")
    for key in ("a", "b"):
        _recording(key, every).fit(X, y)
    first, second = _phase(seen, "a", "train"), _phase(seen, "b", "train")
    assert len(first) == len(second)
    for one, two in zip(first, second, strict=True):
        np.testing.assert_array_equal(one, two)
    targets = _phase(seen, "a", "targets"), _phase(seen, "b", "targets")
    for one, two in zip(*targets, strict=True):
        np.testing.assert_array_equal(one, two)


def test_the_two_engines_draw_from_the_same_distributions():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 255, (16, 16, 3)).astype(np.float32)
    batch = np.repeat(base[None], 256, axis=0)
    settings = resolve_augment(
        {key: v for s in EACH.values() for key, v in s.items() if key != "trivial_augment"}
    )
    settings.update(mixup_alpha=0.0, cutmix_alpha=0.0)
    outputs = {}
    for engine in ("vectorized", "imagedatagenerator"):
        pipeline = AugmentPipeline(settings, engine, rescale=None)
        outputs[engine] = pipeline(batch.copy(), np.random.RandomState(1))
    vectorized, reference = outputs["vectorized"], outputs["imagedatagenerator"]
    assert vectorized.min() >= 0 and vectorized.max() <= 255
    # Per-pixel means and the spread over 256 draws: equal within sampling error.
    np.testing.assert_allclose(vectorized.mean(), reference.mean(), atol=4.0)
    np.testing.assert_allclose(
        vectorized.std(axis=0).mean(), reference.std(axis=0).mean(), rtol=0.1
    )


def test_a_classifier_loss_that_takes_no_soft_targets_is_refused_with_mixing(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(augment={"mixup_alpha": 0.2}, loss="hinge", **FAST)
    with pytest.raises(ValueError, match="cross-entropy loss"):
        clf.fit(X, y)


def test_augment_keys_are_checked_before_training(toy):
    X, y = toy
    with pytest.raises(ValueError, match="did you mean 'gamma_range'"):
        AugmentedKerasClassifier(augment__gama_range=(0.8, 1.2), **FAST).fit(X, y)
    with pytest.raises(ValueError, match="hue_range"):
        AugmentedKerasClassifier(augment={"hue_range": (0.4, 0.9)}, **FAST).fit(X, y)


@pytest.mark.slow  # eight fits
def test_augment_keys_are_searchable(toy):
    X, y = toy
    clf = AugmentedKerasClassifier(**FAST, random_state=0)
    search = GridSearchCV(
        clf, {"augment__gamma_range": [None, (0.8, 1.25)], "augment__mixup_alpha": [0.0, 0.2]}, cv=2
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_files_train_with_every_transform_and_the_model_keeps_them(tmp_path):
    from skimgaug import load_model, save_model
    from skimgaug.datasets import load_image_folder, write_image_folder

    write_image_folder(tmp_path / "images", n_per_class=12, image_size=16)
    paths, labels = load_image_folder(tmp_path / "images")
    every = {key: value for setting in EACH.values() for key, value in setting.items()}
    every.pop("trivial_augment")
    clf = AugmentedKerasClassifier(
        augment=every, datagen={"rescale": 1 / 255}, **FAST, random_state=0, color_mode="rgb"
    )
    clf.fit(paths, labels)
    save_model(clf, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert resolve_augment(loaded.augment) == resolve_augment(every)
    np.testing.assert_allclose(loaded.predict_proba(paths), clf.predict_proba(paths), atol=1e-5)


def test_the_preview_draws_augment_transforms_and_says_mixing_is_not_drawn(toy_rgb):
    import matplotlib.pyplot as plt

    from skimgaug import plot_augmentations

    X, _ = toy_rgb
    fig = plot_augmentations(
        X, None, n=3, images=2, augment={"gamma_range": (0.5, 0.7), "mixup_alpha": 0.2}
    )
    try:
        title = fig.texts[0].get_text().replace("\u00a0", " ")
        assert "gamma_range=(0.5, 0.7)" in title and "mixup_alpha=0.2" in title
        assert "MixUp/CutMix not drawn" in title
        originals = fig.axes[0].images[0].get_array()
        copy = fig.axes[1].images[0].get_array()
        assert not np.allclose(originals, copy)
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    ("argument", "said"),
    [
        ("gama_range=0.8,1.2", "--augment gama_range is not an augment key; did you mean"),
        ("hue_range=1,2", "--augment hue_range must be None or a pair"),
        ("mixup_alpha", "--augment expects key=value"),
    ],
)
def test_bad_augment_options_are_usage_errors_before_any_data_is_read(argument, said, capsys):
    from skimgaug import cli

    with pytest.raises(SystemExit) as exited:
        cli.main(["cv", "no-such-folder/", "--augment", argument])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert said in err and "no-such-folder" not in err


@pytest.mark.slow  # two settings x two folds
def test_cv_compares_with_and_without_augment(capsys):
    from skimgaug import cli

    args = ["cv", "--digits", "--folds", "2", "--epochs", "1", "--bootstraps", "0", "--quiet"]
    assert (
        cli.main([*args, "--datagen", "rescale=1/16", "--augment", "mixup_alpha=0.2", "--compare"])
        == 0
    )
    out = capsys.readouterr().out
    assert "augment: mixup_alpha=0.2" in out
    assert "\nno augmentation\n" in out and "\naugmentation\n" in out
