"""Patients and imbalance: group-aware internal validation, balanced epochs."""

import warnings

import numpy as np
import pytest
import sklearn
from conftest import fast_clf, recording_model
from sklearn.model_selection import GroupKFold, cross_validate

from skimgaug._estimator._split import group_validation_split
from skimgaug.datasets import make_toy_images


@pytest.fixture(scope="module")
def patients():
    """60 images of 12 patients (5 each), 2 classes; a patient's images share a label."""
    X, _ = make_toy_images(60, image_size=8, n_classes=2, random_state=3)
    groups = np.repeat(np.arange(12), 5)
    y = groups % 2
    X[:, 0, 0, 0] = groups * 1000.0  # each image holds its patient's id
    return X, y, groups


def test_the_internal_split_keeps_each_group_on_one_side(patients):
    _, y, groups = patients
    for seed in range(5):
        train, valid = group_validation_split(y, 0.2, seed, groups)
        assert set(groups[train]).isdisjoint(groups[valid])
        assert len(train) + len(valid) == len(y)
        # about a fifth held out; which classes fall in it depends on how scikit-learn's
        # StratifiedGroupKFold shuffles groups (it changed between releases)
        assert 0.1 <= len(valid) / len(y) <= 0.35


def test_fit_with_groups_validates_on_whole_groups(patients, seen):
    X, y, groups = patients
    clf = fast_clf(model=recording_model, validation_split=0.2, random_state=0)
    clf.fit(X, y, groups=groups)
    trained = np.concatenate([b for phase, b in seen["default"] if phase == "train"])
    validated = np.concatenate([b for phase, b in seen["default"] if phase == "infer"])
    # Without augmentation, an image's first pixel tells its patient.
    patient_of = np.round(trained[:, 0, 0, 0] / 1000).astype(int)
    held_out = np.round(validated[:, 0, 0, 0] / 1000).astype(int)
    assert set(held_out) and set(patient_of).isdisjoint(held_out)


def test_too_few_groups_for_a_validation_split_is_an_error(patients):
    X, y, _ = patients
    message = r"needs at least 2 groups, to hold out whole groups; got 1"
    with pytest.raises(ValueError, match=message):
        fast_clf(validation_split=0.2).fit(X, y, groups=np.zeros(len(y)))


def test_groups_of_the_wrong_length_are_refused(patients):
    X, y, groups = patients
    with pytest.raises(ValueError, match=r"groups must be 1-D with one entry per sample of X"):
        fast_clf(validation_split=0.2).fit(X, y, groups=groups[:-1])


def test_few_groups_warn_that_the_validation_part_is_larger(patients):
    _, y, groups = patients
    with pytest.warns(UserWarning, match=r"Only 12 groups for validation_split=0.05"):
        train, valid = group_validation_split(y, 0.05, 0, groups)
    assert len(valid) == 5  # one patient


def _record_split_groups(monkeypatch):
    """The list the internal split appends the groups it is given to, from now on."""
    import skimgaug._estimator._training as classifier

    seen_groups = []
    split = classifier.internal_validation_split

    def recording_split(y, fraction, seed, groups=None, **kwargs):
        seen_groups.append(groups)
        return split(y, fraction, seed, groups=groups, **kwargs)

    monkeypatch.setattr(classifier, "internal_validation_split", recording_split)
    return seen_groups


@pytest.mark.slow  # 3-5 s of fits: run once in CI with the slow tests
def test_metadata_routing_sends_the_same_groups_to_the_splitter_and_to_fit(patients, monkeypatch):
    X, y, groups = patients
    seen_groups = _record_split_groups(monkeypatch)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = fast_clf(validation_split=0.25, random_state=0).set_fit_request(groups=True)
        cross_validate(clf, X, y, cv=GroupKFold(3), params={"groups": groups})
    assert len(seen_groups) == 3
    folds = list(GroupKFold(3).split(X, y, groups))
    for (train, _), routed in zip(folds, seen_groups, strict=True):
        np.testing.assert_array_equal(routed, groups[train])


@pytest.mark.slow  # 3-5 s of fits: run once in CI with the slow tests
def test_without_routing_fit_gets_no_groups_as_before(patients, monkeypatch):
    X, y, groups = patients
    seen_groups = _record_split_groups(monkeypatch)
    cross_validate(fast_clf(validation_split=0.25), X, y, cv=GroupKFold(3), groups=groups)
    assert seen_groups == [None, None, None]


# ----------------------------------------------------------------------------
# Balanced epochs
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def imbalanced():
    """40 images: 30 of class 0, 10 of class 1; each image's first pixel is its index."""
    X, _ = make_toy_images(40, image_size=8, n_classes=2, random_state=4)
    X[:, 0, 0, 0] = np.arange(40) * 100.0
    y = np.array([0] * 30 + [1] * 10)
    return X, y


def _epochs_seen(seen, n_epochs):
    targets = [t for phase, t in seen["default"] if phase == "targets"]
    per_epoch = len(targets) // n_epochs
    return [np.concatenate(targets[e * per_epoch : (e + 1) * per_epoch]) for e in range(n_epochs)]


def test_oversampling_shows_every_class_equally_often_each_epoch(imbalanced, seen):
    X, y = imbalanced
    clf = fast_clf(model=recording_model, balance="oversample", epochs=2, random_state=0)
    clf.fit(X, y)
    for targets in _epochs_seen(seen, 2):
        assert len(targets) == 60  # 2 classes x 30
        assert np.bincount(targets.astype(int).ravel()).tolist() == [30, 30]


