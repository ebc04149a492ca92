"""Learning curves and confusion matrices as PNG files (matplotlib, no display)."""

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curves(results, path):
    """Training and internal-validation loss and accuracy per fold, per setting."""
    plt = _pyplot()
    settings = list(dict.fromkeys(r.setting for r in results))
    fig, axes = plt.subplots(len(settings), 2, figsize=(11, 3.6 * len(settings)), squeeze=False)
    for row, label in enumerate(settings):
        for col, metric in enumerate(("loss", "accuracy")):
            ax = axes[row][col]
            for r in (r for r in results if r.setting == label):
                color = f"C{r.fold % 10}"
                if metric in r.history:
                    ax.plot(r.history[metric], color=color, label=f"fold {r.fold + 1} train")
                if f"val_{metric}" in r.history:
                    ax.plot(
                        r.history[f"val_{metric}"],
                        color=color,
                        linestyle="--",
                        label=f"fold {r.fold + 1} validation",
                    )
            ax.set_title(f"{label}: {metric}")
            ax.set_xlabel("epoch")
            if ax.lines:
                ax.legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion_matrices(results, y, path):
    """Out-of-fold confusion matrix per setting."""
    from sklearn.metrics import confusion_matrix

    plt = _pyplot()
    classes = np.unique(y)
    settings = list(dict.fromkeys(r.setting for r in results))
    fig, axes = plt.subplots(1, len(settings), figsize=(5 * len(settings), 4.5), squeeze=False)
    for ax, label in zip(axes[0], settings, strict=True):
        true, predicted = [], []
        for r in (r for r in results if r.setting == label):
            true.append(y[r.test])
            predicted.append(classes[np.argmax(r.proba, axis=1)])
        matrix = confusion_matrix(np.concatenate(true), np.concatenate(predicted), labels=classes)
        ax.imshow(matrix, cmap="Blues")
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(j, i, str(count), ha="center", va="center", fontsize="small")
        ax.set_xticks(range(len(classes)), [str(c) for c in classes], rotation=45)
        ax.set_yticks(range(len(classes)), [str(c) for c in classes])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{label} (out of fold)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
