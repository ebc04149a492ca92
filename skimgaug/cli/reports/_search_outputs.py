"""What ``skimgaug search`` writes and prints: cv_results.csv, best.json, report.html, ranking."""

import csv
import json
import math
import numbers
import os

import numpy as np

from ..._html import Report
from .._grid import format_params, format_value

#: The report's ranking table shows at most this many candidates (all are in cv_results.csv).
REPORT_ROWS = 100
_LABEL_LENGTH = 28


def _json_value(value):
    """``value`` with NumPy scalars, tuples and NaN made plain JSON."""
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _csv_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return json.dumps(_json_value(value))


def parameter_keys(candidates):
    """Every parameter name of the candidates, in order of first appearance."""
    return list(dict.fromkeys(key for params in candidates for key in params))


def result_rows(result):
    """One dict per candidate (in grid order): scores, times and parameters.

    Keys: ``candidate`` (1-based), ``rank_test_score``, ``mean_test_score``,
    ``std_test_score``, ``split<i>_test_score``, ``mean_fit_time``,
    ``std_fit_time``, ``mean_score_time``, ``std_score_time``, ``params``.
    """
    cv_results = result.search.cv_results_
    rows = []
    for i, params in enumerate(cv_results["params"]):
        row = {"candidate": i + 1, "rank_test_score": int(cv_results["rank_test_score"][i])}
        for name in ("mean_test_score", "std_test_score"):
            row[name] = float(cv_results[name][i])
        for split in range(result.n_splits):
            row[f"split{split}_test_score"] = float(cv_results[f"split{split}_test_score"][i])
        for name in ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"):
            row[name] = float(cv_results[name][i])
        if "iter" in cv_results:  # successive halving: the round and its epochs
            row["round"] = int(cv_results["iter"][i]) + 1
            row["epochs"] = int(cv_results["n_resources"][i])
        row["params"] = params
        rows.append(row)
    return rows


def ranked(rows):
    """``rows`` best first (by rank, then grid order)."""
    return sorted(rows, key=lambda row: (row["rank_test_score"], row["candidate"]))


def format_ranking(rows, scoring, top=10):
    """The ``top`` candidates as a text table."""

    def score(row):
        mean, std = row["mean_test_score"], row["std_test_score"]
        return "nan" if math.isnan(mean) else f"{mean:.4f} ± {std:.4f}"

    best = ranked(rows)[:top]
    header = f"mean {scoring} ± std"
    width = max(len(header), 15)
    rounds = "round" in rows[0]
    what = "candidate runs (each round's scores at its epochs)" if rounds else "candidates"
    lines = [
        f"ranking ({'top ' + str(top) + ' of ' if len(rows) > top else ''}{len(rows)} {what})",
        f"{'rank':>4}  {'candidate':>9}  "
        + (f"{'round':>5}  {'epochs':>6}  " if rounds else "")
        + f"{header:<{width}}  parameters",
    ]
    for row in best:
        lines.append(
            f"{row['rank_test_score']:>4}  {row['candidate']:>9}  "
            + (f"{row['round']:>5}  {row['epochs']:>6}  " if rounds else "")
            + f"{score(row):<{width}}  {format_params(row['params'])}"
        )
    return "\n".join(lines)


