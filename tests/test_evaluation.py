"""skimgaug.evaluate and Evaluation: intervals, patients, calibration, thresholds, audit."""

import warnings

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    roc_auc_score,
)

from skimgaug.evaluation import Evaluation
from skimgaug.evaluation import _threshold as threshold_module
from skimgaug.evaluation._metrics import weighted_metrics


def _predictions(n=120, k=2, seed=0, ties=True):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[labels]
    if ties:
        logits = np.round(logits, 1)  # tied scores, as thresholded models give
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, proba


def _sklearn(labels, proba, predicted, weight=None):
    k = proba.shape[1]
    onehot = np.eye(k)[labels]
    out = {
        "accuracy": accuracy_score(labels, predicted, sample_weight=weight),
        "balanced_accuracy": balanced_accuracy_score(labels, predicted, sample_weight=weight),
        "f1_macro": f1_score(labels, predicted, average="macro", sample_weight=weight),
        "log_loss": log_loss(labels, proba, sample_weight=weight),
    }
    if k == 2:
        out["roc_auc"] = roc_auc_score(labels, proba[:, 1], sample_weight=weight)
        out["average_precision"] = average_precision_score(
            labels, proba[:, 1], sample_weight=weight
        )
        out["brier_score"] = brier_score_loss(labels, proba[:, 1], sample_weight=weight)
    else:
        out["roc_auc"] = roc_auc_score(
            labels, proba, multi_class="ovr", average="macro", sample_weight=weight
        )
        out["average_precision"] = average_precision_score(
            onehot, proba, average="macro", sample_weight=weight
        )
        out["brier_score"] = np.average(((proba - onehot) ** 2).sum(axis=1), weights=weight)
    return out


@pytest.mark.parametrize("ties", [True, False])
@pytest.mark.parametrize("k", [2, 3])
def test_the_metrics_are_scikit_learns_with_unit_and_integer_weights(k, ties):
    labels, proba = _predictions(k=k, ties=ties)
    predicted = np.argmax(proba, axis=1)
    counts = np.random.default_rng(1).integers(0, 3, len(labels)).astype(float)
    W = np.vstack([np.ones(len(labels)), counts])
    ours = weighted_metrics(W, labels, proba, predicted)
    for row, weight in ((0, None), (1, counts)):
        expected = _sklearn(labels, proba, predicted, weight)
        for name, value in expected.items():
            assert ours[name][row] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_an_interval_holds_its_estimate_and_no_bootstraps_gives_none():
    labels, proba = _predictions(n=300)
    settings = {"n_bootstraps": 500, "random_state": 0, "threshold": 0.5}
    ev = Evaluation.from_predictions(labels, proba, **settings)
    for row in ev.metrics:
        assert row["low"] <= row["estimate"] <= row["high"], row
        assert row["n"] == 300 and row["level"] == "image"
    plain = Evaluation.from_predictions(labels, proba, n_bootstraps=0, threshold=0.5)
    assert all(row["low"] is None and row["high"] is None for row in plain.metrics)
    again = Evaluation.from_predictions(
        labels, proba, n_bootstraps=500, random_state=0, threshold=0.5
    )
    assert again.metrics == ev.metrics  # same random_state, same intervals


def test_patients_are_resampled_and_their_interval_is_wider_when_images_are_alike():
    # 40 patients of 6 nearly identical images: 240 images carry 40 patients' information.
    rng = np.random.default_rng(0)
    patient_label = rng.integers(0, 2, 40)
    patient_score = norm.cdf(rng.normal(size=40) + 1.2 * (2 * patient_label - 1))
    groups = np.repeat(np.arange(40), 6)
    labels = patient_label[groups]
    p1 = np.clip(patient_score[groups] + rng.normal(scale=0.01, size=240), 0.001, 0.999)
    proba = np.column_stack([1 - p1, p1])
    settings = {"n_bootstraps": 1000, "random_state": 0, "threshold": 0.5}
    by_image = Evaluation.from_predictions(labels, proba, **settings)
    by_patient = Evaluation.from_predictions(labels, proba, groups=groups, **settings)

    def width(ev, level):
        row = ev.metric("roc_auc", level)
        return row["high"] - row["low"]

    assert width(by_patient, "image") > 1.8 * width(by_image, "image")
    assert by_patient.metric("roc_auc", "patient")["n"] == 40
    assert "patients (a cluster bootstrap)" in by_patient.settings["interval"]


