"""The ``skimgaug`` console script: the digits cross-validation table."""

import re
import subprocess
import sys

import pytest

from skimgaug import cli


def test_digits_demo_prints_per_fold_and_mean_std_accuracy(capsys):
    assert cli.main(["--folds", "2", "--epochs", "1", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "stratified 2-fold cross-validation on scikit-learn digits (1797 images" in out
    assert re.search(r"fold\s+no augmentation\s+augmentation", out)
    for fold in (1, 2):
        assert re.search(rf"^{fold}\s+0\.\d{{4}}\s+0\.\d{{4}}$", out, re.M)
    assert re.search(r"^mean ± std\s+0\.\d{4} ± 0\.\d{4}\s+0\.\d{4} ± 0\.\d{4}$", out, re.M)


def test_format_results_lines_up_columns():
    table = cli.format_results({"a": [0.5, 1.0], "b": [1.0, 1.0]}, folds=2)
    assert table.splitlines()[-1].split() == [
        "mean",
        "±",
        "std",
        "0.7500",
        "±",
        "0.2500",
        "1.0000",
        "±",
        "0.0000",
    ]


@pytest.mark.parametrize("args", [["--folds", "0"], ["--epochs", "many"], ["--unknown"]])
def test_usage_errors_exit_with_status_2(args):
    result = subprocess.run(
        [sys.executable, "-m", "skimgaug.cli", *args], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "usage: skimgaug" in result.stderr


def test_help_is_instant_and_explains_the_demo():
    result = subprocess.run(
        [sys.executable, "-m", "skimgaug.cli", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "augmentation is applied to training folds only" in " ".join(result.stdout.split())
