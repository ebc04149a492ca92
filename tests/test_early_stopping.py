"""What early stopping did, as the command line and the report say it."""

from types import SimpleNamespace

import keras
import pytest

from skimgaug.cli.runs._progress import early_stopping_of, format_early_stopping


def _fitted(callbacks, history, epochs=10):
    return SimpleNamespace(callbacks=callbacks, history_=history, epochs=epochs)


def test_a_stopped_fit_names_the_epochs_run_and_the_epoch_restored():
    stopping = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = {"loss": [0.9, 0.5, 0.4, 0.3, 0.2], "val_loss": [0.6, 0.35, 0.4, 0.45, 0.5]}
    found = early_stopping_of(_fitted([stopping], history))
    assert found == {
        "epochs_run": 5,
        "epochs": 10,
        "stopped": True,
        "restored_epoch": 2,
        "monitor": "val_loss",
        "restored_value": 0.35,
    }
    expected = "stopped after epoch 5 of 10; weights of epoch 2 restored (val_loss 0.3500)"
    assert format_early_stopping(found) == expected


@pytest.mark.parametrize("mode", ["auto", "max"])
def test_an_accuracy_is_best_when_highest(mode):
    stopping = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode=mode, restore_best_weights=True
    )
    history = {"loss": [1, 1, 1], "val_accuracy": [0.5, 0.9, 0.7]}
    found = early_stopping_of(_fitted([stopping], history, epochs=3))
    assert (found["stopped"], found["restored_epoch"]) == (False, 2)
    assert format_early_stopping(found).startswith("ran all 3 epochs; weights of epoch 2")


def test_without_restoring_no_epoch_is_named():
    stopping = keras.callbacks.EarlyStopping(patience=1)
    found = early_stopping_of(_fitted([stopping], {"loss": [1, 1], "val_loss": [1, 2]}))
    assert format_early_stopping(found) == "stopped after epoch 2 of 10"


def test_without_early_stopping_there_is_nothing_to_say():
    assert early_stopping_of(_fitted(None, {"loss": [1.0]})) is None
    assert early_stopping_of(_fitted([keras.callbacks.History()], {"loss": [1.0]})) is None