def test_a_patients_probability_is_the_mean_or_the_max_of_its_images():
    labels = np.array([0, 0, 1, 1, 1])
    groups = np.array(["a", "a", "b", "b", "c"])
    p1 = np.array([0.2, 0.4, 0.7, 0.9, 0.6])
    proba = np.column_stack([1 - p1, p1])
    ev = Evaluation.from_predictions(labels, proba, groups=groups, n_bootstraps=0, threshold=0.5)
    assert ev.metric("brier_score", "patient")["estimate"] == pytest.approx(
        np.mean([0.3**2, 0.2**2, 0.4**2])
    )
    ev = Evaluation.from_predictions(
        labels, proba, groups=groups, n_bootstraps=0, threshold=0.5, patient_aggregation="max"
    )
    # max of each class's probability, renormalized: a = (0.8, 0.4) / 1.2
    assert ev.metric("brier_score", "patient")["estimate"] == pytest.approx(
        np.mean([(0.4 / 1.2) ** 2, (1 - 0.9 / 1.2) ** 2, 0.4**2])
    )


def test_patients_whose_images_carry_different_labels_are_refused():
    proba = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match=r"images of 1 patients carry different labels \('p1'\)"):
        Evaluation.from_predictions(
            [0, 1, 1], proba, groups=["p1", "p1", "p2"], n_bootstraps=0, threshold=0.5
        )


def test_the_threshold_never_sees_the_test_fold(monkeypatch):
    labels, proba = _predictions(n=100)
    folds = np.arange(100) % 4
    seen = []
    real = threshold_module.choose_threshold

    def spy(scores, positive, rule, value):
        seen.append(set(np.round(scores, 12).tolist()))
        return real(scores, positive, rule, value)

    monkeypatch.setattr(threshold_module, "choose_threshold", spy)
    ev = Evaluation.from_predictions(labels, proba, folds=folds, n_bootstraps=0)
    assert len(seen) == 4
    for fold, scores in enumerate(seen):
        test_scores = set(np.round(proba[folds == fold, 1], 12).tolist())
        outside = set(np.round(proba[folds != fold, 1], 12).tolist())
        assert scores == outside and not (test_scores - outside) & scores
    assert set(ev.threshold["by_fold"]) == {0, 1, 2, 3}
    assert "cross-fitting" in ev.threshold["source"]
    # the predictions use each fold's own threshold
    by_sample = np.array([ev.threshold["by_fold"][f] for f in folds])
    np.testing.assert_array_equal(ev.oof_pred, (proba[:, 1] >= by_sample).astype(int))


