"""scikit-learn's estimator checks on AugmentedKerasClassifier."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skimgaug import AugmentedKerasClassifier

EXPECTED_FAILED_CHECKS = {
    "check_estimator_tags_renamed": (
        "scikeras 0.13's BaseWrapper defines _more_tags without __sklearn_tags__; "
        "AugmentedKerasClassifier defines __sklearn_tags__ (see _compat.classifier_tags) "
        "but the check inspects every class in the MRO"
    ),
    "check_mixin_order": (
        "scikeras' KerasClassifier inherits (BaseWrapper, ClassifierMixin); no subclass "
        "can reorder its bases, and __sklearn_tags__ restores the classifier tags"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch training: a weight of 2 and a duplicated sample give different "
        "batches, hence different (but equally valid) models"
    ),
}


@parametrize_with_checks(
    [AugmentedKerasClassifier(epochs=1, verbose=0, random_state=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