def test_repeated_minority_images_are_augmented_independently(imbalanced, seen):
    X, y = imbalanced
    clf = fast_clf(
        model=recording_model,
        balance="oversample",
        datagen={"width_shift_range": 0.3, "fill_mode": "constant"},
        random_state=0,
    )
    clf.fit(X[:, :, :, :], y)
    images = np.concatenate([b for phase, b in seen["default"] if phase == "train"])
    targets = np.concatenate([t for phase, t in seen["default"] if phase == "targets"]).ravel()
    minority = images[targets == 1]
    assert len(minority) == 30  # 10 distinct images, 20 repeats
    flat = minority.reshape(len(minority), -1)
    assert len(np.unique(flat, axis=0)) > 10  # copies of one image differ


def test_oversampling_is_reproducible_and_leaves_statistics_to_distinct_images(imbalanced):
    X, y = imbalanced
    params = dict(balance="oversample", datagen={"featurewise_center": True}, random_state=0)
    a, b = fast_clf(**params).fit(X, y), fast_clf(**params).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-5, atol=1e-6)
    mean = X.mean(axis=(0, 1, 2), dtype=np.float64)  # of the 40 distinct images, not repeats
    np.testing.assert_allclose(a.standardizer_.mean.ravel(), mean, rtol=1e-5)


def test_balance_and_class_weight_together_are_refused(imbalanced):
    X, y = imbalanced
    with pytest.raises(ValueError, match=r"class_weight='balanced' would weight the classes"):
        fast_clf(balance="oversample", class_weight="balanced").fit(X, y)


@pytest.mark.parametrize("where", ["fit", "fit__"])
def test_balance_and_class_weight_given_to_fit_are_refused(imbalanced, where):
    X, y = imbalanced
    weights = {0: 1.0, 1: 10.0}
    clf = fast_clf(balance="oversample")
    kwargs = {"class_weight": weights}
    if where == "fit__":
        clf.set_params(fit__class_weight=weights)
        kwargs = {}
    with pytest.raises(ValueError, match=r"class_weight=\{0: 1.0, 1: 10.0\} would weight"):
        clf.fit(X, y, **kwargs)
    assert not clf.initialized_  # refused before any model is built


def test_balance_with_class_derived_sample_weights_warns(imbalanced):
    X, y = imbalanced
    with pytest.warns(UserWarning, match=r"sample_weight gives each class one weight"):
        fast_clf(balance="oversample").fit(X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    with warnings.catch_warnings():  # weights that differ within a class: no warning
        warnings.simplefilter("error", UserWarning)
        weights = np.linspace(0.5, 1.5, len(y))
        fast_clf(balance="oversample", validation_split=0.0).fit(X, y, sample_weight=weights)


def test_the_learning_rate_schedule_spans_the_balanced_epochs(imbalanced):
    X, y = imbalanced
    rows = {}
    for balance in (None, "oversample"):
        clf = fast_clf(balance=balance, validation_split=0.0, batch_size=8)
        clf.fit(X, y)
        schedule = clf.model_.optimizer.get_config()["learning_rate"]  # the default cosine
        rows[balance] = schedule["config"]["decay_steps"]
    counts = np.bincount(y)
    assert rows[None] == -(-len(y) // 8)
    assert rows["oversample"] == -(-len(counts) * counts.max() // 8)


def test_bad_balance_values_are_refused(imbalanced):
    X, y = imbalanced
    with pytest.raises(ValueError, match=r"'balance' parameter .* None or 'oversample'. Got 'up'"):
        fast_clf(balance="up").fit(X, y)


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["cv", "--folds", "2"],
        ["train", "--cross-validate", "--folds", "2", "--validation-split", "0.1"],
        # --early-stopping: the refit keeps an internal validation split (none without it)
        ["search", "--folds", "2", "--grid", "epochs=1", "--refit-out", "{tmp}/best"]
        + ["--early-stopping", "1"],
    ],
    ids=["cv", "train", "search"],
)
def test_cli_groups_reach_every_internal_split(command, image_folder, tmp_path, monkeypatch):
    from skimgaug import cli
    from skimgaug._estimator import _training

    split = _training.internal_validation_split
    calls = []

    def recording_split(y, fraction, seed, groups=None, **kwargs):
        calls.append((len(y), None if groups is None else len(set(groups.tolist()))))
        return split(y, fraction, seed, groups, **kwargs)

    monkeypatch.setattr(_training, "internal_validation_split", recording_split)
    name, *options = [part.format(tmp=tmp_path) for part in command]
    out = ["--out", str(tmp_path / ("model" if name == "train" else "out"))]
    args = [name, image_folder, "--groups", r"^(p\d+)_", "--epochs", "1", "--quiet"]
    assert cli.main(args + options + out) == 0
    # 24 images of 8 patients: folds of 12 images (4 patients), all 24 for a final fit
    final = {"cv": 0, "train": 1, "search": 1}[name]
    assert calls == [(12, 4), (12, 4)] + [(24, 8)] * final


@pytest.mark.slow  # 6 s: two folds fitted through the command line
def test_cli_says_a_warning_of_every_fold_once_in_one_line(image_folder, tmp_path, capsys):
    from skimgaug import cli

    args = ["cv", image_folder, "--groups", r"^(p\d+)_", "--folds", "2", "--epochs", "1"]
    assert cli.main([*args, "--quiet"]) == 0
    err = capsys.readouterr().err.splitlines()
    few = [line for line in err if "Only 4 groups" in line]
    assert few == [
        "skimgaug: warning: Only 4 groups for validation_split=0.1: one group of 4 is held "
        "out for internal validation, about 25% of the samples."
    ]
    assert not [line for line in err if "UserWarning" in line or line.startswith("  ")]
