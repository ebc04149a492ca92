"""The estimator: ``AugmentedKerasClassifier`` (scikeras hooks), its settings, split and checks."""
