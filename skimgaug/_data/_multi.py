"""Several model inputs or outputs: ``X`` or ``y`` as a list or dict of arrays.

scikeras hands ``keras.Model.fit`` what its encoders return: a
``feature_encoder`` may split ``X`` into a list or dict of arrays for a
multi-input model, and a ``target_encoder`` may split ``y`` into one array
per model output. The batch paths take rows of such containers with
:func:`take`; image settings apply to one image array only, so
:func:`check_single_input` refuses them for several inputs.
"""

import numpy as np


def is_multi(data):
    """True for a list, tuple or dict of arrays (several model inputs or outputs)."""
    return isinstance(data, (list, tuple, dict))


def take(data, rows):
    """``data[rows]`` for an array, or for every array of a list, tuple or dict.

    Lists and tuples come back as tuples, as Keras turns them for its own
    array inputs: tf.data, which carries the batches, reads a list as one
    array. Dicts keep their keys.
    """
    if isinstance(data, dict):
        return {key: take(value, rows) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return tuple(take(value, rows) for value in data)
    return np.asarray(data)[rows]


def n_samples(data):
    """Number of samples of an array, or of the arrays of a list, tuple or dict."""
    if isinstance(data, dict):
        data = list(data.values())
    if isinstance(data, (list, tuple)):
        counts = {n_samples(value) for value in data}
        if len(counts) != 1:
            raise ValueError(
                f"All arrays of a multi-input X or multi-output y must have the same "
                f"number of samples; got {sorted(counts)}."
            )
        return counts.pop()
    return len(data)


def stacked(y):
    """One 2-D array of all outputs' columns, to stratify a multi-output ``y`` on."""
    if not is_multi(y):
        return y
    outputs = list(y.values()) if isinstance(y, dict) else list(y)
    n = n_samples(outputs)
    return np.column_stack([np.asarray(output).reshape(n, -1) for output in outputs])


def check_single_input(X, datagen, owner):
    """Image settings need one image array: refuse them for several inputs.

    Parameters
    ----------
    X : ndarray, list, tuple or dict
        ``X`` as the model receives it (after scikeras' ``feature_encoder``).
    datagen : DatagenConfig
    owner : str
    """
    if not is_multi(X) or datagen.is_empty:
        return
    kind = "dict" if isinstance(X, dict) else "list"
    raise ValueError(
        f"X reaches the model as a {kind} of {len(X)} arrays (a multi-input model), "
        f"but ImageDataGenerator settings apply to one array of images. {owner} "
        "supports several inputs with datagen=None and no datagen__* parameters; "
        "for augmentation, give the model a single image input."
    )


def concatenate(parts):
    """Join predictions made chunk by chunk, output by output.

    Each part is what ``keras.Model.predict`` returned for one chunk: an
    array, or a list or dict of arrays for a multi-output model (a list
    comes back as a list, as Keras returns it).
    """
    first = parts[0]
    if isinstance(first, dict):
        return {key: np.concatenate([part[key] for part in parts]) for key in first}
    if isinstance(first, (list, tuple)):
        return [np.concatenate(outputs) for outputs in zip(*parts, strict=True)]
    return np.concatenate(parts)
