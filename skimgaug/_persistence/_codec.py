"""Values <-> JSON for saved models: what ``skimgaug.json`` can hold, and nothing that runs.

:func:`encode` gives a JSON form of parameters and fitted attributes (numbers,
strings, tuples, dicts with any keys, NumPy arrays and dtypes, Keras losses,
metrics and optimizers by their Keras configuration, functions by their
Keras-registered name); :func:`decode` undoes it. Decoding never imports a
module and never unpickles: a registered name is looked up in Keras'
registry, a Keras configuration is rebuilt with ``safe_mode=True``.
"""

import json
import math
import types

import numpy as np

#: Marks a JSON object that stands for a value JSON has no type for.
_TAG = "__skimgaug_type__"
REGISTER_HINT = (
    'decorate it with @keras.saving.register_keras_serializable(package="my_package") '
    "in a module that is imported before load_model; load_model finds it by that name "
    "and never imports or unpickles code"
)


class NotSaveable(Exception):
    """A value has no JSON form; the message says which value and why."""


def describe(value):
    """``module:qualname`` for functions and classes, else the type's name."""
    qualname = getattr(value, "__qualname__", None)
    if qualname is not None and callable(value):
        return f"{getattr(value, '__module__', '?')}:{qualname}"
    return f"a {type(value).__module__}.{type(value).__qualname__} object"


def _registered_name(obj):
    """The name ``obj`` is registered under with Keras, or None."""
    import keras

    try:
        name = keras.saving.get_registered_name(obj)
    except (AttributeError, TypeError):  # no __name__ (functools.partial), unhashable
        return None
    return name if keras.saving.get_registered_object(name) is obj else None


def _keras_object(value):
    """True for what Keras serializes by configuration: losses, metrics, optimizers."""
    import keras

    kinds = (keras.losses.Loss, keras.metrics.Metric, keras.optimizers.Optimizer)
    if isinstance(value, kinds):
        return True
    return isinstance(value, types.FunctionType) and value.__module__.split(".")[0] == "keras"


def _encode_keras(value, where):
    import keras

    try:
        config = keras.saving.serialize_keras_object(value)
        json.dumps(config, allow_nan=False)
        rebuilt = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except (TypeError, ValueError) as exc:
        raise NotSaveable(
            f"{where} is {describe(value)}, which Keras cannot rebuild ({exc})"
        ) from exc
    if isinstance(value, types.FunctionType) and rebuilt is not value:
        raise NotSaveable(f"{where} is {describe(value)}, which Keras cannot rebuild")
    return {_TAG: "keras", "config": config}


def encode(value, where):
    """A JSON-representable form of ``value``; raise :class:`NotSaveable` if none."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        item = value.item()
        if isinstance(item, (bool, int, float, str)):
            return encode(item, where)
    elif isinstance(value, int):
        return int(value)
    elif isinstance(value, float):
        return value if math.isfinite(value) else {_TAG: "float", "value": repr(value)}
    elif isinstance(value, tuple):
        return {_TAG: "tuple", "value": [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    elif isinstance(value, list):
        return [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    elif isinstance(value, dict):
        if _TAG not in value and all(isinstance(key, str) for key in value):
            return {key: encode(v, f"{where}[{key!r}]") for key, v in value.items()}
        items = [[encode(k, where), encode(v, f"{where}[{k!r}]")] for k, v in value.items()]
        return {_TAG: "dict", "items": items}
    elif isinstance(value, np.dtype):
        if value.kind in "biufUO" and value.fields is None:
            return {_TAG: "dtype", "value": value.str}
    elif isinstance(value, type) and issubclass(value, np.generic):
        return {_TAG: "scalar_type", "value": np.dtype(value).str}
    elif isinstance(value, np.ndarray):
        if value.dtype.kind in "biufUO":
            return {
                _TAG: "ndarray",
                "dtype": encode(value.dtype, where),
                "shape": list(value.shape),
                "value": encode(value.tolist(), where),
            }
    elif _keras_object(value):
        return _encode_keras(value, where)
    elif callable(value):
        name = _registered_name(value)
        if name is not None:
            return {_TAG: "registered", "name": name}
        hint = REGISTER_HINT
        if getattr(value, "__name__", None) == "<lambda>":
            hint = "a lambda has no name to be found by: define it with def and " + hint
        raise NotSaveable(
            f"{where} is {describe(value)}, which is not registered as Keras-serializable; {hint}"
        )
    raise NotSaveable(f"{where} is {describe(value)}, which has no JSON form")


def decode(value, where):
    """Undo :func:`encode`; raise ValueError naming ``where`` for a value it cannot read."""
    if isinstance(value, list):
        return [decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {key: decode(v, f"{where}[{key!r}]") for key, v in value.items()}
    if tag == "tuple":
        return tuple(decode(value["value"], where))
    if tag == "float":
        return float(value["value"])
    if tag == "dict":
        return {decode(k, where): decode(v, f"{where}[{k!r}]") for k, v in value["items"]}
    if tag in ("dtype", "scalar_type"):
        dtype = np.dtype(value["value"])
        if dtype.kind not in "biufUO" or dtype.fields is not None:
            raise ValueError(f"{where} has an unsupported dtype {value['value']!r}")
        return dtype if tag == "dtype" else dtype.type
    if tag == "ndarray":
        dtype = decode(value["dtype"], where)
        items = decode(value["value"], where)
        return np.array(items, dtype=dtype).reshape(value["shape"])
    if tag == "registered":
        return _registered_object(value["name"], where)
    if tag == "keras":
        return _keras_deserialized(value["config"], where)
    raise ValueError(f"{where} has an unknown value type {tag!r}")


def _registered_object(name, where):
    import keras

    obj = keras.saving.get_registered_object(name)
    if obj is None:
        raise ValueError(
            f"{where} is {name!r}, which is not registered with Keras in this process. "
            "Import the module that defines it (decorated with "
            "@keras.saving.register_keras_serializable) before calling load_model, or "
            "call load_model inside keras.saving.custom_object_scope({...})."
        )
    return obj


def _keras_deserialized(config, where):
    import keras

    try:
        obj = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: Keras cannot rebuild it safely ({exc})") from exc
    if not _keras_object(obj):  # only what _encode_keras writes
        raise ValueError(f"{where} is {describe(obj)}, not a Keras loss, metric or optimizer")
    return obj
