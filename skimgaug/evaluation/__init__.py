"""Honest evaluation: intervals on every metric, patient-level results, calibration, thresholds.

:func:`evaluate` cross-validates an estimator; :meth:`Evaluation.from_predictions`
evaluates out-of-fold probabilities made by any model; :func:`paired_difference`
gives the paired bootstrap interval of the difference between two models.
"""

from ._compare import paired_difference
from ._evaluation import Evaluation
from ._run import evaluate

__all__ = ["Evaluation", "evaluate", "paired_difference"]