class _SpyClassifier(ClassifierMixin, BaseEstimator):
    """A logistic regression that holds out its last quarter as an internal validation split.

    Records the rows of ``X`` (column 0 holds each sample's index) it fits on
    and predicts.
    """

    fitted, predicted = [], []

    def __init__(self, validation=True):
        self.validation = validation

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression

        n = len(X)
        rows = np.arange(n)
        self.validation_indices_ = rows[3 * n // 4 :] if self.validation else None
        train = rows[: 3 * n // 4] if self.validation else rows
        self.model_ = LogisticRegression().fit(X[train, 1:], y[train])
        self.classes_ = self.model_.classes_
        _SpyClassifier.fitted.append(set(X[train, 0].astype(int).tolist()))
        return self

    def predict_proba(self, X):
        _SpyClassifier.predicted.append(set(X[:, 0].astype(int).tolist()))
        return self.model_.predict_proba(X[:, 1:])


def test_the_threshold_comes_from_each_fold_models_internal_validation_split(monkeypatch):
    from skimgaug.evaluation import evaluate

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 160)
    X = np.column_stack([np.arange(160), y + rng.normal(0, 1, 160)])
    seen = []
    real = threshold_module.choose_threshold

    def spy(scores, positive, rule, value):
        seen.append(len(scores))
        return real(scores, positive, rule, value)

    monkeypatch.setattr(threshold_module, "choose_threshold", spy)
    _SpyClassifier.fitted.clear()
    _SpyClassifier.predicted.clear()
    ev = evaluate(_SpyClassifier(), X, y, cv=4, n_bootstraps=0, random_state=0)
    sources = ev.threshold["by_fold_source"]
    assert all(source == "internal validation (30 images)" for source in sources.values())
    assert seen == [30] * 4  # each threshold chosen on its fold model's 30 held-out rows
    assert "internal validation split" in ev.threshold["source"]
    # per fold: fit, predict the test fold, predict the held-out rows of the training part
    for fold in range(4):
        trained = _SpyClassifier.fitted[fold]
        test, held = _SpyClassifier.predicted[2 * fold : 2 * fold + 2]
        assert set(np.flatnonzero(ev.fold == fold).tolist()) == test
        assert not held & test and not held & trained  # neither tested nor trained on
    plain = evaluate(_SpyClassifier(validation=False), X, y, cv=4, n_bootstraps=0)
    assert all(s.startswith("cross-fitting") for s in plain.threshold["by_fold_source"].values())


def test_threshold_data_is_checked():
    labels, proba = _predictions(n=40)
    folds = np.arange(40) % 2
    good = (labels[:20], proba[:20])  # at least 5 images of each class
    assert min(labels[:20].sum(), 20 - labels[:20].sum()) >= 5
    with pytest.raises(ValueError, match="threshold_data has fold 7, which is not one of"):
        Evaluation.from_predictions(labels, proba, folds=folds, threshold_data={7: good})
    with pytest.raises(ValueError, match=r"the probabilities must have shape \(5, 2\)"):
        Evaluation.from_predictions(
            labels, proba, folds=folds, threshold_data={0: (labels[:5], proba[:5, :1])}
        )
    few = (np.r_[np.zeros(16, int), np.ones(4, int)], proba[:20])  # 4 positives: too few
    ev = Evaluation.from_predictions(
        labels, proba, folds=folds, threshold_data={0: good, 1: few}, n_bootstraps=0
    )
    assert ev.threshold["by_fold_source"][0] == "internal validation (20 images)"
    assert ev.threshold["by_fold_source"][1].startswith("cross-fitting")
    assert "fewer than 5 images of a class" in ev.threshold["source"]


@pytest.mark.parametrize(
    ("rule", "check"),
    [
        ("youden", lambda sens, spec: sens + spec == pytest.approx(2.0)),
        (("sensitivity", 0.9), lambda sens, spec: sens >= 0.9),
        (("specificity", 0.9), lambda sens, spec: spec >= 0.9),
    ],
)
def test_threshold_rules(rule, check):
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    positive = np.array([False, False, False, True, True, True])
    t = threshold_module.choose_threshold(scores, positive, *threshold_module.check_threshold(rule))
    called = scores >= t
    sens, spec = called[positive].mean(), (~called[~positive]).mean()
    assert check(sens, spec)


def test_a_rule_without_folds_falls_back_to_one_half_and_says_so():
    labels, proba = _predictions(n=50)
    with pytest.warns(UserWarning, match="no folds were given: the threshold metrics use 0.5"):
        ev = Evaluation.from_predictions(labels, proba, n_bootstraps=0)
    assert ev.threshold["value"] == 0.5


def test_calibration_slope_is_one_for_calibrated_and_below_one_for_overconfident_predictions():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.02, 0.98, 20000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    calibrated = Evaluation.from_predictions(
        y, np.column_stack([1 - p, p]), n_bootstraps=0, threshold=0.5
    ).calibration["image"]["1"]
    assert calibrated["slope"] == pytest.approx(1.0, abs=0.05)
    assert calibrated["intercept"] == pytest.approx(0.0, abs=0.05)
    assert calibrated["ece"] < 0.02 and sum(calibrated["count"]) == p.size
    logit = np.log(p / (1 - p))
    extreme = 1 / (1 + np.exp(-3 * logit))  # three times too confident
    overconfident = Evaluation.from_predictions(
        y, np.column_stack([1 - extreme, extreme]), n_bootstraps=0, threshold=0.5
    ).calibration["image"]["1"]
    assert overconfident["slope"] == pytest.approx(1 / 3, abs=0.03)
    assert overconfident["ece"] > 0.05


def test_the_audit_finds_a_patient_in_two_folds():
    labels = np.array([0, 1, 0, 1, 0, 1])
    groups = np.array(["a", "b", "c", "d", "a", "e"])  # "a" in folds 0 and 2
    folds = np.array([0, 0, 1, 1, 2, 2])
    proba = np.full((6, 2), 0.5)
    ev = Evaluation.from_predictions(
        labels, proba, groups=groups, folds=folds, n_bootstraps=0, threshold=0.5
    )
    assert ev.audit["groups_in_several_folds"] == ["a"]
    assert ev.audit["images_per_fold_and_class"] == {f: {"0": 1, "1": 1} for f in range(3)}
    assert ev.audit["patients_per_fold_and_class"][2] == {"0": 1, "1": 1}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_bootstraps": -1}, "'n_bootstraps' parameter must be an int >= 0"),
        ({"confidence": 1.5}, "'confidence' parameter must be a number in \\(0, 1\\)"),
        ({"groups": [1, 2]}, "groups must have one entry per sample \\(4\\); got 2"),
        ({"threshold": "best"}, "'threshold' parameter must be 'youden'"),
        ({"patient_aggregation": "median"}, "'patient_aggregation' parameter must be"),
    ],
)
def test_bad_settings_are_refused_clearly(kwargs, message):
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    with pytest.raises(ValueError, match=message):
        Evaluation.from_predictions([0, 1, 0, 1], proba, folds=[0, 0, 1, 1], **kwargs)


