"""Grid vs successive halving vs random search: the best score and the epochs it cost.

One problem: the digits, the default model, ``--folds 2``, the 9 rotation
ranges 0, 5, ..., 40 (``datagen__rotation_range``), at most 9 epochs. Each
strategy runs as a user runs it, ``python -m skimgaug.cli search --digits ...
--out DIR`` in a fresh process, and the table gives what its ``best.json``
says: the best candidate, its mean cross-validated accuracy (at the last
epochs for every strategy), and the epochs trained in all, with the wall time.

- ``grid``: every candidate for ``max_epochs`` epochs;
- ``halving``: ``--strategy halving --max-epochs 9`` (rounds of 9 x 1, 3 x 3
  and 1 x 9 epochs with ``--factor 3``);
- ``random``: ``--strategy random --n-candidates 3`` (drawn from the same
  list), about halving's epochs.

Target: halving and random spend at most a third of grid's epochs (with 9
candidates; ``--quick``'s 3 make two rounds of halving, two thirds of grid's).

Run from the repository root::

    python benchmarks/bench_search_strategies.py            # ~6 min on 2 cores
    python benchmarks/bench_search_strategies.py --quick    # 3 candidates, 3 epochs
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import _bench as bench

FULL = {"candidates": 9, "max_epochs": 9}
QUICK = {"candidates": 3, "max_epochs": 3}
HELPS = {
    "candidates": "rotation ranges searched (0, 5, 10, ...)",
    "max_epochs": "epochs of every grid candidate and of halving's last round",
}


def _search(out, grid, epochs, *strategy):
    command = [sys.executable, "-m", "skimgaug.cli", "search", "--digits", "--folds", "2"]
    command += ["--grid", grid, "--epochs", str(epochs), "--quiet", "--out", out, *strategy]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    with open(os.path.join(out, "best.json"), encoding="utf-8") as f:
        return json.load(f), seconds


def run(settings, report):
    n, epochs = settings["candidates"], settings["max_epochs"]
    grid = "datagen__rotation_range=" + ",".join(str(5 * i) for i in range(n))
    drawn = max(1, n // 3)
    strategies = {
        "grid": (),
        "halving": ("--strategy", "halving", "--max-epochs", str(epochs)),
        "random": ("--strategy", "random", "--n-candidates", str(drawn)),
    }
    report(f"{n} candidates (rotation_range 0 to {5 * (n - 1)}), 2 folds, {epochs} epochs at most.")
    report()
    report.table(
        [
            "strategy",
            "best rotation_range",
            "best mean accuracy",
            "epochs trained",
            "time",
            "target",
        ]
    )
    spent = {}
    with tempfile.TemporaryDirectory() as root:
        for name, options in strategies.items():
            best, seconds = _search(os.path.join(root, name), grid, epochs, *options)
            spent[name] = best["epochs_trained"]
            met = "met" if spent[name] <= spent["grid"] / 3 else "MISSED"
            target = "" if name == "grid" else f"<= {spent['grid'] // 3}: {met}"
            report.row(
                name,
                best["best_params"]["datagen__rotation_range"],
                f"**{best['best_score']:.4f}**",
                spent[name],
                f"{seconds:.0f} s",
                target,
            )
    report()
    report(
        "Best mean accuracy: over the 2 folds, at the last epochs (halving's last round), as "
        "best.json gives it. Epochs trained: every fit's epochs summed (best.json's "
        "epochs_trained)."
    )


if __name__ == "__main__":
    sys.exit(bench.main(__doc__, "search strategies", run, FULL, QUICK, helps=HELPS))