def _count(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def format_rounds(rounds, spent, full):
    """A halving search's rounds, and the epochs it spent against the whole grid's."""
    lines = ["rounds of successive halving (the best candidate of the last round wins):"]
    for r in rounds:
        best = "n/a" if r["best"] is None else f"{r['best']:.4f}"
        lines.append(
            f"  round {r['round']}: {_count(r['candidates'], 'candidate')} x "
            f"{_count(r['epochs'], 'epoch')}, "
            f"best mean score {best}"
        )
    lines.append(f"epochs trained: {spent}, against {full} for every candidate at the last epochs")
    return "\n".join(lines)


def write_outputs(out, result, rows, settings, timings, title):
    """Write ``cv_results.csv``, ``best.json`` and ``report.html`` to ``out``.

    Parameters
    ----------
    out : str
        An existing folder.
    result : SearchResult
    rows : list of dict
        :func:`result_rows`.
    settings : dict
        What was searched and how (JSON-serializable), for ``best.json`` and
        the report.
    timings : dict of str to float
        Seconds by label.
    title : str
        The report's subtitle (data and settings in brief).

    Returns
    -------
    list of str
        The names of the files written.
    """

    keys = parameter_keys([row["params"] for row in rows])
    with open(os.path.join(out, "cv_results.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        splits = [f"split{i}_test_score" for i in range(result.n_splits)]
        times = ["mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"]
        scores = ["rank_test_score", "mean_test_score", "std_test_score"]
        scores += ["round", "epochs"] if "round" in rows[0] else []
        writer.writerow(["candidate", *scores, *(f"param_{k}" for k in keys), *splits, *times])
        for row in rows:
            params = [_csv_value(row["params"][k]) if k in row["params"] else "" for k in keys]
            writer.writerow(
                [row["candidate"], *(row[c] for c in scores), *params]
                + [row[c] for c in splits + times]
            )
    search = result.search
    best_row = rows[search.best_index_]
    document = {
        "scoring": result.scoring,
        "best_candidate": best_row["candidate"],
        "best_score": _json_value(float(search.best_score_)),
        "best_score_std": _json_value(best_row["std_test_score"]),
        "best_params": _json_value(search.best_params_),
        "n_candidates": len(rows),
        "n_splits": result.n_splits,
        "ranking": [
            {
                "rank": row["rank_test_score"],
                "candidate": row["candidate"],
                "mean_test_score": _json_value(row["mean_test_score"]),
                "std_test_score": _json_value(row["std_test_score"]),
                "params": _json_value(row["params"]),
            }
            for row in ranked(rows)
        ],
        "settings": _json_value(settings),
        "timings_seconds": _json_value(timings),
        "rounds": _json_value(result.rounds),
        "epochs_trained": result.epochs_trained,
    }
    with open(os.path.join(out, "best.json"), "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, allow_nan=False, default=str)
        f.write("\n")
    build_report(result, rows, settings, timings, title).write(os.path.join(out, "report.html"))
    return ["cv_results.csv", "best.json", "report.html"]


def _label(value, shared=()):
    """``value`` as a short axis label; a dict without the ``shared`` items."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if (k, repr(v)) not in shared} or value
    text = format_value(value)
    return text if len(text) <= _LABEL_LENGTH else text[: _LABEL_LENGTH - 1] + "…"


def _shared_items(values):
    """The (key, repr(value)) items every dict among ``values`` has (fixed settings)."""
    dicts = [v for v in values if isinstance(v, dict)]
    if len(dicts) < 2:
        return set()
    return set.intersection(*({(k, repr(v)) for k, v in d.items()} for d in dicts))


def _scores_by_value(rows, key):
    """``[(label, [(mean, std), ...]), ...]`` for each value of ``key``, in a readable order."""
    groups = {}
    values = {}
    shared = _shared_items([row["params"][key] for row in rows if key in row["params"]])
    for row in rows:
        if key in row["params"]:
            value = row["params"][key]
            label = _label(value, shared)
        else:
            value, label = None, "(not set)"
        values.setdefault(label, value)
        groups.setdefault(label, []).append((row["mean_test_score"], row["std_test_score"]))
    labels = list(groups)
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values.values()):
        labels.sort(key=lambda label: values[label])
    return [(label, groups[label]) for label in labels]


def searched_keys(rows):
    """The parameters that take more than one value across the candidates."""
    keys = parameter_keys([row["params"] for row in rows])
    return [key for key in keys if len(_scores_by_value(rows, key)) > 1]


def plot_scores_by_parameter(rows, keys, scoring):
    """One panel per parameter: mean score ± std of the best candidate per value.

    Grey dots are every candidate with that value (other parameters varying).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    columns = min(len(keys), 3)
    lines = math.ceil(len(keys) / columns)
    figure = Figure(figsize=(4.4 * columns, 3.6 * lines), layout="constrained")
    axes = figure.subplots(lines, columns, squeeze=False).ravel()
    for ax, key in zip(axes, keys, strict=False):
        groups = _scores_by_value(rows, key)
        for x, (_, scores) in enumerate(groups):
            means = [mean for mean, _ in scores if not math.isnan(mean)]
            ax.plot([x] * len(means), means, "o", color="0.7", markersize=4, zorder=1)
            if means:
                mean, std = max((s for s in scores if not math.isnan(s[0])), key=lambda s: s[0])
                ax.errorbar(x, mean, yerr=std, fmt="o", color="C0", capsize=4, zorder=2)
        labels = [label for label, _ in groups]
        crowded = sum(len(label) for label in labels) > 30
        ax.set_xticks(
            range(len(groups)),
            labels,
            rotation=30 if crowded else 0,
            ha="right" if crowded else "center",
            rotation_mode="anchor",
        )
        ax.set_xlim(-0.5, len(groups) - 0.5)
        ax.set_xlabel(key)
        ax.set_ylabel(f"mean {scoring}")
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    return figure


def build_report(result, rows, settings, timings, subtitle):
    """The search's :class:`~skimgaug._html.Report`."""
    scoring = result.scoring
    report = Report("skimgaug search", subtitle=subtitle)
    best = rows[result.search.best_index_]
    summary = report.section("Best candidate")
    summary.paragraph(
        f"Candidate {best['candidate']} of {len(rows)}: mean {scoring} "
        f"{best['mean_test_score']:.4f} ± {best['std_test_score']:.4f} over "
        f"{result.n_splits} folds, with {format_params(best['params'])}."
    )
    for line in result.warnings:
        summary.paragraph(line)

    if result.rounds:
        section = report.section("Rounds of successive halving")
        section.table(
            [
                {
                    "round": r["round"],
                    "candidates": r["candidates"],
                    "epochs": r["epochs"],
                    f"best mean {scoring}": r["best"],
                }
                for r in result.rounds
            ],
            caption=(
                f"Each round trains its candidates for its epochs on every fold and keeps the "
                f"best; {result.epochs_trained} epochs were trained in all."
            ),
        )
    keys = parameter_keys([row["params"] for row in rows])
    shown = ranked(rows)[:REPORT_ROWS]
    table = []
    for row in shown:
        entry = {
            "rank": row["rank_test_score"],
            "candidate": row["candidate"],
            f"mean {scoring}": row["mean_test_score"],
            "std": row["std_test_score"],
        }
        if "round" in row:
            entry.update(round=row["round"], epochs=row["epochs"])
        entry.update(
            {key: format_value(row["params"][key]) if key in row["params"] else "" for key in keys}
        )
        entry.update({f"fold {i + 1}": row[f"split{i}_test_score"] for i in range(result.n_splits)})
        entry["fit time (s)"] = row["mean_fit_time"]
        table.append(entry)
    caption = (
        f"The best {len(shown)} of {len(rows)} candidates; all are in cv_results.csv."
        if len(shown) < len(rows)
        else f"All {len(rows)} candidates, best first; fit time is the mean per fold."
    )
    report.section("Ranking").table(table, caption=caption)

    # Successive halving: only the first round trains every candidate for the same
    # epochs; later rounds' scores are of more epochs and would not compare.
    halving = "round" in rows[0]
    compared = [row for row in rows if row["round"] == 1] if halving else rows
    searched = searched_keys(compared)
    plots = report.section("Scores by parameter")
    if searched:
        figure = plot_scores_by_parameter(compared, searched, scoring)
        plots.figure(
            figure,
            alt=f"mean {scoring} for each value of {', '.join(searched)}",
            caption=(
                f"For each value of each searched parameter: the mean {scoring} ± std over the "
                "folds of the best candidate with that value (blue), and the mean of every "
                "candidate with that value (grey)."
                + (
                    f" Round 1 of successive halving only, where every candidate trained "
                    f"{_count(compared[0]['epochs'], 'epoch')} (later rounds train more)."
                    if halving
                    else ""
                )
            ),
        )
    else:
        plots.paragraph("Only one value of each parameter was tried: nothing to plot.")

    report.section("Settings").key_values(
        {
            key: value if isinstance(value, str) else format_value(value)
            for key, value in settings.items()
        }
    )
    report.add_timings(timings)
    report.add_versions()
    return report


def settings_table(args, data, cv, fixed, tables, n_candidates, where):
    """The settings table of the search's report."""
    return {
        "data": data,
        "folds": f"{args.folds} ({type(cv).__name__}, shuffled, seed {args.seed})",
        "groups": args.groups,
        "scoring": args.scoring,
        "strategy": args.strategy
        + (
            f" (epochs {args.min_epochs or 'from the rounds'} to {args.max_epochs or args.epochs}, "
            f"factor {args.factor})"
            if args.strategy == "halving"
            else ""
        ),
        "model": args.model or "default CNN",
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "validation_split": args.validation_split,
        "tta": args.tta,
        "seed": args.seed,
        **{
            name: getattr(args, name)
            for name in ("optimizer", "learning_rate", "loss", "class_weight", "balance")
            if getattr(args, name, None) is not None
        },
        "early_stopping patience": getattr(args, "early_stopping", None),
        "datagen (fixed)": fixed,
        "grid": " | ".join(tables),
        "grid_file": args.grid_file,
        "candidates": n_candidates,
        **(
            {"epochs of every candidate at --max-epochs": args.folds * n_candidates * most}
            if (most := args.max_epochs or args.epochs) and args.strategy == "halving"
            else {}
        ),
        "ran on": where,
        "refit_out": args.refit_out,
    }
