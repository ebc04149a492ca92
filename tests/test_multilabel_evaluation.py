"""Multi-label evaluation: per-label metrics with intervals, and folds stratified over labels."""

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    hamming_loss,
    roc_auc_score,
)

from skimgaug._estimator._split import IterativeStratifiedKFold
from skimgaug.evaluation import Evaluation


@pytest.fixture(scope="module")
def labelled():
    rng = np.random.default_rng(0)
    y = (rng.random((200, 3)) < [0.5, 0.2, 0.06]).astype(int)
    proba = np.clip(0.3 * y + 0.7 * rng.random((200, 3)), 0, 1)
    return y, proba


def test_the_metrics_are_scikit_learns(labelled):
    y, proba = labelled
    thresholds = [0.5, 0.4, 0.6]
    ev = Evaluation.from_label_probabilities(
        y, proba, label_names=["a", "b", "c"], threshold=thresholds, n_bootstraps=0
    )
    predicted = (proba >= thresholds).astype(int)
    np.testing.assert_array_equal(ev.oof_pred, predicted)
    expected = {
        "roc_auc_macro": roc_auc_score(y, proba),
        "average_precision_macro": average_precision_score(y, proba),
        "f1_macro": f1_score(y, predicted, average="macro"),
        "f1_micro": f1_score(y, predicted, average="micro"),
        "subset_accuracy": accuracy_score(y, predicted),
        "hamming_loss": hamming_loss(y, predicted),
    }
    for name, value in expected.items():
        assert ev.metric(name)["estimate"] == pytest.approx(value, rel=1e-6), name
    for j, label in enumerate("abc"):
        assert ev.metric("roc_auc", label=label)["estimate"] == pytest.approx(
            roc_auc_score(y[:, j], proba[:, j]), rel=1e-6
        )
        assert ev.metric("average_precision", label=label)["estimate"] == pytest.approx(
            average_precision_score(y[:, j], proba[:, j]), rel=1e-6
        )
        assert ev.metric("f1", label=label)["estimate"] == pytest.approx(
            f1_score(y[:, j], predicted[:, j]), rel=1e-6
        )
        assert ev.metric("f1", label=label)["positives"] == int(y[:, j].sum())
    assert ev.classes.tolist() == ["a", "b", "c"]
    assert ev.settings["target"] == "multilabel"
    assert "3 labels (multi-label)" in repr(ev) and "roc_auc (c)" in repr(ev)


def test_intervals_cover_the_estimates_and_patients_are_resampled(labelled):
    y, proba = labelled
    ev = Evaluation.from_label_probabilities(y, proba, n_bootstraps=300, random_state=0)
    for row in ev.metrics:
        assert row["low"] <= row["estimate"] <= row["high"], row
    # patients: the same images in clusters of 4 widen the intervals of the rare label
    groups = np.repeat(np.arange(50), 4)
    clustered = Evaluation.from_label_probabilities(
        np.repeat(y[:50], 4, axis=0),
        np.repeat(proba[:50], 4, axis=0),
        groups=groups,
        n_bootstraps=300,
        random_state=0,
    )
    plain = Evaluation.from_label_probabilities(
        np.repeat(y[:50], 4, axis=0),
        np.repeat(proba[:50], 4, axis=0),
        n_bootstraps=300,
        random_state=0,
    )

    def width(ev):
        row = ev.metric("roc_auc_macro")
        return row["high"] - row["low"]

    assert width(clustered) > 1.5 * width(plain)
    assert "patients" in clustered.settings["interval"]
    again = Evaluation.from_label_probabilities(y, proba, n_bootstraps=300, random_state=0)
    assert again.metrics == ev.metrics


@pytest.mark.parametrize(
    ("y", "proba", "threshold", "message"),
    [
        ([[0, 1], [1, 2]], [[0.1, 0.2], [0.3, 0.4]], 0.5, "0/1 indicator"),
        ([[0], [1]], [[0.1], [0.3]], 0.5, "at least 2 labels"),
        ([[0, 1], [1, 0]], [[0.1, 0.2]], 0.5, "shape of y"),
        ([[0, 1], [1, 0]], [[0.1, 1.2], [0.3, 0.4]], 0.5, "probabilities in"),
        ([[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.4]], [0.5, 0.5, 0.5], "one per label"),
        ([[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.4]], 1.0, "in (0, 1)"),
        ([[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.4]], "youden", "number in"),
    ],
)
def test_bad_inputs_are_refused(y, proba, threshold, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Evaluation.from_label_probabilities(y, proba, threshold=threshold, n_bootstraps=0)


def test_folds_hold_every_label_in_proportion(labelled):
    y, _ = labelled
    for groups in (None, np.repeat(np.arange(50), 4)):
        folds = list(IterativeStratifiedKFold(5, random_state=0).split(None, y, groups))
        tested = np.concatenate([test for _, test in folds])
        assert sorted(tested.tolist()) == list(range(len(y)))  # each sample tested once
        for train, test in folds:
            assert len(set(train) & set(test)) == 0
            if groups is not None:
                assert not set(groups[train]) & set(groups[test])
            # the rarest label (12 images) reaches every test fold
            assert y[test, 2].sum() >= 1
            # each label in its share, within an image (a group of 4 with groups)
            assert abs(y[test].sum(axis=0) - y.sum(axis=0) / 5).max() <= (
                1 if groups is None else 5
            )
    again = list(IterativeStratifiedKFold(5, random_state=0).split(None, y))
    seeded = list(IterativeStratifiedKFold(5, random_state=0).split(None, y))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(again, seeded, strict=True))


@pytest.mark.slow  # three fits
def test_evaluate_stratifies_a_multilabel_y_over_its_labels(monkeypatch):
    import skimgaug.evaluation._run as run
    from skimgaug import AugmentedKerasClassifier, evaluate

    used = []
    original = run._splitter

    def spy(*args, **kwargs):
        used.append(original(*args, **kwargs))
        return used[-1]

    monkeypatch.setattr(run, "_splitter", spy)
    rng = np.random.default_rng(0)
    X = rng.random((60, 8, 8, 1)).astype(np.float32)
    Y = np.column_stack([X.mean(axis=(1, 2, 3)) > 0.5, rng.random(60) < 0.3]).astype(int)
    clf = AugmentedKerasClassifier(epochs=1, verbose=0, random_state=0)
    ev = evaluate(clf, X, Y, cv=3, n_bootstraps=50, random_state=0, threshold=0.4)
    assert isinstance(used[0], IterativeStratifiedKFold)
    assert ev.oof_proba.shape == (60, 2) and sorted(set(ev.fold.tolist())) == [0, 1, 2]
    assert ev.settings["thresholds"] == [0.4, 0.4]
    np.testing.assert_array_equal(ev.oof_pred, (ev.oof_proba >= 0.4).astype(int))
    with pytest.raises(ValueError, match="fixed thresholds"):
        evaluate(clf, X, Y, cv=3, threshold=("sensitivity", 0.9))
