"""Learning curves, confusion matrices and predicted-vs-true plots as PNG files (no pyplot)."""

import numpy as np

#: Colors and line styles of the two curves of each panel.
CURVES = (("", "training", "C0", "-"), ("val_", "internal validation", "C1", "--"))


def _settings(results):
    return list(dict.fromkeys(r.setting for r in results))


def mean_curve(curves):
    """Mean over folds at each epoch; curves may differ in length (early stopping).

    Examples
    --------
    >>> mean_curve([[1.0, 0.5], [3.0, 1.5, 1.0]]).tolist()
    [2.0, 1.0, 1.0]
    """
    padded = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for row, curve in enumerate(curves):
        padded[row, : len(curve)] = curve
    return np.nanmean(padded, axis=0)


def _save(fig, path):
    # A Figure made without pyplot: no window, no backend switch, nothing left open.
    fig.savefig(path, dpi=100)


def plot_learning_curves(results, path):
    """Write :func:`learning_curves_figure` to the PNG file ``path``."""
    _save(learning_curves_figure(results), path)


def plot_confusion_matrices(results, y, path, normalize=None):
    """Write :func:`confusion_matrices_figure` to the PNG file ``path``."""
    _save(confusion_matrices_figure(results, y, normalize), path)


def learning_curves_figure(results):
    """Training and internal-validation loss and accuracy, per setting.

    One row per setting, loss on the left and accuracy (or the compiled
    metric, such as a regressor's mean absolute error) on the right; each
    fold is a thin line and the mean over folds a bold one. Epochs are
    numbered from 1; one legend serves the whole figure.

    Parameters
    ----------
    results : list of FoldResult

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    settings = _settings(results)
    fig = Figure(figsize=(11, 3.4 * len(settings) + 0.7))
    axes = fig.subplots(len(settings), 2, squeeze=False, sharex=True, sharey="col")
    shown = set()
    longest = max((len(v) for r in results for v in r.history.values()), default=1)
    marker = "o" if longest <= 25 else None  # dots on the means while epochs are few
    names = {k for r in results for k in r.history if not k.startswith("val_")} - {"loss"}
    # accuracy, or the metric the model was compiled with (mean_absolute_error, ...)
    second = "accuracy" if "accuracy" in names or not names else sorted(names)[0]
    for row, label in enumerate(settings):
        folds = [r for r in results if r.setting == label]
        for col, metric in enumerate(("loss", second)):
            ax = axes[row][col]
            for prefix, _, color, style in CURVES:
                curves = [
                    r.history[prefix + metric] for r in folds if r.history.get(prefix + metric)
                ]
                if not curves:
                    continue
                shown.add(prefix)
                for curve in curves:
                    epochs = np.arange(1, len(curve) + 1)
                    ax.plot(epochs, curve, color=color, linestyle=style, linewidth=0.9, alpha=0.4)
                mean = mean_curve(curves)
                ax.plot(
                    np.arange(1, len(mean) + 1),
                    mean,
                    color=color,
                    linestyle=style,
                    linewidth=2.8,
                    marker=marker,
                    markersize=4,
                )
            ax.set_title(f"{label}: {metric}")
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric)
            # Integer ticks, even for a single epoch (one integer in view).
            ax.set_xlim(0.5, longest + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
            ax.grid(alpha=0.3)
            ax.tick_params(labelbottom=True)
    handles = []
    for prefix, name, color, style in CURVES:
        if prefix in shown:
            handles.append(
                Line2D(
                    [],
                    [],
                    color=color,
                    linestyle=style,
                    linewidth=2.8,
                    marker=marker,
                    markersize=4,
                    label=f"{name}, mean over folds",
                )
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    color=color,
                    linestyle=style,
                    linewidth=0.9,
                    alpha=0.6,
                    label=f"{name}, each fold",
                )
            )
    top = 1 - 0.55 / fig.get_figheight()
    if handles:
        fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def confusion_matrices_figure(results, y, normalize=None):
    """Out-of-fold confusion matrix per setting, with :class:`ConfusionMatrixDisplay`.

    Parameters
    ----------
    results : list of FoldResult
    y : ndarray
        All labels.
    normalize : {None, "true"}, default=None
        None: counts. ``"true"``: each row divided by its total, so that the
        diagonal is each class's recall.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per setting; each cell's number is drawn in a color that
        reads on it (white on dark cells).
    """
    from matplotlib.figure import Figure
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    classes = np.unique(y)
    settings = _settings(results)
    names = [str(c) for c in classes]
    side = max(4.6, 0.55 * len(classes) + 2.0)
    fig = Figure(figsize=(side * len(settings), side), layout="constrained")
    axes = fig.subplots(1, len(settings), squeeze=False)
    for ax, label in zip(axes[0], settings, strict=True):
        true, predicted = [], []
        folds = [r for r in results if r.setting == label]
        for r in folds:
            true.append(y[r.test])
            predicted.append(classes[np.argmax(r.proba, axis=1)])
        matrix = confusion_matrix(
            np.concatenate(true), np.concatenate(predicted), labels=classes, normalize=normalize
        )
        ConfusionMatrixDisplay(matrix, display_labels=names).plot(
            ax=ax,
            cmap="Blues",
            colorbar=False,
            values_format=".2f" if normalize else "d",
            xticks_rotation=45 if max(map(len, names)) > 3 else "horizontal",
            text_kw={"fontsize": 12 if len(classes) <= 10 else 10 if len(classes) <= 16 else 8},
        )
        what = "recall (rows sum to 1)" if normalize else "counts"
        folds_text = f"{len(folds)} fold{'s' if len(folds) != 1 else ''}"
        ax.set_title(f"{label}: {what}\nout of fold, {folds_text}")
        ax.set_xlabel("predicted label")
        ax.set_ylabel("true label")
    return fig


def plot_predicted_against_true(results, y, names, path):
    """Write :func:`predicted_against_true_figure` to the PNG file ``path``."""
    _save(predicted_against_true_figure(results, y, names), path)


def predicted_against_true_figure(results, y, names=None):
    """Out-of-fold predicted values against the true ones: one panel per setting and output.

    Each image is a point coloured by its test fold; the dashed diagonal is a
    perfect prediction, and the panel's title gives its MAE and R².
    """
    from matplotlib.figure import Figure
    from sklearn.metrics import mean_absolute_error, r2_score

    settings = _settings(results)
    truth = np.reshape(np.asarray(y, dtype=float), (len(y), -1))
    outputs = truth.shape[1]
    names = list(names or [])[:outputs] or [f"output {j}" for j in range(outputs)]
    fig = Figure(figsize=(4.4 * len(settings), 4.2 * outputs), layout="constrained")
    axes = fig.subplots(outputs, len(settings), squeeze=False)
    low, high = truth.min(axis=0), truth.max(axis=0)
    for col, label in enumerate(settings):
        predicted = np.full_like(truth, np.nan)
        fold_of = np.zeros(len(truth), dtype=int)
        for r in results:
            if r.setting == label:
                predicted[r.test] = np.reshape(r.proba, (len(r.test), -1))
                fold_of[r.test] = r.fold + 1
        done = ~np.isnan(predicted[:, 0])
        for j in range(outputs):
            ax = axes[j][col]
            margin = 0.05 * (high[j] - low[j] or 1)
            lo, hi = low[j] - margin, high[j] + margin
            ax.plot([lo, hi], [lo, hi], color="0.6", linestyle="--", linewidth=1)
            for fold in np.unique(fold_of[done]):
                at = done & (fold_of == fold)
                ax.scatter(truth[at, j], predicted[at, j], s=10, alpha=0.6, label=f"fold {fold}")
            if done.sum() > 1:
                mae = mean_absolute_error(truth[done, j], predicted[done, j])
                r2 = r2_score(truth[done, j], predicted[done, j])
                ax.set_title(f"{label}: {names[j]}\nMAE {mae:.3g}, R² {r2:.3f}", fontsize=10)
            else:
                ax.set_title(f"{label}: {names[j]}", fontsize=10)
            ax.set_xlabel(f"true {names[j]}")
            ax.set_ylabel(f"predicted {names[j]} (out of fold)")
            ax.set_xlim(lo, hi)
            ax.grid(alpha=0.3)
            ax.legend(loc="upper left", fontsize=7, frameon=False)
    return fig
