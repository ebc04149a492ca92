"""Honest evaluation: intervals on every metric, patient-level results, calibration, thresholds.

:func:`evaluate` cross-validates an estimator; :meth:`Evaluation.from_predictions`
evaluates out-of-fold probabilities made by any model.
"""

from ._evaluation import Evaluation
from ._run import evaluate

__all__ = ["Evaluation", "evaluate"]
