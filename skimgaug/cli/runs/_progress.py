"""Progress lines of the commands: one per epoch, with a time-left estimate.

A run (the folds of ``cv``, the fits of a serial ``search``, one ``train``)
is a number of fits of a number of epochs each. Elapsed time divided by the
epochs done would count the first epoch of every fit, which sets the model up
and traces it (often several epochs' worth), as if every epoch cost that
much: the first estimate came out about four times too long.
:class:`TimeLeft` measures the two costs apart instead:

- a *steady epoch*: in a fit's first epoch, the time after its first batch,
  scaled to the whole epoch; later epochs as they are;
- a fit's *overhead*: what a fit costs beyond its steady epochs (statistics,
  building the model, tracing it on the first batch, and predicting for
  the previous fit), from the end of the previous fit's last epoch (or the
  start of the run) to the end of its first batch, less one steady batch.

Time left = epochs to come x mean steady epoch + fits to come x mean overhead.
"""

import sys
import time

from ..._html import format_duration


class TimeLeft:
    """Estimates the time left in a run of ``total_fits`` fits of ``total_epochs`` epochs.

    Parameters
    ----------
    total_epochs : int
        Epochs over the whole run (fewer happen when early stopping ends a fit).
    total_fits : int
    clock : callable, default=time.perf_counter
    """

    def __init__(self, total_epochs, total_fits, clock=time.perf_counter):
        self.total_epochs = total_epochs
        self.total_fits = total_fits
        self.clock = clock
        self.start = clock()
        self.epochs_done = 0
        self.fits_started = 0
        self._fit_epochs = 0  # epochs of the current fit so far
        self._last_end = self.start  # end of the last epoch, or the start of the run
        self._fit_began_at = self.start  # the _last_end a fit's first batch followed
        self._first_batch_end = None
        self._steady_epochs = []
        self._overheads = []

    @property
    def elapsed(self):
        return self.clock() - self.start

    def fit_started(self):
        self.fits_started += 1
        self._first_batch_end = None
        self._fit_epochs = 0

    def batch_ended(self, batch):
        """Call after each training batch; only a fit's first batch is timed."""
        if self._first_batch_end is None and batch == 0:
            self._first_batch_end = self.clock()
            self._fit_began_at = self._last_end

    def epoch_ended(self, n_batches):
        """Call after each epoch with its number of batches; returns the time left."""
        now = self.clock()
        if self._fit_epochs == 0 and self._first_batch_end is not None:
            if n_batches > 1:  # the first batch holds the fit's overhead; the rest are steady
                steady = (now - self._first_batch_end) * n_batches / (n_batches - 1)
                overhead = self._first_batch_end - self._fit_began_at - steady / n_batches
                self._steady_epochs.append(steady)
                self._overheads.append(max(0.0, overhead))
            else:  # one batch: the epoch cannot be told from its overhead
                self._steady_epochs.append(now - self._fit_began_at)
                self._overheads.append(0.0)
        else:
            self._steady_epochs.append(now - self._last_end)
        self._last_end = now
        self.epochs_done += 1
        self._fit_epochs += 1
        return self.remaining()

    def fit_ended(self, planned_epochs=None):
        """Call when a fit ends; one stopped early gives back the epochs it did not run."""
        if planned_epochs is not None:
            self.total_epochs -= max(0, planned_epochs - self._fit_epochs)

    def remaining(self):
        """Seconds left: epochs to come x steady epoch + fits to come x overhead."""
        if not self._steady_epochs:
            return None
        epoch = sum(self._steady_epochs) / len(self._steady_epochs)
        overhead = sum(self._overheads) / len(self._overheads) if self._overheads else 0.0
        epochs_left = max(0, self.total_epochs - self.epochs_done)
        fits_left = max(0, self.total_fits - self.fits_started)
        return epochs_left * epoch + fits_left * overhead


def epoch_progress(time_left, prefix, stream=None, on_begin=None):
    """A Keras callback printing one line per epoch and feeding ``time_left``.

    ``"{prefix} epoch 3/10  loss 0.1234  val_loss 0.2345  elapsed 0:42  remaining ~1:05"``

    Parameters
    ----------
    time_left : TimeLeft
        Shared by every fit of the run.
    prefix : str or callable
        The start of each line, or a function returning it (called per line).
    stream : file, default=sys.stderr
    on_begin : callable, optional
        Called when a fit begins, before ``time_left`` counts it.

    Notes
    -----
    ``GridSearchCV`` clones the estimator, and so deep-copies its callbacks,
    for every fit; a copy of this callback is itself, so that every fit
    reports to the same :class:`TimeLeft` and the Keras model of the previous
    fit, which Keras leaves on the callback, is not copied.
    """
    import keras

    class EpochProgress(keras.callbacks.Callback):
        def __deepcopy__(self, memo):
            return self

        def on_train_begin(self, logs=None):
            if on_begin is not None:
                on_begin()
            time_left.fit_started()

        def on_train_batch_end(self, batch, logs=None):
            time_left.batch_ended(batch)

        def on_epoch_end(self, epoch, logs=None):
            remaining = time_left.epoch_ended(self.params.get("steps") or 1)
            losses = "  ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items() if "loss" in k)
            start = prefix() if callable(prefix) else prefix
            print(
                f"{start} epoch {epoch + 1}/{self.params.get('epochs') or 0}  {losses}  "
                f"elapsed {format_duration(time_left.elapsed)}  "
                f"remaining ~{format_duration(remaining)}",
                file=stream or sys.stderr,
                flush=True,
            )

        def on_train_end(self, logs=None):
            time_left.fit_ended(self.params.get("epochs"))

    return EpochProgress()


