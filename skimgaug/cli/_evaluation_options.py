"""The options of ``skimgaug cv``'s out-of-fold evaluation: intervals, threshold, patients.

Each value is refused with the evaluation's own message, before TensorFlow loads.
"""

import argparse


def _evaluation_check(convert):
    """An argparse type refusing a value with the evaluation's own message."""

    def check(text):
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    check.__name__ = convert.__name__
    return check


@_evaluation_check
def _bootstraps(text):
    from ..evaluation._inputs import check_settings

    try:
        value = int(text)
    except ValueError:
        value = text
    check_settings(value, 0.95, "mean")
    return value


@_evaluation_check
def _confidence(text):
    from ..evaluation._inputs import check_settings

    try:
        value = float(text)
    except ValueError:
        value = text
    check_settings(0, value, "mean")
    return value


@_evaluation_check
def parse_threshold(text):
    """``youden``, ``sensitivity:0.9``, ``specificity=0.95`` or a number, for the library."""
    from ..evaluation._threshold import check_threshold

    rule, _, value = text.replace("=", ":").partition(":")
    if value:
        try:
            threshold = (rule.strip().lower(), float(value))
        except ValueError:
            threshold = text
    else:
        try:
            threshold = float(text)
        except ValueError:
            threshold = text.strip().lower()
    try:
        check_threshold(threshold)
    except ValueError as exc:
        raise ValueError(
            f"{exc} On the command line: youden, sensitivity:0.9, specificity:0.9 or a "
            "number such as 0.5."
        ) from None
    return threshold


def add_evaluation_options(parser):
    """How ``cv`` evaluates the out-of-fold predictions: intervals, threshold, patients."""
    group = parser.add_argument_group(
        "evaluation",
        "the out-of-fold metrics with bootstrap intervals, calibration, threshold and audit",
    )
    group.add_argument(
        "--bootstraps",
        type=_bootstraps,
        default=2000,
        metavar="N",
        help="bootstrap resamples of the intervals; 0 turns intervals off (2000)",
    )
    group.add_argument(
        "--confidence",
        type=_confidence,
        default=0.95,
        metavar="LEVEL",
        help="confidence of the intervals, in (0, 1) (0.95)",
    )
    group.add_argument(
        "--threshold",
        type=parse_threshold,
        default="youden",
        metavar="RULE",
        help=(
            "two classes: the decision threshold of sensitivity, specificity, PPV and NPV, "
            "chosen for each test fold from the other folds' predictions: youden, "
            "sensitivity:0.9 (the highest threshold keeping that sensitivity), "
            "specificity:0.9, or a fixed number such as 0.5 (youden)"
        ),
    )
    group.add_argument(
        "--patient-aggregation",
        choices=("mean", "max", "none"),
        default=None,
        help=(
            "with --groups: a patient's probability is the mean (default) or the max of "
            "its images'; none: groups are only resampled, no patient-level results "
            "(for groups that are sites or scanners, whose images carry several labels)"
        ),
    )