def test_probabilities_that_do_not_sum_to_one_are_refused():
    with pytest.raises(ValueError, match="row 1 sums to 1.3"):
        Evaluation.from_predictions([0, 1], [[0.5, 0.5], [0.6, 0.7]], n_bootstraps=0)


def test_to_dict_is_json_safe_and_the_repr_is_a_table():
    import json

    labels, proba = _predictions(n=40)
    ev = Evaluation.from_predictions(
        labels, proba, folds=np.arange(40) % 2, n_bootstraps=50, random_state=0
    )
    json.dumps(ev.to_dict(), allow_nan=False)
    text = repr(ev)
    assert text.splitlines()[0] == "Evaluation of 40 images, 2 classes"
    assert "roc_auc" in text and "95% interval" in text


def test_evaluate_cross_validates_a_classifier_with_patients(toy):
    from conftest import FAST

    from skimgaug import AugmentedKerasClassifier, evaluate

    X, y = toy
    # patients of 3 images of one class each
    groups = np.empty(len(y), dtype=object)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        groups[rows] = [f"{label}-{i // 3}" for i in range(len(rows))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(
            AugmentedKerasClassifier(**FAST, random_state=0),
            X,
            y,
            groups=groups,
            cv=2,
            n_bootstraps=100,
            random_state=0,
        )
    assert ev.audit["groups_in_several_folds"] == []  # StratifiedGroupKFold
    assert isinstance(ev.audit["duplicates_across_folds"], list)
    assert sorted(set(ev.fold.tolist())) == [0, 1]
    assert {row["level"] for row in ev.metrics} == {"image", "patient"}
    assert ev.metric("accuracy", "patient")["n"] == len(set(groups.tolist()))
    np.testing.assert_allclose(ev.oof_proba.sum(axis=1), 1, atol=1e-5)


@pytest.mark.slow
def test_the_95_percent_interval_of_the_auc_covers_the_truth_about_95_times_in_100():
    # Scores of positives ~ N(1, 1), negatives ~ N(0, 1): the AUC is Phi(1 / sqrt 2).
    truth = norm.cdf(1 / np.sqrt(2))
    rng = np.random.default_rng(2026)
    covered = 0
    for _ in range(200):
        labels = rng.integers(0, 2, 150)
        scores = norm.cdf(rng.normal(size=150) + labels)
        proba = np.column_stack([1 - scores, scores])
        ev = Evaluation.from_predictions(
            labels, proba, n_bootstraps=1000, random_state=rng.integers(2**32), threshold=0.5
        )
        row = ev.metric("roc_auc")
        covered += row["low"] <= truth <= row["high"]
    assert 0.90 <= covered / 200 <= 0.99, covered


def test_the_audit_finds_a_planted_duplicate_across_folds(toy):
    from skimgaug.evaluation._audit import duplicates_across_folds, image_hashes

    X, _ = toy
    X = X.copy()
    X[10] = X[3]  # an exact copy
    X[22] = X[5] * 1.1 + 0.01  # a near copy: the same picture, brighter
    folds = np.arange(len(X)) % 3  # 3: fold 0, 10: fold 1; 5: fold 2, 22: fold 1
    pairs, count = duplicates_across_folds(image_hashes(X), folds, max_distance=2)
    assert [3, 10] in pairs and [5, 22] in pairs
    same_fold = np.zeros(len(X), dtype=int)
    assert duplicates_across_folds(image_hashes(X), same_fold)[1] == 0  # one fold: nothing crosses


def test_file_names_that_look_like_patient_ids_warn_without_groups(tmp_path):
    from PIL import Image

    from skimgaug.evaluation._audit import warn_if_names_look_like_patients

    paths = []
    for patient in range(4):
        for i in range(3):
            path = tmp_path / f"p{patient:03d}_{i}.png"
            Image.fromarray(np.zeros((4, 4), np.uint8)).save(path)
            paths.append(str(path))
    with pytest.warns(UserWarning, match=r"look like they carry patient ids \(4 prefixes"):
        warn_if_names_look_like_patients(paths)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_names_look_like_patients([str(tmp_path / f"img{i}.png") for i in range(6)])


def test_the_paired_difference_is_the_difference_of_scikit_learns_metrics():
    from skimgaug.evaluation import paired_difference

    labels, proba = _predictions(n=300, k=3, ties=False)
    worse = 0.5 * proba + 0.5 / 3  # the same ranking per class, less sure
    noisy = np.random.default_rng(5).dirichlet(np.ones(3), 300) * 0.6 + 0.4 * proba
    result = paired_difference(labels, proba, noisy, n_bootstraps=400, random_state=0)
    expected = roc_auc_score(labels, proba, multi_class="ovr") - roc_auc_score(
        labels, noisy, multi_class="ovr"
    )
    assert result["difference"] == pytest.approx(expected, rel=1e-6)
    assert result["low"] < result["difference"] < result["high"]
    same = paired_difference(labels, proba, worse, n_bootstraps=200, random_state=0)
    # one-vs-rest AUCs depend on each class's ranking only: a paired resample sees no difference
    assert same["difference"] == pytest.approx(0, abs=1e-12)
    assert same["low"] == pytest.approx(0, abs=1e-6) and same["high"] == pytest.approx(0, abs=1e-6)
    loss = paired_difference(labels, proba, worse, metric="log_loss", n_bootstraps=0)
    assert loss["low"] is None
    assert loss["difference"] == pytest.approx(log_loss(labels, proba) - log_loss(labels, worse))
    with pytest.raises(ValueError, match="The 'metric' parameter must be one of accuracy"):
        paired_difference(labels, proba, worse, metric="auc")
    with pytest.raises(ValueError, match="proba has 2 columns but there are 3 classes"):
        paired_difference(labels, proba, proba[:, :2] / proba[:, :2].sum(1, keepdims=True))


def test_the_paired_interval_is_narrower_than_either_models_own():
    from skimgaug.evaluation import paired_difference

    labels, proba = _predictions(n=400, ties=False)
    other = np.clip(proba + np.random.default_rng(2).normal(0, 0.05, proba.shape), 0.01, None)
    other /= other.sum(axis=1, keepdims=True)
    pair = paired_difference(labels, proba, other, n_bootstraps=500, random_state=0)
    own = Evaluation.from_predictions(
        labels, proba, n_bootstraps=500, random_state=0, threshold=0.5
    )
    width = own.metric("roc_auc")["high"] - own.metric("roc_auc")["low"]
    assert pair["high"] - pair["low"] < width / 2  # correlated models: the pairing cancels


def test_groups_that_are_not_patients_are_resampled_without_patient_rows():
    labels, proba = _predictions(n=200, ties=False)
    sites = np.arange(200) % 10  # every site holds both labels
    with pytest.raises(ValueError, match="patient_aggregation=None"):
        Evaluation.from_predictions(labels, proba, groups=sites, threshold=0.5)
    ev = Evaluation.from_predictions(
        labels, proba, groups=sites, threshold=0.5, patient_aggregation=None, random_state=0
    )
    assert {row["level"] for row in ev.metrics} == {"image"}
    assert "cluster bootstrap" in ev.settings["interval"]
    plain = Evaluation.from_predictions(labels, proba, threshold=0.5, random_state=0)
    assert ev.metric("accuracy")["estimate"] == plain.metric("accuracy")["estimate"]
    assert ev.metric("accuracy")["low"] != plain.metric("accuracy")["low"]


@pytest.mark.parametrize("ties", [True, False])
def test_the_curves_are_the_roc_and_precision_recall_curves_with_a_band(ties):
    from sklearn.metrics import precision_recall_curve, roc_curve

    labels, proba = _predictions(n=300, ties=ties)
    ev = Evaluation.from_predictions(labels, proba, n_bootstraps=300, random_state=0, threshold=0.5)
    curve = ev.curves["image"]["1"]
    grid = np.array(curve["grid"])
    fpr, tpr, _ = roc_curve(labels, proba[:, 1])
    np.testing.assert_allclose(curve["tpr"], np.interp(grid, fpr, tpr), atol=1e-6)
    assert np.trapezoid(curve["tpr"], grid) == pytest.approx(
        roc_auc_score(labels, proba[:, 1]), abs=0.005
    )
    precision, recall, _ = precision_recall_curve(labels, proba[:, 1])
    precision, recall = precision[:-1], recall[:-1]  # without scikit-learn's (0, 1) end point
    best = [precision[recall >= r].max() for r in grid]  # interpolated precision
    np.testing.assert_allclose(curve["precision"], best, atol=1e-6)
    for key in ("tpr", "precision"):
        low, high, value = (np.array(curve[k]) for k in (f"{key}_low", f"{key}_high", key))
        assert (low <= high + 1e-12).all() and np.mean((low <= value) & (value <= high)) > 0.9
    assert curve["resamples"] == 300
    unbanded = Evaluation.from_predictions(labels, proba, n_bootstraps=0, threshold=0.5)
    assert unbanded.curves["image"]["1"]["tpr_low"] is None


def test_a_hash_match_counts_as_a_duplicate_only_when_the_pixels_agree():
    from skimgaug.evaluation._audit import duplicates_across_folds, image_hashes

    rng = np.random.default_rng(0)
    base = np.tile(np.linspace(0, 1, 32), (32, 1))  # a left-to-right ramp
    spotted = base.copy()
    spotted[8:24, 8:24] = np.where(rng.random((16, 16)) > 0.5, spotted[8:24, 8:24], 0.2)
    recompressed = np.clip(base + rng.normal(0, 0.004, base.shape), 0, 1)
    X = np.stack([base, spotted, recompressed])
    signatures = image_hashes(X)
    # The three ramps share their difference hash (brightness grows to the right)...
    assert len(set(signatures.hashes.tolist())) <= 2
    pairs, count = duplicates_across_folds(signatures, np.array([0, 1, 2]), max_distance=6)
    # ...but only the one that differs by noise is a copy
    assert pairs == [[0, 2]] and count == 1


@pytest.mark.parametrize("grouped", [False, True])
def test_two_evaluations_on_the_same_resamples_give_the_paired_difference(grouped):
    from skimgaug.evaluation import paired_difference
    from skimgaug.evaluation._compare import difference_of_evaluations

    labels, proba = _predictions(n=240, k=3, ties=False)
    groups = np.repeat(np.arange(80), 3) if grouped else None
    if grouped:
        labels = np.repeat(labels[::3], 3)  # one label per patient
    other = np.clip(proba + np.random.default_rng(2).normal(0, 0.1, proba.shape), 0.01, None)
    other /= other.sum(axis=1, keepdims=True)
    settings = {"groups": groups, "n_bootstraps": 300, "random_state": 4}
    a = Evaluation.from_predictions(labels, proba, **settings)
    b = Evaluation.from_predictions(labels, other, **settings)
    fast = difference_of_evaluations(a, b, "roc_auc")
    assert fast == pytest.approx(paired_difference(labels, proba, other, **settings))
    unseeded = Evaluation.from_predictions(labels, other, groups=groups, n_bootstraps=300)
    assert difference_of_evaluations(a, unseeded) is None  # different draws: not paired


@pytest.mark.parametrize("outputs", [1, 3])
def test_the_regression_metrics_are_scikit_learns_with_unit_and_integer_weights(outputs):
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    from skimgaug.evaluation._regression import weighted_regression_metrics

    rng = np.random.default_rng(0)
    y = rng.normal(size=(80, outputs))
    predicted = y + rng.normal(scale=0.5, size=y.shape)
    counts = rng.integers(0, 3, 80)
    ours = weighted_regression_metrics(np.vstack([np.ones(80), counts]), y, predicted)
    for row, weight in ((0, None), (1, counts)):
        assert ours["mean_absolute_error"][row] == pytest.approx(
            mean_absolute_error(y, predicted, sample_weight=weight)
        )
        rmse = np.mean(
            [
                np.sqrt(mean_squared_error(y[:, j], predicted[:, j], sample_weight=weight))
                for j in range(outputs)
            ]
        )
        assert ours["root_mean_squared_error"][row] == pytest.approx(rmse)
        assert ours["r2"][row] == pytest.approx(r2_score(y, predicted, sample_weight=weight))


def test_values_are_evaluated_with_intervals_and_patients():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(40), 4)
    y = np.repeat(rng.normal(50, 10, 40), 4)
    predicted = y + rng.normal(0, 5, len(y))
    ev = Evaluation.from_values(
        y, predicted, groups=groups, folds=np.arange(160) % 4, random_state=0, n_bootstraps=500
    )
    assert {(m["level"], m["metric"]) for m in ev.metrics} == {
        (level, metric)
        for level in ("image", "patient")
        for metric in ("mean_absolute_error", "root_mean_squared_error", "r2")
    }
    for row in ev.metrics:
        assert row["low"] <= row["estimate"] <= row["high"]
    assert ev.metric("r2", "patient")["n"] == 40 and ev.threshold is None
    assert "regression" in repr(ev) and "patients (a cluster bootstrap)" in ev.settings["interval"]
    page = ev.to_html()
    assert "Metrics with intervals" in page and "Calibration" not in page
    assert ev.to_dict()["classes"] is None
    with pytest.raises(ValueError, match=r"predicted has shape \(160, 2\), but y has \(160, 1\)"):
        Evaluation.from_values(y, np.column_stack([y, y]))
