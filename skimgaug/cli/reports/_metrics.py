"""The metrics every cross-validation run reports, in the order tables show them."""

#: Scores computed on each fold's test part, by key.
METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc")