def early_stopping_of(estimator):
    """What early stopping did in ``estimator``'s last fit, or None without it.

    Read from the ``keras.callbacks.EarlyStopping`` among the estimator's
    ``callbacks`` (its settings) and from ``history_``: how many epochs ran
    of those planned, and which epoch's weights were restored (the epoch with
    the best monitored value, as Keras restores them, whether or not the fit
    stopped early).

    Returns
    -------
    dict or None
        ``{"epochs_run", "epochs", "stopped", "restored_epoch", "monitor",
        "restored_value"}``; ``restored_epoch`` is None without
        ``restore_best_weights``.
    """
    import numpy as np
    from keras.callbacks import EarlyStopping

    callbacks = estimator.callbacks if isinstance(estimator.callbacks, list) else []
    stopping = next((c for c in callbacks if isinstance(c, EarlyStopping)), None)
    history = getattr(estimator, "history_", None) or {}
    if stopping is None or not history.get("loss"):
        return None
    epochs_run, epochs = len(history["loss"]), int(estimator.epochs)
    values = history.get(stopping.monitor)
    restored = value = None
    if stopping.restore_best_weights and values:
        mode = stopping.mode
        if mode not in ("min", "max"):  # "auto", as Keras decides it
            mode = "max" if any(w in stopping.monitor for w in ("acc", "auc")) else "min"
        best = np.argmax(values) if mode == "max" else np.argmin(values)
        restored, value = int(best) + 1, float(values[best])
    return {
        "epochs_run": epochs_run,
        "epochs": epochs,
        "stopped": epochs_run < epochs,
        "restored_epoch": restored,
        "monitor": stopping.monitor,
        "restored_value": value,
    }


def format_early_stopping(stopping):
    """``"stopped after epoch 4 of 10; weights of epoch 2 restored (val_loss 0.3712)"``."""
    if stopping is None:
        return ""
    ran, planned = stopping["epochs_run"], stopping["epochs"]
    text = (
        f"stopped after epoch {ran} of {planned}"
        if stopping["stopped"]
        else f"ran all {ran} epochs"
    )
    if stopping["restored_epoch"] is not None:
        text += (
            f"; weights of epoch {stopping['restored_epoch']} restored "
            f"({stopping['monitor']} {stopping['restored_value']:.4f})"
        )
    return text


def parallel_time_left(done, total, workers, elapsed):
    """Seconds left in a run of ``total`` fits on ``workers`` at once, ``done`` done.

    The first ``workers`` fits start together, so when the first of them
    finishes the others are about done too: ``elapsed / done`` per fit (as if
    the fits ran one after the other) would be ``workers`` times too long. A
    fit is taken to last ``elapsed * workers / done`` (``elapsed`` in the first
    round), and the fits left run ``workers`` at a time.
    """
    if done <= 0:
        return None
    workers = max(1, min(workers, total))
    per_fit = elapsed * workers / max(done, workers)
    left = total - done if done >= workers else max(0, total - workers)
    return -(-left // workers) * per_fit


def tensorboard_callback(folder, *parts):
    """Keras' TensorBoard callback writing to ``folder/<parts>`` (spaces become ``_``)."""
    import os

    import keras

    names = [str(part).replace(" ", "_").replace(os.sep, "_") for part in parts]
    return keras.callbacks.TensorBoard(log_dir=os.path.join(folder, *names))


def tensorboard_per_fit(folder, names):
    """Keras' TensorBoard callback that gives each fit of a serial search its own folder.

    ``GridSearchCV`` deep-copies the estimator's callbacks for every fit; a
    copy of this callback is itself, and each fit it sees (``set_model``, at
    the start of ``fit``) writes to ``folder/<names[k]>`` for the k-th fit
    (``names`` in the search's order: candidate by candidate, fold by fold).
    """
    import os

    import keras

    class TensorBoardPerFit(keras.callbacks.TensorBoard):
        fits = 0

        def __deepcopy__(self, memo):
            return self

        def set_model(self, model):
            name = names[min(self.fits, len(names) - 1)]
            self.log_dir = os.path.join(folder, *(str(p).replace(" ", "_") for p in name))
            self.fits += 1
            super().set_model(model)

    return TensorBoardPerFit(log_dir=folder)
